package githubsrc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
)

// ghRelease and ghAsset decode GitHub's JSON ourselves: go-github v66 has
// no `immutable` on releases and no `digest` on assets (added in v81/v74).
type ghRelease struct {
	ID              int64     `json:"id"`
	TagName         string    `json:"tag_name"`
	Name            string    `json:"name"`
	Body            string    `json:"body"`
	TargetCommitish string    `json:"target_commitish"`
	Draft           bool      `json:"draft"`
	Prerelease      bool      `json:"prerelease"`
	Immutable       bool      `json:"immutable"`
	CreatedAt       time.Time `json:"created_at"`
	PublishedAt     time.Time `json:"published_at"`
	HTMLURL         string    `json:"html_url"`
	UploadURL       string    `json:"upload_url"`
	Assets          []ghAsset `json:"assets"`
}

type ghAsset struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	State              string `json:"state"`
	Size               int64  `json:"size"`
	Digest             string `json:"digest"`
	BrowserDownloadURL string `json:"browser_download_url"`
}

func (r ghRelease) release() Release {
	rel := Release{
		ID: r.ID, Tag: r.TagName, Name: r.Name, Notes: r.Body, TargetCommitish: r.TargetCommitish,
		Draft: r.Draft, Prerelease: r.Prerelease, Immutable: r.Immutable,
		CreatedAt: r.CreatedAt, PublishedAt: r.PublishedAt, HTMLURL: r.HTMLURL,
		UploadURL: strings.TrimSuffix(r.UploadURL, "{?name,label}"),
		Assets:    make([]Asset, len(r.Assets)),
	}
	for i, a := range r.Assets {
		rel.Assets[i] = a.asset()
	}
	shareBrowserBase(rel.Assets)
	return rel
}

func (a ghAsset) asset() Asset {
	return Asset{
		ID: a.ID, Name: a.Name, State: a.State, Size: a.Size, Digest: a.Digest,
		browserURL: a.BrowserDownloadURL,
	}
}

// Listing is one read of a repository's releases, newest first as GitHub
// lists them, with the ETags a later conditional read sends.
type Listing struct {
	Releases []Release
	// Unchanged is true when GitHub answered 304 to every page: Releases are
	// the previous listing's, and the read cost no rate limit.
	Unchanged bool
	pages     []listPage
}

// listPage is one page of a Listing: its ETag, and how many of the
// Listing's Releases it gave (after those of the pages before it), so
// that the releases are held once, not once per page and once in all.
type listPage struct {
	etag string
	n    int
	last bool
}

// ListReleases reads every release of repo the token can see (drafts only
// with push access), up to the client's page bound. With prev, each page is
// asked for with If-None-Match and a 304 reuses prev's copy of it. When a
// page fails it returns the error with a Listing of the pages read and
// prev's after them: passed as prev to the next call, the pages already
// read cost 304s there instead of being read again (its Releases are not
// one listing: the pages read, then prev's after them).
func (c *Client) ListReleases(ctx context.Context, repo Repo, prev *Listing) (*Listing, error) {
	op := "list releases of " + repo.String()
	out := &Listing{Unchanged: prev != nil}
	prevAt := 0 // where prev's page `page` starts in prev.Releases
	for page := 1; page <= c.maxPages; page++ {
		var old *listPage
		oldAt := prevAt
		if prev != nil && page <= len(prev.pages) {
			old = &prev.pages[page-1]
			prevAt += old.n
		}
		etag := ""
		if old != nil {
			etag = old.etag
		}
		var raw []ghRelease
		path := repoPath(repo, "releases?per_page=100&page="+strconv.Itoa(page))
		resp, err := c.do(ctx, op, true, c.get(path, "If-None-Match", etag), &raw)
		var p listPage
		switch {
		case err != nil && resp != nil && resp.StatusCode == http.StatusNotModified && old != nil:
			p = *old
			out.Releases = append(out.Releases, prev.Releases[oldAt:oldAt+old.n]...)
		case err != nil:
			if old != nil {
				out.pages = append(out.pages, prev.pages[page-1:]...)
				out.Releases = append(out.Releases, prev.Releases[oldAt:]...)
			}
			out.Unchanged = false
			return out, err
		default:
			out.Unchanged = false
			p = listPage{etag: resp.Header.Get("ETag"), last: resp.NextPage == 0, n: len(raw)}
			out.Releases = slices.Grow(out.Releases, len(raw))
			for _, r := range raw {
				out.Releases = append(out.Releases, r.release())
			}
		}
		out.pages = append(out.pages, p)
		if p.last {
			break
		}
	}
	if out.Unchanged && len(out.pages) != len(prev.pages) {
		out.Unchanged = false
	}
	return out, nil
}

// ReleasesByTag returns every release whose tag is tag, drafts included.
// It lists instead of asking by tag because GitHub's get-by-tag cannot see
// drafts, and a draft's tag does not exist until it is published.
func (c *Client) ReleasesByTag(ctx context.Context, repo Repo, tag string) ([]Release, error) {
	l, err := c.ListReleases(ctx, repo, nil)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, r := range l.Releases {
		if r.Tag == tag {
			out = append(out, r)
		}
	}
	return out, nil
}

// DraftByTag returns the one draft release for tag. It wraps ErrNotFound when
// there is none and fails, naming both IDs, when two drafts share the tag.
func (c *Client) DraftByTag(ctx context.Context, repo Repo, tag string) (Release, error) {
	rels, err := c.ReleasesByTag(ctx, repo, tag)
	if err != nil {
		return Release{}, err
	}
	var drafts []Release
	for _, r := range rels {
		if r.Draft {
			drafts = append(drafts, r)
		}
	}
	switch len(drafts) {
	case 0:
		hint := ""
		if c.anonymous {
			hint = " (drafts are visible only with a token that has push access: pass --token or set GITHUB_TOKEN)"
		}
		return Release{}, fmt.Errorf("draft release %s of %s%s: %w", tag, repo, hint, ErrNotFound)
	case 1:
		return drafts[0], nil
	}
	ids := make([]string, len(drafts))
	for i, d := range drafts {
		ids[i] = strconv.FormatInt(d.ID, 10)
	}
	return Release{}, fmt.Errorf("%s has %d draft releases for tag %s (IDs %s): delete all but one on GitHub, then run again", repo, len(drafts), tag, strings.Join(ids, ", "))
}

// Release reads one release by ID; drafts too, with push access.
func (c *Client) Release(ctx context.Context, repo Repo, id int64) (Release, error) {
	var raw ghRelease
	op := fmt.Sprintf("read release %d of %s", id, repo)
	if _, err := c.do(ctx, op, true, c.get(repoPath(repo, "releases/"+strconv.FormatInt(id, 10))), &raw); err != nil {
		return Release{}, err
	}
	return raw.release(), nil
}

// Latest reads the release GitHub calls the repository's latest (what
// github.com/OWNER/NAME/releases/latest and electron-updater's GitHub
// provider serve). It wraps ErrNotFound when there is none.
func (c *Client) Latest(ctx context.Context, repo Repo) (Release, error) {
	var raw ghRelease
	if _, err := c.do(ctx, "read the latest release of "+repo.String(), true, c.get(repoPath(repo, "releases/latest")), &raw); err != nil {
		return Release{}, err
	}
	return raw.release(), nil
}

// Assets lists every asset of a release, page by page: the copy embedded in
// a release object is not documented to be complete.
func (c *Client) Assets(ctx context.Context, repo Repo, releaseID int64) ([]Asset, error) {
	op := fmt.Sprintf("list assets of release %d of %s", releaseID, repo)
	var out []Asset
	for page := 1; ; page++ {
		var raw []ghAsset
		path := repoPath(repo, fmt.Sprintf("releases/%d/assets?per_page=100&page=%d", releaseID, page))
		resp, err := c.do(ctx, op, true, c.get(path), &raw)
		if err != nil {
			return nil, err
		}
		for _, a := range raw {
			out = append(out, a.asset())
		}
		if resp.NextPage == 0 || page >= 20 { // GitHub caps releases at 1,000 assets
			return out, nil
		}
	}
}

// NewRelease describes a draft to create.
type NewRelease struct {
	Tag string
	// Target is the commit the tag will point at when the draft is
	// published. Pin it to a SHA: a branch name is resolved at publish time.
	Target     string
	Name       string
	Notes      string
	Prerelease bool
}

// CreateDraft creates a draft release. It is not retried once the request
// may have reached GitHub: a blind retry can make a second draft, so callers
// list drafts again after an error.
func (c *Client) CreateDraft(ctx context.Context, repo Repo, nr NewRelease) (Release, error) {
	body := &github.RepositoryRelease{
		TagName: &nr.Tag, Name: &nr.Name, Body: &nr.Notes,
		Draft: github.Bool(true), Prerelease: &nr.Prerelease,
	}
	if nr.Target != "" {
		body.TargetCommitish = &nr.Target
	}
	var raw ghRelease
	op := fmt.Sprintf("create draft release %s in %s", nr.Tag, repo)
	if _, err := c.do(ctx, op, false, c.newRequest(http.MethodPost, repoPath(repo, "releases"), body), &raw); err != nil {
		return Release{}, err
	}
	return raw.release(), nil
}

// ReleaseEdit lists the fields to change; nil leaves a field alone.
type ReleaseEdit struct {
	Name       *string
	Notes      *string
	Draft      *bool // false publishes
	Prerelease *bool
	// MakeLatest is "true", "false" or "legacy"; "" leaves GitHub's default.
	MakeLatest string
}

// EditRelease changes a release; setting Draft to false publishes it.
// Editing is idempotent, so transient failures are retried.
func (c *Client) EditRelease(ctx context.Context, repo Repo, id int64, e ReleaseEdit) (Release, error) {
	body := &github.RepositoryRelease{Name: e.Name, Body: e.Notes, Draft: e.Draft, Prerelease: e.Prerelease}
	if e.MakeLatest != "" {
		body.MakeLatest = &e.MakeLatest
	}
	var raw ghRelease
	op := fmt.Sprintf("edit release %d of %s", id, repo)
	if _, err := c.do(ctx, op, true, c.newRequest(http.MethodPatch, repoPath(repo, "releases/"+strconv.FormatInt(id, 10)), body), &raw); err != nil {
		return Release{}, err
	}
	return raw.release(), nil
}

// DeleteRelease deletes a release (its tag, if any, stays). A release that
// is already gone counts as deleted, so a retried delete succeeds.
func (c *Client) DeleteRelease(ctx context.Context, repo Repo, id int64) error {
	return c.delete(ctx, fmt.Sprintf("delete release %d of %s", id, repo), repoPath(repo, "releases/"+strconv.FormatInt(id, 10)))
}

// DeleteAsset deletes a release asset; one already gone counts as deleted.
func (c *Client) DeleteAsset(ctx context.Context, repo Repo, assetID int64) error {
	return c.delete(ctx, fmt.Sprintf("delete asset %d of %s", assetID, repo), repoPath(repo, "releases/assets/"+strconv.FormatInt(assetID, 10)))
}

// delete deletes what path names; gone already counts as deleted.
func (c *Client) delete(ctx context.Context, op, path string) error {
	_, err := c.do(ctx, op, true, c.newRequest(http.MethodDelete, path, nil), nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// RepoInfo is what otapub needs to know of a repository.
type RepoInfo struct {
	Private bool
}

// Repository reads repo's visibility.
func (c *Client) Repository(ctx context.Context, repo Repo) (RepoInfo, error) {
	var raw struct {
		Private bool `json:"private"`
	}
	if _, err := c.do(ctx, "read repository "+repo.String(), true, c.get(strings.TrimSuffix(repoPath(repo, ""), "/")), &raw); err != nil {
		return RepoInfo{}, err
	}
	return RepoInfo{Private: raw.Private}, nil
}

// RenameAsset renames an asset; GitHub applies its own renaming to name.
func (c *Client) RenameAsset(ctx context.Context, repo Repo, assetID int64, name string) (Asset, error) {
	var raw ghAsset
	op := fmt.Sprintf("rename asset %d of %s to %s", assetID, repo, name)
	body := map[string]string{"name": name}
	if _, err := c.do(ctx, op, true, c.newRequest(http.MethodPatch, repoPath(repo, "releases/assets/"+strconv.FormatInt(assetID, 10)), body), &raw); err != nil {
		return Asset{}, err
	}
	return raw.asset(), nil
}

// ImmutableReleases reports whether repo makes releases immutable when
// published. Reading the setting needs admin rights; callers treat an
// error as "unknown".
func (c *Client) ImmutableReleases(ctx context.Context, repo Repo) (bool, error) {
	var raw struct {
		Enabled bool `json:"enabled"`
	}
	_, err := c.do(ctx, "read the immutable-releases setting of "+repo.String(), true, c.get(repoPath(repo, "immutable-releases")), &raw)
	if errors.Is(err, ErrNotFound) {
		return false, nil // GitHub answers 404 when the setting is off
	}
	return raw.Enabled, err
}

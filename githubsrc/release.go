package githubsrc

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// ErrNotFound is wrapped into errors for a missing repository, release or asset.
var ErrNotFound = errors.New("not found")

// Repo names a repository, as in "owner/name".
type Repo struct{ Owner, Name string }

func (r Repo) String() string { return r.Owner + "/" + r.Name }

// IsZero reports whether r names no repository.
func (r Repo) IsZero() bool { return r == Repo{} }

var repoPartRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// ParseRepo parses "owner/name". A GitHub URL such as
// https://github.com/owner/name(.git) is accepted too, since that is what
// people paste.
func ParseRepo(s string) (Repo, error) {
	t := strings.TrimSpace(s)
	for _, p := range []string{"https://github.com/", "http://github.com/", "github.com/"} {
		t = strings.TrimPrefix(t, p)
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, "/"), ".git")
	owner, name, ok := strings.Cut(t, "/")
	if !ok || !repoPartRE.MatchString(owner) || !repoPartRE.MatchString(name) || name == "." || name == ".." {
		return Repo{}, fmt.Errorf("invalid repository %q: want owner/name, like tauri-apps/tauri", s)
	}
	return Repo{Owner: owner, Name: name}, nil
}

// Release is a GitHub release as otapub sees it.
type Release struct {
	ID              int64
	Tag             string
	Name            string
	Notes           string
	TargetCommitish string
	Draft           bool
	Prerelease      bool
	// Immutable releases cannot gain, lose or change assets once published.
	Immutable   bool
	CreatedAt   time.Time
	PublishedAt time.Time // zero for drafts
	HTMLURL     string
	UploadURL   string // the upload_url template, "{?name,label}" removed
	Assets      []Asset
}

// Version returns the version the release's tag names, after prefix.
func (r Release) Version(prefix string) (*semver.Version, error) {
	return ParseTag(r.Tag, prefix)
}

// Asset returns the asset named name.
func (r Release) Asset(name string) (Asset, bool) {
	for _, a := range r.Assets {
		if a.Name == name {
			return a, true
		}
	}
	return Asset{}, false
}

// Asset is a file attached to a release: what otapub reads of one. A
// proxy keeps every listed asset for as long as it serves the app, so
// what nothing reads (label, content type, API URL, update time) is not
// decoded.
type Asset struct {
	ID   int64
	Name string
	// State is "uploaded" once complete; an interrupted upload leaves
	// "starter" or "open" behind.
	State string
	Size  int64
	// Digest is "sha256:<hex>" as GitHub computed it at upload, or "" for
	// assets uploaded before GitHub kept digests (June 2025) and on servers
	// that do not report one.
	Digest string
	// browserURL is browser_download_url, or with based the part before
	// the escaped name that every asset of the release shares: the URL of
	// each asset, held in full, would be the biggest thing a release
	// holds for its life in the proxy.
	browserURL string
	based      bool
}

// BrowserURL returns browser_download_url: anonymous downloads, public
// repositories only; "" when GitHub gave none.
func (a Asset) BrowserURL() string {
	if a.based {
		return a.browserURL + url.PathEscape(a.Name)
	}
	return a.browserURL
}

// SetBrowserURL sets what BrowserURL returns.
func (a *Asset) SetBrowserURL(u string) { a.browserURL, a.based = u, false }

// HasBrowserURL reports whether BrowserURL is not "", without making it.
func (a Asset) HasBrowserURL() bool { return a.browserURL != "" }

// browserBase returns the part of a's browser_download_url before its
// escaped name, or "" when it does not end with that.
func browserBase(u, name string) string {
	base, ok := strings.CutSuffix(u, "/"+url.PathEscape(name))
	if !ok {
		return ""
	}
	return u[:len(base)+1]
}

// shareBrowserBase has the assets of one release hold their browser URLs
// as one shared base when each is that base and its escaped name, which
// is what GitHub gives: exactly, or not at all.
func shareBrowserBase(assets []Asset) {
	if len(assets) == 0 {
		return
	}
	base := browserBase(assets[0].browserURL, assets[0].Name)
	if base == "" {
		return
	}
	for _, a := range assets {
		if !a.HasBrowserURL() || a.based || browserBase(a.browserURL, a.Name) != base {
			return
		}
	}
	base = strings.Clone(base)
	for i := range assets {
		assets[i].browserURL, assets[i].based = base, true
	}
}

// Uploaded reports whether the asset is complete.
func (a Asset) Uploaded() bool { return a.State == "uploaded" }

// SHA256 returns the hex SHA-256 from Digest, or "" when GitHub gave none.
func (a Asset) SHA256() string {
	hex, ok := strings.CutPrefix(a.Digest, "sha256:")
	if !ok {
		return ""
	}
	return hex
}

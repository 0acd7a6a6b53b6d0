package proxy

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/otapub/ota-action/githubsrc"
)

// GitHubSource serves an app from a GitHub repository's published releases.
type GitHubSource struct {
	Client *githubsrc.Client
	Repo   githubsrc.Repo
	// Private forces downloads through the API with the server's token;
	// otherwise a token-holding source asks GitHub once whether the
	// repository is private.
	Private bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	limit    atomic.Pointer[githubsrc.RateLimitError] // the last rate limit met
	mu       sync.Mutex
	partial  *githubsrc.Listing // the pages a failed listing read: the next one's conditional base
	known    bool               // whether detected holds GitHub's answer
	detected bool
}

func (g *GitHubSource) String() string { return "github.com/" + g.Repo.String() }

// IsPrivate reports whether downloads of the repository go through the
// API, and whether that is known yet: when it is detected, only once the
// source has listed.
func (g *GitHubSource) IsPrivate() (private, known bool) {
	if g.Private {
		return true, true
	}
	if g.Client.Anonymous() {
		return false, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.detected, g.known
}

// private reports whether downloads must go through the API.
func (g *GitHubSource) private(ctx context.Context) (bool, error) {
	if g.Private {
		return true, nil
	}
	if g.Client.Anonymous() {
		return false, nil // anonymous access sees public repositories only
	}
	g.mu.Lock()
	known, detected := g.known, g.detected
	g.mu.Unlock()
	if known {
		return detected, nil
	}
	info, err := g.Client.Repository(ctx, g.Repo)
	if err != nil {
		return false, err
	}
	g.mu.Lock()
	g.known, g.detected = true, info.Private
	g.mu.Unlock()
	return info.Private, nil
}

// Releases lists the repository's published releases, conditionally on
// the previous listing's ETags.
func (g *GitHubSource) Releases(ctx context.Context, prev any) ([]githubsrc.Release, any, bool, error) {
	if _, err := g.private(ctx); err != nil {
		return nil, nil, false, err
	}
	base, _ := prev.(*githubsrc.Listing)
	g.mu.Lock()
	partial := g.partial
	g.mu.Unlock()
	if partial != nil {
		base = partial // a listing that failed midway: its pages cost 304s now
	}
	l, err := g.Client.ListReleases(ctx, g.Repo, base)
	if err != nil {
		if l != nil {
			g.mu.Lock()
			g.partial = l
			g.mu.Unlock()
		}
		return nil, nil, false, g.note(err)
	}
	g.limit.Store(nil)
	if partial != nil {
		g.mu.Lock()
		g.partial = nil
		g.mu.Unlock()
	}
	if l.Unchanged && partial == nil {
		return nil, l, true, nil // unchanged since prev, which the caller's snapshot was built from
	}
	trim(l.Releases)
	if !slices.ContainsFunc(l.Releases, func(r githubsrc.Release) bool { return r.Draft }) {
		return l.Releases, l, false, nil // the listing's own: kept once, not twice
	}
	var published []githubsrc.Release
	for _, r := range l.Releases {
		if !r.Draft {
			published = append(published, r)
		}
	}
	return published, l, false, nil
}

// note remembers a rate limit that err reports, and returns err.
func (g *GitHubSource) note(err error) error {
	var rl *githubsrc.RateLimitError
	if errors.As(err, &rl) && !rl.Reset.IsZero() {
		g.limit.Store(rl)
	}
	return err
}

// limited returns the rate limit in force, if any: the last one the
// source met, or the token's, exhausted until its reset.
func (g *GitHubSource) limited() error {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	if rl := g.limit.Load(); rl != nil && now.Before(rl.Reset) {
		return rl
	}
	if remaining, limit, reset := g.Client.RateLimit(); remaining == 0 && now.Before(reset) {
		return &githubsrc.RateLimitError{Op: "download from " + g.Repo.String(), Limit: limit, Reset: reset}
	}
	return nil
}

// maxTextSize bounds a small asset's read: .sig files are under 1 KiB.
const maxTextSize = 64 << 10

// Text reads a small asset: through its public URL (no rate limit) or,
// for private repositories, through the API.
func (g *GitHubSource) Text(ctx context.Context, _ githubsrc.Release, a githubsrc.Asset) ([]byte, error) {
	private, err := g.private(ctx)
	if err != nil {
		return nil, err
	}
	b, err := g.Client.ReadAsset(ctx, g.Repo, a, private, maxTextSize)
	return b, g.note(err)
}

// FixedURL returns a's browser URL when the repository is known to be
// public: what Download would answer, without asking anything.
func (g *GitHubSource) FixedURL(a githubsrc.Asset) (string, bool) {
	if !g.HasFixedURL(a) {
		return "", false
	}
	return a.BrowserURL(), true
}

// HasFixedURL reports whether FixedURL has a URL for a, without making it.
func (g *GitHubSource) HasFixedURL(a githubsrc.Asset) bool {
	private, known := g.IsPrivate()
	return known && !private && a.HasBrowserURL()
}

// signedURLReuse is how long a signed URL is reused: GitHub does not document
// their lifetime and some have lasted only about five minutes.
const signedURLReuse = 30 * time.Second

// Download resolves where a client fetches a: the public browser URL, or
// for private repositories a signed URL resolved now with the server's token.
func (g *GitHubSource) Download(ctx context.Context, _ githubsrc.Release, a githubsrc.Asset) (Download, error) {
	private, err := g.private(ctx)
	if err != nil {
		return Download{}, err
	}
	if private {
		if err := g.limited(); err != nil {
			return Download{}, err // GitHub would refuse: do not ask
		}
	}
	d, err := g.Client.DownloadURL(ctx, g.Repo, a, private)
	if err != nil {
		return Download{}, g.note(err)
	}
	switch {
	case d.Body != nil:
		return Download{Body: d.Body, Size: d.Size}, nil
	case private:
		return Download{URL: d.URL, Reuse: signedURLReuse}, nil
	}
	return Download{URL: d.URL, Cacheable: time.Hour, Reuse: time.Hour}, nil
}

// trim drops, in place, what the proxy never reads from a listed release:
// the listing is kept for its next conditional read, and its releases share
// their assets with it, so an asset's digest would otherwise stay for the
// app's life. The states of uploaded assets share one string.
//
// It writes only what is not trimmed yet: the pages of a listing that came
// back 304 are the previous listing's, trimmed already and read by the
// snapshot serving now.
func trim(rels []githubsrc.Release) {
	for i := range rels {
		r := &rels[i]
		if r.HTMLURL != "" || r.UploadURL != "" || r.TargetCommitish != "" {
			r.HTMLURL, r.UploadURL, r.TargetCommitish = "", "", ""
		}
		for j := range r.Assets {
			a := &r.Assets[j]
			if a.Digest != "" {
				a.Digest = ""
			}
			if a.State == uploaded && unsafe.StringData(a.State) != unsafe.StringData(uploaded) {
				a.State = uploaded
			}
		}
	}
}

const uploaded = "uploaded"

package proxy

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// Source is where the proxy reads one app's releases: a GitHub repository
// (GitHubSource) or a local folder (DirSource). The proxy cannot tell them
// apart.
type Source interface {
	// Releases returns the published releases. prev is what the previous
	// successful call returned as next; when nothing changed since, the
	// source may answer unchanged=true (and no releases) cheaply.
	Releases(ctx context.Context, prev any) (rels []githubsrc.Release, next any, unchanged bool, err error)
	// Text returns the contents of a small asset a feed reads: a .sig
	// today, channel files or bundle metadata later (immutable per asset ID).
	Text(ctx context.Context, rel githubsrc.Release, a githubsrc.Asset) ([]byte, error)
	// Download says where a client gets asset a of rel.
	Download(ctx context.Context, rel githubsrc.Release, a githubsrc.Asset) (Download, error)
	// String names the source in logs and errors.
	String() string
}

// Download is how the proxy answers GET /download/{tag}/{asset}: a
// redirect to URL, the local File (which the proxy closes), or a Body
// GitHub streamed itself.
type Download struct {
	URL  string
	File *os.File
	Body io.ReadCloser
	Size int64
	// Cacheable is how long clients, CDNs and the proxy may reuse a redirect;
	// 0 means no-store (signed URLs of private repositories).
	Cacheable time.Duration
	// Reuse is how long the proxy itself may reuse a resolved URL.
	Reuse time.Duration
}

package proxy

import (
	"context"
	"log/slog"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/localdir"
)

// DirSource serves an app from a local folder of releases (localdir): for
// demos, trying an update flow before publishing, and air-gapped sites
// that promote a release by copying its folder in. Downloads are served
// from the files themselves.
type DirSource struct {
	dir *localdir.Dir
}

// NewDirSource returns a source over the releases folder root.
func NewDirSource(root string, log *slog.Logger) (*DirSource, error) {
	d, err := localdir.Open(root, log)
	if err != nil {
		return nil, err
	}
	return &DirSource{dir: d}, nil
}

func (d *DirSource) String() string { return d.dir.String() }

// Releases reads the folder's published releases. The folder's
// fingerprint stands in for an ETag: unchanged when it matches prev.
func (d *DirSource) Releases(ctx context.Context, prev any) ([]githubsrc.Release, any, bool, error) {
	all, sum, err := d.dir.Releases(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if p, ok := prev.(uint64); ok && p == sum {
		return nil, sum, true, nil
	}
	var rels []githubsrc.Release
	for _, r := range all {
		if !r.Draft {
			rels = append(rels, r)
		}
	}
	return rels, sum, false, nil
}

// Text reads a small file (a .sig).
func (d *DirSource) Text(_ context.Context, rel githubsrc.Release, a githubsrc.Asset) ([]byte, error) {
	return d.dir.ReadSmall(rel.Tag, a.Name, maxTextSize)
}

// Download serves the file itself.
func (d *DirSource) Download(_ context.Context, rel githubsrc.Release, a githubsrc.Asset) (Download, error) {
	f, err := d.dir.Open(rel.Tag, a.Name)
	if err != nil {
		return Download{}, err
	}
	return Download{File: f}, nil
}

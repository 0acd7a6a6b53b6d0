package proxy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// MetadataFile is the optional file in a tag's folder that gives the
// release what GitHub would: {"name", "notes", "published_at", "prerelease"}.
const MetadataFile = "release.json"

// DirSource serves releases from a folder laid out one sub-folder per tag
// ("releases/v1.2.0/DemoApp_1.2.0_x64-setup.exe", its .sig beside it), for
// demos, trying an update flow before publishing, and air-gapped sites that
// promote a release by copying its folder in. Downloads are served from
// the files themselves.
type DirSource struct {
	root string
}

// NewDirSource returns a source over root, which must be a folder.
func NewDirSource(root string) (*DirSource, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("releases folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("releases folder %s is a file: --dir takes a folder with one sub-folder per tag", root)
	}
	return &DirSource{root: root}, nil
}

func (d *DirSource) String() string { return "dir " + d.root }

type metadata struct {
	Name        string    `json:"name"`
	Notes       string    `json:"notes"`
	PublishedAt time.Time `json:"published_at"`
	Prerelease  bool      `json:"prerelease"`
	Draft       bool      `json:"draft"`
}

// Releases reads the folder. Its fingerprint (every name, size and
// modification time) stands in for an ETag: unchanged when it matches prev.
func (d *DirSource) Releases(_ context.Context, prev any) ([]githubsrc.Release, any, bool, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read releases folder: %w", err)
	}
	var rels []githubsrc.Release
	fp := fnv.New64a()
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rel, err := d.release(e.Name(), fp)
		if err != nil {
			return nil, nil, false, err
		}
		if !rel.Draft {
			rels = append(rels, rel)
		}
	}
	sum := fp.Sum64()
	if p, ok := prev.(uint64); ok && p == sum {
		return nil, sum, true, nil
	}
	return rels, sum, false, nil
}

func (d *DirSource) release(tag string, fp io.Writer) (githubsrc.Release, error) {
	dir := filepath.Join(d.root, tag)
	fi, err := os.Stat(dir)
	if err != nil {
		return githubsrc.Release{}, err
	}
	rel := githubsrc.Release{ID: int64(idOf(tag)), Tag: tag, Name: tag, PublishedAt: fi.ModTime().UTC().Truncate(time.Second)}
	if b, err := os.ReadFile(filepath.Join(dir, MetadataFile)); err == nil {
		var m metadata
		if err := json.Unmarshal(b, &m); err != nil {
			return rel, fmt.Errorf("%s: %w", filepath.Join(dir, MetadataFile), err)
		}
		rel.Name, rel.Notes, rel.Prerelease, rel.Draft = cmp.Or(m.Name, tag), m.Notes, m.Prerelease, m.Draft
		if !m.PublishedAt.IsZero() {
			rel.PublishedAt = m.PublishedAt.UTC()
		}
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return rel, err
	}
	for _, f := range files {
		name := f.Name()
		if f.IsDir() || strings.HasPrefix(name, ".") || name == MetadataFile {
			continue
		}
		info, err := f.Info()
		if err != nil {
			return rel, err
		}
		fmt.Fprintf(fp, "%s/%s/%d/%d\n", tag, name, info.Size(), info.ModTime().UnixNano())
		rel.Assets = append(rel.Assets, githubsrc.Asset{
			ID: int64(idOf(tag + "/" + name)), Name: name, State: "uploaded", Size: info.Size(),
			ContentType: "application/octet-stream", UpdatedAt: info.ModTime(),
		})
	}
	slices.SortFunc(rel.Assets, func(a, b githubsrc.Asset) int { return strings.Compare(a.Name, b.Name) })
	return rel, nil
}

// idOf gives a stable positive ID to a tag or file.
func idOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() >> 1
}

// Signature reads a .sig file.
func (d *DirSource) Signature(_ context.Context, rel githubsrc.Release, a githubsrc.Asset) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.root, rel.Tag, a.Name))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: %w", a.Name, githubsrc.ErrNotFound)
		}
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSigSize))
}

// Download serves the file itself.
func (d *DirSource) Download(_ context.Context, rel githubsrc.Release, a githubsrc.Asset) (Download, error) {
	return Download{File: filepath.Join(d.root, rel.Tag, a.Name)}, nil
}

// Package localdir reads releases from a local folder laid out one
// sub-folder per tag, the tag's files inside ("releases/v1.2.0/App_1.2.0_x64-setup.exe",
// its .sig beside it), in the vocabulary of githubsrc: the folder stands in
// for a repository's releases. otapub serve --dir answers from it; the
// publisher checks such a folder before it becomes a release.
//
// Only regular files that resolve inside the folder count: a symlink that
// leads out of it (or to anything but a regular file), hidden files and
// symlinked tag folders are left out (and said at debug level), so nothing
// outside the folder is ever listed or opened.
package localdir

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// MetadataFile is the optional file in a tag's folder that gives the
// release what GitHub would: {"name", "notes", "published_at", "prerelease", "draft"}.
const MetadataFile = "release.json"

// Dir is a folder of releases, one sub-folder per tag.
type Dir struct {
	path string
	root *os.Root // every file is reached through it: nothing escapes the folder
	log  *slog.Logger
}

// Open returns the releases folder at path, which must be a folder. log
// (nil: none) hears at debug level what is skipped and why.
func Open(path string, log *slog.Logger) (*Dir, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("releases folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("releases folder %s is a file: --dir takes a folder with one sub-folder per tag", path)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("releases folder: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dir{path: path, root: root, log: log}, nil
}

func (d *Dir) String() string { return "dir " + d.path }

// Close releases the folder's handle.
func (d *Dir) Close() error { return d.root.Close() }

type metadata struct {
	Name        string    `json:"name"`
	Notes       string    `json:"notes"`
	PublishedAt time.Time `json:"published_at"`
	Prerelease  bool      `json:"prerelease"`
	Draft       bool      `json:"draft"`
}

// Releases reads every tag folder, drafts included (Draft set from
// release.json), in name order. fingerprint changes whenever a file's name,
// size or modification time does: it stands in for an ETag.
func (d *Dir) Releases(context.Context) (rels []githubsrc.Release, fingerprint uint64, err error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, 0, fmt.Errorf("read releases folder: %w", err)
	}
	fp := fnv.New64a()
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			if e.Type()&fs.ModeSymlink != 0 {
				d.log.Debug("skipped a symlink among the tag folders", "dir", d.path, "name", e.Name())
			}
			continue
		}
		rel, err := d.release(e.Name(), fp)
		if err != nil {
			return nil, 0, err
		}
		rels = append(rels, rel)
	}
	return rels, fp.Sum64(), nil
}

// Release reads one tag's folder, draft or not.
func (d *Dir) Release(_ context.Context, tag string) (githubsrc.Release, error) {
	if !validName(tag) {
		return githubsrc.Release{}, fmt.Errorf("release %q: %w", tag, githubsrc.ErrNotFound)
	}
	fi, err := d.root.Lstat(tag)
	if err != nil || !fi.IsDir() {
		return githubsrc.Release{}, fmt.Errorf("release %q in %s: %w", tag, d.path, githubsrc.ErrNotFound)
	}
	return d.release(tag, io.Discard)
}

// Assets lists the files of one tag's release.
func (d *Dir) Assets(ctx context.Context, tag string) ([]githubsrc.Asset, error) {
	rel, err := d.Release(ctx, tag)
	return rel.Assets, err
}

func (d *Dir) release(tag string, fp io.Writer) (githubsrc.Release, error) {
	fi, err := d.root.Lstat(tag)
	if err != nil {
		return githubsrc.Release{}, err
	}
	rel := githubsrc.Release{ID: int64(idOf(tag)), Tag: tag, Name: tag, PublishedAt: fi.ModTime().UTC().Truncate(time.Second)}
	if b, err := d.root.ReadFile(path.Join(tag, MetadataFile)); err == nil {
		var m metadata
		if err := json.Unmarshal(b, &m); err != nil {
			return rel, fmt.Errorf("%s: %w", d.join(tag, MetadataFile), err)
		}
		rel.Name, rel.Notes, rel.Prerelease, rel.Draft = cmp.Or(m.Name, tag), m.Notes, m.Prerelease, m.Draft
		if !m.PublishedAt.IsZero() {
			rel.PublishedAt = m.PublishedAt.UTC()
		}
	}
	files, err := os.ReadDir(d.join(tag))
	if err != nil {
		return rel, err
	}
	for _, f := range files {
		name := f.Name()
		if f.IsDir() || strings.HasPrefix(name, ".") || name == MetadataFile {
			continue
		}
		info, err := d.regular(tag, name)
		if err != nil {
			d.log.Debug("skipped", "dir", d.path, "tag", tag, "name", name, "why", err.Error())
			continue
		}
		fmt.Fprintf(fp, "%s/%s/%d/%d\n", tag, name, info.Size(), info.ModTime().UnixNano())
		rel.Assets = append(rel.Assets, githubsrc.Asset{
			ID: int64(idOf(tag + "/" + name)), Name: name, State: "uploaded", Size: info.Size(),
		})
	}
	slices.SortFunc(rel.Assets, func(a, b githubsrc.Asset) int { return strings.Compare(a.Name, b.Name) })
	return rel, nil
}

// errNotRegular says a name is not a regular file inside the folder.
var errNotRegular = errors.New("not a regular file")

// regular stats tag/name through the root, which refuses symlinks that
// lead out of the folder, and accepts only a regular file.
func (d *Dir) regular(tag, name string) (fs.FileInfo, error) {
	info, err := d.root.Stat(path.Join(tag, name))
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return info, nil
}

// Open opens asset name of tag for reading: a regular file that resolves
// inside the folder, else an error wrapping githubsrc.ErrNotFound.
func (d *Dir) Open(tag, name string) (*os.File, error) {
	if !validName(tag) || !validName(name) {
		return nil, fmt.Errorf("%s/%s: %w", tag, name, githubsrc.ErrNotFound)
	}
	f, err := d.root.Open(path.Join(tag, name))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w (%v)", tag, name, githubsrc.ErrNotFound, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s/%s: %w (%v)", tag, name, githubsrc.ErrNotFound, errNotRegular)
	}
	return f, nil
}

// ReadSmall reads at most limit bytes of asset name of tag: a .sig or
// another small text.
func (d *Dir) ReadSmall(tag, name string, limit int64) ([]byte, error) {
	f, err := d.Open(tag, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// validName reports whether s names one entry of a folder.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`) && !strings.HasPrefix(s, ".")
}

func (d *Dir) join(parts ...string) string {
	return filepath.Join(append([]string{d.path}, parts...)...)
}

// idOf gives a stable positive ID to a tag or file.
func idOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() >> 1
}

package publisher

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
)

// VerifyDir runs verify's checks over the release files in a local folder
// (walked as upload walks it: the files `otapub upload TAG dir` would put
// on the release; a hot-swap bundle's folder as it lies), with no network
// and no token. Assets carry no GitHub
// digest, so every file a check needs is hashed from its bytes. opts.Tag
// names the version the files must carry; opts.Repo is only reported.
func VerifyDir(ctx context.Context, dir string, opts VerifyOptions) (VerifyReport, error) {
	rep := VerifyReport{Dir: dir, Tag: opts.Tag}
	if fi, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("verify --dir: %w", err)
	} else if !fi.IsDir() {
		return rep, fmt.Errorf("verify --dir %s: not a folder: name the folder that holds the release's files", dir)
	}
	files, err := dirFiles(dir)
	if err != nil {
		return rep, fmt.Errorf("verify --dir: %w", err)
	}
	opts.local = true
	rel := githubsrc.Release{Tag: opts.Tag, Name: opts.Tag, Draft: true}
	rep, err = verifyRelease(ctx, opts, rel, nil, folderFiles(files))
	rep.Dir = dir
	if ie, ok := err.(*IncompleteError); ok {
		ie.Dir = dir
	}
	return rep, err
}

// dirFiles are the release files in dir: a hot-swap bundle's folder
// (ota.MetadataName beside the archive and its .sig) as it lies, since its
// files are no native release files; any other folder as upload walks it.
func dirFiles(dir string) ([]File, error) {
	if _, err := os.Stat(filepath.Join(dir, ota.MetadataName)); err != nil {
		files, _, err := Collect([]string{dir})
		return files, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && e.Name() != ReleaseMetadataFile {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	files, _, err := Collect(paths)
	return files, err
}

// folderFiles is a release made of local files, as Collect found them.
type folderFiles []File

// List gives each file as an uploaded asset with no digest; IDs are the
// files' positions, starting at 1.
func (f folderFiles) List(context.Context) ([]githubsrc.Asset, error) {
	assets := make([]githubsrc.Asset, len(f))
	for i, file := range f {
		assets[i] = githubsrc.Asset{ID: int64(i + 1), Name: file.Name, Size: file.Size, State: "uploaded"}
	}
	return assets, nil
}

// Open reads the file behind asset a.
func (f folderFiles) Open(_ context.Context, a githubsrc.Asset) (io.ReadCloser, error) {
	if a.ID < 1 || int(a.ID) > len(f) {
		return nil, fmt.Errorf("open %s: %w", a.Name, githubsrc.ErrNotFound)
	}
	file := f[a.ID-1]
	rc, err := os.Open(file.Path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file.Path, err)
	}
	return rc, nil
}

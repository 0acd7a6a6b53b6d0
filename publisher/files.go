package publisher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc"
)

// File is a local file to publish.
type File struct {
	Path string // on disk
	// Name is the asset name GitHub will give it (spaces become dots).
	Name     string
	Size     int64
	SHA256   string // hex; set by Hash
	Artifact githubsrc.Artifact
	data     []byte // contents of an in-memory file (a manifest)
}

// Collect turns paths into Files: files as named, and from folders the
// release artifacts inside (installers, updater payloads, signatures,
// manifests, checksums; electron-builder's blockmaps, latest*.yml,
// RELEASES, .nupkg files, and whatever a latest*.yml there offers); a bundler's staging files (the insides of
// App.app, *.AppDir, a deb's build tree) are walked past and listed in
// skipped. Empty files, files over 2 GiB and two files that would get one
// asset name are errors.
func Collect(paths []string) ([]File, []SkippedFile, error) {
	var files []File
	var skipped []SkippedFile
	byName := map[string]string{}
	add := func(path string, info fs.FileInfo) error {
		name := githubsrc.AssetName(filepath.Base(path))
		switch {
		case info.Size() == 0:
			return fmt.Errorf("%s is empty: GitHub rejects empty assets; leave it out", path)
		case info.Size() > githubsrc.MaxAssetSize:
			return fmt.Errorf("%s is %d bytes: GitHub takes at most 2 GiB per asset", path, info.Size())
		}
		if other, dup := byName[name]; dup {
			return fmt.Errorf("%s and %s would both be the asset %s: rename one", other, path, name)
		}
		byName[name] = path
		files = append(files, File{Path: path, Name: name, Size: info.Size(), Artifact: githubsrc.Classify(name)})
		return nil
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no files: name the files or folders to upload")
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("upload %s: %w", p, err)
		}
		if !info.IsDir() {
			if err := add(p, info); err != nil {
				return nil, nil, err
			}
			continue
		}
		before := len(files)
		type other struct {
			path string
			info fs.FileInfo
		}
		var others []other
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				for _, suffix := range stagingDirs {
					if path != p && strings.HasSuffix(d.Name(), suffix) {
						skipped = append(skipped, SkippedFile{Path: path, Reason: "a bundle's build folder, not a release file"})
						return filepath.SkipDir
					}
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if githubsrc.Classify(githubsrc.AssetName(d.Name())).Role == githubsrc.RoleOther && !isNupkg(d.Name()) {
				others = append(others, other{path, info})
				return nil
			}
			return add(path, info)
		})
		if err != nil {
			return nil, nil, err
		}
		// electron-builder names files as its artifactName says
		// ("myapp-0.1.5-arm64.zip"): what a channel file beside them
		// offers is a release file whatever its name.
		wanted := channelNamed(files[before:])
		for _, o := range others {
			dashed := githubsrc.AssetName(strings.ReplaceAll(filepath.Base(o.path), " ", "-"))
			if !wanted[dashed] && !wanted[strings.TrimSuffix(dashed, ".blockmap")] {
				skipped = append(skipped, SkippedFile{Path: o.path, Reason: "not a release artifact (name it to upload it anyway)"})
				continue
			}
			if err := add(o.path, o.info); err != nil {
				return nil, nil, err
			}
		}
		if len(files) == before {
			return nil, nil, fmt.Errorf("folder %s has no release files to upload (installers, updater payloads, .sig files, manifests): name files to upload others", p)
		}
	}
	electronNames(files)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, skipped, nil
}

// isNupkg reports whether a file is a Squirrel.Windows package, which
// RELEASES lists.
func isNupkg(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".nupkg") }

// stagingDirs are bundle directories whose insides are never release
// files; electron-builder leaves the unpacked app beside its outputs
// (win-unpacked, linux-arm64-unpacked), its .exe no installer.
var stagingDirs = []string{".app", ".AppDir", ".framework", ".xcarchive", "-unpacked"}

// Hash computes every file's SHA-256 while streaming it, workers at a time.
func Hash(ctx context.Context, files []File, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i := range files {
		g.Go(func() error {
			sum, err := hashFile(ctx, files[i].Path)
			files[i].SHA256 = sum
			return err
		})
	}
	return g.Wait()
}

// hashBufSize is the read size for hashing: large reads keep syscalls few.
const hashBufSize = 1 << 20

func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	size := int64(hashBufSize)
	if fi, err := f.Stat(); err == nil && fi.Size() < size {
		size = fi.Size() + 1 // a small file needs no 1 MiB buffer; +1 reads its EOF
	}
	buf := make([]byte, size)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", path, err)
		}
	}
}

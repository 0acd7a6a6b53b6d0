package publisher

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// folderFiles is a release in a local folder, as a later otapub verify
// --dir reads it: it lists and opens files and has no digests.
type folderFiles string

func (d folderFiles) List(context.Context) ([]githubsrc.Asset, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var out []githubsrc.Asset
	for i, e := range entries {
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, githubsrc.Asset{ID: int64(i + 1), Name: e.Name(), Size: info.Size(), State: "uploaded"})
	}
	return out, nil
}

func (d folderFiles) Open(_ context.Context, a githubsrc.Asset) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), a.Name))
}

// TestVerifyFolder runs verify's checks over a folder through
// ReleaseFiles: digests come from the bytes, signatures verify, and a
// corrupted file is caught.
func TestVerifyFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	if err := os.CopyFS(dir, os.DirFS("../testdata/fixtures/tauri-v2/v1.2.0")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, LatestJSON)); err != nil {
		t.Fatal(err)
	}
	files, _, err := Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := Hash(t.Context(), files, 2); err != nil {
		t.Fatal(err)
	}
	var lines []ManifestLine
	for _, f := range files {
		lines = append(lines, ManifestLine{SHA256: f.SHA256, Name: f.Name})
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), FormatManifest(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	keyText, err := os.ReadFile("../testdata/fixtures/keys/test.key.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := taurisig.ParsePublicKey(string(keyText))
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Tag: "v1.2.0", PubKey: &pub}
	rel := githubsrc.Release{Tag: "v1.2.0", Draft: true}

	rep, err := verifyRelease(t.Context(), opts, rel, nil, folderFiles(dir))
	if err != nil {
		t.Fatalf("verify of the folder: %v", err)
	}
	if rep.Signatures != 8 || rep.PayloadBytes == 0 {
		t.Errorf("%d signatures checked over %d bytes, want the 8 payloads read", rep.Signatures, rep.PayloadBytes)
	}

	deb := filepath.Join(dir, "DemoApp_1.2.0_amd64.deb")
	data, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(deb, append([]byte{data[0] ^ 1}, data[1:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = verifyRelease(t.Context(), opts, rel, nil, folderFiles(dir))
	var ie *IncompleteError
	if !errors.As(err, &ie) || len(ie.Problems) != 2 {
		t.Fatalf("verify of a corrupted folder = %v, want a manifest and a signature problem", err)
	}
	for _, p := range ie.Problems {
		if p.Asset != "DemoApp_1.2.0_amd64.deb" || p.Check != CheckManifest && p.Check != CheckSignature || !strings.Contains(p.Message, "DemoApp_1.2.0_amd64.deb") {
			t.Errorf("problem %+v", p)
		}
	}
}

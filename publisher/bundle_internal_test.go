package publisher

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// TestVerifyBundleFolder runs the bundle lane over a folder (no digests,
// no other releases to list): the archive is read once for its hashes,
// its signature and its entries, and later hash requests reuse that read.
func TestVerifyBundleFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	archive := githubsrctest.Zip(map[string]string{"index.html": "<p>hi</p>", "app.js": "1"})
	path := filepath.Join(dir, "dist.zip")
	must(t, os.WriteFile(path, archive, 0o644))
	priv, err := FixtureKey("test.key")
	must(t, err)
	sig, err := taurisig.SignFile(priv, path, "", time.Now())
	must(t, err)
	must(t, os.WriteFile(path+".sig", []byte(sig), 0o644))
	m := ota.Metadata{Format: ota.FormatVersion, Sequence: 3, Version: "3", MinBinaryVersion: "1.0.0", Channel: ota.DefaultChannel, Archive: "dist.zip", BundleSize: int64(len(archive))}
	must(t, os.WriteFile(filepath.Join(dir, ota.MetadataName), m.Encode(), 0o644))
	pubText, err := os.ReadFile("../testdata/fixtures/keys/test.key.pub")
	must(t, err)
	pub, err := taurisig.ParsePublicKey(string(pubText))
	must(t, err)

	var files folderFiles
	for _, name := range []string{"dist.zip", "dist.zip.sig", ota.MetadataName} {
		info, err := os.Stat(filepath.Join(dir, name))
		must(t, err)
		files = append(files, File{Path: filepath.Join(dir, name), Name: name, Size: info.Size()})
	}
	rep, err := verifyRelease(t.Context(), VerifyOptions{Tag: "ota-3", PubKey: &pub, local: true}, githubsrc.Release{Tag: "ota-3", Draft: true}, nil, files)
	if err != nil || !rep.Complete || rep.Signatures != 1 {
		t.Fatalf("verify of a bundle folder: %v (%d signatures)", err, rep.Signatures)
	}
	if rep.PayloadBytes != int64(len(archive)) {
		t.Errorf("read %d payload bytes, want the archive once (%d)", rep.PayloadBytes, len(archive))
	}
	for _, a := range rep.assets {
		if a.Name == "dist.zip" {
			if _, err := rep.ev.SHA256(t.Context(), a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := rep.ev.payloadBytes.Load(); got != int64(len(archive)) {
		t.Errorf("hashing the archive after verify read it again (%d bytes)", got)
	}
}

// TestSpool: past its limit a spool moves to a temporary file, reads back
// what was written, and removes the file on Close.
func TestSpool(t *testing.T) {
	t.Parallel()
	want := bytes.Repeat([]byte("0123456789"), 5)
	sp := &spool{limit: 16}
	for i := 0; i < len(want); i += 7 {
		_, err := sp.Write(want[i:min(i+7, len(want))])
		must(t, err)
	}
	if sp.f == nil {
		t.Fatal("a spool past its limit stayed in memory")
	}
	got, err := io.ReadAll(io.NewSectionReader(sp.readerAt(), 0, int64(len(want))))
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("read back %q", got)
	}
	name := sp.f.Name()
	sp.Close()
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("the temporary file %s is left: %v", name, err)
	}
	small := &spool{limit: 16}
	_, _ = small.Write([]byte("short"))
	if small.f != nil {
		t.Error("a small spool went to disk")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

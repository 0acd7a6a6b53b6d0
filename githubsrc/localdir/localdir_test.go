package localdir_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/localdir"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReleases(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "v1.0.0", "App_1.0.0_x64-setup.exe"), "exe")
	write(t, filepath.Join(root, "v1.0.0", "App_1.0.0_x64-setup.exe.sig"), "sig")
	write(t, filepath.Join(root, "v1.0.0", ".hidden"), "x")
	write(t, filepath.Join(root, "v1.1.0", "release.json"), `{"notes":"n","draft":true,"published_at":"2026-11-01T10:00:00Z"}`)
	write(t, filepath.Join(root, "v1.1.0", "a.txt"), "a")
	write(t, filepath.Join(root, ".git", "x"), "x")
	write(t, filepath.Join(root, "README"), "not a tag")
	d, err := localdir.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	rels, fp, err := d.Releases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 2 || rels[0].Tag != "v1.0.0" || rels[1].Tag != "v1.1.0" {
		t.Fatalf("releases %+v, want v1.0.0 and v1.1.0", rels)
	}
	if n := len(rels[0].Assets); n != 2 || rels[0].Assets[0].Name != "App_1.0.0_x64-setup.exe" || rels[0].Assets[0].Size != 3 {
		t.Errorf("v1.0.0 assets %+v", rels[0].Assets)
	}
	if r := rels[1]; !r.Draft || r.Notes != "n" || !r.PublishedAt.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("v1.1.0 metadata not read: %+v", r)
	}
	if _, again, _ := d.Releases(t.Context()); again != fp {
		t.Error("fingerprint changed without a change")
	}
	write(t, filepath.Join(root, "v1.0.0", "new"), "n")
	if _, changed, _ := d.Releases(t.Context()); changed == fp {
		t.Error("fingerprint unchanged after a new file")
	}

	assets, err := d.Assets(t.Context(), "v1.0.0")
	if err != nil || len(assets) != 3 {
		t.Errorf("Assets(v1.0.0) = %d assets, %v", len(assets), err)
	}
	if _, err := d.Assets(t.Context(), "v9.9.9"); !errors.Is(err, githubsrc.ErrNotFound) {
		t.Errorf("Assets of a missing tag: %v, want ErrNotFound", err)
	}
	f, err := d.Open("v1.0.0", "App_1.0.0_x64-setup.exe")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "exe" {
		t.Errorf("Open read %q", b)
	}
	if b, err := d.ReadSmall("v1.0.0", "App_1.0.0_x64-setup.exe.sig", 2); err != nil || string(b) != "si" {
		t.Errorf("ReadSmall = %q, %v; want the first 2 bytes", b, err)
	}
	for _, name := range []string{"nope", "../v1.1.0/a.txt", ".hidden", ""} {
		if _, err := d.Open("v1.0.0", name); !errors.Is(err, githubsrc.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestOpenRefusesAFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	write(t, file, "x")
	if _, err := localdir.Open(file, nil); err == nil {
		t.Error("Open of a file succeeded")
	}
	if _, err := localdir.Open(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Error("Open of a missing folder succeeded")
	}
}

// TestSymlinksStayInside: a file that is a symlink out of the folder (or
// to a folder) is neither listed nor opened; one to a file inside is.
func TestSymlinksStayInside(t *testing.T) {
	t.Parallel()
	root, outside := t.TempDir(), t.TempDir()
	write(t, filepath.Join(outside, "secret.exe"), "outside")
	write(t, filepath.Join(root, "v1.0.0", "App.exe"), "inside")
	write(t, filepath.Join(outside, "v2.0.0", "App.exe"), "outside tag")
	for link, target := range map[string]string{
		filepath.Join(root, "v1.0.0", "Leak.exe"):  filepath.Join(outside, "secret.exe"),
		filepath.Join(root, "v1.0.0", "Rel.exe"):   "../../" + filepath.Base(outside) + "/secret.exe",
		filepath.Join(root, "v1.0.0", "Dir.exe"):   outside,
		filepath.Join(root, "v1.0.0", "Alias.exe"): "App.exe",
		filepath.Join(root, "v2.0.0"):              filepath.Join(outside, "v2.0.0"),
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	d, err := localdir.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	rels, _, err := d.Releases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rels {
		for _, a := range r.Assets {
			names = append(names, r.Tag+"/"+a.Name)
		}
	}
	if want := []string{"v1.0.0/Alias.exe", "v1.0.0/App.exe"}; !slices.Equal(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}
	for _, name := range []string{"Leak.exe", "Rel.exe", "Dir.exe"} {
		if f, err := d.Open("v1.0.0", name); !errors.Is(err, githubsrc.ErrNotFound) {
			if f != nil {
				b, _ := io.ReadAll(f)
				t.Errorf("Open(%s) read %q", name, b)
			}
			t.Errorf("Open(%s) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := d.Open("v2.0.0", "App.exe"); !errors.Is(err, githubsrc.ErrNotFound) {
		t.Errorf("Open through a symlinked tag folder = %v, want ErrNotFound", err)
	}
	if b, err := d.ReadSmall("v1.0.0", "Alias.exe", 100); err != nil || string(b) != "inside" {
		t.Errorf("a symlink inside the folder: %q, %v", b, err)
	}
}

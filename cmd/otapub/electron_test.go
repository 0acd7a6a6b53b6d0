package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

// TestVerifyElectronTable: verify of an electron-builder folder prints
// Electron's columns (no .sig, no signature), passes --require in the
// same platform keys as Tauri's, and names a missing blockmap in its cell
// and with its fix. Not parallel: urfave/cli's shared help and version
// flags race between commands run at once in one process.
func TestVerifyElectronTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	copyTree(t, filepath.Join(testdata, "fixtures", "electron", "v1.2.0"), dir)
	offline := " --github-api-url http://127.0.0.1:1/api/v3/"
	code, stdout, stderr := otapub(t, "verify --dir "+dir+offline+" --require darwin-aarch64,darwin-x86_64,windows-x86_64,linux-x86_64,linux-aarch64")
	if code != 0 || !strings.Contains(stdout, "complete: ") {
		t.Fatalf("verify --dir of electron-builder's outputs: exit %d\n%s%s", code, stdout, stderr)
	}
	header := ""
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "PLATFORM") {
			header = strings.Join(strings.Fields(l), " ")
		}
	}
	if header != "PLATFORM CHANNEL FILE FILE SIZE SHA512 BLOCKMAP FILE TAKEN" {
		t.Errorf("table header %q, want Electron's columns\n%s", header, stdout)
	}
	if !strings.Contains(stdout, "darwin-aarch64") || !strings.Contains(stdout, "DemoApp-1.2.0-arm64-mac.zip") {
		t.Errorf("no darwin-aarch64 row taking the arm64 zip:\n%s", stdout)
	}

	if err := os.Remove(filepath.Join(dir, "DemoApp Setup 1.2.0.exe.blockmap")); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = otapub(t, "verify --dir "+dir+offline)
	var row string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "windows-x86_64") {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if code != 1 || row != "windows-x86_64 ok ok ok ok FAIL DemoApp-Setup-1.2.0.exe" ||
		!strings.Contains(stdout, "PROBLEM windows-x86_64: DemoApp-Setup-1.2.0.exe.blockmap is missing") {
		t.Errorf("a missing blockmap: exit %d, row %q\n%s", code, row, stdout)
	}
}

// TestElectronUploadVerifyPublishCommands: the path through the
// command line. Two macOS jobs each upload their own latest-mac.yml
// (neither refused, neither overwriting the other), then the Windows and
// Linux jobs; verify --require in the Tauri keys passes with Electron's
// table; publish writes one latest-mac.yml with both arches.
func TestElectronUploadVerifyPublishCommands(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	t.Setenv("GITHUB_REPOSITORY", "demo-org/demo-app")
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	all := copyFixture(t, "electron/v1.2.0")
	mac := mustReadFile(t, filepath.Join(all, "latest-mac.yml"))
	if err := os.Remove(filepath.Join(all, "latest-mac.yml")); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"x64", "arm64"} {
		dir := filepath.Join(t.TempDir(), "mac-"+arch)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		doc, err := githubsrc.ParseChannelDoc(mac)
		if err != nil {
			t.Fatal(err)
		}
		var files []githubsrc.ChannelEntry
		for _, f := range doc.Files() {
			if strings.Contains(f.URL, "arm64") == (arch == "arm64") {
				files = append(files, f)
				for _, name := range []string{f.URL, f.URL + ".blockmap"} {
					if err := os.Rename(filepath.Join(all, name), filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		doc.SetFiles(files)
		doc.SetPath(files[0].URL, files[0].SHA512)
		data, err := doc.Encode()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "latest-mac.yml"), string(data))
		code, stdout, stderr := otapub(t, "upload v1.2.0 "+dir)
		if code != 0 || !strings.Contains(stdout, "goes up as latest-mac.yml.part-") {
			t.Fatalf("upload of the %s job: exit %d\n%s%s", arch, code, stdout, stderr)
		}
	}
	if code, stdout, stderr := otapub(t, "upload v1.2.0 "+all); code != 0 {
		t.Fatalf("upload of the other jobs: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := otapub(t, "verify v1.2.0 --require darwin-aarch64,darwin-x86_64,windows-x86_64,linux-x86_64")
	if code != 0 || !strings.Contains(stdout, "CHANNEL FILE") || strings.Contains(stdout, ".SIG") || strings.Contains(stdout, "no signed updater payload") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = otapub(t, "publish v1.2.0 --require darwin-aarch64,darwin-x86_64,windows-x86_64,linux-x86_64")
	if code != 0 || !strings.Contains(stdout, "/releases/download/v1.2.0/latest-mac.yml") {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	rel := gh.Releases("demo-org/demo-app")[0]
	for _, a := range rel.Assets {
		if a.Name != "latest-mac.yml" {
			continue
		}
		data, _ := gh.AssetData(a.ID)
		doc, err := githubsrc.ParseChannelDoc(data)
		if err != nil || len(doc.Files()) != 4 {
			t.Errorf("published latest-mac.yml (%v):\n%s\nwant both jobs' four files", err, data)
		}
		return
	}
	t.Error("no latest-mac.yml published")
}

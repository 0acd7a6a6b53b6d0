package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/squirrel"
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
// table; publish writes one latest-mac.yml with both arches; otapub serve
// then answers every Squirrel route shape from the published release
// (checkSquirrelRoutes), the Windows job's RELEASES and .nupkg included.
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
	// The Windows job also makes Squirrel.Windows' package and RELEASES.
	nupkg := []byte("the full package of 1.2.0")
	sum := sha1.Sum(nupkg)
	writeFile(t, filepath.Join(all, "DemoApp-1.2.0-full.nupkg"), string(nupkg))
	writeFile(t, filepath.Join(all, "RELEASES"), fmt.Sprintf("%X DemoApp-1.2.0-full.nupkg %d", sum, len(nupkg)))
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
		checkSquirrelRoutes(t, gh, copyFixture(t, "electron/v1.2.0"), nupkg)
		return
	}
	t.Error("no latest-mac.yml published")
}

// checkSquirrelRoutes asks otapub serve, in front of gh's published
// electron-builder release v1.2.0 of demo-org/demo-app, through every
// Squirrel route shape: hazel's and update.electronjs.org's Squirrel.Mac
// checks, whose url downloads the zip of the check's arch; RELEASES in
// both shapes, whose package downloads; /download/latest/{platform} and
// hazel's /download/{platform}.
func checkSquirrelRoutes(t *testing.T, gh *githubsrctest.Server, fixture string, nupkg []byte) {
	t.Helper()
	addr, _ := serveInProcess(t, nil, "--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL)
	base := "http://" + addr
	get := func(path string, follow bool) (*http.Response, []byte) {
		t.Helper()
		c := &http.Client{}
		if !follow {
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	for path, zip := range map[string]string{
		"/update/darwin/1.1.0":                  "DemoApp-1.2.0-mac.zip",
		"/update/osx_arm64/1.1.0":               "DemoApp-1.2.0-arm64-mac.zip",
		"/demo-org/demo-app/darwin-arm64/1.1.0": "DemoApp-1.2.0-arm64-mac.zip",
		"/demo-org/demo-app/darwin/1.1.0":       "DemoApp-1.2.0-mac.zip",
	} {
		resp, body := get(path, false)
		var u squirrel.MacUpdate
		if err := json.Unmarshal(body, &u); resp.StatusCode != http.StatusOK || err != nil || u.Validate() != nil || u.URL != base+"/download/v1.2.0/"+zip {
			t.Errorf("GET %s = %d %s, want the update to %s", path, resp.StatusCode, body, zip)
			continue
		}
		if resp, data := get(strings.TrimPrefix(u.URL, base), true); resp.StatusCode != http.StatusOK || !bytes.Equal(data, mustReadFile(t, filepath.Join(fixture, zip))) {
			t.Errorf("its url %s = %d with %d bytes, want %s's", u.URL, resp.StatusCode, len(data), zip)
		}
	}
	if resp, body := get("/demo-org/demo-app/darwin-arm64/1.2.0", false); resp.StatusCode != http.StatusNoContent {
		t.Errorf("the check of the published version = %d %s, want 204", resp.StatusCode, body)
	}
	for _, path := range []string{"/update/win32/1.1.0/RELEASES?id=DemoApp&localVersion=1.1.0&arch=amd64", "/demo-org/demo-app/win32-x64/1.1.0/RELEASES?id=DemoApp&localVersion=1.1.0&arch=amd64"} {
		resp, body := get(path, false)
		entries, err := squirrel.Parse(body)
		if resp.StatusCode != http.StatusOK || err != nil || len(entries) != 1 || entries[0].Name != base+"/download/v1.2.0/DemoApp-1.2.0-full.nupkg" {
			t.Errorf("GET %s = %d %s (%v), want the package at the proxy", path, resp.StatusCode, body, err)
			continue
		}
		if resp, data := get(strings.TrimPrefix(entries[0].Name, base), true); resp.StatusCode != http.StatusOK || !bytes.Equal(data, nupkg) {
			t.Errorf("its package = %d %q", resp.StatusCode, data)
		}
	}
	for path, want := range map[string]string{
		"/download/latest/darwin-aarch64":              "DemoApp-1.2.0-arm64.dmg",
		"/download/latest/darwin-x86_64?format=zip":    "DemoApp-1.2.0-mac.zip",
		"/download/latest/windows-x86_64":              "DemoApp-Setup-1.2.0.exe",
		"/download/latest/linux-x86_64":                "DemoApp-1.2.0.AppImage",
		"/download/latest/linux-aarch64":               "DemoApp-1.2.0-arm64.AppImage",
		"/download/latest/windows-x86_64?format=nupkg": "DemoApp-1.2.0-full.nupkg",
		"/download/mac":                                "DemoApp-1.2.0.dmg",
		"/download/mac?update=true":                    "DemoApp-1.2.0-mac.zip",
		"/download/darwin_arm64":                       "DemoApp-1.2.0-arm64-mac.zip",
		"/download/windows":                            "DemoApp-Setup-1.2.0.exe",
	} {
		resp, body := get(path, false)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasSuffix(loc, "/releases/download/v1.2.0/"+want) {
			t.Errorf("GET %s = %d %q %s, want a redirect to %s", path, resp.StatusCode, loc, body, want)
		}
	}
}

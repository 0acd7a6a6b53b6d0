package githubsrctest

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestElectronUpdater proves the harness against a plain static server
// holding the electron-builder fixture: each platform's channel file and
// file, SHA-512 checked on download, a tampered file refused, a 302 to
// another origin followed.
func TestElectronUpdater(t *testing.T) {
	RequireElectronUpdater(t)
	files := electronFixture(t)

	// assets stands for GitHub's download host: another origin.
	assets := httptest.NewServer(http.StripPrefix("/download/", serveFiles(files)))
	t.Cleanup(assets.Close)
	tampered := map[string][]byte{}
	for name, b := range files {
		if !strings.HasSuffix(name, ".yml") {
			b = bytes.Clone(b)
			b[len(b)/2] ^= 0xff
		}
		tampered[name] = b
	}
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app/", serveFiles(files)))
	mux.Handle("/tampered/", http.StripPrefix("/tampered/", serveFiles(tampered)))
	// /redirect/ serves the channel files and 302s to the files, as otapub will.
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/redirect/")
		if strings.HasSuffix(name, ".yml") {
			http.StripPrefix("/redirect/", serveFiles(files)).ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, assets.URL+"/download/"+name, http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	feed := srv.URL + "/app"
	auth := map[string]string{"Authorization": "token secret"}
	start := time.Now()
	got := ElectronUpdater(t,
		ElectronCheck{Name: "win32-x64", FeedURL: feed, Platform: "win32", Arch: "x64", Download: true},
		ElectronCheck{Name: "darwin-x64", FeedURL: feed, Platform: "darwin", Arch: "x64", Download: true},
		ElectronCheck{Name: "darwin-arm64", FeedURL: feed, Platform: "darwin", Arch: "arm64", Download: true},
		ElectronCheck{Name: "linux-x64", FeedURL: feed, Platform: "linux", Arch: "x64", Download: true},
		ElectronCheck{Name: "linux-arm64", FeedURL: feed, Platform: "linux", Arch: "arm64", Download: true},
		ElectronCheck{Name: "beta", FeedURL: feed, Channel: "beta", Platform: "win32", Arch: "x64"},
		ElectronCheck{Name: "tampered", FeedURL: srv.URL + "/tampered/", Platform: "linux", Arch: "x64", Download: true},
		ElectronCheck{Name: "redirect", FeedURL: srv.URL + "/redirect", Platform: "darwin", Arch: "arm64", Download: true},
		ElectronCheck{Name: "redirect-auth", FeedURL: srv.URL + "/redirect", Platform: "linux", Arch: "x64", Headers: auth, Download: true},
	)
	t.Logf("electron-updater ran %d checks in %v", len(got), time.Since(start))

	for _, tc := range []struct {
		name, feed, channelFile, picked string
	}{
		{"win32-x64", feed, "latest.yml", "DemoApp-Setup-1.2.0.exe"},
		{"darwin-x64", feed, "latest-mac.yml", "DemoApp-1.2.0-mac.zip"},
		{"darwin-arm64", feed, "latest-mac.yml", "DemoApp-1.2.0-arm64-mac.zip"},
		{"linux-x64", feed, "latest-linux.yml", "DemoApp-1.2.0.AppImage"},
		{"linux-arm64", feed, "latest-linux-arm64.yml", "DemoApp-1.2.0-arm64.AppImage"},
		{"redirect", srv.URL + "/redirect", "latest-mac.yml", "DemoApp-1.2.0-arm64-mac.zip"},
		{"redirect-auth", srv.URL + "/redirect", "latest-linux.yml", "DemoApp-1.2.0.AppImage"},
	} {
		r := got[tc.name]
		if r.Error != "" || r.ChannelFile != tc.channelFile || r.Version != "1.2.0" {
			t.Errorf("%s: channel file %q, version %q, error %q; want %s, 1.2.0", tc.name, r.ChannelFile, r.Version, r.Error, tc.channelFile)
			continue
		}
		if want := tc.feed + "/" + tc.picked; r.Picked != want {
			t.Errorf("%s: picked %s, want %s", tc.name, r.Picked, want)
		}
		if want := len(files[tc.picked]); r.Downloaded != want {
			t.Errorf("%s: downloaded %d bytes, want %d", tc.name, r.Downloaded, want)
		}
		// The channel file is asked for with ?noCache=, unless there is an Authorization header.
		u, err := url.Parse(r.Requests[0].URL)
		if err != nil || path.Base(u.Path) != tc.channelFile || (u.Query().Get("noCache") == "") != (r.Name == "redirect-auth") {
			t.Errorf("%s: first request %s", tc.name, r.Requests[0].URL)
		}
		// The fixture's channel files agree with its files.
		for _, f := range r.Files {
			b, ok := files[path.Base(f.URL)]
			sum := sha512.Sum512(b)
			if !ok || f.SHA512 != base64.StdEncoding.EncodeToString(sum[:]) || f.Size != int64(len(b)) {
				t.Errorf("%s: %s lists %s with sha512 %s, size %d; not the fixture's file", tc.name, r.ChannelFile, f.URL, f.SHA512, f.Size)
			}
		}
	}

	if r := got["beta"]; r.ChannelFile != "beta.yml" || r.Code != "ERR_UPDATER_CHANNEL_FILE_NOT_FOUND" {
		t.Errorf("beta: channel file %q, code %q, error %q", r.ChannelFile, r.Code, r.Error)
	}
	if r := got["tampered"]; r.Code != "ERR_CHECKSUM_MISMATCH" || !strings.Contains(r.Error, "sha512 checksum mismatch") {
		t.Errorf("tampered: code %q, error %q; want builder-util-runtime's sha512 mismatch", r.Code, r.Error)
	}
	// The 302 is followed to the other origin, which gets no Authorization.
	for _, name := range []string{"redirect", "redirect-auth"} {
		r := got[name]
		if len(r.Requests) != 3 || !strings.HasPrefix(r.Requests[2].URL, assets.URL+"/download/") {
			t.Errorf("%s: requests %+v; want the channel file, the file, the redirect", name, r.Requests)
			continue
		}
		if _, ok := r.Requests[1].Headers["Authorization"]; ok != (name == "redirect-auth") {
			t.Errorf("%s: file request headers %v", name, r.Requests[1].Headers)
		}
		if _, ok := r.Requests[2].Headers["Authorization"]; ok {
			t.Errorf("%s: the other origin got Authorization: %v", name, r.Requests[2].Headers)
		}
	}
}

// electronFixture reads testdata/fixtures/electron/v1.2.0 under the names
// electron-builder uploads them as: the channel files refer to
// "DemoApp-Setup-1.2.0.exe", which is "DemoApp Setup 1.2.0.exe" on disk.
func electronFixture(t *testing.T) map[string][]byte {
	t.Helper()
	dir := filepath.Join(filepath.Dir(e2eDir(t)), "fixtures", "electron", "v1.2.0")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[strings.ReplaceAll(e.Name(), " ", "-")] = b
	}
	return files
}

// serveFiles serves files by name, like a static file server.
func serveFiles(files map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(b))
	})
}

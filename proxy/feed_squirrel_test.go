package proxy_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/squirrel"
	"github.com/otapub/ota-action/proxy"
)

// squirrelFixture is an electron-builder release of version v with every
// target: electronFixture's macOS zips and dmgs (x64 and arm64), NSIS
// installer, AppImages and channel files, plus Squirrel.Windows' RELEASES
// and its full .nupkg (renamed for v; their contents are made up).
func squirrelFixture(t testing.TB, v string) map[string][]byte {
	files := map[string][]byte{}
	for name, data := range electronFixture(t) {
		files[strings.ReplaceAll(name, "1.2.0", v)] = data
	}
	nupkg := "DemoApp-" + v + "-full.nupkg"
	files[nupkg] = []byte("nupkg of " + v)
	files["RELEASES"] = releasesLine(files[nupkg], nupkg)
	return files
}

// releasesLine is a RELEASES line for data published as name.
func releasesLine(data []byte, name string) []byte {
	sum := sha1.Sum(data)
	return fmt.Appendf(nil, "%s %s %d", strings.ToUpper(hex.EncodeToString(sum[:])), name, len(data))
}

// macUpdate reads a 200 Squirrel.Mac answer and checks it as Squirrel does.
func macUpdate(t *testing.T, body []byte) squirrel.MacUpdate {
	t.Helper()
	var u squirrel.MacUpdate
	check(t, json.Unmarshal(body, &u))
	if err := u.Validate(); err != nil {
		t.Errorf("%s: %v", body, err)
	}
	return u
}

// TestSquirrelMac: hazel's and update.electronjs.org's spellings of the
// macOS platforms get the newest stable release's zip of their arch, at
// this server's /download/ route, only when it is newer.
func TestSquirrelMac(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.1.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Name: "Demo 1.2", Notes: "Faster.\n<!-- otapub:rollout percent=100 -->\nFixed a crash.",
		PublishedAt: time.Date(2026, 11, 20, 10, 0, 0, 123e6, time.UTC), Assets: squirrelFixture(t, "1.2.0")})
	// A newer prerelease reaches no Squirrel app.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(22), Assets: squirrelFixture(t, "1.3.0-beta.1")})
	e := newEnv(t, gh)

	x64 := publicURL + "/download/v1.2.0/DemoApp-1.2.0-mac.zip"
	arm64 := publicURL + "/download/v1.2.0/DemoApp-1.2.0-arm64-mac.zip"
	for path, wantURL := range map[string]string{
		"/update/darwin/1.1.0":                  x64,
		"/update/mac/1.1.0":                     x64,
		"/update/macos/1.1.0":                   x64,
		"/update/osx/v1.1.0":                    x64,
		"/update/darwin_arm64/1.1.0":            arm64,
		"/update/mac_arm64/1.0.0":               arm64,
		"/update/darwin-arm64/1.1.0":            arm64, // update.electronjs.org's spelling
		"/demo-org/demo-app/darwin/1.1.0":       x64,
		"/demo-org/demo-app/darwin-x64/1.1.0":   x64,
		"/Demo-Org/Demo-App/darwin-arm64/1.1.0": arm64,
	} {
		rec := e.get("GET", path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public, max-age=") {
			t.Errorf("GET %s = %d %q %q %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"), rec.Body)
			continue
		}
		want := squirrel.MacUpdate{URL: wantURL, Name: "Demo 1.2", Notes: "Faster.\nFixed a crash.", PubDate: "2026-11-20T10:00:00Z"}
		if got := macUpdate(t, rec.Body.Bytes()); got != want {
			t.Errorf("GET %s = %+v, want %+v", path, got, want)
		}
	}
	// Up to date, or newer than anything published: 204, never a downgrade.
	for _, path := range []string{"/update/darwin/1.2.0", "/update/darwin/1.3.0", "/demo-org/demo-app/darwin-arm64/1.2.0", "/demo-org/demo-app/darwin-universal/1.0.0"} {
		if rec := e.get("GET", path); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("GET %s = %d %s, want 204", path, rec.Code, rec.Body)
		}
	}
	for path, want := range map[string]string{
		"/update/darwin/latest":                 "current version",
		"/update/darwin-amd64/1.0.0":            `hazel writes the arch with "_"`,
		"/update/beos/1.0.0":                    "unknown hazel platform",
		"/demo-org/demo-app/darwin_arm64/1.0.0": `update.electronjs.org writes the arch with "-"`,
		"/demo-org/demo-app/darwin-x64/1.x":     "current version",
	} {
		rec := e.get("GET", path)
		var body struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != http.StatusBadRequest || err != nil || !strings.Contains(body.Error, want) {
			t.Errorf("GET %s = %d %s, want 400 JSON naming %q", path, rec.Code, rec.Body, want)
		}
	}
	if rec := e.get("HEAD", "/update/darwin/1.1.0"); rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD = %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

// TestSquirrelMacUniversal: a release with only a universal zip serves
// both arches, and a newer universal build wins over an older native one,
// as update.electronjs.org falls back to it.
func TestSquirrelMacUniversal(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.2.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(2), Assets: map[string][]byte{
		"DemoApp-1.3.0-universal-mac.zip": []byte("universal"), "DemoApp-1.3.0-win32-x64.exe": []byte("portable")}})
	e := newEnv(t, gh)
	for _, path := range []string{"/update/darwin/1.2.0", "/update/darwin_arm64/1.2.0", "/demo-org/demo-app/darwin-universal/1.2.0", "/demo-org/demo-app/darwin-arm64/1.0.0"} {
		rec := e.get("GET", path)
		if u := macUpdate(t, rec.Body.Bytes()); rec.Code != http.StatusOK || u.URL != publicURL+"/download/v1.3.0/DemoApp-1.3.0-universal-mac.zip" {
			t.Errorf("GET %s = %d %s, want v1.3.0's universal zip", path, rec.Code, rec.Body)
		}
	}
	// A release's native build wins over its universal one.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.4.0", PublishedAt: day(3), Assets: map[string][]byte{
		"DemoApp-1.4.0-universal-mac.zip": []byte("universal"), "DemoApp-1.4.0-arm64-mac.zip": []byte("arm64")}})
	e = newEnv(t, gh)
	for path, want := range map[string]string{
		"/update/darwin_arm64/1.0.0": "DemoApp-1.4.0-arm64-mac.zip",
		"/update/darwin/1.0.0":       "DemoApp-1.4.0-universal-mac.zip",
	} {
		if u := macUpdate(t, e.get("GET", path).Body.Bytes()); !strings.HasSuffix(u.URL, "/"+want) {
			t.Errorf("GET %s = %q, want %s", path, u.URL, want)
		}
	}
}

// TestSquirrelElectronUpdateOnlyServedRepositories: update.electronjs.org's
// routes answer for the configured repository only; any other is a Tauri
// check (400: no such target) or, for RELEASES, 404: never an open proxy.
func TestSquirrelElectronUpdateOnlyServedRepositories(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(t, "1.2.0")})
	gh.AddRelease("electron/fiddle", githubsrctest.ReleaseSpec{Tag: "v9.0.0", Assets: squirrelFixture(t, "9.0.0")})
	e := newEnv(t, gh)
	before := gh.Counts()
	if rec := e.get("GET", "/electron/fiddle/darwin-x64/1.0.0"); rec.Code != http.StatusBadRequest {
		t.Errorf("another repository's check = %d %s, want 400", rec.Code, rec.Body)
	}
	if rec := e.get("GET", "/electron/fiddle/win32-x64/1.0.0/RELEASES"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not a repository this server serves") {
		t.Errorf("another repository's RELEASES = %d %s, want 404", rec.Code, rec.Body)
	}
	if after := gh.Counts(); !maps.Equal(after, before) {
		t.Errorf("another repository's requests reached GitHub: %v, then %v", before, after)
	}
}

// TestSquirrelWindowsReleases: RELEASES of the newest release, each
// package at this server's /download/, for hazel's and
// update.electronjs.org's shapes; the client's query costs GitHub nothing.
func TestSquirrelWindowsReleases(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.1.0")})
	v12 := squirrelFixture(t, "1.2.0")
	// A delta beside the full package, as electron-builder writes it with
	// remoteReleases: both lines point at the proxy.
	delta := []byte("delta of 1.2.0")
	v12["DemoApp-1.2.0-delta.nupkg"] = delta
	v12["RELEASES"] = fmt.Appendf(nil, "%s\n%s\n", releasesLine(delta, "DemoApp-1.2.0-delta.nupkg"), v12["RELEASES"])
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: v12})
	// A newer release whose RELEASES names a package it lacks is not served.
	v13 := squirrelFixture(t, "1.3.0")
	delete(v13, "DemoApp-1.3.0-full.nupkg")
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(3), Assets: v13})
	var lines lineLog
	e := newEnvTB(t, gh, slog.New(&lines))

	entries, err := squirrel.Parse(v12["RELEASES"])
	check(t, err)
	want, err := squirrel.Encode(entries, func(name string) string { return publicURL + "/download/v1.2.0/" + name })
	check(t, err)
	for _, path := range []string{
		"/update/win32/1.1.0/RELEASES?id=DemoApp&localVersion=1.1.0&arch=amd64",
		"/update/win32-x64/1.1.0/RELEASES",
		"/update/windows/1.2.0/RELEASES",
		"/update/exe/1.0.0/RELEASES",
		"/demo-org/demo-app/win32-x64/1.1.0/RELEASES?id=DemoApp&localVersion=1.1.0&arch=amd64",
		"/demo-org/demo-app/win32/1.1.0/RELEASES",
		"/Demo-Org/demo-app/win32-ia32/1.1.0/RELEASES",
	} {
		rec := e.get("GET", path)
		if rec.Code != http.StatusOK || rec.Body.String() != string(want) || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s = %d %q\n%s\nwant\n%s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body, want)
		}
	}
	for _, line := range strings.Split(string(want), "\n") {
		u := strings.Fields(line)[1]
		if rec := e.get("GET", strings.TrimPrefix(u, publicURL)); rec.Code != http.StatusFound {
			t.Errorf("package %s = %d, want a redirect to it", u, rec.Code)
		}
	}
	// The refresh says why v1.3.0's is not served, at debug level.
	why := lines.debugWhy()
	if want := "RELEASES of v1.3.0: DemoApp-1.3.0-full.nupkg not fully uploaded on the release"; !slices.Contains(why, want) {
		t.Errorf("no debug line says %q: %q", want, why)
	}
	// Squirrel.Windows' query (?id=&localVersion=&arch=) costs GitHub nothing.
	before := gh.Counts()
	for i := range 5 {
		e.get("GET", fmt.Sprintf("/update/win32/1.0.%d/RELEASES?id=DemoApp&localVersion=1.0.%d&arch=amd64", i, i))
	}
	if after := gh.Counts(); !maps.Equal(after, before) {
		t.Errorf("RELEASES queries reached GitHub: %v, then %v", before, after)
	}
	for path, code := range map[string]int{
		"/update/darwin/1.0.0/RELEASES":                http.StatusBadRequest,
		"/update/win32/nope/RELEASES":                  http.StatusBadRequest,
		"/demo-org/demo-app/darwin-x64/1.0.0/RELEASES": http.StatusBadRequest,
	} {
		if rec := e.get("GET", path); rec.Code != code {
			t.Errorf("GET %s = %d %s, want %d", path, rec.Code, rec.Body, code)
		}
	}

	// No release with a RELEASES: hazel answers 204, update.electronjs.org 404.
	gh2 := githubsrctest.NewServer(t)
	gh2.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(t)})
	e2 := newEnv(t, gh2)
	if rec := e2.get("GET", "/update/win32/1.0.0/RELEASES"); rec.Code != http.StatusNoContent {
		t.Errorf("hazel's RELEASES without one = %d %s, want 204", rec.Code, rec.Body)
	}
	if rec := e2.get("GET", "/demo-org/demo-app/win32-x64/1.0.0/RELEASES"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "squirrel target") {
		t.Errorf("update.electronjs.org's RELEASES without one = %d %s, want 404 with the fix", rec.Code, rec.Body)
	}
}

// TestDownloadLatest: /download/latest/{platform} and hazel's
// /download/{platform} redirect to the newest release's installer, of an
// Electron release and of a Tauri one alike.
func TestDownloadLatest(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh) // Tauri: v1.1.0 and v1.2.0
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(25), Assets: squirrelFixture(t, "1.3.0")})
	// A newer release with only a Linux deb: the deb's own key moves on,
	// nothing else does.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.4.0", PublishedAt: day(26), Assets: map[string][]byte{"demoapp_1.4.0_amd64.deb": []byte("deb")}})
	e := newEnv(t, gh)
	for path, want := range map[string]string{
		"/download/latest/darwin-aarch64":                "v1.3.0/DemoApp-1.3.0-arm64.dmg",
		"/download/latest/darwin-x86_64":                 "v1.3.0/DemoApp-1.3.0.dmg",
		"/download/latest/darwin-aarch64?format=zip":     "v1.3.0/DemoApp-1.3.0-arm64-mac.zip",
		"/download/latest/windows-x86_64":                "v1.3.0/DemoApp-Setup-1.3.0.exe",
		"/download/latest/windows-x86_64?format=msi":     "v1.2.0/DemoApp_1.2.0_x64_en-US.msi",
		"/download/latest/windows-x86_64-msi":            "v1.2.0/DemoApp_1.2.0_x64_en-US.msi",
		"/download/latest/windows-x86_64?format=nupkg":   "v1.3.0/DemoApp-1.3.0-full.nupkg",
		"/download/latest/windows-aarch64":               "v1.2.0/DemoApp_1.2.0_arm64-setup.exe",
		"/download/latest/linux-x86_64":                  "v1.4.0/demoapp_1.4.0_amd64.deb",
		"/download/latest/linux-x86_64?format=appimage":  "v1.3.0/DemoApp-1.3.0.AppImage",
		"/download/latest/linux-x86_64-rpm":              "v1.2.0/DemoApp-1.2.0-1.x86_64.rpm",
		"/download/latest/linux-aarch64?format=AppImage": "v1.3.0/DemoApp-1.3.0-arm64.AppImage",
		"/download/mac":             "v1.3.0/DemoApp-1.3.0.dmg",
		"/download/mac?update=true": "v1.3.0/DemoApp-1.3.0-mac.zip",
		"/download/darwin_arm64":    "v1.3.0/DemoApp-1.3.0-arm64-mac.zip",
		"/download/dmg_arm64":       "v1.3.0/DemoApp-1.3.0-arm64.dmg",
		"/download/win32":           "v1.3.0/DemoApp-Setup-1.3.0.exe",
		"/download/AppImage":        "v1.3.0/DemoApp-1.3.0.AppImage",
		"/download/deb":             "v1.4.0/demoapp_1.4.0_amd64.deb",
		"/download/nupkg":           "v1.3.0/DemoApp-1.3.0-full.nupkg",
	} {
		rec := e.get("GET", path)
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || !strings.HasSuffix(loc, "/releases/download/"+want) {
			t.Errorf("GET %s = %d %q %s, want a redirect to %s", path, rec.Code, loc, rec.Body, want)
		}
	}
	for path, want := range map[string]int{
		"/download/latest/linux-riscv64":            http.StatusNotFound,
		"/download/latest/darwin":                   http.StatusNotFound,
		"/download/latest/beos-x86_64":              http.StatusNotFound,
		"/download/latest/darwin-aarch64?format=7z": http.StatusBadRequest,
		"/download/beos":                            http.StatusNotFound,
	} {
		rec := e.get("GET", path)
		if rec.Code != want || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("GET %s = %d %s, want %d JSON", path, rec.Code, rec.Body, want)
		}
		if want == http.StatusNotFound && !strings.Contains(rec.Body.String(), "darwin-aarch64 (dmg, zip), darwin-x86_64 (dmg, zip), linux-aarch64 (appimage), linux-x86_64 (appimage, deb, rpm), windows-aarch64 (exe), windows-x86_64 (exe, msi, nupkg)") {
			t.Errorf("GET %s: %s, want the platforms that exist named", path, rec.Body)
		}
	}
}

// TestDownloadForTheBrowser: hazel's GET /download (a website's one
// download button) redirects to the installer for the platform the
// browser runs on, from its client hints or its User-Agent, under an app's
// slug too; a phone gets the 404 that names the platforms there are.
func TestDownloadForTheBrowser(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh) // Tauri: v1.1.0 and v1.2.0
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(25), Assets: squirrelFixture(t, "1.3.0")})
	const (
		safariMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
		chromeWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
		linuxArm  = "Mozilla/5.0 (X11; Linux aarch64; rv:125.0) Gecko/20100101 Firefox/125.0"
		android   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	)
	for _, slugs := range []bool{false, true} {
		e := newEnv(t, gh, func(c *proxy.Config) {
			if slugs {
				c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}}
			}
		})
		prefix := ""
		if slugs {
			prefix = "/demo"
		}
		get := func(query string, header ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", prefix+"/download"+query, nil)
			for i := 0; i < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			return rec
		}
		for _, tc := range []struct {
			name string
			rec  *httptest.ResponseRecorder
			want string
		}{
			{"Safari on a Mac", get("", "User-Agent", safariMac), "v1.3.0/DemoApp-1.3.0.dmg"},
			{"Chrome on an Apple silicon Mac", get("", "User-Agent", safariMac, "Sec-CH-UA-Platform", `"macOS"`, "Sec-CH-UA-Arch", `"arm"`), "v1.3.0/DemoApp-1.3.0-arm64.dmg"},
			{"a Mac, ?update=true", get("?update=true", "User-Agent", safariMac), "v1.3.0/DemoApp-1.3.0-mac.zip"},
			{"a Mac, ?update=1 (hazel reads any value)", get("?update=1", "User-Agent", safariMac), "v1.3.0/DemoApp-1.3.0-mac.zip"},
			{"Chrome on Windows", get("", "User-Agent", chromeWin), "v1.3.0/DemoApp-Setup-1.3.0.exe"},
			{"Windows, ?format=msi", get("?format=msi", "User-Agent", chromeWin), "v1.2.0/DemoApp_1.2.0_x64_en-US.msi"},
			{"Linux on arm64", get("", "User-Agent", linuxArm), "v1.3.0/DemoApp-1.3.0-arm64.AppImage"},
		} {
			loc := tc.rec.Header().Get("Location")
			if tc.rec.Code != http.StatusFound || !strings.HasSuffix(loc, "/releases/download/"+tc.want) {
				t.Errorf("slugs %v, %s: %d %q %s, want a redirect to %s", slugs, tc.name, tc.rec.Code, loc, tc.rec.Body, tc.want)
			}
			if v := tc.rec.Header().Get("Vary"); !strings.Contains(v, "User-Agent") || !strings.Contains(v, "Sec-CH-UA-Arch") {
				t.Errorf("slugs %v, %s: Vary %q, want the headers read", slugs, tc.name, v)
			}
			if ch := tc.rec.Header().Get("Accept-CH"); !strings.Contains(ch, "Sec-CH-UA-Arch") {
				t.Errorf("slugs %v, %s: Accept-CH %q, want the arch asked for", slugs, tc.name, ch)
			}
		}
		rec := get("", "User-Agent", android)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no desktop platform") || !strings.Contains(rec.Body.String(), "/download/latest/{platform}") || !strings.Contains(rec.Body.String(), "darwin-aarch64 (dmg, zip)") {
			t.Errorf("slugs %v, Android: %d %s, want 404 naming the platforms and /download/latest/", slugs, rec.Code, rec.Body)
		}
		if rec := get("?format=7z", "User-Agent", chromeWin); rec.Code != http.StatusBadRequest {
			t.Errorf("slugs %v, ?format=7z: %d %s, want 400", slugs, rec.Code, rec.Body)
		}
	}
}

// TestDownloadForTheBrowserEmulated: an arm64 Mac or Windows PC runs x64
// builds (Rosetta 2, Windows' x64 emulation), so with no arm64 build it
// gets the x64 one; Linux emulates nothing, so an arm64 Linux gets none.
func TestDownloadForTheBrowserEmulated(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	x64 := map[string][]byte{}
	for name, data := range squirrelFixture(t, "1.3.0") {
		if !strings.Contains(name, "arm64") {
			x64[name] = data
		}
	}
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(25), Assets: x64})
	e := newEnv(t, gh)
	for _, tc := range []struct{ os, want string }{
		{`"macOS"`, "v1.3.0/DemoApp-1.3.0.dmg"},
		{`"Windows"`, "v1.3.0/DemoApp-Setup-1.3.0.exe"},
		{`"Linux"`, ""},
	} {
		req := httptest.NewRequest("GET", "/download", nil)
		req.Header.Set("Sec-CH-UA-Platform", tc.os)
		req.Header.Set("Sec-CH-UA-Arch", `"arm"`)
		req.Header.Set("Sec-CH-UA-Bitness", `"64"`)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		switch {
		case tc.want == "" && rec.Code != http.StatusNotFound:
			t.Errorf("%s on arm64: %d %q, want 404: an x64 build does not run there", tc.os, rec.Code, loc)
		case tc.want != "" && (rec.Code != http.StatusFound || !strings.HasSuffix(loc, "/releases/download/"+tc.want)):
			t.Errorf("%s on arm64: %d %q %s, want the x64 build %s", tc.os, rec.Code, loc, rec.Body, tc.want)
		}
	}
}

// TestSquirrelPrivateRepository: a private repository's answers point at
// this server, whose /download/ (and /download/latest/) redirect to a
// signed URL, never cached.
func TestSquirrelPrivateRepository(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(t, "1.2.0")})
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.Token = githubsrctest.Token
		c.Apps = []proxy.AppConfig{{Repo: "demo-org/private-app", Private: true}}
	})
	rec := e.get("GET", "/demo-org/private-app/darwin-arm64/1.0.0")
	u := macUpdate(t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || u.URL != publicURL+"/download/v1.2.0/DemoApp-1.2.0-arm64-mac.zip" {
		t.Fatalf("check = %d %s", rec.Code, rec.Body)
	}
	releases := e.get("GET", "/update/win32/1.0.0/RELEASES")
	if !strings.Contains(releases.Body.String(), " "+publicURL+"/download/v1.2.0/DemoApp-1.2.0-full.nupkg ") {
		t.Errorf("RELEASES = %d %s, want the package at the proxy", releases.Code, releases.Body)
	}
	for _, path := range []string{strings.TrimPrefix(u.URL, publicURL), "/download/latest/darwin-aarch64", "/download/mac"} {
		dl := e.get("GET", path)
		if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || loc == "" || strings.HasPrefix(loc, gh.URL+"/demo-org/") || dl.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s = %d %q %q, want a redirect to a signed URL, not stored", path, dl.Code, loc, dl.Header().Get("Cache-Control"))
		}
	}
	// Signed-URL downloads count in the adoption figures; a missing asset does not.
	e.get("GET", "/download/v1.2.0/no-such-asset")
	if got := metric(e, `otapub_downloads_total{app="demo-org/private-app",platform="darwin-aarch64",version="1.2.0"}`); got != "2" {
		t.Errorf("downloads of the arm64 zip and dmg = %q, want 2", got)
	}
}

// TestSquirrelFromADir: with --dir the folder's name stands for the
// repository name in update.electronjs.org's routes (a folder has no
// owner); downloads are the files themselves.
func TestSquirrelFromADir(t *testing.T) {
	t.Parallel()
	root := t.TempDir() + "/demo-app"
	files := squirrelFixture(t, "1.2.0")
	writeElectronDir(t, root, "v1.2.0", files, day(2))
	e := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: root}} })
	for _, path := range []string{"/update/darwin_arm64/1.0.0", "/anyone/demo-app/darwin-arm64/1.0.0", "/anyone/Demo-App/darwin-arm64/1.0.0"} {
		rec := e.get("GET", path)
		if u := macUpdate(t, rec.Body.Bytes()); rec.Code != http.StatusOK || u.URL != publicURL+"/download/v1.2.0/DemoApp-1.2.0-arm64-mac.zip" {
			t.Errorf("GET %s = %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := e.get("GET", "/anyone/other-app/darwin-arm64/1.0.0"); rec.Code != http.StatusBadRequest {
		t.Errorf("another name = %d %s, want 400 (a Tauri check of no known target)", rec.Code, rec.Body)
	}
	if rec := e.get("GET", "/anyone/demo-app/win32-x64/1.0.0/RELEASES"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), publicURL+"/download/v1.2.0/DemoApp-1.2.0-full.nupkg") {
		t.Errorf("RELEASES = %d %s", rec.Code, rec.Body)
	}
	for path, want := range map[string]string{
		"/download/latest/darwin-aarch64": "DemoApp-1.2.0-arm64.dmg",
		"/download/nupkg":                 "DemoApp-1.2.0-full.nupkg",
	} {
		if rec := e.get("GET", path); rec.Code != http.StatusOK || rec.Body.String() != string(files[want]) {
			t.Errorf("GET %s = %d with %d bytes, want %s itself", path, rec.Code, rec.Body.Len(), want)
		}
	}
}

// TestSquirrelUnderSlugsAndBasePath: hazel's routes live under each app's
// slug, update.electronjs.org's at the root of --base-path and find the
// app by its repository; answers' urls carry the base path and the slug.
func TestSquirrelUnderSlugsAndBasePath(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(t, "1.2.0")})
	gh.AddRelease("demo-org/other", githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: squirrelFixture(t, "2.0.0")})
	root := t.TempDir()
	writeElectronDir(t, root, "v3.0.0", squirrelFixture(t, "3.0.0"), day(2))
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.BasePath = "/updates"
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}, {Slug: "folder", Dir: root}}
	})
	for path, want := range map[string]string{
		"/updates/demo/update/darwin/1.0.0":           "/updates/demo/download/v1.2.0/DemoApp-1.2.0-mac.zip",
		"/updates/other/update/darwin_arm64/1.0.0":    "/updates/other/download/v2.0.0/DemoApp-2.0.0-arm64-mac.zip",
		"/updates/demo-org/demo-app/darwin-x64/1.0.0": "/updates/demo/download/v1.2.0/DemoApp-1.2.0-mac.zip",
		"/updates/demo-org/other/darwin-arm64/1.0.0":  "/updates/other/download/v2.0.0/DemoApp-2.0.0-arm64-mac.zip",
		"/updates/whoever/folder/darwin-arm64/1.0.0":  "/updates/folder/download/v3.0.0/DemoApp-3.0.0-arm64-mac.zip",
		"/updates/folder/update/darwin/1.0.0":         "/updates/folder/download/v3.0.0/DemoApp-3.0.0-mac.zip",
	} {
		rec := e.get("GET", path)
		if u := macUpdate(t, rec.Body.Bytes()); rec.Code != http.StatusOK || u.URL != publicURL+want {
			t.Errorf("GET %s = %d %s, want %s", path, rec.Code, rec.Body, want)
		}
		if dl := e.get("GET", want); dl.Code != http.StatusFound && dl.Code != http.StatusOK {
			t.Errorf("its url %s = %d %s", want, dl.Code, dl.Body)
		}
	}
	for path, want := range map[string]int{
		"/updates/demo-org/other/win32-x64/2.0.0/RELEASES": 200,
		"/updates/other/update/win32/2.0.0/RELEASES":       200,
		"/updates/demo/download/latest/windows-x86_64":     302,
		"/updates/other/download/mac":                      302,
		"/updates/folder/download/latest/linux-x86_64":     200,
		"/updates/nope/update/darwin/1.0.0":                404,
		"/update/darwin/1.0.0":                             404,
		"/demo-org/demo-app/darwin-x64/1.0.0":              404,
	} {
		if rec := e.get("GET", path); rec.Code != want {
			t.Errorf("GET %s = %d %s, want %d", path, rec.Code, rec.Body, want)
		}
	}
}

// TestSquirrelNeverTakesAnotherAppsChecks: with several apps a Tauri
// check is /{app}/{target}/{arch}/{version}, four segments like
// update.electronjs.org's /{owner}/{repo}/{platform}/{version}. A --dir
// app named like a target (macos) is that {repo} for any {owner}, yet an
// app's checks stay its own: update.electronjs.org's reading wins only
// for one of its platforms, or where no app has the first segment as its
// slug (so a bad platform still gets update.electronjs.org's 400).
func TestSquirrelNeverTakesAnotherAppsChecks(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	root := t.TempDir()
	writeElectronDir(t, root, "v3.0.0", squirrelFixture(t, "3.0.0"), day(2))
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.Apps = []proxy.AppConfig{{Slug: "desktop", Repo: repo}, {Slug: "macos", Dir: root}}
	})
	for path, want := range map[string]string{
		"/desktop/macos/aarch64/1.0.0":        `"version":"1.2.0"`, // cargo-packager's spelling of the target
		"/desktop/mac%6Fs/aarch64/1.0.0":      `"version":"1.2.0"`, // the same through the mux
		"/desktop/linux/x86_64/1.0.0":         `"version":"1.2.0"`,
		"/whoever/macos/darwin-arm64/1.0.0":   `/macos/download/v3.0.0/DemoApp-3.0.0-arm64-mac.zip"`,
		"/desktop/macos/darwin-arm64/1.0.0":   `/macos/download/v3.0.0/DemoApp-3.0.0-arm64-mac.zip"`,
		"/whoever/macos/darwin-bogus/1.0.0":   `update.electronjs.org platform`,
		"/whoever/mac%6Fs/darwin-bogus/1.0.0": `update.electronjs.org platform`,
	} {
		if rec := e.get("GET", path); !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s = %d %s, want %s", path, rec.Code, rec.Body, want)
		}
	}

	// One --dir app, whose name is its folder's: a folder named like an
	// arch (aarch64) is {repo} to /{owner}/aarch64/…, yet a check with a
	// bundle type, /{target}/aarch64/{bundle}/{version}, stays a check.
	one := filepath.Join(t.TempDir(), "aarch64")
	writeElectronDir(t, one, "v3.0.0", squirrelFixture(t, "3.0.0"), day(2))
	single := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: one}} })
	if rec := single.get("GET", "/darwin/aarch64/app/1.0.0"); rec.Code != http.StatusNoContent {
		t.Errorf("one app: the check /darwin/aarch64/app/1.0.0 = %d %s, want 204 (no Tauri payload)", rec.Code, rec.Body)
	}
	if rec := single.get("GET", "/whoever/aarch64/darwin-arm64/1.0.0"); !strings.Contains(rec.Body.String(), "-arm64-mac.zip") {
		t.Errorf("one app: update.electronjs.org's shape = %d %s", rec.Code, rec.Body)
	}
}

// TestSquirrelAfterEviction: an app evicted by --max-cached-apps and
// rebuilt from what it kept (only the releases that answered) answers
// every Squirrel route as before, releases that answer only Squirrel
// (an older one's dmg, RELEASES) included.
func TestSquirrelAfterEviction(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.1.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: map[string][]byte{"DemoApp-1.2.0-arm64-mac.zip": []byte("zip")}})
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.MaxCachedApps = 1
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	paths := []string{"/demo/update/darwin/1.0.0", "/demo/update/darwin_arm64/1.0.0", "/demo-org/demo-app/darwin-arm64/1.0.0",
		"/demo/update/win32/1.0.0/RELEASES", "/demo/download/latest/darwin-aarch64", "/demo/download/mac?update=true"}
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			rec := e.get("GET", p)
			out[p] = fmt.Sprint(rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		return out
	}
	before := requireSameAfterEviction(t, e, "/other/linux/x86_64/0.9.0", answers)
	for p, want := range before {
		if !strings.HasPrefix(want, "200") && !strings.HasPrefix(want, "302") {
			t.Errorf("%s before eviction: %s", p, want)
		}
	}
	if !strings.Contains(before["/demo/update/darwin/1.0.0"], "v1.1.0") || !strings.Contains(before["/demo-org/demo-app/darwin-arm64/1.0.0"], "v1.2.0") {
		t.Errorf("before eviction: %v", before)
	}
}

// TestSquirrelAllocatesNothing: a Squirrel.Mac check, in hazel's shape and
// update.electronjs.org's, answering an update or 204, allocates nothing.
// It cannot run in parallel (AllocsPerRun counts the whole process).
func TestSquirrelAllocatesNothing(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(t, "1.2.0")})
	for _, opts := range [][]option{nil, {func(c *proxy.Config) {
		c.BasePath = "/updates"
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	}}} {
		e := newEnv(t, gh, opts...)
		prefix, slug := "", ""
		if opts != nil {
			prefix, slug = "/updates", "/demo"
		}
		for _, path := range []string{prefix + slug + "/update/darwin/1.0.0", prefix + "/demo-org/demo-app/darwin-arm64/1.0.0"} {
			if rec := e.get("GET", path); rec.Code != http.StatusOK {
				t.Errorf("GET %s = %d %s", path, rec.Code, rec.Body)
			}
		}
		requireNoAllocs(t, e.h, nil, prefix+slug+"/update/darwin/1.0.0", prefix+slug+"/update/darwin_arm64/1.2.0",
			prefix+"/demo-org/demo-app/darwin-arm64/1.0.0", prefix+"/Demo-Org/Demo-App/darwin/1.2.0")
	}
}

// BenchmarkSquirrelMac is update-electron-app's check,
// /{owner}/{repo}/darwin-arm64/{version}, answering an update.
func BenchmarkSquirrelMac(b *testing.B) {
	gh := githubsrctest.NewServer(b)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(b, "1.2.0")})
	benchmarkPath(b, newEnvTB(b, gh, slog.New(slog.DiscardHandler)).h, "/demo-org/demo-app/darwin-arm64/1.0.0")
}

// BenchmarkSquirrelHazel is hazel's /update/darwin/{version}, answering an update.
func BenchmarkSquirrelHazel(b *testing.B) {
	gh := githubsrctest.NewServer(b)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: squirrelFixture(b, "1.2.0")})
	benchmarkPath(b, newEnvTB(b, gh, slog.New(slog.DiscardHandler)).h, "/update/darwin/1.0.0")
}

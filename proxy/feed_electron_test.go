package proxy_test

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// electronFixture is testdata/fixtures/electron/v1.2.0 as electron-builder
// uploads it: "DemoApp Setup 1.2.0.exe" under the dashed name latest.yml
// gives it.
func electronFixture(t testing.TB) map[string][]byte {
	files := fixture(t, "electron/v1.2.0")
	for _, suffix := range []string{"", ".blockmap"} {
		files["DemoApp-Setup-1.2.0.exe"+suffix] = files["DemoApp Setup 1.2.0.exe"+suffix]
		delete(files, "DemoApp Setup 1.2.0.exe"+suffix)
	}
	return files
}

// downloadRoute is the fake's route of an asset's bytes: the reads of texts.
const downloadRoute = "GET /{owner}/{repo}/releases/download/{tag}/{name}"

// electronRelease is a made-up release of version v: the channel files
// names (latest.yml, beta-mac.yml, ...) each listing one file of their own,
// with its blockmap.
func electronRelease(v string, channelFiles ...string) map[string][]byte {
	files := map[string][]byte{}
	for _, cf := range channelFiles {
		name := "App-" + v + "-" + strings.TrimSuffix(cf, ".yml") + ".bin"
		data := []byte("payload of " + name)
		sum := sha512.Sum512(data)
		files[name] = data
		files[name+".blockmap"] = []byte("blockmap of " + name)
		files[cf] = fmt.Appendf(nil, "version: %s\nfiles:\n  - url: %s\n    sha512: %s\n    size: %d\npath: %s\nsha512: %s\nreleaseDate: '2026-11-20T10:00:00.000Z'\n",
			v, name, base64.StdEncoding.EncodeToString(sum[:]), len(data), name, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return files
}

// channelFile fetches a channel file and reads it.
func (e *env) channelFile(t *testing.T, name string) (githubsrc.ChannelFile, int) {
	t.Helper()
	rec := e.get("GET", "/electron/"+name+"?noCache=1abc")
	if rec.Code != http.StatusOK {
		return githubsrc.ChannelFile{}, rec.Code
	}
	f, err := githubsrc.ParseChannelFile(rec.Body.Bytes())
	check(t, err)
	return f, rec.Code
}

// TestElectronChannelFiles: channel files come from the newest release,
// their urls relative names /electron/ redirects to the release's assets.
func TestElectronChannelFiles(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml", "latest-mac.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: electronFixture(t)})
	// A draft's parts are never served, nor is a newer draft's channel file.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Draft: true, Assets: map[string][]byte{
		"latest.yml.part-0001": []byte("version: 1.3.0\n"), "latest.yml": electronRelease("1.3.0", "latest.yml")["latest.yml"]}})
	e := newEnv(t, gh)

	want := fixture(t, "electron/v1.2.0")
	for _, name := range []string{"latest.yml", "latest-mac.yml", "latest-linux.yml", "latest-linux-arm64.yml"} {
		rec := e.get("GET", "/electron/"+name+"?noCache=1abc")
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public, max-age=") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/yaml") {
			t.Fatalf("%s = %d %q %q", name, rec.Code, rec.Header().Get("Cache-Control"), rec.Header().Get("Content-Type"))
		}
		// The fixture's urls are already relative names: served as written.
		if rec.Body.String() != string(want[name]) {
			t.Errorf("%s:\n%s\nwant the release's own:\n%s", name, rec.Body, want[name])
		}
		f, _ := githubsrc.ParseChannelFile(rec.Body.Bytes())
		for _, entry := range f.Entries() {
			dl := e.get("GET", "/electron/"+entry.URL)
			if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || !strings.HasSuffix(loc, "/releases/download/v1.2.0/"+entry.URL) {
				t.Errorf("%s's %s = %d %q, want a redirect to the v1.2.0 asset", name, entry.URL, dl.Code, loc)
			}
		}
	}
	for path, asset := range map[string]string{
		"DemoApp-Setup-1.2.0.exe.blockmap": "DemoApp-Setup-1.2.0.exe.blockmap",
		"DemoApp-1.2.0-arm64-mac.zip":      "DemoApp-1.2.0-arm64-mac.zip",
		"DemoApp-1.2.0-mac.zip.blockmap":   "DemoApp-1.2.0-mac.zip.blockmap",
	} {
		dl := e.get("GET", "/electron/"+path)
		if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || !strings.HasSuffix(loc, "/v1.2.0/"+asset) {
			t.Errorf("%s = %d %q, want a redirect to %s", path, dl.Code, loc, asset)
		}
	}
	if rec := e.get("HEAD", "/electron/latest.yml"); rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != fmt.Sprint(len(want["latest.yml"])) {
		t.Errorf("HEAD latest.yml = %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	// Only the newest release's channel files were read.
	if reads := gh.Count(downloadRoute); reads != 4 {
		t.Errorf("%d channel files read, want v1.2.0's 4", reads)
	}
	// The ?noCache= query costs GitHub nothing: every answer is the snapshot's.
	before := gh.Counts()
	for i := range 5 {
		e.get("GET", fmt.Sprintf("/electron/latest.yml?noCache=%d", i))
	}
	if after := gh.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("?noCache= reached GitHub: %v, then %v", before, after)
	}
	if m := e.get("GET", "/metrics").Body.String(); !strings.Contains(m, `otapub_requests_total{route="electron",status="200"}`) || !strings.Contains(m, `otapub_requests_total{route="electron",status="302"}`) {
		t.Errorf("/metrics does not count the electron route's answers")
	}
	for _, p := range []string{
		"beta.yml",                       // no release has one
		"latest-linux-armv7l.yml",        // nor this
		"latest.yml.part-0001",           // a draft's part
		"App-1.1.0-latest.bin",           // an older release's file no served channel file lists
		"DemoApp-1.2.0-arm64.AppImage.x", // no such file
		"nope.exe",
	} {
		if rec := e.get("GET", "/electron/"+p); rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s = %d %s, want a JSON 404", p, rec.Code, rec.Body)
		}
	}
}

// TestElectronWithholdsIncompleteChannelFiles: a channel file whose files
// are not all uploaded is never served; the older release's is.
func TestElectronWithholdsIncompleteChannelFiles(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml", "latest-mac.yml", "latest-linux.yml")})
	unfinished := electronRelease("1.2.0", "latest.yml", "latest-mac.yml", "latest-linux.yml")
	delete(unfinished, "App-1.2.0-latest-mac.bin") // never uploaded
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: unfinished,
		States: map[string]string{"App-1.2.0-latest.bin": "starter"}}) // a broken upload
	var lines lineLog
	e := newEnvTB(t, gh, slog.New(&lines))
	for name, want := range map[string]string{"latest.yml": "1.1.0", "latest-mac.yml": "1.1.0", "latest-linux.yml": "1.2.0"} {
		if f, code := e.channelFile(t, name); code != http.StatusOK || f.Version != want {
			t.Errorf("%s = %d %s, want %s", name, code, f.Version, want)
		}
	}
	// v1.2.0's three, then v1.1.0's two that stand in for its unfinished ones.
	if reads := gh.Count(downloadRoute); reads != 5 {
		t.Errorf("%d channel files read, want 5", reads)
	}
	if rec := e.get("GET", "/electron/App-1.2.0-latest.bin"); rec.Code != http.StatusNotFound {
		t.Errorf("the unfinished file = %d, want 404", rec.Code)
	}
	if rec := e.get("GET", "/electron/App-1.1.0-latest.bin"); rec.Code != http.StatusFound {
		t.Errorf("the served older file = %d, want 302", rec.Code)
	}
	// The refresh says why, at debug level.
	why := lines.debugWhy()
	for _, want := range []string{
		"latest.yml of v1.2.0: App-1.2.0-latest.bin not fully uploaded on the release",
		"latest-mac.yml of v1.2.0: App-1.2.0-latest-mac.bin not fully uploaded on the release",
	} {
		if !slices.Contains(why, want) {
			t.Errorf("no debug line says %q: %q", want, why)
		}
	}
}

// TestElectronBetaNeverOlderThanStable: beta*.yml answers the newer of the
// newest beta and the newest stable channel file of the same OS.
func TestElectronBetaNeverOlderThanStable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml", "latest-mac.yml", "latest-linux.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(2), Assets: electronRelease("1.3.0-beta.1", "beta.yml", "beta-mac.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest-mac.yml")})
	// A release GitHub marks prerelease never answers a stable channel file.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.4.0", Prerelease: true, PublishedAt: day(4), Assets: electronRelease("1.4.0", "latest.yml")})
	e := newEnv(t, gh)
	for name, want := range map[string]string{
		"beta.yml":         "1.3.0-beta.1", // newer than stable 1.2.0
		"beta-mac.yml":     "1.3.0",        // stable 1.3.0 is newer than the beta
		"beta-linux.yml":   "1.2.0",        // no beta for Linux: stable's
		"latest.yml":       "1.2.0",
		"latest-mac.yml":   "1.3.0",
		"latest-linux.yml": "1.2.0",
	} {
		if f, code := e.channelFile(t, name); code != http.StatusOK || f.Version != want {
			t.Errorf("%s = %d %s, want %s", name, code, f.Version, want)
		}
	}
	if rec := e.get("GET", "/electron/App-1.3.0-latest-mac.bin"); rec.Code != http.StatusFound {
		t.Errorf("the file of stable served as beta-mac.yml = %d, want 302", rec.Code)
	}
	if rec := e.get("GET", "/electron/App-1.3.0-beta.1-beta-mac.bin"); rec.Code != http.StatusNotFound {
		t.Errorf("the beta's file beta-mac.yml no longer lists = %d, want 404", rec.Code)
	}
}

// TestElectronAssetNames: a channel file's dashed names find the release's
// assets under the names GitHub or a local folder gave them, and are
// served under the name the channel file gives, and the asset's.
func TestElectronAssetNames(t *testing.T) {
	t.Parallel()
	for asset, renamed := range map[string]bool{
		"DemoApp.Setup.1.2.0.exe": true,  // uploaded with spaces: GitHub's dots
		"DemoApp Setup 1.2.0.exe": false, // the fake renames it as GitHub does
	} {
		gh := githubsrctest.NewServer(t)
		files := electronFixture(t)
		for _, suffix := range []string{"", ".blockmap"} {
			files[asset+suffix] = files["DemoApp-Setup-1.2.0.exe"+suffix]
			delete(files, "DemoApp-Setup-1.2.0.exe"+suffix)
		}
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: files})
		e := newEnv(t, gh)
		if f, code := e.channelFile(t, "latest.yml"); code != http.StatusOK || f.Files[0].URL != "DemoApp-Setup-1.2.0.exe" {
			t.Fatalf("%s: latest.yml = %d %+v", asset, code, f)
		}
		paths := []string{"DemoApp-Setup-1.2.0.exe", "DemoApp-Setup-1.2.0.exe.blockmap"}
		if renamed {
			paths = append(paths, asset, asset+".blockmap")
		}
		for _, p := range paths {
			dl := e.get("GET", "/electron/"+strings.ReplaceAll(p, " ", "%20"))
			want := githubsrc.AssetName(asset) + strings.TrimPrefix(strings.TrimPrefix(p, "DemoApp-Setup-1.2.0.exe"), asset)
			if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || !strings.HasSuffix(loc, "/v1.2.0/"+want) {
				t.Errorf("%s: %s = %d %q, want a redirect to %s", asset, p, dl.Code, loc, want)
			}
		}
	}
}

// TestElectronPrivateRepository: files redirect to signed URLs, never cached.
func TestElectronPrivateRepository(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(t)})
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.Token = githubsrctest.Token
		c.Apps = []proxy.AppConfig{{Repo: "demo-org/private-app", Private: true}}
	})
	if f, code := e.channelFile(t, "latest-mac.yml"); code != http.StatusOK || f.Files[0].URL != "DemoApp-1.2.0-mac.zip" {
		t.Fatalf("latest-mac.yml = %d %+v", code, f)
	}
	dl := e.get("GET", "/electron/DemoApp-1.2.0-mac.zip")
	if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || loc == "" || strings.HasPrefix(loc, gh.URL+"/demo-org/") || dl.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("download = %d %q %q, want a redirect to a signed URL, not stored", dl.Code, loc, dl.Header().Get("Cache-Control"))
	}
}

// writeElectronDir lays releases out as otapub pull leaves them, with the
// fixture's own spaced file name.
func writeElectronDir(t *testing.T, root, tag string, files map[string][]byte, published time.Time) {
	dir := filepath.Join(root, tag)
	check(t, os.MkdirAll(dir, 0o755))
	for name, data := range files {
		check(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	rel, _ := json.Marshal(map[string]any{"published_at": published})
	check(t, os.WriteFile(filepath.Join(dir, "release.json"), rel, 0o644))
}

// TestElectronFromADir: with --dir, files are served from the folder.
func TestElectronFromADir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeElectronDir(t, root, "v1.2.0", fixture(t, "electron/v1.2.0"), day(2))
	e := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: root}} })
	if f, code := e.channelFile(t, "latest.yml"); code != http.StatusOK || f.Version != "1.2.0" {
		t.Fatalf("latest.yml = %d %+v", code, f)
	}
	want := fixture(t, "electron/v1.2.0")["DemoApp Setup 1.2.0.exe"]
	if dl := e.get("GET", "/electron/DemoApp-Setup-1.2.0.exe"); dl.Code != http.StatusOK || dl.Body.String() != string(want) {
		t.Errorf("download = %d with %d bytes, want the file's %d", dl.Code, dl.Body.Len(), len(want))
	}
}

// TestElectronUnderSlugsAndBasePath: the route lives under every app's slug
// and --base-path.
func TestElectronUnderSlugsAndBasePath(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(t)})
	gh.AddRelease("demo-org/other", githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: electronRelease("2.0.0", "latest.yml")})
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.BasePath = "/updates"
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	for path, want := range map[string]int{
		"/updates/demo/electron/latest.yml":               200,
		"/updates/other/electron/latest.yml":              200,
		"/updates/demo/electron/DemoApp-Setup-1.2.0.exe":  302,
		"/updates/other/electron/DemoApp-Setup-1.2.0.exe": 404,
		"/updates/other/electron/App-2.0.0-latest.bin":    302,
		"/electron/latest.yml":                            404,
	} {
		if rec := e.get("GET", path); rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
	}
}

// TestElectronUpdaterClient drives the real electron-updater generic
// provider against otapub serve on a socket: each platform's channel file,
// the file it picks downloaded through the proxy's redirect and checked
// against its sha512 by builder-util-runtime; for a public repository, a
// private one and --dir.
func TestElectronUpdaterClient(t *testing.T) {
	t.Parallel()
	githubsrctest.RequireElectronUpdater(t)
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: electronFixture(t)})
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(t)})
	root := t.TempDir()
	writeElectronDir(t, root, "v1.2.0", fixture(t, "electron/v1.2.0"), day(2))
	base := serveReal(t, proxy.Config{
		APIURL: gh.APIURL, Token: githubsrctest.Token,
		Apps: []proxy.AppConfig{
			{Slug: "demo", Repo: repo},
			{Slug: "private", Repo: "demo-org/private-app", Private: true},
			{Slug: "dir", Dir: root},
		},
	})
	want := electronFixture(t)
	type expect struct{ file string }
	cases := map[string]expect{}
	var checks []githubsrctest.ElectronCheck
	for _, app := range []string{"demo", "private", "dir"} {
		for _, c := range []struct {
			platform, arch, file string
		}{
			{"win32", "x64", "DemoApp-Setup-1.2.0.exe"},
			{"darwin", "x64", "DemoApp-1.2.0-mac.zip"},
			{"darwin", "arm64", "DemoApp-1.2.0-arm64-mac.zip"},
			{"linux", "x64", "DemoApp-1.2.0.AppImage"},
			{"linux", "arm64", "DemoApp-1.2.0-arm64.AppImage"},
		} {
			name := app + " " + c.platform + " " + c.arch
			cases[name] = expect{c.file}
			checks = append(checks, githubsrctest.ElectronCheck{Name: name, FeedURL: base + "/" + app + "/electron", Platform: c.platform, Arch: c.arch, Download: true})
		}
	}
	// A beta app: the beta's own file on Windows; on macOS, with no beta
	// for it, the stable release's.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(3), Assets: electronRelease("1.3.0-beta.1", "beta.yml")})
	checks = append(checks,
		githubsrctest.ElectronCheck{Name: "beta win32", FeedURL: base + "/demo/electron", Channel: "beta", Platform: "win32", Arch: "x64", Download: true},
		githubsrctest.ElectronCheck{Name: "beta darwin", FeedURL: base + "/demo/electron", Channel: "beta", Platform: "darwin", Arch: "arm64", Download: true})
	got := githubsrctest.ElectronUpdater(t, checks...)
	if r := got["beta win32"]; r.Error != "" || r.ChannelFile != "beta.yml" || r.Version != "1.3.0-beta.1" || !strings.HasSuffix(r.Picked, "/electron/App-1.3.0-beta.1-beta.bin") || r.Downloaded == 0 {
		t.Errorf("beta win32: %s %s picked %q, downloaded %d, error %q", r.ChannelFile, r.Version, r.Picked, r.Downloaded, r.Error)
	}
	if r := got["beta darwin"]; r.Error != "" || r.ChannelFile != "beta-mac.yml" || r.Version != "1.2.0" || !strings.HasSuffix(r.Picked, "/electron/DemoApp-1.2.0-arm64-mac.zip") || r.Downloaded != len(want["DemoApp-1.2.0-arm64-mac.zip"]) {
		t.Errorf("beta darwin: %s %s picked %q, downloaded %d, error %q", r.ChannelFile, r.Version, r.Picked, r.Downloaded, r.Error)
	}
	for name, w := range cases {
		r := got[name]
		if r.Error != "" || r.Version != "1.2.0" || !strings.HasSuffix(r.Picked, "/electron/"+w.file) || r.Downloaded != len(want[w.file]) {
			t.Errorf("%s: version %q, picked %q, downloaded %d (want %d of %s), error %s %q", name, r.Version, r.Picked, r.Downloaded, len(want[w.file]), w.file, r.Code, r.Error)
		}
		noCache := false
		for _, req := range r.Requests {
			noCache = noCache || strings.Contains(req.URL, "?noCache=")
		}
		if !noCache {
			t.Errorf("%s: the client never asked with ?noCache=: %+v", name, r.Requests)
		}
	}
}

// TestElectronRewritesURLs: absolute urls and urls with spaces become
// relative names /electron/ serves; a name two served releases list
// becomes the older one's /download URL.
func TestElectronRewritesURLs(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	stable := electronRelease("1.2.0", "latest.yml", "latest-mac.yml")
	stable["latest.yml"] = []byte("version: 1.2.0\nfiles:\n  - url: https://github.com/demo-org/demo-app/releases/download/v1.2.0/App-1.2.0-latest.bin\n    sha512: x\npath: https://github.com/demo-org/demo-app/releases/download/v1.2.0/App-1.2.0-latest.bin\nsha512: x\n")
	stable["latest-mac.yml"] = []byte("version: 1.2.0\nfiles:\n  - url: App.zip\n    sha512: x\n")
	stable["App.zip"] = []byte("stable zip")
	stable["App Old 1.2.0.exe"] = []byte("spaced")
	stable["latest-linux.yml"] = []byte("version: 1.2.0\nfiles:\n  - url: App Old 1.2.0.exe\n    sha512: x\n")
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: stable})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(2), Assets: map[string][]byte{
		"beta-mac.yml": []byte("version: 1.3.0-beta.1\nfiles:\n  - url: App.zip\n    sha512: y\n"), "App.zip": []byte("beta zip")}})
	e := newEnv(t, gh)
	for name, want := range map[string]string{
		"latest.yml":       "App-1.2.0-latest.bin",
		"latest-linux.yml": "App%20Old%201.2.0.exe",
		"beta-mac.yml":     "App.zip",
		"latest-mac.yml":   publicURL + "/download/v1.2.0/App.zip", // the beta took App.zip
	} {
		f, code := e.channelFile(t, name)
		if code != http.StatusOK || f.Files[0].URL != want || f.Path != "" && f.Path != want {
			t.Errorf("%s = %d %+v, want url %s", name, code, f, want)
		}
	}
	for path, want := range map[string]string{
		"/electron/App-1.2.0-latest.bin":  "/v1.2.0/App-1.2.0-latest.bin",
		"/electron/App%20Old%201.2.0.exe": "/v1.2.0/App.Old.1.2.0.exe",
		"/electron/App.Old.1.2.0.exe":     "/v1.2.0/App.Old.1.2.0.exe",
		"/electron/App.zip":               "/v1.3.0-beta.1/App.zip",
		"/download/v1.2.0/App.zip":        "/v1.2.0/App.zip",
	} {
		if dl := e.get("GET", path); dl.Code != http.StatusFound || !strings.HasSuffix(dl.Header().Get("Location"), want) {
			t.Errorf("%s = %d %q, want a redirect to %s", path, dl.Code, dl.Header().Get("Location"), want)
		}
	}
}

// TestElectronAfterEviction: an app evicted by --max-cached-apps and
// rebuilt from what it kept (only the releases that answered) serves the
// same channel files and files.
func TestElectronAfterEviction(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml", "latest-mac.yml")})
	unfinished := electronRelease("1.2.0", "latest.yml", "latest-mac.yml", "latest-linux.yml")
	delete(unfinished, "App-1.2.0-latest-mac.bin")
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: unfinished})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(3), Assets: electronRelease("1.3.0-beta.1", "beta.yml")})
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.MaxCachedApps = 1
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	paths := []string{"latest.yml", "latest-mac.yml", "latest-linux.yml", "beta.yml", "beta-mac.yml", "beta-linux.yml",
		"App-1.2.0-latest.bin", "App-1.1.0-latest-mac.bin", "App-1.3.0-beta.1-beta.bin.blockmap", "App-1.1.0-latest.bin"}
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			rec := e.get("GET", "/demo/electron/"+p)
			out[p] = fmt.Sprint(rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		return out
	}
	before := requireSameAfterEviction(t, e, "/other/linux/x86_64/0.9.0", answers)
	if !strings.HasPrefix(before["latest-mac.yml"], "200") || !strings.HasPrefix(before["App-1.1.0-latest.bin"], "404") {
		t.Errorf("before eviction: %v", before)
	}
}

// TestElectronAllocatesNothing: a channel file, ?noCache= and all, and the
// redirect of a public file it lists are served without allocating (the
// plain fast path, the snapshot's encoded answers).
// It cannot run in parallel (AllocsPerRun counts the whole process).
func TestElectronAllocatesNothing(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(t)})
	e := newEnv(t, gh)
	requireNoAllocs(t, e.h, nil, "/electron/latest-mac.yml?noCache=1abc2def", "/electron/DemoApp-Setup-1.2.0.exe", "/electron/DemoApp-1.2.0-mac.zip.blockmap")
}

// BenchmarkElectronChannelFile is GET /electron/latest-mac.yml?noCache=….
func BenchmarkElectronChannelFile(b *testing.B) {
	gh := githubsrctest.NewServer(b)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: electronFixture(b)})
	benchmarkPath(b, newEnvTB(b, gh, slog.New(slog.DiscardHandler)).h, "/electron/latest-mac.yml?noCache=1abc2def")
}

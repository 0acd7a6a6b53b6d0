package proxy_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// answer is the dynamic update answer as clients decode it.
type answer struct {
	Version   string  `json:"version"`
	Notes     string  `json:"notes"`
	PubDate   string  `json:"pub_date"`
	URL       string  `json:"url"`
	Signature string  `json:"signature"`
	Format    *string `json:"format"`
}

func TestCheckRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	dl := publicURL + "/download/"
	v2sig := func(name string) string { return fixtureFile(t, "tauri-v2/v1.2.0/"+name+".sig") }
	v1sig := func(name string) string { return fixtureFile(t, "tauri-v1/v1.1.0/"+name+".sig") }
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantURL    string // download URL of the answer
		wantSig    string
		wantFormat string // "" means the field must be absent
		wantVer    string
		wantErr    string
	}{
		{name: "windows nsis by default", path: "/windows/x86_64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "up to date", path: "/windows/x86_64/1.2.0", wantStatus: 204},
		{name: "ahead of the newest", path: "/windows/x86_64/1.3.0", wantStatus: 204},
		{name: "prerelease of the newest", path: "/windows/x86_64/1.2.0-rc.1", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "build metadata, percent-encoded plus", path: "/windows/x86_64/1.1.0%2B7", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "leading v in current version", path: "/windows/x86_64/v1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "msi in the path", path: "/windows/x86_64/msi/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64_en-US.msi", wantSig: v2sig("DemoApp_1.2.0_x64_en-US.msi"), wantFormat: "wix", wantVer: "1.2.0"},
		{name: "msi in the query", path: "/windows/x86_64/1.0.0?bundle_type=msi", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64_en-US.msi", wantSig: v2sig("DemoApp_1.2.0_x64_en-US.msi"), wantFormat: "wix", wantVer: "1.2.0"},
		{name: "nsis again after msi in the query", path: "/windows/x86_64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "wix spelling", path: "/windows/x64/wix/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64_en-US.msi", wantSig: v2sig("DemoApp_1.2.0_x64_en-US.msi"), wantFormat: "wix", wantVer: "1.2.0"},
		{name: "upper-case spellings", path: "/Windows/X64/MSI/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64_en-US.msi", wantSig: v2sig("DemoApp_1.2.0_x64_en-US.msi"), wantFormat: "wix", wantVer: "1.2.0"},
		{name: "nsis in the path", path: "/windows/x86_64/nsis/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "unknown bundle type means not said", path: "/windows/x86_64/unknown/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_x64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "windows arm64", path: "/windows/aarch64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_arm64-setup.exe", wantSig: v2sig("DemoApp_1.2.0_arm64-setup.exe"), wantFormat: "nsis", wantVer: "1.2.0"},
		{name: "windows arm64 msi does not exist", path: "/windows/aarch64/msi/1.0.0", wantStatus: 204},
		{name: "cargo-packager macos spelling", path: "/macos/aarch64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_aarch64.app.tar.gz", wantSig: v2sig("DemoApp_aarch64.app.tar.gz"), wantFormat: "app", wantVer: "1.2.0"},
		{name: "darwin x86_64 app", path: "/darwin/x86_64/app/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_x64.app.tar.gz", wantSig: v2sig("DemoApp_x64.app.tar.gz"), wantFormat: "app", wantVer: "1.2.0"},
		{name: "linux appimage by default", path: "/linux/x86_64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_amd64.AppImage", wantSig: v2sig("DemoApp_1.2.0_amd64.AppImage"), wantFormat: "appimage", wantVer: "1.2.0"},
		{name: "linux deb has no cargo-packager format", path: "/linux/x86_64/deb/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_amd64.deb", wantSig: v2sig("DemoApp_1.2.0_amd64.deb"), wantVer: "1.2.0"},
		{name: "linux rpm", path: "/linux/amd64/1.0.0?bundle_type=rpm", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp-1.2.0-1.x86_64.rpm", wantSig: v2sig("DemoApp-1.2.0-1.x86_64.rpm"), wantVer: "1.2.0"},
		{name: "no aarch64 deb anywhere", path: "/linux/aarch64/deb/1.0.0", wantStatus: 204},
		{name: "custom target that is a key", path: "/windows-x86_64-msi/x86_64/1.0.0", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_x64_en-US.msi", wantSig: v2sig("DemoApp_1.2.0_x64_en-US.msi"), wantFormat: "wix", wantVer: "1.2.0"},
		{name: "an old client on 1.0.0 between releases", path: "/linux/x86_64/appimage/1.1.5", wantStatus: 200, wantURL: dl + "v1.2.0/DemoApp_1.2.0_amd64.AppImage", wantSig: v2sig("DemoApp_1.2.0_amd64.AppImage"), wantFormat: "appimage", wantVer: "1.2.0"},
		{name: "HEAD", method: http.MethodHead, path: "/windows/x86_64/1.0.0", wantStatus: 200},
		{name: "HEAD up to date", method: http.MethodHead, path: "/windows/x86_64/1.2.0", wantStatus: 204},
		{name: "version not semver", path: "/windows/x86_64/1.2", wantStatus: 400, wantErr: "not semver"},
		{name: "version garbage", path: "/windows/x86_64/latest", wantStatus: 400, wantErr: "not semver"},
		{name: "unknown target", path: "/freebsd/x86_64/1.0.0", wantStatus: 400, wantErr: "unknown target"},
		{name: "unknown arch", path: "/linux/sparc/1.0.0", wantStatus: 400, wantErr: "unknown arch"},
		{name: "installer of another OS", path: "/windows/x86_64/appimage/1.0.0", wantStatus: 400, wantErr: "appimage installer is for linux"},
		{name: "unknown bundle type", path: "/linux/x86_64/snap/1.0.0", wantStatus: 400, wantErr: "unknown bundle type"},
		{name: "unknown channel", path: "/linux/x86_64/1.0.0?channel=nightly", wantStatus: 400, wantErr: "unknown channel"},
		{name: "no such route", path: "/a/b/c/d/e/f", wantStatus: 404, wantErr: "no such route"},
		{name: "POST to a check", method: http.MethodPost, path: "/windows/x86_64/1.0.0", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := e.get(method, tt.path)
			if rec.Code != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", method, tt.path, rec.Code, rec.Body, tt.wantStatus)
			}
			switch {
			case tt.wantErr != "":
				var body struct{ Error string }
				check(t, json.Unmarshal(rec.Body.Bytes(), &body))
				if !strings.Contains(body.Error, tt.wantErr) {
					t.Errorf("error %q, want it to contain %q", body.Error, tt.wantErr)
				}
			case rec.Code == 204 || method == http.MethodHead:
				if rec.Body.Len() != 0 {
					t.Errorf("body %q, want none", rec.Body)
				}
			case rec.Code == 200:
				var a answer
				check(t, json.Unmarshal(rec.Body.Bytes(), &a))
				if a.Version != tt.wantVer || a.URL != tt.wantURL || a.Signature != tt.wantSig {
					t.Errorf("answer version %q url %q sig %.30q…; want %q %q %.30q…", a.Version, a.URL, a.Signature, tt.wantVer, tt.wantURL, tt.wantSig)
				}
				if got := deref(a.Format); got != tt.wantFormat || (tt.wantFormat == "") != (a.Format == nil) {
					t.Errorf("format %v, want %q", got, tt.wantFormat)
				}
				if _, err := time.Parse(time.RFC3339, a.PubDate); err != nil || a.PubDate != "2026-11-20T10:00:00Z" {
					t.Errorf("pub_date %q: want RFC 3339 UTC of published_at", a.PubDate)
				}
				if a.Notes != "Demo release" {
					t.Errorf("notes %q", a.Notes)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			}
			if rec.Code < 300 && !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public, max-age=60") {
				t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
		})
	}
	_ = v1sig
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestTauriV1Archives(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
	e := newEnv(t, gh)
	for path, want := range map[string]string{
		"/windows/x86_64/1.0.0":      "DemoApp_1.1.0_x64-setup.nsis.zip",
		"/windows/x86_64/msi/1.0.0":  "DemoApp_1.1.0_x64_en-US.msi.zip",
		"/linux/x86_64/1.0.0":        "DemoApp_1.1.0_amd64.AppImage.tar.gz",
		"/darwin/x86_64/1.0.0":       "DemoApp.app.tar.gz", // arch from the x64 dmg beside it
		"/darwin/aarch64/1.0.0":      "",
		"/linux/x86_64/deb/1.0.0":    "",
		"/windows/x86_64/nsis/1.1.0": "",
	} {
		rec := e.get("GET", path)
		if want == "" {
			if rec.Code != 204 {
				t.Errorf("%s = %d %s, want 204", path, rec.Code, rec.Body)
			}
			continue
		}
		var a answer
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &a) != nil || !strings.HasSuffix(a.URL, "/v1.1.0/"+want) {
			t.Errorf("%s = %d %s, want %s", path, rec.Code, rec.Body, want)
			continue
		}
		if a.Signature != fixtureFile(t, "tauri-v1/v1.1.0/"+want+".sig") {
			t.Errorf("%s: signature is not the .sig verbatim", path)
		}
	}
}

func TestLatestJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	rec := e.get("GET", "/latest.json")
	if rec.Code != 200 {
		t.Fatalf("latest.json = %d %s", rec.Code, rec.Body)
	}
	golden(t, "proxy/latest.json", rec.Body.Bytes())
	var m struct {
		Version   string
		Platforms map[string]struct{ URL, Signature string }
	}
	check(t, json.Unmarshal(rec.Body.Bytes(), &m))
	for _, key := range []string{"darwin-aarch64", "darwin-aarch64-app", "darwin-x86_64", "linux-x86_64", "linux-x86_64-appimage",
		"linux-x86_64-deb", "linux-x86_64-rpm", "windows-x86_64", "windows-x86_64-nsis", "windows-x86_64-msi", "windows-aarch64", "windows-aarch64-nsis"} {
		p, ok := m.Platforms[key]
		if !ok || p.URL == "" || p.Signature == "" {
			t.Errorf("latest.json: %s = %+v, want url and signature", key, p)
		}
	}
	if rec := e.get("GET", "/latest.json?channel=beta"); rec.Code != 200 {
		t.Errorf("beta latest.json = %d", rec.Code)
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	t.Run("public", func(t *testing.T) {
		e := newEnv(t, nil)
		seedReleases(t, e.gh)
		rec := e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
		if rec.Code != http.StatusFound {
			t.Fatalf("download = %d %s", rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if loc != e.gh.URL+"/demo-org/demo-app/releases/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe" {
			t.Errorf("Location %s, want the browser_download_url", loc)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
			t.Errorf("Cache-Control %q", cc)
		}
		before := e.gh.APICalls()
		e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
		if e.gh.APICalls() != before {
			t.Error("a public download cost an API call")
		}
	})
	t.Run("private", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(repo, githubsrctest.RepoOptions{Private: true})
		seedReleases(t, gh)
		e := newEnv(t, gh, func(c *proxy.Config) { c.Token = githubsrctest.Token })
		if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != 200 {
			t.Fatalf("check on a private repo = %d %s", rec.Code, rec.Body)
		}
		rec := e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusFound || !strings.HasPrefix(loc, gh.URL+"/storage/") {
			t.Fatalf("download = %d, Location %q; want a 302 to a signed URL", rec.Code, loc)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q, want no-store for a signed URL", rec.Header().Get("Cache-Control"))
		}
		if strings.Contains(loc, githubsrctest.Token) || strings.Contains(rec.Body.String(), githubsrctest.Token) {
			t.Error("the token reached the client")
		}
		resp, err := http.Get(loc) // no credentials, as an updater
		check(t, err)
		if body := readBody(t, resp); resp.StatusCode != 200 || body != string(fixture(t, "tauri-v2/v1.2.0")["DemoApp_1.2.0_x64-setup.exe"]) {
			t.Errorf("fetching the signed URL: %d", resp.StatusCode)
		}
		// Within its reuse window the signed URL is not resolved again.
		calls := gh.Count("GET /api/v3/repos/{owner}/{repo}/releases/assets/{id}")
		e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
		if gh.Count("GET /api/v3/repos/{owner}/{repo}/releases/assets/{id}") != calls {
			t.Error("resolved the signed URL again within 30s")
		}
		e.clock.Advance(time.Minute)
		e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
		if gh.Count("GET /api/v3/repos/{owner}/{repo}/releases/assets/{id}") != calls+1 {
			t.Error("reused a signed URL past 30s")
		}
	})
	t.Run("private while rate limited", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(repo, githubsrctest.RepoOptions{Private: true})
		seedReleases(t, gh)
		e := newEnv(t, gh, func(c *proxy.Config) { c.Token = githubsrctest.Token; c.CacheTTL = 10 * time.Second })
		const dl = "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe"
		const resolve = "GET /api/v3/repos/{owner}/{repo}/releases/assets/{id}"
		if rec := e.get("GET", dl); rec.Code != http.StatusFound {
			t.Fatalf("download = %d %s", rec.Code, rec.Body)
		}
		gh.SetRateLimit(0, e.clock.Now().Add(2*time.Minute), http.StatusForbidden)
		e.clock.Advance(11 * time.Second)
		e.get("GET", "/windows/x86_64/1.0.0") // stale: a refresh that GitHub refuses
		proxy.Settle(e.srv)
		calls := gh.Count(resolve)
		if rec := e.get("GET", dl); rec.Code != http.StatusFound {
			t.Errorf("download within the signed URL's reuse = %d, want 302 with the URL at hand", rec.Code)
		}
		e.clock.Advance(20 * time.Second)
		rec := e.get("GET", dl)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "89" {
			t.Errorf("download while rate limited = %d %s, Retry-After %q; want 503 with Retry-After at the reset (89)", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
		}
		if n := gh.Count(resolve) - calls; n != 0 {
			t.Errorf("%d calls to resolve a download while rate limited, want none", n)
		}
	})
	t.Run("unknown assets", func(t *testing.T) {
		e := newEnv(t, nil)
		seedReleases(t, e.gh)
		e.gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v9.0.0", Draft: true, Assets: map[string][]byte{"secret.exe": []byte("x")}})
		for _, p := range []string{"/download/v1.2.0/nope.exe", "/download/v0.0.1/DemoApp_1.2.0_x64-setup.exe", "/download/v9.0.0/secret.exe"} {
			if rec := e.get("GET", p); rec.Code != 404 {
				t.Errorf("%s = %d, want 404", p, rec.Code)
			}
		}
	})
	t.Run("direct downloads of a repository detected as private", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(repo, githubsrctest.RepoOptions{Private: true})
		seedReleases(t, gh)
		var lines lineLog
		e := newEnvTB(t, gh, slog.New(&lines), func(c *proxy.Config) { c.Token = githubsrctest.Token; c.Apps[0].DirectDownloads = true })
		for range 2 {
			var a answer
			check(t, json.Unmarshal(e.get("GET", "/windows/x86_64/1.0.0").Body.Bytes(), &a))
			if !strings.HasPrefix(a.URL, publicURL+"/download/") {
				t.Errorf("url %s, want this server's /download/: a private repository's browser URLs answer 404", a.URL)
			}
			e.clock.Advance(2 * time.Minute) // and a refresh
			e.get("GET", "/windows/x86_64/1.0.0")
			proxy.Settle(e.srv)
		}
		if n := lines.count("direct downloads are off"); n != 1 {
			t.Errorf("warned %d times that direct downloads are off, want once", n)
		}
	})
	t.Run("direct downloads", func(t *testing.T) {
		e := newEnv(t, nil, func(c *proxy.Config) { c.Apps[0].DirectDownloads = true })
		seedReleases(t, e.gh)
		var a answer
		check(t, json.Unmarshal(e.get("GET", "/windows/x86_64/1.0.0").Body.Bytes(), &a))
		if !strings.HasPrefix(a.URL, e.gh.URL+"/demo-org/demo-app/releases/download/v1.2.0/") {
			t.Errorf("url %s, want GitHub's browser URL", a.URL)
		}
	})
}

func TestSelection(t *testing.T) {
	t.Parallel()
	v2 := func(t *testing.T) map[string][]byte { return fixture(t, "tauri-v2/v1.2.0") }
	only := func(assets map[string][]byte, names ...string) map[string][]byte {
		out := map[string][]byte{}
		for _, n := range names {
			out[n] = assets[n]
		}
		return out
	}
	checkVersion := func(t *testing.T, e *env, path, want string) {
		t.Helper()
		rec := e.get("GET", path)
		if want == "" {
			if rec.Code != 204 {
				t.Errorf("%s = %d %s, want 204", path, rec.Code, rec.Body)
			}
			return
		}
		var a answer
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &a) != nil || a.Version != want {
			t.Errorf("%s = %d %s, want version %s", path, rec.Code, rec.Body, want)
		}
	}

	t.Run("a newer release without a platform does not strand it", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: v2(t)})
		a := v2(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.1", Assets: only(a, "DemoApp_1.2.0_x64-setup.exe", "DemoApp_1.2.0_x64-setup.exe.sig")})
		e := newEnv(t, gh)
		// The .sig is bound to 1.2.0, so the 1.2.1 copy is withheld (Tauri would refuse it)...
		checkVersion(t, e, "/windows/x86_64/1.0.0", "1.2.0")
		// ...and Linux, absent from 1.2.1, still gets 1.2.0.
		checkVersion(t, e, "/linux/x86_64/1.0.0", "1.2.0")
	})
	t.Run("a payload without its .sig is never advertised", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		delete(a, "DemoApp_1.2.0_amd64.AppImage.sig")
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
		e := newEnv(t, gh)
		checkVersion(t, e, "/linux/x86_64/1.0.0", "1.1.0")
		checkVersion(t, e, "/linux/x86_64/1.1.0", "")
		checkVersion(t, e, "/windows/x86_64/1.1.0", "1.2.0")
	})
	t.Run("an asset stuck mid-upload is not offered", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: v2(t), States: map[string]string{"DemoApp_1.2.0_x64-setup.exe": "starter"}})
		e := newEnv(t, gh)
		checkVersion(t, e, "/windows/x86_64/1.0.0", "")
		checkVersion(t, e, "/windows/x86_64/msi/1.0.0", "1.2.0")
	})
	t.Run("only an msi: the bare key takes it", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: only(a, "DemoApp_1.2.0_x64_en-US.msi", "DemoApp_1.2.0_x64_en-US.msi.sig")})
		e := newEnv(t, gh)
		checkVersion(t, e, "/windows/x86_64/1.0.0", "1.2.0")
		checkVersion(t, e, "/windows/x86_64/nsis/1.0.0", "")
	})
	t.Run("--windows-installer msi", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: v2(t)})
		e := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].WindowsInstaller = "msi" })
		var a answer
		check(t, json.Unmarshal(e.get("GET", "/windows/x86_64/1.0.0").Body.Bytes(), &a))
		if !strings.HasSuffix(a.URL, ".msi") || deref(a.Format) != "wix" {
			t.Errorf("bare windows key gave %s (%s), want the MSI", a.URL, deref(a.Format))
		}
	})
	t.Run("universal macOS serves both arches", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: map[string][]byte{
			"DemoApp_universal.app.tar.gz": a["DemoApp_aarch64.app.tar.gz"], "DemoApp_universal.app.tar.gz.sig": a["DemoApp_aarch64.app.tar.gz.sig"],
		}})
		e := newEnv(t, gh)
		for _, p := range []string{"/darwin/aarch64/1.0.0", "/darwin/x86_64/1.0.0", "/darwin-universal/aarch64/1.0.0", "/darwin/x86_64/app/1.0.0"} {
			rec := e.get("GET", p)
			var ans answer
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || !strings.HasSuffix(ans.URL, "DemoApp_universal.app.tar.gz") {
				t.Errorf("%s = %d %s, want the universal build", p, rec.Code, rec.Body)
			}
		}
	})
	t.Run("a native build beats the universal one", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		a["DemoApp_universal.app.tar.gz"], a["DemoApp_universal.app.tar.gz.sig"] = a["DemoApp_x64.app.tar.gz"], a["DemoApp_x64.app.tar.gz.sig"]
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a})
		e := newEnv(t, gh)
		var ans answer
		check(t, json.Unmarshal(e.get("GET", "/darwin/aarch64/1.0.0").Body.Bytes(), &ans))
		if !strings.HasSuffix(ans.URL, "DemoApp_aarch64.app.tar.gz") {
			t.Errorf("darwin-aarch64 got %s", ans.URL)
		}
	})
	t.Run("channels", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
		// A prerelease whose payloads carry no version binding (v1 fixture).
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, Assets: fixture(t, "tauri-v1/v1.1.0")})
		e := newEnv(t, gh)
		checkVersion(t, e, "/windows/x86_64/1.0.0", "1.1.0")
		checkVersion(t, e, "/windows/x86_64/1.0.0?channel=stable", "1.1.0")
		checkVersion(t, e, "/windows/x86_64/1.0.0?channel=beta", "1.3.0-beta.1")
		checkVersion(t, e, "/windows/x86_64/1.3.0-beta.1?channel=beta", "")
		// A stable release newer than the beta wins on the beta channel too.
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a})
		e2 := newEnv(t, gh)
		checkVersion(t, e2, "/windows/x86_64/1.0.0?channel=beta", "1.3.0-beta.1")
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
		e3 := newEnv(t, gh)
		checkVersion(t, e3, "/windows/x86_64/1.3.0-beta.1?channel=beta", "1.3.0")
		checkVersion(t, e3, "/windows/x86_64/1.0.0", "1.3.0")
	})
	t.Run("tag prefix", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "desktop-v1.2.0", Assets: v2(t)})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "cli-v9.0.0", Assets: v2(t)})
		e := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].TagPrefix = "desktop-" })
		checkVersion(t, e, "/windows/x86_64/1.0.0", "1.2.0")
		if rec := e.get("GET", "/download/desktop-v1.2.0/DemoApp_1.2.0_x64-setup.exe"); rec.Code != 302 {
			t.Errorf("download with a prefixed tag = %d", rec.Code)
		}
		if rec := e.get("GET", "/download/cli-v9.0.0/DemoApp_1.2.0_x64-setup.exe"); rec.Code != 404 {
			t.Errorf("download with a tag outside the prefix = %d, want 404: not one of the app's releases", rec.Code)
		}
	})
	t.Run("--pubkey withholds payloads of another key", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: v2(t)})
		right := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].PubKey = fixtureFile(t, "keys/test.key.pub") })
		checkVersion(t, right, "/windows/x86_64/1.0.0", "1.2.0")
		wrong := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].PubKey = fixtureFile(t, "keys/other.key.pub") })
		checkVersion(t, wrong, "/windows/x86_64/1.0.0", "")
	})
	t.Run("a malformed .sig is withheld", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		a := v2(t)
		a["DemoApp_1.2.0_amd64.AppImage.sig"] = []byte("not a signature")
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a})
		e := newEnv(t, gh)
		checkVersion(t, e, "/linux/x86_64/1.0.0", "")
		checkVersion(t, e, "/linux/x86_64/deb/1.0.0", "1.2.0")
	})
	t.Run("drafts are never served", func(t *testing.T) {
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true, Assets: v2(t)})
		e := newEnv(t, gh, func(c *proxy.Config) { c.Token = githubsrctest.Token })
		checkVersion(t, e, "/windows/x86_64/1.0.0", "")
	})
}

func TestMultiApp(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.BasePath = "/api/sync/ota"
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	var a answer
	rec := e.get("GET", "/api/sync/ota/demo/windows/x86_64/1.0.0")
	check(t, json.Unmarshal(rec.Body.Bytes(), &a))
	if rec.Code != 200 || a.Version != "1.2.0" || a.URL != publicURL+"/api/sync/ota/demo/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe" {
		t.Errorf("demo: %d %+v", rec.Code, a)
	}
	rec = e.get("GET", "/api/sync/ota/other/windows/x86_64/1.0.0")
	check(t, json.Unmarshal(rec.Body.Bytes(), &a))
	if rec.Code != 200 || a.Version != "2.0.0" {
		t.Errorf("other: %d %+v", rec.Code, a)
	}
	for path, want := range map[string]int{
		"/api/sync/ota/nope/windows/x86_64/1.0.0":                        404,
		"/api/sync/ota/demo/latest.json":                                 200,
		"/api/sync/ota/demo/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe": 302,
		"/api/sync/ota/healthz":                                          200,
		"/windows/x86_64/1.0.0":                                          404,
	} {
		if rec := e.get("GET", path); rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
	}
	// Outside --base-path too, errors are JSON.
	for _, path := range []string{"/", "/windows/x86_64/1.0.0", "/api/sync", "/healthz"} {
		for _, method := range []string{"GET", "POST"} {
			rec := e.get(method, path)
			var body struct{ Error string }
			if rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || !strings.Contains(body.Error, "no such route") {
				t.Errorf("%s %s = %d %q, want a JSON 404", method, path, rec.Code, rec.Body)
			}
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	if rec := e.get("GET", "/healthz"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "ok") {
		t.Errorf("healthz = %d %s", rec.Code, rec.Body)
	}
	e.get("GET", "/windows/x86_64/1.0.0")
	e.get("GET", "/windows/x86_64/1.2.0")
	rec := e.get("GET", "/metrics")
	for _, want := range []string{
		`otapub_requests_total{route="check",status="200"} 1`,
		`otapub_requests_total{route="check",status="204"} 1`,
		`otapub_cache_misses_total 1`,
		`otapub_cache_hits_total 1`,
		`otapub_upstream_requests_total{status="200"}`,
		`otapub_github_rate_limit_remaining{token="default"}`,
		`otapub_refresh_duration_seconds_count 1`,
		`otapub_request_duration_seconds_bucket{route="check"`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	for name, tt := range map[string]struct {
		cfg  proxy.Config
		want string
	}{
		"no public url":  {proxy.Config{Apps: []proxy.AppConfig{{Repo: repo}}}, "no public URL"},
		"relative url":   {proxy.Config{PublicURL: "updates.example.com", Apps: []proxy.AppConfig{{Repo: repo}}}, "absolute http(s) URL"},
		"no apps":        {proxy.Config{PublicURL: publicURL}, "no app to serve"},
		"bad repo":       {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Repo: "nope"}}}, "want owner/name"},
		"repo and dir":   {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Repo: repo, Dir: "."}}}, "exactly one of repo"},
		"bad slug":       {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Slug: "Bad Slug", Repo: repo}, {Slug: "b", Repo: repo}}}, "slug must be"},
		"reserved slug":  {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Slug: "metrics", Repo: repo}, {Slug: "b", Repo: repo}}}, "route of its own"},
		"bad installer":  {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Repo: repo, WindowsInstaller: "exe"}}}, "use nsis or msi"},
		"bad pubkey":     {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Repo: repo, PubKey: "nope"}}}, "invalid public key"},
		"private anon":   {proxy.Config{PublicURL: publicURL, APIURL: gh.APIURL, Apps: []proxy.AppConfig{{Repo: repo, Private: true}}}, "needs a token"},
		"private direct": {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Repo: repo, Private: true, DirectDownloads: true}}}, "need a public repository"},
		"missing dir":    {proxy.Config{PublicURL: publicURL, Apps: []proxy.AppConfig{{Dir: "/nonexistent/releases"}}}, "releases folder"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := proxy.New(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestREADMEDocumentsEveryMetric keeps the README's metrics table true.
func TestREADMEDocumentsEveryMetric(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	check(t, err)
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	e.get("GET", "/windows/x86_64/1.0.0")
	for _, line := range strings.Split(e.get("GET", "/metrics").Body.String(), "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "otapub_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if !strings.Contains(string(readme), "`"+name) {
			t.Errorf("README.md does not document metric %s", name)
		}
	}
}

// TestREADMEListsTheReservedSlugs keeps the README's list of reserved
// slugs equal to the route table's.
func TestREADMEListsTheReservedSlugs(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	check(t, err)
	var names []string
	for _, slug := range proxy.ReservedSlugs() {
		names = append(names, "`"+slug+"`")
	}
	want := "themselves: " + strings.Join(names, ", ") + "."
	if got := strings.Join(strings.Fields(string(readme)), " "); !strings.Contains(got, want) {
		t.Errorf("README.md does not list the reserved slugs as %q", want)
	}
}

// TestContentLength: over a real connection every JSON answer, small or
// large, GET or HEAD, states its length and none goes chunked.
func TestContentLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	ts := httptest.NewServer(e.h)
	defer ts.Close()
	for _, path := range []string{"/windows/x86_64/1.0.0", "/latest.json"} {
		resp, err := http.Get(ts.URL + path)
		check(t, err)
		body := readBody(t, resp)
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0 {
			t.Errorf("GET %s: Content-Length %d, Transfer-Encoding %q, body %d bytes", path, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		head, err := http.Head(ts.URL + path)
		check(t, err)
		head.Body.Close()
		if head.ContentLength != int64(len(body)) {
			t.Errorf("HEAD %s: Content-Length %d, want %d", path, head.ContentLength, len(body))
		}
		if path == "/latest.json" && len(body) <= 2048 {
			t.Errorf("latest.json is %d bytes; this test wants one above net/http's 2 KiB buffer", len(body))
		}
	}
}

// TestErrorsAreNotCached: every error answer says Cache-Control: no-store,
// so a CDN in front never keeps one.
func TestErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.AddRelease("demo-org/empty", githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"notes.txt": []byte("x")}})
	gh.AddRelease("demo-org/down", githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"notes.txt": []byte("x")}})
	gh.Inject(githubsrctest.Fault{Match: "/repos/demo-org/down/", Status: http.StatusBadGateway, Times: 1000})
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.WebhookSecret = "s"
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "empty", Repo: "demo-org/empty"}, {Slug: "down", Repo: "demo-org/down"}, {Slug: "gone", Repo: "demo-org/gone"}}
	})
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/demo/windows/x86_64/1.2", 400},
		{"GET", "/demo/linux/x86_64/1.0.0?channel=nightly", 400},
		{"GET", "/demo/a/b/c/d/e/f", 404},
		{"GET", "/nope/windows/x86_64/1.0.0", 404},
		{"GET", "/demo/download/v1.2.0/nope.exe", 404},
		{"GET", "/empty/latest.json", 404},
		{"GET", "/gone/windows/x86_64/1.0.0", 404},
		{"GET", "/down/windows/x86_64/1.0.0", 503},
		{"POST", "/webhook", 401},
		{"GET", "/" + strings.Repeat("x", 2000), 414},
	} {
		rec := e.get(tt.method, tt.path)
		if rec.Code != tt.status || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %.40s = %d, Cache-Control %q, Content-Type %q; want %d, no-store, JSON", tt.method, tt.path, rec.Code,
				rec.Header().Get("Cache-Control"), rec.Header().Get("Content-Type"), tt.status)
		}
	}
}

// TestDirDownloads serves a folder of releases over plain HTTP: the answer
// points at /download/, which serves the file itself, ranges and
// conditional requests included.
func TestDirDownloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: testdataDir + "/demo"}} })
	const name = "DemoApp_1.2.0_x64-setup.exe"
	want, err := os.ReadFile(testdataDir + "/demo/v1.2.0/" + name)
	check(t, err)
	var a answer
	rec := e.get("GET", "/windows/x86_64/1.0.0")
	check(t, json.Unmarshal(rec.Body.Bytes(), &a))
	if a.URL != publicURL+"/download/v1.2.0/"+name {
		t.Fatalf("answer url %q, want this server's /download/", a.URL)
	}
	ts := httptest.NewServer(e.h)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/download/v1.2.0/" + name)
	check(t, err)
	if body := readBody(t, resp); resp.StatusCode != 200 || body != string(want) {
		t.Fatalf("download = %d with %d bytes, want 200 with the file's %d", resp.StatusCode, len(body), len(want))
	}
	if cc, ct := resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"); cc != "public, max-age=3600" || ct != "application/octet-stream" {
		t.Errorf("Cache-Control %q, Content-Type %q", cc, ct)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/download/v1.2.0/"+name, nil)
	req.Header.Set("Range", "bytes=2-5")
	resp, err = http.DefaultClient.Do(req)
	check(t, err)
	if body := readBody(t, resp); resp.StatusCode != http.StatusPartialContent || body != string(want[2:6]) {
		t.Errorf("range = %d %q, want 206 %q", resp.StatusCode, body, want[2:6])
	}
	req.Header.Del("Range")
	req.Header.Set("If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	resp, err = http.DefaultClient.Do(req)
	check(t, err)
	if readBody(t, resp); resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional download = %d, want 304", resp.StatusCode)
	}
	for _, p := range []string{"/download/v1.2.0/nope.exe", "/download/v9.9.9/" + name, "/download/v1.2.0/..%2Fv1.1.0%2F" + name} {
		if rec := e.get("GET", p); rec.Code != 404 || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s = %d, want a JSON 404", p, rec.Code)
		}
	}
}

// TestDirServesNothingOutside: with --dir, a signed payload symlinked in
// from outside the folder is neither offered nor downloadable.
func TestDirServesNothingOutside(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside, err := filepath.Abs(testdataDir + "/demo/v1.2.0")
	check(t, err)
	check(t, os.Mkdir(filepath.Join(root, "v1.2.0"), 0o755))
	for _, name := range []string{"DemoApp_1.2.0_x64-setup.exe", "DemoApp_1.2.0_x64-setup.exe.sig"} {
		check(t, os.Symlink(filepath.Join(outside, name), filepath.Join(root, "v1.2.0", name)))
	}
	e := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: root}} })
	if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != http.StatusNoContent {
		t.Errorf("check = %d %s, want 204: the only payload is a symlink out of the folder", rec.Code, rec.Body)
	}
	if rec := e.get("GET", "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe"); rec.Code != http.StatusNotFound {
		t.Errorf("download of a symlink out of the folder = %d, want 404", rec.Code)
	}
}

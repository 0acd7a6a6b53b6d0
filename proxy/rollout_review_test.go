package proxy_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// TestRolloutWebhookReachesAnEvictedApp: a webhook halting a rollout
// applies at once to an app --max-cached-apps evicted (it asks GitHub
// rather than rebuilding from the listing it kept).
func TestRolloutWebhookReachesAnEvictedApp(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	id := rolloutRepo(t, gh, rolloutLine(t, "10", false))
	seedOther(t, gh)
	const secret = "s"
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.WebhookSecret, c.CacheTTL, c.MaxCachedApps = secret, time.Hour, 1
		c.Apps = []proxy.AppConfig{{Slug: "a", Repo: repo}, {Slug: "b", Repo: "demo-org/other"}}
	})
	in := insideID(t, "v1.2.0", 100_000)
	if _, v, _ := e.checkAs(t, "/a/windows/x86_64/1.0.0", in); v != "1.2.0" {
		t.Fatalf("inside before halt: %q", v)
	}
	e.get("GET", "/b/windows/x86_64/1.0.0") // evicts a
	setNotes(t, gh, id, rolloutLine(t, "10", true))
	body := []byte(`{"action":"edited","release":{"tag_name":"v1.2.0"},"repository":{"full_name":"demo-org/demo-app"}}`)
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "release")
	req.Header.Set("X-Hub-Signature-256", signWebhook(secret, body))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 204 {
		t.Fatalf("webhook = %d %s", rec.Code, rec.Body)
	}
	if _, v, _ := e.checkAs(t, "/a/windows/x86_64/1.0.0", in); v != "1.1.0" {
		t.Errorf("after webhook halting v1.2.0 (app was evicted): device inside still gets %q, want 1.1.0", v)
	}
}

// TestRolloutLatestJSONIsPrivateWithNothingOlder: latest.json of a release
// in a rollout is private even when nothing older exists, so no shared
// cache hands a device inside's answer to all.
func TestRolloutLatestJSONIsPrivateWithNothingOlder(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "10", false), Assets: fixture(t, "tauri-v1/v1.1.0")})
	e := newEnv(t, gh)
	req := httptest.NewRequest("GET", "/latest.json", nil)
	req.Header.Set("X-Device-Id", insideID(t, "v1.2.0", 100_000))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("latest.json of a 10%% rollout, device inside: Cache-Control %q, want private", cc)
	}
}

// TestRolloutElectronBetaNeverBehindStable: a beta device outside a beta's
// rollout, with no older beta.yml, gets the stable release every device gets.
func TestRolloutElectronBetaNeverBehindStable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0-beta.1", Prerelease: true, Notes: rolloutLine(t, "10", false), PublishedAt: day(2), Assets: electronRelease("1.2.0-beta.1", "beta.yml")})
	e := newEnv(t, gh)
	req := httptest.NewRequest("GET", "/electron/beta.yml", nil)
	req.Header.Set("X-Device-Id", outsideID(t, "v1.2.0-beta.1", 100_000))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	f, err := githubsrc.ParseChannelFile(rec.Body.Bytes())
	check(t, err)
	if f.Version != "1.1.0" {
		t.Errorf("beta device outside the beta's rollout: beta.yml says %s\n%s\nwant 1.1.0 (the stable release every device gets)", f.Version, rec.Body)
	}
}

// TestElectronBetaServedAsStableAfterEviction: beta.yml older than
// latest.yml (served as stable's) answers the same after eviction: the
// beta release counts among those a rebuild looks at.
func TestElectronBetaServedAsStableAfterEviction(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0-beta.1", Prerelease: true, PublishedAt: day(1), Assets: electronRelease("1.1.0-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: electronRelease("1.2.0", "latest.yml")})
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.CacheTTL, c.MaxCachedApps = time.Hour, 1
		c.Apps = []proxy.AppConfig{{Slug: "a", Repo: repo}, {Slug: "b", Repo: "demo-org/other"}}
	})
	requireSameAfterEviction(t, e, "/b/windows/x86_64/1.0.0", func() map[string]string {
		rec := e.get("GET", "/a/electron/beta.yml")
		return map[string]string{"beta.yml": rec.Result().Status + " " + rec.Body.String()}
	})
}

// TestRolloutReleasesHeldBackIsNot204: on update.electronjs.org's shape,
// whose "none" is 404, a device held back with no older RELEASES gets that,
// not an empty 204 Squirrel.Windows would read as a corrupt RELEASES.
func TestRolloutReleasesHeldBackIsNot204(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(2), Assets: squirrelFixture(t, "1.2.0")})
	e := newEnv(t, gh)
	req := httptest.NewRequest("GET", "/demo-org/demo-app/win32-x64/1.0.0/RELEASES", nil)
	req.Header.Set("X-Device-Id", outsideID(t, "v1.2.0", 100_000))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	t.Logf("outside, electron shape RELEASES: %d %q", rec.Code, rec.Body)
	if rec.Code == http.StatusNoContent {
		t.Errorf("204 with an empty body: Squirrel.Windows throws 'Remote release File is empty or corrupted'")
	}
}

// TestRolloutElectronStagedVaries: a staged channel file served without
// the device header says Vary: X-Device-Id, so a shared cache does not
// hand it to devices that name themselves.
func TestRolloutElectronStagedVaries(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(2), Assets: electronRelease("1.2.0", "latest.yml")})
	e := newEnv(t, gh)
	rec := e.get("GET", "/electron/latest.yml")
	if cc, vary := rec.Header().Get("Cache-Control"), rec.Header().Get("Vary"); strings.HasPrefix(cc, "public") && !strings.Contains(strings.ToLower(vary), "x-device-id") {
		t.Errorf("staged latest.yml without device: Cache-Control %q, Vary %q: a shared cache serves it to devices sending X-Device-Id", cc, vary)
	}
}

// TestRolloutSameAfterEviction: every lane during a rollout and a halt
// answers each device the same after eviction.
func TestRolloutSameAfterEviction(t *testing.T) {
	t.Parallel()
	for _, halted := range []bool{false, true} {
		gh := githubsrctest.NewServer(t)
		v1 := fixture(t, "tauri-v1/v1.1.0")
		merge := func(a, b map[string][]byte) map[string][]byte {
			out := map[string][]byte{}
			for k, v := range a {
				out[k] = v
			}
			for k, v := range b {
				out[k] = v
			}
			return out
		}
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.0", PublishedAt: day(1), Assets: merge(v1, squirrelFixture(t, "1.0.0"))})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(2), Notes: rolloutLine(t, "50", false), Assets: merge(v1, squirrelFixture(t, "1.1.0"))})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0-beta.1", Prerelease: true, PublishedAt: day(3), Notes: rolloutLine(t, "20", false), Assets: v1})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(4), Notes: rolloutLine(t, "10", halted), Assets: merge(v1, squirrelFixture(t, "1.2.0"))})
		seedOther(t, gh)
		e := newEnv(t, gh, func(c *proxy.Config) {
			c.CacheTTL, c.MaxCachedApps = time.Hour, 1
			c.Apps = []proxy.AppConfig{{Slug: "a", Repo: repo}, {Slug: "b", Repo: "demo-org/other"}}
		})
		ids := deviceIDs(60, 9)
		paths := []string{"/a/linux/x86_64/0.9.0", "/a/windows/x86_64/0.9.0?channel=beta", "/a/latest.json", "/a/latest.json?channel=beta",
			"/a/update/darwin_arm64/0.9.0", "/a/update/win32/0.9.0/RELEASES", "/a/download/latest/darwin-aarch64", "/a/electron/latest-mac.yml"}
		requireSameAfterEviction(t, e, "/b/windows/x86_64/1.0.0", func() map[string]string {
			out := map[string]string{}
			for _, p := range paths {
				for _, id := range ids {
					req := httptest.NewRequest("GET", p, nil)
					req.Header.Set("X-Device-Id", id)
					rec := httptest.NewRecorder()
					e.h.ServeHTTP(rec, req)
					out[p+" "+id] = rec.Result().Status + rec.Header().Get("Location") + rec.Header().Get("Cache-Control") + rec.Body.String()
				}
			}
			return out
		})
	}
}

// TestRolloutTauriBetaChannel: a prerelease in a rollout, stable fully out:
// beta devices outside get stable.
func TestRolloutTauriBetaChannel(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	v1 := fixture(t, "tauri-v1/v1.1.0")
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: v1})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Notes: rolloutLine(t, "30", true), Assets: v1})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0-beta.1", Prerelease: true, PublishedAt: day(3), Notes: rolloutLine(t, "10", false), Assets: v1})
	e := newEnv(t, gh)
	out := outsideID(t, "v1.3.0-beta.1", 100_000)
	in := insideID(t, "v1.3.0-beta.1", 100_000)
	for _, c := range []struct{ path, id, want string }{
		{"/linux/x86_64/1.0.0?channel=beta", out, "1.1.0"},
		{"/linux/x86_64/1.0.0?channel=beta", in, "1.3.0-beta.1"},
		{"/linux/x86_64/1.0.0", in, "1.1.0"},
		{"/linux/x86_64/1.2.0?channel=beta", out, ""},
	} {
		code, v, _ := e.checkAs(t, c.path, c.id)
		if v != c.want {
			t.Errorf("%s: %d %q, want %q", c.path, code, v, c.want)
		}
	}
}

// TestRolloutDeviceSourcesDoNotAllocate: a device named by address,
// X-Forwarded-For or Forwarded, and a staged latest.yml, allocate nothing.
func TestRolloutDeviceSourcesDoNotAllocate(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	rolloutRepo(t, gh, rolloutLine(t, "10", false))
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", PublishedAt: day(28), Notes: rolloutLine(t, "10", false), Assets: electronRelease("1.3.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.5", PublishedAt: day(1), Assets: electronRelease("1.0.5", "latest.yml")})
	e := newEnv(t, gh, func(c *proxy.Config) { c.TrustProxyHeaders = true })
	for name, h := range map[string]http.Header{
		"remote addr": {},
		"xff":         {"X-Forwarded-For": {"198.51.100.7, 10.0.0.1"}},
		"forwarded":   {"Forwarded": {`for="[2001:db8::1]:4711";proto=https`}},
	} {
		for _, path := range []string{"/windows/x86_64/1.0.0", "/electron/latest.yml"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Header = h.Clone()
			if path == "/electron/latest.yml" {
				req.Header.Set("X-Device-Id", "dev-1")
			}
			w := &discardWriter{h: http.Header{}}
			e.h.ServeHTTP(w, req)
			if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
				t.Errorf("%s %s: %v allocs", name, path, n)
			}
		}
	}
}

// TestSquirrelDirectDownloadsOfAPrivateRepository: with --direct-downloads
// on a repository found private, Squirrel.Mac's url is this server's
// /download/ (GitHub answers 404 to a private repository's browser URLs).
func TestSquirrelDirectDownloadsOfAPrivateRepository(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(repo, githubsrctest.RepoOptions{Private: true})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: squirrelFixture(t, "1.2.0")})
	e := newEnv(t, gh, func(c *proxy.Config) { c.Token = githubsrctest.Token; c.Apps[0].DirectDownloads = true })
	rec := e.get("GET", "/update/darwin_arm64/1.0.0")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if u := macUpdate(t, rec.Body.Bytes()); !strings.HasPrefix(u.URL, publicURL+"/download/") {
		t.Errorf("Squirrel.Mac url %s for a private repository: want this server's /download/", u.URL)
	}
	rel := e.get("GET", "/update/win32/1.0.0/RELEASES")
	t.Logf("RELEASES: %s", rel.Body)
}

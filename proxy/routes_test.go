package proxy

import (
	"cmp"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

// nullSource is a Source that is never read: route tests do not serve.
type nullSource struct{}

func (nullSource) Releases(context.Context, any) ([]githubsrc.Release, any, bool, error) {
	return nil, nil, false, githubsrc.ErrNotFound
}

func (nullSource) Text(context.Context, githubsrc.Release, githubsrc.Asset) ([]byte, error) {
	return nil, githubsrc.ErrNotFound
}

func (nullSource) Download(context.Context, githubsrc.Release, githubsrc.Asset) (Download, error) {
	return Download{}, githubsrc.ErrNotFound
}

func (nullSource) String() string { return "null" }

func routeTestServer(t *testing.T, basePath string, slugs ...string) *Server {
	t.Helper()
	cfg := Config{PublicURL: "https://updates.example.com", BasePath: basePath}
	for _, slug := range slugs {
		// Each app's repository, which update.electronjs.org's routes name.
		cfg.Apps = append(cfg.Apps, AppConfig{Slug: slug, Repo: "Demo-Org/" + cmp.Or(slug, "app"), Source: nullSource{}})
	}
	s, err := newServer(cfg, nil, feeds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestFastPathAgreesWithTheMux: for paths of every route, today's and
// later feeds', the fast paths claim a path only when the mux routes it to
// their pattern (a check, the download route), and claim every plain one.
func TestFastPathAgreesWithTheMux(t *testing.T) {
	t.Parallel()
	paths := []struct {
		path     string
		claim    bool // the check fast path must serve it
		download bool // the download fast path must serve it
		plain    bool // matchPlain must serve it (/ota/{sequence})
	}{
		{"/windows/x86_64/1.0.0", true, false, false},
		{"/windows/x86_64/msi/1.0.0", true, false, false},
		{"/darwin-universal/aarch64/1.0.0", true, false, false},
		{"/healthz/x/1.0.0", true, false, false}, // the mux too takes it for a check
		{"/electron/latest.yml", false, false, true},
		{"/electron/latest.yml?noCache=1a2b", false, false, true},
		{"/electron/x.exe", false, false, true},
		{"/electron/My%20App.exe", false, false, true},
		{"/electron/a%2Fb.exe", false, false, false}, // escaped: the mux's
		{"/electron/win32/latest.yml", false, false, false},
		{"/electron/a/b/c", false, false, false},
		{"/update/darwin/1.0.0", false, false, true},
		{"/update/darwin_arm64/1.0.0?x=y", false, false, true},
		{"/update/darwin/%31.0.0", false, false, false}, // escaped: the mux's
		{"/update/win32/1.0.0/RELEASES", false, false, false},
		{"/update/win32/1.0.0/RELEASES?id=App&localVersion=1.0.0&arch=amd64", false, false, false},
		{"/update/a/b/c/d", false, false, false},
		{"/ota/5", false, false, true},
		{"/ota/abc", false, false, true}, // the handler's 400
		{"/ota/5/x/y", false, false, false},
		{"/ota/5/x", false, false, false},
		{"/ota", false, false, false},
		{"/ota/", false, false, false},
		{"/ota/%35", false, false, false},
		{"/download/v1.2.0/App.exe", false, true, false},
		{"/download/1.2.0/App%201.2.0.exe", false, false, false}, // escaped: the mux's
		{"/download/latest/darwin-aarch64", false, false, false}, // the mux's
		{"/download/darwin", false, false, false},
		{"/download/a/b/c", false, false, false},
		{"/owner/repo/darwin-arm64/1.0.0", true, false, false},
		{"/latest.json", false, false, false},
		{"/healthz", false, false, false},
		{"/metrics", false, false, false},
		{"/webhook", false, false, false},
		{"/a/b", false, false, false},
		{"/a/b/c/d/e/f", false, false, false},
		{"/a//b/c", false, false, false},
		{"/a/b/c/", false, false, false},
		{"/a/%62/c", false, false, false},
	}
	for _, tt := range []struct {
		name, base string
		slugs      []string
	}{
		{"one app", "", []string{""}},
		{"one app under a base path", "/api/sync/ota", []string{""}},
		{"several apps", "", []string{"demo", "other"}},
		{"several apps under a base path", "/ota", []string{"demo", "other"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := routeTestServer(t, tt.base, tt.slugs...)
			var checks []string
			var download string
			var plains []string
			for _, rt := range s.table {
				if rt.plain != nil {
					plains = append(plains, "GET "+s.fullPath(rt))
				}
				if rt.check {
					checks = append(checks, "GET "+s.fullPath(rt))
				}
				if rt.download {
					download = "GET " + s.fullPath(rt)
				}
			}
			for _, p := range paths {
				for _, slug := range tt.slugs {
					path := tt.base + p.path
					if slug != "" {
						path = tt.base + "/" + slug + p.path
					}
					r := httptest.NewRequest("GET", path, nil)
					_, pattern := s.mux.Handler(r)
					_, _, claimed := s.matchCheck(r)
					if claimed && !slices.Contains(checks, pattern) {
						t.Errorf("the fast path claims %s, which the mux routes to %q", path, pattern)
					}
					if p.claim && !claimed {
						t.Errorf("the fast path leaves the plain check %s to the mux (%q)", path, pattern)
					}
					_, _, _, dl := s.matchDownload(r)
					if dl && pattern != download {
						t.Errorf("the download fast path claims %s, which the mux routes to %q", path, pattern)
					}
					if p.download && !dl {
						t.Errorf("the download fast path leaves the plain download %s to the mux (%q)", path, pattern)
					}
					if dl && claimed {
						t.Errorf("both fast paths claim %s", path)
					}
					o, _, _, plain := s.matchPlain(r)
					if plain && (claimed || dl) {
						t.Errorf("matchPlain and another fast path claim %s", path)
					}
					if plain && !slices.Contains(plains, pattern) {
						t.Errorf("matchPlain claims %s, which the mux routes to %q", path, pattern)
					}
					if plain && o.plain == nil {
						t.Errorf("matchPlain claims %s without a route to serve it", path)
					}
					if p.plain != plain {
						t.Errorf("matchPlain claims %s: %v, want %v (the mux: %q)", path, plain, p.plain, pattern)
					}
				}
			}
			// update.electronjs.org's /{owner}/{repo}/{platform}/{version}
			// lives at the root in every mode, and reaches the check
			// pattern the mux picks: only a served repository's is the
			// Squirrel feed's (case ignored), never another's.
			served := "/demo-org/" + cmp.Or(tt.slugs[0], "app")
			for _, e := range []struct {
				path     string
				electron bool
			}{
				{served + "/darwin-arm64/1.0.0", true},
				{strings.ToUpper(served) + "/darwin/1.0.0", true},
				{served + "/win32-x64/1.0.0?x=1", true},
				{"/someone/else/darwin-x64/1.0.0", false},
			} {
				r := httptest.NewRequest("GET", tt.base+e.path, nil)
				_, pattern := s.mux.Handler(r)
				_, c, claimed := s.matchCheck(r)
				if claimed && !slices.Contains(checks, pattern) {
					t.Errorf("the fast path claims %s, which the mux routes to %q", e.path, pattern)
				}
				if e.electron && (!claimed || !c.electron || !slices.Contains(checks, pattern)) {
					t.Errorf("%s: claimed %v, update.electronjs.org's %v, the mux's %q; want the Squirrel feed's through the check handler", e.path, claimed, c.electron, pattern)
				}
				if !e.electron && c.electron {
					t.Errorf("%s, a repository not served, reaches the Squirrel feed", e.path)
				}
				rel := httptest.NewRequest("GET", tt.base+served+"/win32-x64/1.0.0/RELEASES", nil)
				if _, pattern := s.mux.Handler(rel); pattern != "GET "+tt.base+"/{owner}/{repo}/{platform}/{version}/RELEASES" {
					t.Errorf("%s: the mux routes it to %q", rel.URL, pattern)
				}
				if _, _, claimed := s.matchCheck(rel); claimed {
					t.Errorf("the check fast path claims %s", rel.URL)
				}
			}
			if _, _, claimed := s.matchCheck(httptest.NewRequest("GET", tt.base+"/nope/windows/x86_64/1.0.0", nil)); claimed && len(tt.slugs) > 1 {
				t.Error("the fast path claims a check for an app that does not exist")
			}
		})
	}
}

// TestRouteTableStatesEverything: the reserved slugs and the "no such
// route" hint come from the route table.
func TestRouteTableStatesEverything(t *testing.T) {
	t.Parallel()
	got := ReservedSlugs()
	for _, want := range []string{"download", "healthz", "metrics", "webhook", "latest.json"} {
		if !slices.Contains(got, want) {
			t.Errorf("ReservedSlugs() = %q, want %s in it", got, want)
		}
	}
	s := routeTestServer(t, "", "a", "b")
	for _, want := range []string{"electron", "update", "ota"} {
		if !slices.Contains(reservedSlugs(s.table), want) {
			t.Errorf("a later feed's %s is not reserved", want)
		}
	}
	if _, err := newServer(Config{PublicURL: "https://x", Apps: []AppConfig{{Slug: "ota", Source: nullSource{}}, {Slug: "b", Source: nullSource{}}}}, nil, feeds); err == nil || !strings.Contains(err.Error(), "route of its own") {
		t.Errorf("slug ota beside the OTA feed: %v, want refused", err)
	}
	rec := httptest.NewRecorder()
	routeTestServer(t, "", "").ServeHTTP(rec, httptest.NewRequest("GET", "/a/b", nil))
	const want = "no such route: see the README for /{target}/{arch}/{current_version}, /latest.json, /ota/{current_sequence}, /electron/{file}, " +
		"/update/{platform}/{current_version}, /update/win32/{current_version}/RELEASES, /{owner}/{repo}/{platform}-{arch}/{current_version}[/RELEASES], " +
		"/download/latest/{platform}, /download/{tag}/{asset}, /healthz and /metrics"
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("GET /a/b = %d %s, want %q", rec.Code, rec.Body, want)
	}
}

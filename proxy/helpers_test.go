package proxy_test

import (
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

var update = flag.Bool("update", false, "rewrite files in testdata/golden")

const testdataDir = "../testdata"

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdataDir, "golden", name)
	if *update {
		check(t, os.MkdirAll(filepath.Dir(path), 0o755))
		check(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	check(t, err)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s\nrerun with -update if intended", name, diff)
	}
}

// fixture reads a fixture release folder into asset bytes by name.
func fixture(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(testdataDir, "fixtures", dir))
	check(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(testdataDir, "fixtures", dir, e.Name()))
		check(t, err)
		out[e.Name()] = b
	}
	return out
}

func fixtureFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "fixtures", path))
	check(t, err)
	return string(b)
}

// clock is a settable clock shared by the proxy and the fake.
type clock struct{ ns atomic.Int64 }

// newClock is the clock of the proxy and the fake GitHub alike, so rate
// limits reset when the test moves it. It starts on a whole second (as
// GitHub's resets are) in the past: go-github's own check of a reset
// against the real time then never stands in for the proxy's.
func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

const repo = "demo-org/demo-app"

const publicURL = "https://updates.example.com"

// env is a proxy in front of a fake GitHub.
type env struct {
	gh    *githubsrctest.Server
	srv   *proxy.Server
	h     http.Handler
	clock *clock
}

type option func(*proxy.Config)

func newEnv(t *testing.T, gh *githubsrctest.Server, opts ...option) *env {
	t.Helper()
	return newEnvTB(t, gh, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), opts...)
}

// newBenchEnv is a proxy over the seeded fake that logs nothing.
func newBenchEnv(b *testing.B) *env {
	gh := githubsrctest.NewServer(b)
	seedReleases(b, gh)
	return newEnvTB(b, gh, slog.New(slog.DiscardHandler))
}

func newEnvTB(t testing.TB, gh *githubsrctest.Server, log *slog.Logger, opts ...option) *env {
	clk := newClock()
	if gh == nil {
		gh = githubsrctest.NewServer(t)
	}
	gh.SetClock(clk.Now) // one clock: the fake's rate-limit resets and signed URLs move with the proxy's
	cfg := proxy.Config{
		PublicURL: publicURL,
		APIURL:    gh.APIURL,
		CacheTTL:  time.Minute,
		Apps:      []proxy.AppConfig{{Repo: repo}},
		Now:       clk.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := proxy.New(cfg, log)
	check(t, err)
	t.Cleanup(srv.Close)
	return &env{gh: gh, srv: srv, h: srv.Handler(), clock: clk}
}

// newSeededEnv is a proxy in front of a fake GitHub with seedReleases' releases.
func newSeededEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	return newEnv(t, gh, opts...)
}

// get sends a request through the handler.
func (e *env) get(method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// seedReleases publishes the Tauri v2 fixture as v1.2.0 and the v1 one as v1.1.0.
func seedReleases(t testing.TB, gh *githubsrctest.Server) {
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Notes: "v1 notes", PublishedAt: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), Assets: fixture(t, "tauri-v1/v1.1.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: "Demo release", PublishedAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), Assets: fixture(t, "tauri-v2/v1.2.0")})
}

// seedOther publishes the Tauri v1 fixture as v2.0.0 of demo-org/other.
func seedOther(t testing.TB, gh *githubsrctest.Server) {
	gh.AddRelease("demo-org/other", githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(t, err)
	return string(b)
}

// requireNoAllocs serves each path once (the first refresh), then fails
// the test if serving it again allocates. Tests that call it cannot run in
// parallel: AllocsPerRun counts the whole process. check, when set, looks
// at the first answer.
func requireNoAllocs(t *testing.T, h http.Handler, check func(path string, w *discardWriter), paths ...string) {
	t.Helper()
	for _, path := range paths {
		req := httptest.NewRequest("GET", path, nil)
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if check != nil {
			check(path, w)
		}
		if n := testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("GET %s: %v allocations per request, want 0", path, n)
		}
	}
}

// benchmarkPath serves path from h on every core, after one warming
// request (the first refresh).
func benchmarkPath(b *testing.B, h http.Handler, path string) {
	h.ServeHTTP(&discardWriter{h: http.Header{}}, httptest.NewRequest("GET", path, nil))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest("GET", path, nil)
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}

// requireSameAfterEviction takes answers, has the request evict evict the
// app they ask (a request for another app, with --max-cached-apps 1),
// takes them again, and fails the test unless the app was rebuilt once
// from what it kept and answers as before. It returns the answers.
func requireSameAfterEviction(t *testing.T, e *env, evict string, answers func() map[string]string) map[string]string {
	t.Helper()
	before := answers()
	e.get("GET", evict)
	after := answers()
	if n := metric(e, "otapub_cache_rebuilds_total"); n != "1" {
		t.Fatalf("%s rebuilds, want 1", n)
	}
	for k, want := range before {
		if after[k] != want {
			t.Errorf("%s after eviction: %s, want %s", k, after[k], want)
		}
	}
	return before
}

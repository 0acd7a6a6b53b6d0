package proxy_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// evictApps is how many apps the eviction benchmarks cycle over.
const evictApps = 64

// spreadEnv is evictApps apps over the fake GitHub, each publishing the
// route tests' two releases (the Tauri v1 and v2 fixtures, 31 assets) and
// pinned to the fixtures' key, with at most maxCached of them cached; and
// a check of each.
func spreadEnv(tb testing.TB, maxCached int) (*env, []*http.Request) {
	gh := githubsrctest.NewServer(tb)
	var apps []proxy.AppConfig
	var reqs []*http.Request
	pub := fixtureFile(tb, "keys/test.key.pub")
	v1, v2 := fixture(tb, "tauri-v1/v1.1.0"), fixture(tb, "tauri-v2/v1.2.0")
	for i := range evictApps {
		slug := fmt.Sprintf("app-%02d", i)
		r := "demo-org/" + slug
		gh.AddRelease(r, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: v1})
		gh.AddRelease(r, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: v2})
		apps = append(apps, proxy.AppConfig{Slug: slug, Repo: r, PubKey: pub})
		reqs = append(reqs, httptest.NewRequest("GET", "/"+slug+"/windows/x86_64/1.0.0", nil))
	}
	e := newEnvTB(tb, gh, slog.New(slog.DiscardHandler), func(c *proxy.Config) { c.Apps, c.MaxCachedApps = apps, maxCached })
	return e, reqs
}

// benchmarkSpread serves checks app after app round evictApps apps (the
// spread that defeats an LRU smaller than the apps), every app read once
// before the timer starts, and reports the CPU time per check besides the
// wall time (which the machine's other work inflates).
func benchmarkSpread(b *testing.B, maxCached int) {
	e, reqs := spreadEnv(b, maxCached)
	w := &discardWriter{h: http.Header{}}
	for _, req := range reqs {
		e.h.ServeHTTP(w, req)
	}
	calls := e.gh.APICalls()
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		clear(w.h)
		e.h.ServeHTTP(w, reqs[i%evictApps])
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	if n := e.gh.APICalls() - calls; n != 0 {
		b.Fatalf("%d API calls: the checks asked GitHub", n)
	}
}

// BenchmarkSpreadCached: checks spread over 64 apps, all cached.
//
//	go test ./proxy -run '^$' -bench Spread -cpu 1 -benchtime 10000x
func BenchmarkSpreadCached(b *testing.B) { benchmarkSpread(b, evictApps) }

// BenchmarkSpreadEvicting: the same with 8 of the 64 apps cached, so that
// every check finds its app evicted and rebuilds its snapshot from what
// it kept (facts.go), asking GitHub nothing.
func BenchmarkSpreadEvicting(b *testing.B) { benchmarkSpread(b, 8) }

// BenchmarkAppHeap reports the heap an app holds, cached and evicted:
// the growth of the live heap as each of the 64 apps answers its first
// check, with all of them cached, then with one.
func BenchmarkAppHeap(b *testing.B) {
	for range b.N {
		b.ReportMetric(appHeap(b, evictApps), "B/cached-app")
		b.ReportMetric(appHeap(b, 1), "B/evicted-app")
	}
}

func appHeap(b *testing.B, maxCached int) float64 {
	e, reqs := spreadEnv(b, maxCached)
	w := &discardWriter{h: http.Header{}}
	before := liveHeap()
	for _, req := range reqs {
		e.h.ServeHTTP(w, req)
	}
	heap := float64(liveHeap()-before) / evictApps
	runtime.KeepAlive(e)
	return heap
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestRebuildAnswersAsTheFullBuild: an app rebuilt after eviction from
// what it kept (facts.go) answers every route byte for byte as the build
// from GitHub did, three evictions in a row.
func TestRebuildAnswersAsTheFullBuild(t *testing.T) {
	e, reqs := spreadEnv(t, 1)
	paths := []string{
		"/app-00/windows/x86_64/1.0.0", "/app-00/windows/x86_64/msi/1.0.0", "/app-00/linux/x86_64/1.0.0",
		"/app-00/darwin/aarch64/1.0.0", "/app-00/darwin/x86_64/1.0.0", "/app-00/linux/x86_64/1.2.0",
		"/app-00/latest.json", "/app-00/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe",
	}
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			rec := e.get("GET", p)
			out[p] = fmt.Sprint(rec.Code, " ", rec.Header().Get("Location"), " ", rec.Body.String())
		}
		return out
	}
	before := answers()
	if !strings.HasPrefix(before[paths[0]], "200") {
		t.Fatalf("before eviction: %s", before[paths[0]])
	}
	for i := range 3 {
		e.h.ServeHTTP(httptest.NewRecorder(), reqs[1]) // evicts app-00
		for p, want := range answers() {
			if got := before[p]; got != want {
				t.Errorf("rebuild %d: %s answered\n%s\nwant, as the full build:\n%s", i, p, want, got)
			}
		}
	}
	if n := metric(e, "otapub_cache_rebuilds_total"); n != "5" {
		t.Errorf("%s rebuilds, want 5: app-00 three times, app-01 twice (first read from GitHub)", n)
	}
}

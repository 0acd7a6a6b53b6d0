package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler and not the recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchmarkCheck(b *testing.B, path string) {
	e := newBenchEnv(b)
	req := httptest.NewRequest("GET", path, nil)
	w := &discardWriter{h: http.Header{}}
	e.h.ServeHTTP(w, req) // warm: the first refresh
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest("GET", path, nil)
		for pb.Next() {
			clear(w.h)
			e.h.ServeHTTP(w, req)
		}
	})
}

// BenchmarkCheckUpdate is the hot path answering "there is an update".
func BenchmarkCheckUpdate(b *testing.B) { benchmarkCheck(b, "/windows/x86_64/1.0.0") }

// BenchmarkCheckUpToDate is the hot path answering 204.
func BenchmarkCheckUpToDate(b *testing.B) { benchmarkCheck(b, "/windows/x86_64/1.2.0") }

// BenchmarkCheckBundleChannel adds a bundle type and a channel query.
func BenchmarkCheckBundleChannel(b *testing.B) {
	benchmarkCheck(b, "/linux/x86_64/1.0.0?bundle_type=appimage&channel=stable")
}

// TestCheckAllocatesNothing holds the hot path to its promise: a plain
// check, answered or up to date, allocates nothing (the fast path in
// proxy/fastpath.go; through the mux it would).
// It cannot run in parallel (AllocsPerRun counts the whole process).
func TestCheckAllocatesNothing(t *testing.T) {
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	for _, path := range []string{"/windows/x86_64/1.0.0", "/windows/x86_64/1.2.0", "/linux/x86_64/appimage/1.0.0?channel=beta"} {
		req := httptest.NewRequest("GET", path, nil)
		w := &discardWriter{h: http.Header{}}
		e.h.ServeHTTP(w, req) // the first refresh
		if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("GET %s: %v allocations per check, want 0", path, n)
		}
	}
}

// BenchmarkDownloadPublic is /download of a public repository's asset: a
// 302 to its browser URL.
func BenchmarkDownloadPublic(b *testing.B) {
	benchmarkCheck(b, "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
}

// TestDownloadAllocatesNothing: the redirect of a public asset, made with
// the snapshot, is served without allocating (the download fast path).
func TestDownloadAllocatesNothing(t *testing.T) {
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	for _, path := range []string{"/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe", "/download/v1.1.0/DemoApp.app.tar.gz"} {
		req := httptest.NewRequest("GET", path, nil)
		w := &discardWriter{h: http.Header{}}
		e.h.ServeHTTP(w, req) // the first refresh
		if loc := w.h.Get("Location"); !strings.HasPrefix(loc, e.gh.URL+"/") {
			t.Fatalf("GET %s: Location %q, want the browser URL", path, loc)
		}
		if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("GET %s: %v allocations per download, want 0", path, n)
		}
	}
}

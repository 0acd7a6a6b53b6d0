package proxy_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler and not the recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchmarkCheck(b *testing.B, path string) { benchmarkPath(b, newBenchEnv(b).h, path) }

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
	requireNoAllocs(t, e.h, nil, "/windows/x86_64/1.0.0", "/windows/x86_64/1.2.0", "/linux/x86_64/appimage/1.0.0?channel=beta")
}

// BenchmarkDownloadPublic is /download of a public repository's asset: a
// 302 to its browser URL.
func BenchmarkDownloadPublic(b *testing.B) {
	benchmarkCheck(b, "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
}

// TestDownloadAllocatesNothing: the redirect of a public asset, made on
// its first download from the snapshot, is served after that without
// allocating (the download fast path).
func TestDownloadAllocatesNothing(t *testing.T) {
	e := newEnv(t, nil)
	seedReleases(t, e.gh)
	requireNoAllocs(t, e.h, func(path string, w *discardWriter) {
		if loc := w.h.Get("Location"); !strings.HasPrefix(loc, e.gh.URL+"/") {
			t.Fatalf("GET %s: Location %q, want the browser URL", path, loc)
		}
	}, "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe", "/download/v1.1.0/DemoApp.app.tar.gz")
}

// benchmarkOTA is the hot-swap check against the route tests' bundles.
func benchmarkOTA(b *testing.B, path string) {
	gh := githubsrctest.NewServer(b)
	seedReleases(b, gh)
	seedBundles(b, gh)
	benchmarkPath(b, newEnvTB(b, gh, slog.New(slog.DiscardHandler)).h, path)
}

// BenchmarkCheckOTAUpdate is /ota/{n} answering with a bundle.
func BenchmarkCheckOTAUpdate(b *testing.B) {
	benchmarkOTA(b, "/ota/0?binary_version=1.2.0&platform=macos&arch=aarch64&channel=production")
}

// BenchmarkCheckOTAUpToDate is /ota/{n} answering 204.
func BenchmarkCheckOTAUpToDate(b *testing.B) {
	benchmarkOTA(b, "/ota/8?binary_version=1.2.0&platform=macos&arch=aarch64")
}

// TestOTACheckAllocatesNothing: the hot-swap check, answered or up to
// date, allocates nothing once its binary version has been seen (the
// plain fast path, the parse cache, ota.Pick).
func TestOTACheckAllocatesNothing(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedBundles(t, gh)
	e := newEnv(t, gh)
	requireNoAllocs(t, e.h, nil,
		"/ota/0?binary_version=1.2.0&platform=macos&arch=aarch64",
		"/ota/8?binary_version=1.2.0&platform=macos&arch=aarch64",
		"/ota/0?binary_version=2.1.0&platform=linux&arch=x86_64&channel=beta")
}

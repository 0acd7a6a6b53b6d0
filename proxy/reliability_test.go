package proxy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

const listRoute = "GET /api/v3/repos/{owner}/{repo}/releases"

func versionOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != 200 {
		return strconv.Itoa(rec.Code)
	}
	var a answer
	check(t, json.Unmarshal(rec.Body.Bytes(), &a))
	return a.Version
}

// eventually polls cond for up to 5s: background refreshes finish on their own time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentColdChecksAskGitHubOnce(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.SetLatency(100 * time.Millisecond) // keep every request in flight together
	e := newEnv(t, gh)
	var wg sync.WaitGroup
	got := make([]string, 64)
	for i := range got {
		wg.Go(func() { got[i] = versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")) })
	}
	wg.Wait()
	for i, v := range got {
		if v != "1.2.0" {
			t.Errorf("check %d answered %s, want 1.2.0", i, v)
		}
	}
	if n := gh.Count(listRoute); n != 1 {
		t.Errorf("64 cold checks made %d list calls, want 1", n)
	}
}

func TestOutageAfterWarmUp(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) { c.MaxStale = time.Hour })
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("warm-up answered %s", v)
	}
	gh.Inject(githubsrctest.Fault{Match: "/releases", Status: http.StatusBadGateway, Times: 1_000_000})
	calls := gh.Count(listRoute)

	// Well past the TTL, every check is still answered from the last good snapshot.
	e.clock.Advance(10 * time.Minute)
	for i := range 200 {
		if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
			t.Fatalf("check %d during the outage answered %s", i, v)
		}
		if rec := e.get("GET", "/linux/x86_64/1.2.0"); rec.Code != 204 {
			t.Fatalf("up-to-date check during the outage answered %d", rec.Code)
		}
	}
	eventually(t, "the background refresh to fail", func() bool {
		return strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_refresh_errors_total 1")
	})
	// One refresh (with its retries) for 400 requests, then a pause.
	if n := gh.Count(listRoute) - calls; n < 1 || n > 3 {
		t.Errorf("the outage cost %d list calls for 400 checks, want one refresh's worth (1-3)", n)
	}
	metrics := e.get("GET", "/metrics").Body.String()
	if !strings.Contains(metrics, "otapub_cache_stale_total 400") {
		t.Errorf("stale serves not counted:\n%s", grep(metrics, "otapub_cache"))
	}

	// Past --max-stale the server stops answering from the old snapshot.
	e.clock.Advance(2 * time.Hour)
	rec := e.get("GET", "/windows/x86_64/1.0.0")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("past --max-stale: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestColdStartWhileGitHubIsDown(t *testing.T) {
	for name, fault := range map[string]githubsrctest.Fault{
		"failing": {Match: "/releases", Status: http.StatusBadGateway, Times: 1000},
		"hanging": {Match: "/releases", Delay: 20 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			gh := githubsrctest.NewServer(t)
			seedReleases(t, gh)
			gh.Inject(fault)
			e := newEnv(t, gh)
			start := time.Now()
			rec := e.get("GET", "/windows/x86_64/1.0.0")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("cold check took %v while GitHub was down", took)
			}
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("cold check = %d %s, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
			}
		})
	}
}

func TestRateLimitStopsUpstreamCalls(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh)
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("first check answered %s", v)
	}
	// Someone else spends the token's budget.
	reset := time.Now().Add(2 * time.Second)
	gh.SetRateLimit(0, reset, http.StatusTooManyRequests)
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0") // stale: starts a refresh, which GitHub refuses
	eventually(t, "the refused refresh", func() bool { return gh.Count(listRoute) == 2 })
	time.Sleep(50 * time.Millisecond)
	for range 5 {
		e.clock.Advance(2 * time.Minute)
		if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
			t.Fatalf("check while rate limited answered %s", v)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := gh.Count(listRoute); n != 2 {
		t.Errorf("%d list calls in all, want none after the refusal (2)", n)
	}

	// After the reset GitHub is asked again.
	gh.SetRateLimit(100, time.Now().Add(time.Hour), http.StatusForbidden)
	time.Sleep(time.Until(reset) + 1100*time.Millisecond)
	e.clock.Advance(time.Until(reset) + time.Hour)
	e.get("GET", "/windows/x86_64/1.0.0")
	eventually(t, "a refresh after the reset", func() bool { return gh.Count(listRoute) == 3 })
}

func TestConditionalRefresh(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh)
	e.get("GET", "/windows/x86_64/1.0.0")
	sigReads := gh.Count("GET /{owner}/{repo}/releases/download/{tag}/{name}")
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0")
	eventually(t, "a conditional refresh", func() bool { return gh.Count("304") == 1 })
	if n := gh.Count("GET /{owner}/{repo}/releases/download/{tag}/{name}"); n != sigReads {
		t.Errorf("an unchanged listing re-read %d signatures", n-sigReads)
	}
	if !strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_upstream_not_modified_total 1") {
		t.Error("304 not counted")
	}
}

func TestStaleWhileRevalidateDoesNotWait(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh)
	e.get("GET", "/windows/x86_64/1.0.0")
	gh.SetLatency(2 * time.Second)
	e.clock.Advance(2 * time.Minute)
	start := time.Now()
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("stale check answered %s", v)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("a stale check waited %v for the refresh", took)
	}
}

func TestNeverHalfFilled(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh)
	e.get("GET", "/windows/x86_64/1.0.0")
	// A new release whose signatures cannot be read right now.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
	gh.Inject(githubsrctest.Fault{Match: "/releases/download/v1.3.0/", Status: http.StatusBadGateway, Times: 1000})
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0")
	eventually(t, "the failed refresh", func() bool {
		return strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_refresh_errors_total 1")
	})
	// Every platform still gets the complete old snapshot, none a partial new one.
	for _, p := range []string{"/windows/x86_64/1.0.0", "/linux/x86_64/1.0.0", "/darwin/x86_64/1.0.0"} {
		if v := versionOf(t, e.get("GET", p)); v != "1.2.0" {
			t.Errorf("%s answered %s during a failed refresh, want 1.2.0", p, v)
		}
	}
}

func TestRepositoryNotFound(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	e := newEnv(t, gh)
	for range 3 {
		if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != 404 {
			t.Fatalf("missing repository = %d %s, want 404", rec.Code, rec.Body)
		}
	}
	if n := gh.Count(listRoute); n != 1 {
		t.Errorf("%d list calls for a missing repository, want 1 (negative caching)", n)
	}
}

func signWebhook(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhook(t *testing.T) {
	const secret = "webhook-secret"
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) { c.WebhookSecret = secret; c.CacheTTL = time.Hour })
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("before: %s", v)
	}
	post := func(event string, body []byte, sig string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", "d-1")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}
	release := []byte(`{"action":"published","release":{"tag_name":"v1.3.0"},"repository":{"full_name":"Demo-Org/demo-app"}}`)

	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("cached answer before the webhook: %s", v)
	}
	if rec := post("release", release, signWebhook("wrong", release)); rec.Code != 401 {
		t.Errorf("bad signature = %d, want 401", rec.Code)
	}
	if rec := post("release", release, ""); rec.Code != 401 {
		t.Errorf("no signature = %d, want 401", rec.Code)
	}
	if rec := post("ping", []byte(`{"zen":"ok"}`), signWebhook(secret, []byte(`{"zen":"ok"}`))); rec.Code != 204 {
		t.Errorf("ping = %d, want 204", rec.Code)
	}
	big := bytes.Repeat([]byte("x"), 2<<20)
	if rec := post("release", big, signWebhook(secret, big)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body = %d, want 413", rec.Code)
	}
	if rec := post("release", release, signWebhook(secret, release)); rec.Code != 204 {
		t.Fatalf("release event = %d %s, want 204", rec.Code, rec.Body)
	}
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.3.0" {
		t.Errorf("after the webhook: %s, want 1.3.0 at once", v)
	}
	other := []byte(`{"action":"published","repository":{"full_name":"someone/else"}}`)
	if rec := post("release", other, signWebhook(secret, other)); rec.Code != 404 {
		t.Errorf("event for a repository not served = %d, want 404", rec.Code)
	}

	off := newEnv(t, gh)
	rec := httptest.NewRecorder()
	off.h.ServeHTTP(rec, httptest.NewRequest("POST", "/webhook", bytes.NewReader(release)))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "--webhook-secret") {
		t.Errorf("webhook without a secret configured = %d %s", rec.Code, rec.Body)
	}
}

// TestCloseWaitsForRefreshes: Close ends a refresh stuck on GitHub, waits
// for it, and starts no more; nothing runs (or logs) after it returns.
func TestCloseWaitsForRefreshes(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.Inject(githubsrctest.Fault{Match: "/releases", Delay: 20 * time.Second})
	var lines lineLog
	e := newEnvTB(t, gh, slog.New(&lines))
	e.srv.Warm()
	for deadline := time.Now().Add(10 * time.Second); gh.Count(listRoute) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the warm-up refresh never asked GitHub")
		}
		time.Sleep(5 * time.Millisecond)
	}
	begin := time.Now()
	e.srv.Close()
	closed := time.Now()
	if took := closed.Sub(begin); took > 5*time.Second {
		t.Fatalf("Close took %v", took)
	}
	gh.ResetCounts()
	if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("check after Close = %d %s, want 503", rec.Code, rec.Body)
	}
	time.Sleep(200 * time.Millisecond)
	if n := gh.APICalls(); n != 0 {
		t.Errorf("%d GitHub calls after Close", n)
	}
	for _, l := range lines.after(closed) {
		t.Errorf("logged after Close returned: %s", l)
	}
}

// lineLog is a slog.Handler that keeps each record's message and time.
type lineLog struct {
	mu    sync.Mutex
	lines []slog.Record
}

func (l *lineLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lineLog) WithGroup(string) slog.Handler            { return l }
func (l *lineLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Clone())
	return nil
}

// after lists the messages of records made after t, but for access lines.
func (l *lineLog) after(t time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.lines {
		if r.Time.After(t) && r.Message != "request" {
			out = append(out, r.Message)
		}
	}
	return out
}

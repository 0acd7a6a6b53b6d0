package proxy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

func TestConcurrentColdChecksAskGitHubOnce(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	e := newSeededEnv(t, func(c *proxy.Config) { c.MaxStale = time.Hour })
	gh := e.gh
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
	proxy.Settle(e.srv)
	if !strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_refresh_errors_total 1") {
		t.Fatal("the background refresh did not fail")
	}
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
	t.Parallel()
	for name, fault := range map[string]githubsrctest.Fault{
		"failing": {Match: "/releases", Status: http.StatusBadGateway, Times: 1000},
		"hanging": {Match: "/releases", Delay: 20 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
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
	t.Parallel()
	e := newSeededEnv(t)
	gh := e.gh
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Fatalf("first check answered %s", v)
	}
	// Someone else spends the token's budget, until an hour from now.
	reset := e.clock.Now().Add(time.Hour)
	gh.SetRateLimit(0, reset, http.StatusTooManyRequests)
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0") // stale: starts a refresh, which GitHub refuses
	proxy.Settle(e.srv)
	if n := gh.Count(listRoute); n != 2 {
		t.Fatalf("%d list calls, want the refused one (2)", n)
	}
	// Even once GitHub would answer again, nothing asks it before the reset.
	gh.SetRateLimit(100, reset.Add(time.Hour), http.StatusForbidden)
	for range 5 {
		e.clock.Advance(2 * time.Minute)
		if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
			t.Fatalf("check while rate limited answered %s", v)
		}
	}
	proxy.Settle(e.srv)
	if n := gh.Count(listRoute); n != 2 {
		t.Errorf("%d list calls in all, want none after the refusal (2)", n)
	}

	// After the reset GitHub is asked again.
	e.clock.Advance(time.Hour)
	e.get("GET", "/windows/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if n := gh.Count(listRoute); n != 3 {
		t.Errorf("%d list calls, want a refresh after the reset (3)", n)
	}
}

// TestRateLimitedAnswersSayWhenToRetry: while GitHub's rate limit blocks
// the first read, 503s carry Retry-After counted down to the reset, and
// cost no upstream call.
func TestRateLimitedAnswersSayWhenToRetry(t *testing.T) {
	t.Parallel()
	e := newSeededEnv(t)
	gh := e.gh
	gh.SetRateLimit(0, e.clock.Now().Add(90*time.Second), http.StatusForbidden)
	for _, want := range []string{"90", "60", "30"} {
		rec := e.get("GET", "/windows/x86_64/1.0.0")
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != want {
			t.Errorf("check while rate limited = %d %s, Retry-After %q; want 503 with Retry-After %s", rec.Code, rec.Body, rec.Header().Get("Retry-After"), want)
		}
		e.clock.Advance(30 * time.Second)
	}
	if n := gh.Count(listRoute); n != 1 {
		t.Errorf("%d list calls, want 1: none while blocked", n)
	}
}

// TestMaxCachedAppsEvicts: past --max-cached-apps the least recently used
// app's snapshot is dropped, but not what makes its return cheap: within
// the TTL its next request rebuilds the snapshot from the listing and
// .sig texts it kept, asking GitHub nothing; after the TTL it costs a
// conditional read, a 304, not a full listing; and its answers are those
// of a full read.
func TestMaxCachedAppsEvicts(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.MaxCachedApps = 1
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	for i, step := range []struct {
		path, version      string
		advance            time.Duration
		lists, full, sigs  int
		evictions, rebuilt string
	}{
		{"/demo/windows/x86_64/1.0.0", "1.2.0", 0, 1, 1, 8, "0", "0"},
		{"/demo/windows/x86_64/1.0.0", "1.2.0", 0, 1, 1, 8, "0", "0"},                 // cached
		{"/other/windows/x86_64/1.0.0", "2.0.0", 0, 2, 2, 12, "1", "0"},               // evicts demo
		{"/demo/windows/x86_64/1.0.0", "1.2.0", 0, 2, 2, 12, "2", "1"},                // back, fresh: nothing asked
		{"/demo/windows/x86_64/1.0.0", "1.2.0", 0, 2, 2, 12, "2", "1"},                // cached again
		{"/other/windows/x86_64/1.0.0", "2.0.0", 2 * time.Minute, 3, 2, 12, "3", "2"}, // back after the TTL: a 304
		{"/other/linux/x86_64/1.0.0", "2.0.0", 0, 3, 2, 12, "3", "2"},
	} {
		e.clock.Advance(step.advance)
		if v := versionOf(t, e.get("GET", step.path)); v != step.version {
			t.Errorf("step %d: %s answered %s, want %s", i, step.path, v, step.version)
		}
		lists, full := gh.Count(listRoute), gh.Count(listRoute)-gh.Count("304")
		sigs := gh.Count("GET /{owner}/{repo}/releases/download/{tag}/{name}")
		if lists != step.lists || full != step.full || sigs != step.sigs {
			t.Errorf("step %d: after %s, %d list calls (%d full) and %d .sig reads, want %d (%d full) and %d",
				i, step.path, lists, full, sigs, step.lists, step.full, step.sigs)
		}
		if ev, re := metric(e, "otapub_cache_evictions_total"), metric(e, "otapub_cache_rebuilds_total"); ev != step.evictions || re != step.rebuilt {
			t.Errorf("step %d: %s evictions and %s rebuilds, want %s and %s", i, ev, re, step.evictions, step.rebuilt)
		}
	}
}

// metric returns the value of a metric without labels, as /metrics says it.
func metric(e *env, name string) string {
	for _, line := range strings.Split(e.get("GET", "/metrics").Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestHotAppIsNotEvicted: the app requests keep using stays cached while
// apps nobody asks for again take turns: eviction goes by use, not by when
// an app was last read from GitHub.
func TestHotAppIsNotEvicted(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	var apps []proxy.AppConfig
	for _, slug := range []string{"hot", "cold-1", "cold-2", "cold-3", "cold-4"} {
		apps = append(apps, proxy.AppConfig{Slug: slug, Repo: repo})
	}
	e := newEnv(t, gh, func(c *proxy.Config) { c.MaxCachedApps = 2; c.Apps = apps })
	hot := func() {
		t.Helper()
		rec := e.get("GET", "/hot/windows/x86_64/1.0.0")
		if v := versionOf(t, rec); v != "1.2.0" {
			t.Fatalf("hot answered %s", v)
		}
	}
	hot() // read first: the LRU's oldest from here on
	for i, slug := range []string{"cold-1", "cold-2", "cold-3", "cold-4"} {
		e.clock.Advance(2 * time.Second) // requests note their use to the second
		hot()
		before := gh.Count(listRoute)
		e.clock.Advance(2 * time.Second)
		if v := versionOf(t, e.get("GET", "/"+slug+"/windows/x86_64/1.0.0")); v != "1.2.0" {
			t.Errorf("%s answered %s", slug, v)
		}
		if n := gh.Count(listRoute) - before; n != 1 {
			t.Fatalf("%s: %d list calls, want 1", slug, n)
		}
		if ev := metric(e, "otapub_cache_evictions_total"); ev != fmt.Sprint(i) {
			t.Errorf("after %s: %s evictions, want %d: each cold app evicts the one before it", slug, ev, i)
		}
		hot()
		if n := metric(e, "otapub_cache_rebuilds_total"); n != "0" {
			t.Fatalf("after %s: the hot app was evicted (%s rebuilds)", slug, n)
		}
	}
}

func TestConditionalRefresh(t *testing.T) {
	t.Parallel()
	e := newSeededEnv(t)
	gh := e.gh
	e.get("GET", "/windows/x86_64/1.0.0")
	sigReads := gh.Count("GET /{owner}/{repo}/releases/download/{tag}/{name}")
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if n := gh.Count("304"); n != 1 {
		t.Fatalf("%d conditional refreshes answered 304, want 1", n)
	}
	if n := gh.Count("GET /{owner}/{repo}/releases/download/{tag}/{name}"); n != sigReads {
		t.Errorf("an unchanged listing re-read %d signatures", n-sigReads)
	}
	if !strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_upstream_not_modified_total 1") {
		t.Error("304 not counted")
	}
}

func TestStaleWhileRevalidateDoesNotWait(t *testing.T) {
	t.Parallel()
	e := newSeededEnv(t)
	gh := e.gh
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
	t.Parallel()
	e := newSeededEnv(t)
	gh := e.gh
	e.get("GET", "/windows/x86_64/1.0.0")
	// A new release whose signatures cannot be read right now.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Assets: fixture(t, "tauri-v1/v1.1.0")})
	gh.Inject(githubsrctest.Fault{Match: "/releases/download/v1.3.0/", Status: http.StatusBadGateway, Times: 1000})
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if !strings.Contains(e.get("GET", "/metrics").Body.String(), "otapub_refresh_errors_total 1") {
		t.Fatal("the refresh did not fail")
	}
	// Every platform still gets the complete old snapshot, none a partial new one.
	for _, p := range []string{"/windows/x86_64/1.0.0", "/linux/x86_64/1.0.0", "/darwin/x86_64/1.0.0"} {
		if v := versionOf(t, e.get("GET", p)); v != "1.2.0" {
			t.Errorf("%s answered %s during a failed refresh, want 1.2.0", p, v)
		}
	}
}

func TestRepositoryNotFound(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	const secret = "webhook-secret"
	e := newSeededEnv(t, func(c *proxy.Config) { c.WebhookSecret = secret; c.CacheTTL = time.Hour })
	gh := e.gh
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
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.Inject(githubsrctest.Fault{Match: "/releases", Delay: 20 * time.Second})
	var lines lineLog
	e := newEnvTB(t, gh, slog.New(&lines))
	e.srv.Warm()
	for deadline := time.Now().Add(10 * time.Second); gh.Count(listRoute) == 0; { // the fake holds it
		if time.Now().After(deadline) {
			t.Fatal("the warm-up refresh never asked GitHub")
		}
		time.Sleep(time.Millisecond)
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
	proxy.Settle(e.srv)
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

// debugWhy lists the "why" of every debug record: what a refresh
// withheld and why.
func (l *lineLog) debugWhy() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var why []string
	for _, r := range l.lines {
		r.Attrs(func(a slog.Attr) bool {
			if r.Level == slog.LevelDebug && a.Key == "why" {
				why = append(why, a.Value.String())
			}
			return true
		})
	}
	return why
}

// count says how many records' messages contain sub.
func (l *lineLog) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.lines {
		if strings.Contains(r.Message, sub) {
			n++
		}
	}
	return n
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

// TestWebhookLiftsTheBackoff: after a failed refresh the app waits out a
// backoff before asking GitHub again, but a release event ends the wait:
// it refreshes at once.
func TestWebhookLiftsTheBackoff(t *testing.T) {
	t.Parallel()
	const secret = "webhook-secret"
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.Inject(githubsrctest.Fault{Match: "/releases", Status: http.StatusBadGateway, Times: 3}) // one refresh and its retries
	e := newEnv(t, gh, func(c *proxy.Config) { c.WebhookSecret = secret })
	if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("check while GitHub fails = %d, want 503", rec.Code)
	}
	if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("check during the backoff = %d, want 503 without asking GitHub", rec.Code)
	}
	body := []byte(`{"action":"published","release":{"tag_name":"v1.2.0"},"repository":{"full_name":"demo-org/demo-app"}}`)
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "release")
	req.Header.Set("X-Hub-Signature-256", signWebhook(secret, body))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("release event during the backoff = %d %s, want 204 after a refresh", rec.Code, rec.Body)
	}
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.0" {
		t.Errorf("after the webhook: %s, want 1.2.0", v)
	}
}

// TestFailedListingKeepsItsPages: a listing that fails on its last page
// (GitHub timing out there, after retries) keeps the pages it read: the
// next attempt, after the backoff, asks for them conditionally (304s) and
// reads only the page that failed in full.
func TestFailedListingKeepsItsPages(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	v1 := fixture(t, "tauri-v1/v1.1.0")
	assets := map[string][]byte{"DemoApp_1.1.0_x64-setup.nsis.zip": v1["DemoApp_1.1.0_x64-setup.nsis.zip"], "DemoApp_1.1.0_x64-setup.nsis.zip.sig": v1["DemoApp_1.1.0_x64-setup.nsis.zip.sig"]}
	for i := range 250 { // three pages of 100
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: fmt.Sprintf("v1.%d.%d", i/100, i%100), Assets: assets})
	}
	gh.Inject(githubsrctest.Fault{Match: "page=3", Status: http.StatusGatewayTimeout, Times: 3}) // every retry of the refresh
	e := newEnv(t, gh)
	if rec := e.get("GET", "/windows/x86_64/1.0.0"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("check while the listing fails = %d %s, want 503", rec.Code, rec.Body)
	}
	if n := gh.Count(listRoute); n != 5 {
		t.Fatalf("%d list requests, want 5: pages 1 and 2, and page 3 three times", n)
	}
	gh.ResetCounts()
	e.clock.Advance(10 * time.Second) // past the backoff
	if v := versionOf(t, e.get("GET", "/windows/x86_64/1.0.0")); v != "1.2.49" {
		t.Errorf("answered %s, want 1.2.49", v)
	}
	if lists, notModified := gh.Count(listRoute), gh.Count("304"); lists != 3 || notModified != 2 {
		t.Errorf("the retry sent %d list requests, %d answered 304; want 3, 2: pages 1 and 2 were read already", lists, notModified)
	}
	// The next refresh is conditional on the whole listing: three 304s.
	gh.ResetCounts()
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/windows/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if lists, notModified := gh.Count(listRoute), gh.Count("304"); lists != 3 || notModified != 3 {
		t.Errorf("the refresh after sent %d list requests, %d answered 304; want 3, 3", lists, notModified)
	}
}

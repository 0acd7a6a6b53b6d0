package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/proxy"
)

// rolloutLine is the notes line `otapub rollout` writes.
func rolloutLine(t testing.TB, percent string, halted bool) string {
	t.Helper()
	share, err := rollout.ParsePercent(percent)
	check(t, err)
	return rollout.Join("", rollout.State{Set: true, Share: share, Halted: halted})
}

// setNotes edits a release's notes through the fake's API, as `otapub
// rollout` does.
func setNotes(t testing.TB, gh *githubsrctest.Server, id int64, notes string) {
	t.Helper()
	c, err := githubsrc.New(githubsrc.Options{APIURL: gh.APIURL, Token: githubsrctest.Token})
	check(t, err)
	r, _ := githubsrc.ParseRepo(repo)
	_, err = c.EditRelease(t.Context(), r, id, githubsrc.ReleaseEdit{Notes: &notes})
	check(t, err)
}

// getAs sends GET path as device id (none when empty).
func (e *env) getAs(path, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if id != "" {
		req.Header.Set("X-Device-Id", id)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// checkAs sends a check as device id and returns the status and the
// version offered ("" for 204).
func (e *env) checkAs(t testing.TB, path, id string) (int, string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := e.getAs(path, id)
	var a answer
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v: %s", path, err, rec.Body)
		}
	}
	return rec.Code, a.Version, rec
}

// rolloutRepo publishes v1.0.0 and v1.1.0 to everyone and v1.2.0 with
// notes (a rollout line among them), all signed payloads of every
// platform, and returns v1.2.0's ID.
func rolloutRepo(t testing.TB, gh *githubsrctest.Server, notes string) int64 {
	v1 := fixture(t, "tauri-v1/v1.1.0") // signatures not bound to a version
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Notes: "one", PublishedAt: day, Assets: v1})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Notes: "one one", PublishedAt: day.Add(24 * time.Hour), Assets: v1})
	return gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: notes, PublishedAt: day.Add(48 * time.Hour), Assets: v1})
}

func deviceIDs(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
	return ids
}

// TestRolloutOffersTheReleaseToItsShareOnly: inside the rollout a device
// gets the new release; outside, the newest one every device gets (an
// update when it is behind it, else 204); the notes never show the line;
// the answer is not for shared caches.
func TestRolloutOffersTheReleaseToItsShareOnly(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	rolloutRepo(t, gh, "Fixes the crash.\n\n"+rolloutLine(t, "10", false))
	e := newEnv(t, gh)
	in, out := 0, 0
	for _, id := range deviceIDs(400, 1) {
		want := "1.1.0"
		if rollout.Bucket(repo, "v1.2.0", id) < 100_000 {
			want, in = "1.2.0", in+1
		} else {
			out++
		}
		code, v, rec := e.checkAs(t, "/linux/x86_64/1.0.0", id)
		if code != 200 || v != want {
			t.Fatalf("device %s on 1.0.0: %d %q, want %s", id, code, v, want)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("Cache-Control %q: a per-device answer must be private", cc)
		}
		if strings.Contains(rec.Body.String(), "otapub:rollout") {
			t.Fatalf("the rollout line reached an app: %s", rec.Body)
		}
		// Already on the release every device gets: up to date unless inside.
		code, v, _ = e.checkAs(t, "/linux/x86_64/1.1.0", id)
		if want == "1.1.0" && code != 204 || want == "1.2.0" && v != "1.2.0" {
			t.Fatalf("device %s on 1.1.0: %d %q", id, code, v)
		}
	}
	if in == 0 || out == 0 {
		t.Fatalf("400 devices: %d inside and %d outside a 10%% rollout", in, out)
	}
	var a answer
	_, _, rec := e.checkAs(t, "/linux/x86_64/1.0.0", insideID(t, "v1.2.0", 100_000))
	check(t, json.Unmarshal(rec.Body.Bytes(), &a))
	if a.Notes != "Fixes the crash." {
		t.Errorf("notes = %q, want them without the rollout line", a.Notes)
	}
}

// insideID returns a device ID whose bucket for tag is below share.
func insideID(t testing.TB, tag string, share uint32) string {
	for _, id := range deviceIDs(10_000, 7) {
		if rollout.Bucket(repo, tag, id) < share {
			return id
		}
	}
	t.Fatal("no device inside")
	return ""
}

// outsideID returns a device ID whose bucket for tag is at or above share.
func outsideID(t testing.TB, tag string, share uint32) string {
	for _, id := range deviceIDs(10_000, 8) {
		if rollout.Bucket(repo, tag, id) >= share {
			return id
		}
	}
	t.Fatal("no device outside")
	return ""
}

// TestRolloutProperties: stickiness across snapshots and servers, monotone
// widening, halting, and the simulation's share.
func TestRolloutProperties(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	id := rolloutRepo(t, gh, rolloutLine(t, "10", false))
	const webhookSecret = "s"
	e := newEnv(t, gh, func(c *proxy.Config) { c.WebhookSecret = webhookSecret; c.CacheTTL = time.Hour })
	replica := newEnv(t, gh) // a second server over the same GitHub
	ids := deviceIDs(10_000, 2)
	// offered asks as every device, with one request and one writer (60,000
	// checks in all), and reads the version from the answer's bytes.
	offered := func(e *env) map[string]bool {
		got := map[string]bool{}
		req := httptest.NewRequest("GET", "/windows/x86_64/1.0.0", nil)
		w := &bodyWriter{h: http.Header{}}
		for _, d := range ids {
			req.Header.Set("X-Device-Id", d)
			clear(w.h)
			w.body = w.body[:0]
			e.h.ServeHTTP(w, req)
			if bytes.Contains(w.body, []byte(`"version":"1.2.0"`)) {
				got[d] = true
			}
		}
		return got
	}
	at10 := offered(e)
	// 10,000 devices at 10%: 1,000 ± 3σ, σ = √(n·p·(1−p)) = 30.
	if n, sigma := float64(len(at10)), math.Sqrt(10_000*0.1*0.9); math.Abs(n-1000) > 3*sigma {
		t.Errorf("10%% of 10,000 devices: %v offered, want 1000 ± %.0f", n, 3*sigma)
	}
	if !sameSet(at10, offered(replica)) {
		t.Error("two servers over one GitHub disagree about which devices get the release")
	}
	e.clock.Advance(2 * time.Hour) // a new snapshot: the same answers
	e.get("GET", "/windows/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if !sameSet(at10, offered(e)) {
		t.Error("a new snapshot changed which devices get the release")
	}

	webhook := func() {
		body := []byte(`{"action":"edited","release":{"tag_name":"v1.2.0"},"repository":{"full_name":"demo-org/demo-app"}}`)
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "release")
		req.Header.Set("X-Hub-Signature-256", signWebhook(webhookSecret, body))
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 204 {
			t.Fatalf("webhook = %d %s", rec.Code, rec.Body)
		}
	}
	setNotes(t, gh, id, rolloutLine(t, "30", false))
	webhook() // an edited release applies at once, whatever the TTL
	at30 := offered(e)
	for d := range at10 {
		if !at30[d] {
			t.Fatalf("widening 10%% → 30%% dropped device %s", d)
		}
	}
	if n := len(at30); n < 2700 || n > 3300 {
		t.Errorf("30%% of 10,000 devices: %d offered", n)
	}

	setNotes(t, gh, id, rolloutLine(t, "30", true))
	webhook()
	if got := offered(e); len(got) != 0 {
		t.Errorf("halted: %d devices offered the release, want none", len(got))
	}
	for _, d := range ids[:50] {
		if code, _, _ := e.checkAs(t, "/windows/x86_64/1.2.0", d); code != 204 {
			t.Fatalf("halted: device %s already on it got %d, want 204", d, code)
		}
		if _, v, _ := e.checkAs(t, "/windows/x86_64/1.0.0", d); v != "1.1.0" {
			t.Fatalf("halted: device %s on 1.0.0 got %q, want the release before it", d, v)
		}
	}

	setNotes(t, gh, id, "")
	webhook()
	if got := offered(e); len(got) != len(ids) {
		t.Errorf("no rollout line: %d of %d devices offered", len(got), len(ids))
	}
	if _, _, rec := e.checkAs(t, "/windows/x86_64/1.0.0", ids[0]); !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public") {
		t.Errorf("without a rollout the answer is the same for all: Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestRolloutFallsBackPerPlatform: a device outside the rollout gets the
// newest release every device gets for its own platform, which may be an
// older one than another platform's.
func TestRolloutFallsBackPerPlatform(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	v1 := fixture(t, "tauri-v1/v1.1.0")
	linux := map[string][]byte{}
	for name, b := range v1 {
		if strings.Contains(name, "AppImage") {
			linux[name] = b
		}
	}
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: v1})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: linux})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "25", false), Assets: v1})
	e := newEnv(t, gh)
	out := outsideID(t, "v1.2.0", 250_000)
	for path, want := range map[string]string{
		"/linux/x86_64/0.9.0":   "1.1.0",
		"/windows/x86_64/0.9.0": "1.0.0",
		"/darwin/x86_64/0.9.0":  "1.0.0",
	} {
		if _, v, _ := e.checkAs(t, path, out); v != want {
			t.Errorf("outside the rollout, %s got %q, want %s", path, v, want)
		}
		if _, v, _ := e.checkAs(t, path, insideID(t, "v1.2.0", 250_000)); v != "1.2.0" {
			t.Errorf("inside the rollout, %s got %q, want 1.2.0", path, v)
		}
	}
	// Nothing older at all: outside gets nothing.
	only := githubsrctest.NewServer(t)
	only.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "25", false), Assets: v1})
	e = newEnv(t, only)
	if code, _, _ := e.checkAs(t, "/linux/x86_64/0.9.0", out); code != 204 {
		t.Errorf("outside the rollout with no older release: %d, want 204", code)
	}
}

// TestRolloutLatestJSON: the static manifest is chosen per device too.
func TestRolloutLatestJSON(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	rolloutRepo(t, gh, "Fixes.\n"+rolloutLine(t, "10", false))
	e := newEnv(t, gh)
	version := func(id string) string {
		req := httptest.NewRequest("GET", "/latest.json", nil)
		req.Header.Set("X-Device-Id", id)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		var m struct{ Version, Notes string }
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			t.Fatalf("latest.json = %d %s", rec.Code, rec.Body)
		}
		if strings.Contains(m.Notes, "otapub") || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "private") {
			t.Errorf("latest.json notes %q, Cache-Control %q", m.Notes, rec.Header().Get("Cache-Control"))
		}
		return m.Version
	}
	if v := version(insideID(t, "v1.2.0", 100_000)); v != "1.2.0" {
		t.Errorf("inside: latest.json says %s", v)
	}
	if v := version(outsideID(t, "v1.2.0", 100_000)); v != "1.1.0" {
		t.Errorf("outside: latest.json says %s, want 1.1.0", v)
	}
}

// TestRolloutDeviceIdentity: the header names the device; without it the
// client's address, read from proxy headers only when trusted.
func TestRolloutDeviceIdentity(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	rolloutRepo(t, gh, rolloutLine(t, "50", false))
	// Two addresses on either side of the rollout.
	var inIP, outIP string
	for i := 1; inIP == "" || outIP == ""; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i)
		if rollout.Bucket(repo, "v1.2.0", ip) < 500_000 {
			inIP = cmpOr(inIP, ip)
		} else {
			outIP = cmpOr(outIP, ip)
		}
	}
	get := func(e *env, h http.Header, remote string) string {
		req := httptest.NewRequest("GET", "/linux/x86_64/1.0.0", nil)
		req.Header = h
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return versionOf(t, rec)
	}
	plain := newEnv(t, gh)
	if v := get(plain, http.Header{}, inIP+":5555"); v != "1.2.0" {
		t.Errorf("address inside: %s", v)
	}
	if v := get(plain, http.Header{}, outIP+":5555"); v != "1.1.0" {
		t.Errorf("address outside: %s", v)
	}
	if v := get(plain, http.Header{"X-Forwarded-For": {inIP}}, outIP+":5555"); v != "1.1.0" {
		t.Errorf("X-Forwarded-For read without --trust-proxy-headers: %s", v)
	}
	trusting := newEnv(t, gh, func(c *proxy.Config) { c.TrustProxyHeaders = true; c.DeviceHeader = "x-installation" })
	for name, h := range map[string]http.Header{
		"X-Forwarded-For":   {"X-Forwarded-For": {inIP + ", 10.0.0.1"}},
		"Forwarded":         {"Forwarded": {`for="` + inIP + `:4711";proto=https, for=10.0.0.1`}},
		"configured header": {"X-Installation": {insideID(t, "v1.2.0", 500_000)}, "X-Forwarded-For": {outIP}},
	} {
		if v := get(trusting, h, outIP+":5555"); v != "1.2.0" {
			t.Errorf("%s: %s, want the device it names inside", name, v)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestRolloutCheckDoesNotAllocate: a check during a rollout stays on the
// allocation-free path.
func TestRolloutCheckDoesNotAllocate(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	rolloutRepo(t, gh, rolloutLine(t, "10", false))
	e := newEnv(t, gh)
	for _, id := range []string{insideID(t, "v1.2.0", 100_000), outsideID(t, "v1.2.0", 100_000)} {
		req := httptest.NewRequest("GET", "/windows/x86_64/1.0.0", nil)
		req.Header.Set("X-Device-Id", id)
		w := &discardWriter{h: http.Header{}}
		e.h.ServeHTTP(w, req)
		if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("check during a rollout: %v allocations, want 0", n)
		}
	}
}

// TestAdoptionMetrics: checks by outcome, the versions clients run (others
// as "other"), offers, downloads and rollout gauges reach /metrics with
// bounded labels.
func TestAdoptionMetrics(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	id := rolloutRepo(t, gh, rolloutLine(t, "10", false))
	e := newEnv(t, gh)
	in, out := insideID(t, "v1.2.0", 100_000), outsideID(t, "v1.2.0", 100_000)
	e.checkAs(t, "/linux/x86_64/1.0.0", in)   // offered 1.2.0
	e.checkAs(t, "/linux/x86_64/1.0.0", out)  // held back; offered 1.1.0
	e.checkAs(t, "/linux/x86_64/1.2.0", out)  // up to date
	e.checkAs(t, "/linux/x86_64/0.0.1", out)  // a version no release has
	e.checkAs(t, "/linux/x86_64/banana", out) // bad request
	e.checkAs(t, "/plan9/x86_64/1.0.0", out)  // bad request
	// Platforms read only in part, each its own way: one "invalid" series
	// (two of one name and labels would fail every scrape).
	for _, p := range []string{"/linux/bogus/1.0.0", "/darwin/bogus/1.0.0", "/linux/universal/1.0.0", "/windows/x86_64/deb/1.0.0"} {
		e.checkAs(t, p, out)
	}
	e.get("GET", "/download/v1.1.0/DemoApp_1.1.0_amd64.AppImage.tar.gz")
	e.get("GET", "/download/v1.1.0/DemoApp_1.1.0_amd64.AppImage.tar.gz")
	e.get("GET", "/download/v1.1.0/nothing-here")
	for name, want := range map[string]string{
		`otapub_checks_total{app="demo-org/demo-app",channel="stable",outcome="offered",platform="linux-x86_64"}`:     "1",
		`otapub_checks_total{app="demo-org/demo-app",channel="stable",outcome="held_back",platform="linux-x86_64"}`:   "2",
		`otapub_checks_total{app="demo-org/demo-app",channel="stable",outcome="up_to_date",platform="linux-x86_64"}`:  "1",
		`otapub_checks_total{app="demo-org/demo-app",channel="stable",outcome="bad_request",platform="invalid"}`:      "5",
		`otapub_checks_total{app="demo-org/demo-app",channel="stable",outcome="bad_request",platform="linux-x86_64"}`: "1",
		`otapub_client_versions_total{app="demo-org/demo-app",version="1.0.0"}`:                                       "2",
		`otapub_client_versions_total{app="demo-org/demo-app",version="1.2.0"}`:                                       "1",
		`otapub_client_versions_total{app="demo-org/demo-app",version="other"}`:                                       "1",
		`otapub_offers_total{app="demo-org/demo-app",platform="linux-x86_64",version="1.2.0"}`:                        "1",
		`otapub_offers_total{app="demo-org/demo-app",platform="linux-x86_64",version="1.1.0"}`:                        "2",
		`otapub_downloads_total{app="demo-org/demo-app",platform="linux-x86_64-appimage",version="1.1.0"}`:            "2",
		`otapub_rollout_percent{app="demo-org/demo-app",tag="v1.2.0"}`:                                                "10",
		`otapub_rollout_halted{app="demo-org/demo-app",tag="v1.2.0"}`:                                                 "0",
	} {
		if got := metric(e, name); got != want {
			t.Errorf("%s = %q, want %s", name, got, want)
		}
	}
	if rec := e.get("GET", "/metrics"); rec.Code != 200 {
		t.Fatalf("/metrics = %d:\n%.600s", rec.Code, rec.Body)
	}
	setNotes(t, gh, id, "")
	e.clock.Advance(2 * time.Minute)
	e.get("GET", "/linux/x86_64/1.0.0")
	proxy.Settle(e.srv)
	if got := metric(e, `otapub_rollout_percent{app="demo-org/demo-app",tag="v1.2.0"}`); got != "100" {
		t.Errorf("after the rollout line is gone: percent %q, want 100", got)
	}
}

// TestRolloutElectronChannelFiles: a channel file in a rollout carries
// stagingPercentage (electron-updater buckets itself); a request naming
// its device is bucketed here, outside getting the older release's file;
// a halted release's file is served by nobody.
func TestRolloutElectronChannelFiles(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: electronRelease("1.1.0", "latest.yml")})
	id := gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "12.5", false), PublishedAt: day(2), Assets: electronRelease("1.2.0", "latest.yml")})
	e := newEnv(t, gh, func(c *proxy.Config) { c.CacheTTL = time.Hour })
	get := func(device string) (githubsrc.ChannelFile, *httptest.ResponseRecorder) {
		t.Helper()
		req := httptest.NewRequest("GET", "/electron/latest.yml?noCache=1x", nil)
		if device != "" {
			req.Header.Set("X-Device-Id", device)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("latest.yml = %d %s", rec.Code, rec.Body)
		}
		f, err := githubsrc.ParseChannelFile(rec.Body.Bytes())
		check(t, err)
		return f, rec
	}
	f, rec := get("")
	if f.Version != "1.2.0" || !strings.Contains(rec.Body.String(), "stagingPercentage: 12\n") {
		t.Errorf("without a device: %s\n%s", f.Version, rec.Body)
	}
	f, rec = get(insideID(t, "v1.2.0", 125_000))
	if f.Version != "1.2.0" || strings.Contains(rec.Body.String(), "stagingPercentage") || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "private") {
		t.Errorf("a device inside: %s %q\n%s", f.Version, rec.Header().Get("Cache-Control"), rec.Body)
	}
	if f, _ = get(outsideID(t, "v1.2.0", 125_000)); f.Version != "1.1.0" {
		t.Errorf("a device outside: %s, want 1.1.0", f.Version)
	}
	if r := e.get("GET", "/electron/App-1.1.0-latest.bin"); r.Code != http.StatusFound {
		t.Errorf("the older file devices outside are sent to = %d, want 302", r.Code)
	}

	setNotes(t, gh, id, rolloutLine(t, "12.5", true))
	e.clock.Advance(2 * time.Hour)
	e.get("GET", "/electron/latest.yml")
	proxy.Settle(e.srv)
	for _, d := range []string{"", insideID(t, "v1.2.0", 125_000)} {
		if f, rec := get(d); f.Version != "1.1.0" || strings.Contains(rec.Body.String(), "stagingPercentage") {
			t.Errorf("halted, device %q: %s\n%s", d, f.Version, rec.Body)
		}
	}
}

// TestRolloutHotSwapBundles: a bundle in a rollout goes to its share of
// devices; the others get the highest bundle below it that takes them in.
func TestRolloutHotSwapBundles(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	five := otaBundle{tag: "ota-5", published: day(2), meta: ota.Metadata{Sequence: 5, MinBinaryVersion: "1.0.0"}}
	six := otaBundle{tag: "ota-6", published: day(3), meta: ota.Metadata{Sequence: 6, MinBinaryVersion: "1.0.0"}}
	five.seed(gh)
	id := gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: six.tag, Notes: "New look.\n" + rolloutLine(t, "20", false), PublishedAt: six.published, Assets: six.files()})
	e := newEnv(t, gh, func(c *proxy.Config) { c.CacheTTL = time.Hour })
	sequence := func(current int, device string) (int, string) {
		t.Helper()
		req := httptest.NewRequest("GET", fmt.Sprintf("/ota/%d?binary_version=1.2.0&platform=macos&arch=aarch64", current), nil)
		req.Header.Set("X-Device-Id", device)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code == 204 {
			return 0, ""
		}
		var a struct {
			Sequence int
			Notes    string
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &a) != nil {
			t.Fatalf("/ota/%d = %d %s", current, rec.Code, rec.Body)
		}
		return a.Sequence, a.Notes
	}
	in, out := insideID(t, "ota-6", 200_000), outsideID(t, "ota-6", 200_000)
	if n, notes := sequence(4, in); n != 6 || notes != "New look." {
		t.Errorf("inside: bundle %d, notes %q", n, notes)
	}
	if n, _ := sequence(4, out); n != 5 {
		t.Errorf("outside, on 4: bundle %d, want 5", n)
	}
	if n, _ := sequence(5, out); n != 0 {
		t.Errorf("outside, on 5: bundle %d, want none", n)
	}
	setNotes(t, gh, id, rolloutLine(t, "20", true))
	e.clock.Advance(2 * time.Hour)
	e.get("GET", "/ota/4?binary_version=1.2.0&platform=macos&arch=aarch64")
	proxy.Settle(e.srv)
	if n, _ := sequence(4, in); n != 5 {
		t.Errorf("halted, inside: bundle %d, want 5", n)
	}
}

// BenchmarkCheckDuringRollout is BenchmarkCheck's path while the newest
// release is in a rollout: a device header, a bucket per check.
func BenchmarkCheckDuringRollout(b *testing.B) {
	gh := githubsrctest.NewServer(b)
	rolloutRepo(b, gh, rolloutLine(b, "10", false))
	e := newEnvTB(b, gh, slog.New(slog.DiscardHandler))
	path := "/windows/x86_64/1.0.0"
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Device-Id", "0123456789abcdef0123456789abcdef")
	e.h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("X-Device-Id", "0123456789abcdef0123456789abcdef")
		for pb.Next() {
			clear(w.h)
			e.h.ServeHTTP(w, req)
		}
	})
}

// squirrelRollout serves v1.1.0 and v1.2.0 of electron-builder's every
// target, v1.2.0 at 30% with the notes "New.", and returns v1.2.0's ID.
func squirrelRollout(t *testing.T) (*githubsrctest.Server, int64, *env) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.1.0")})
	id := gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: "New.\n" + rolloutLine(t, "30", false), PublishedAt: day(2), Assets: squirrelFixture(t, "1.2.0")})
	return gh, id, newEnv(t, gh, func(c *proxy.Config) { c.CacheTTL = time.Hour })
}

// TestRolloutSquirrel: Squirrel.Mac (hazel's and update.electronjs.org's
// routes) and Squirrel.Windows' RELEASES follow the rollout per device;
// /download/latest/ gives a new install the release every device gets.
func TestRolloutSquirrel(t *testing.T) {
	t.Parallel()
	gh, id, e := squirrelRollout(t)
	in, out := insideID(t, "v1.2.0", 300_000), outsideID(t, "v1.2.0", 300_000)
	get := e.getAs
	for _, path := range []string{"/update/darwin_arm64/1.0.0", "/demo-org/demo-app/darwin-arm64/1.0.0"} {
		if u := macUpdate(t, get(path, in).Body.Bytes()); !strings.Contains(u.URL, "/v1.2.0/") || u.Notes != "New." {
			t.Errorf("%s inside: %+v", path, u)
		}
		rec := get(path, out)
		if u := macUpdate(t, rec.Body.Bytes()); !strings.Contains(u.URL, "/v1.1.0/") || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "private") {
			t.Errorf("%s outside: %+v, Cache-Control %q", path, u, rec.Header().Get("Cache-Control"))
		}
		if rec := get(strings.Replace(path, "1.0.0", "1.1.0", 1), out); rec.Code != 204 {
			t.Errorf("%s outside, on 1.1.0: %d, want 204", path, rec.Code)
		}
	}
	releases := func(device string) string {
		rec := get("/update/win32/1.0.0/RELEASES", device)
		if rec.Code != 200 {
			t.Fatalf("RELEASES = %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if b := releases(in); !strings.Contains(b, "DemoApp-1.2.0-full.nupkg") {
		t.Errorf("RELEASES inside:\n%s", b)
	}
	if b := releases(out); !strings.Contains(b, "DemoApp-1.1.0-full.nupkg") {
		t.Errorf("RELEASES outside:\n%s", b)
	}
	if rec := e.get("GET", "/download/latest/darwin-aarch64"); !strings.Contains(rec.Header().Get("Location"), "v1.1.0") {
		t.Errorf("a new install during the rollout: %d %s", rec.Code, rec.Header().Get("Location"))
	}

	setNotes(t, gh, id, rolloutLine(t, "30", true))
	e.clock.Advance(2 * time.Hour)
	e.get("GET", "/update/darwin_arm64/1.0.0")
	proxy.Settle(e.srv)
	if u := macUpdate(t, get("/update/darwin_arm64/1.0.0", in).Body.Bytes()); !strings.Contains(u.URL, "/v1.1.0/") {
		t.Errorf("halted, inside: %+v", u)
	}
	if rec := get("/update/darwin_arm64/1.2.0", in); rec.Code != 204 {
		t.Errorf("halted, already on it: %d, want 204", rec.Code)
	}
}

// TestRolloutSquirrelWindowsNeverGoesBack: Squirrel.Windows installs the
// newest full release RELEASES lists even when it is older than the one
// it runs (UpdateManager.CheckForUpdates.cs, determineUpdateInfo), so a
// device on a release since halted, or whose bucket moved with its
// address (Squirrel.Windows names no device), is given its own release's
// RELEASES, never an older one.
func TestRolloutSquirrelWindowsNeverGoesBack(t *testing.T) {
	t.Parallel()
	gh, id, e := squirrelRollout(t)
	in, out := insideID(t, "v1.2.0", 300_000), outsideID(t, "v1.2.0", 300_000)
	get := func(path, device string) *httptest.ResponseRecorder {
		return e.getAs(path+"?id=DemoApp&localVersion=1.2.0&arch=amd64", device)
	}
	shapes := []string{"/update/win32/%s/RELEASES", "/demo-org/demo-app/win32-x64/%s/RELEASES"}
	want := func(stage, path, device, pkg string) {
		t.Helper()
		rec := get(path, device)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), pkg) || strings.Count(rec.Body.String(), "-full.nupkg") != 1 {
			t.Errorf("%s: %s = %d\n%s\nwant only %s", stage, path, rec.Code, rec.Body, pkg)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("%s: %s: Cache-Control %q, want private (the answer is the device's)", stage, path, cc)
		}
	}
	for _, shape := range shapes {
		// On 1.2.0, its bucket now outside (a new address): its own release, not 1.1.0.
		want("rolling out", fmt.Sprintf(shape, "1.2.0"), out, "DemoApp-1.2.0-full.nupkg")
		// Behind, outside: 1.1.0; inside: 1.2.0, as before.
		want("rolling out", fmt.Sprintf(shape, "1.0.0"), out, "DemoApp-1.1.0-full.nupkg")
		want("rolling out", fmt.Sprintf(shape, "1.0.0"), in, "DemoApp-1.2.0-full.nupkg")
	}

	setNotes(t, gh, id, "New.\n"+rolloutLine(t, "30", true))
	e.clock.Advance(2 * time.Hour)
	e.get("GET", "/update/win32/1.0.0/RELEASES")
	proxy.Settle(e.srv)
	for _, shape := range shapes {
		// Halted: a device already on it stays; one behind gets 1.1.0.
		want("halted", fmt.Sprintf(shape, "1.2.0"), in, "DemoApp-1.2.0-full.nupkg")
		want("halted", fmt.Sprintf(shape, "1.0.0"), in, "DemoApp-1.1.0-full.nupkg")
	}

	// A version newer than every release (a developer's build): nothing
	// older is served; hazel's shape answers 204, update.electronjs.org's 404.
	if rec := get("/update/win32/9.0.0/RELEASES", in); rec.Code != 204 {
		t.Errorf("on 9.0.0, hazel's shape: %d %s, want 204", rec.Code, rec.Body)
	}
	if rec := get("/demo-org/demo-app/win32-x64/9.0.0/RELEASES", in); rec.Code != 404 || !strings.Contains(rec.Body.String(), "older than the 9.0.0 it runs") {
		t.Errorf("on 9.0.0, update.electronjs.org's shape: %d %s, want 404 naming why", rec.Code, rec.Body)
	}
}

// TestRolloutSquirrelDoesNotAllocate: a Squirrel.Mac check during a
// rollout stays allocation-free.
func TestRolloutSquirrelDoesNotAllocate(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: day(1), Assets: squirrelFixture(t, "1.1.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rolloutLine(t, "30", false), PublishedAt: day(2), Assets: squirrelFixture(t, "1.2.0")})
	e := newEnv(t, gh)
	for _, path := range []string{"/update/darwin_arm64/1.0.0", "/demo-org/demo-app/darwin-arm64/1.0.0"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("X-Device-Id", "device-1")
		w := &discardWriter{h: http.Header{}}
		e.h.ServeHTTP(w, req)
		if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s during a rollout: %v allocations, want 0", path, n)
		}
	}
}

// bodyWriter keeps the body of one answer at a time.
type bodyWriter struct {
	h    http.Header
	body []byte
}

func (w *bodyWriter) Header() http.Header         { return w.h }
func (w *bodyWriter) Write(b []byte) (int, error) { w.body = append(w.body, b...); return len(b), nil }
func (w *bodyWriter) WriteHeader(int)             {}

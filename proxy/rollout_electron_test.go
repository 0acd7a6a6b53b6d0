package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/proxy"
)

// electronAs fetches channel file name as device id ("" for a request
// that does not name its device) and reads it.
func (e *env) electronAs(t *testing.T, name, id string) (githubsrc.ChannelFile, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest("GET", "/electron/"+name+"?noCache=1x", nil)
	if id != "" {
		req.Header.Set("X-Device-Id", id)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s as %q = %d %s", name, id, rec.Code, rec.Body)
	}
	f, err := githubsrc.ParseChannelFile(rec.Body.Bytes())
	check(t, err)
	return f, rec
}

// electronWant is what one request for a channel file should get: the
// version, its stagingPercentage line ("" for none), and whether the
// answer is for this device only (Cache-Control: private) or public with
// Vary: X-Device-Id.
type electronWant struct {
	version, staging string
	private          bool
}

// requireElectron checks one request's answer against want.
func requireElectron(t *testing.T, e *env, name, id string, want electronWant) {
	t.Helper()
	f, rec := e.electronAs(t, name, id)
	body := rec.Body.String()
	staging := ""
	if i := strings.Index(body, "stagingPercentage: "); i >= 0 {
		staging, _, _ = strings.Cut(body[i+len("stagingPercentage: "):], "\n")
	}
	if f.Version != want.version || staging != want.staging {
		t.Errorf("%s as %q: version %s, stagingPercentage %q; want %s, %q\n%s", name, id, f.Version, staging, want.version, want.staging, body)
	}
	cc, vary := rec.Header().Get("Cache-Control"), rec.Header().Get("Vary")
	if want.private && !strings.HasPrefix(cc, "private") {
		t.Errorf("%s as %q: Cache-Control %q, want private (a per-device answer)", name, id, cc)
	}
	if !want.private && (!strings.HasPrefix(cc, "public") || !strings.Contains(strings.ToLower(vary), "x-device-id")) {
		t.Errorf("%s as %q: Cache-Control %q, Vary %q; want public with Vary: X-Device-Id", name, id, cc, vary)
	}
}

// findDevice returns a device ID that in says is in and out says is out
// (each a tag and share), for the staged releases a test publishes.
func findDevice(t *testing.T, in, out map[string]uint32) string {
	t.Helper()
	for _, id := range deviceIDs(10_000, 9) {
		ok := true
		for tag, share := range in {
			ok = ok && rollout.Bucket(repo, tag, id) < share
		}
		for tag, share := range out {
			ok = ok && rollout.Bucket(repo, tag, id) >= share
		}
		if ok {
			return id
		}
	}
	t.Fatalf("no device inside %v and outside %v", in, out)
	return ""
}

// TestRolloutElectronChainOfRollouts: with 1.2.0 for everyone, 1.2.5 at 50%
// and 1.3.0 at 10%, a named device outside 1.3.0 gets the newest release
// whose rollout takes it in, as the other lanes' offerFor decides: 1.2.5
// when 1.2.5's 50% holds it (1.2.0 would send a device that installed 1.2.5
// back, electron-updater downgrading when autoUpdater.channel is set), else
// 1.2.0. Devices that do not name themselves get 1.3.0 with
// stagingPercentage 10. beta.yml, with no beta newer than 1.2.0, answers
// the same.
func TestRolloutElectronChainOfRollouts(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5", Notes: rolloutLine(t, "50", false), PublishedAt: day(2), Assets: electronRelease("1.2.5", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	newest := findDevice(t, map[string]uint32{"v1.3.0": 100_000}, nil)
	middle := findDevice(t, map[string]uint32{"v1.2.5": 500_000}, map[string]uint32{"v1.3.0": 100_000})
	first := findDevice(t, nil, map[string]uint32{"v1.2.5": 500_000, "v1.3.0": 100_000})
	for _, name := range []string{"latest.yml", "beta.yml"} {
		requireElectron(t, e, name, newest, electronWant{"1.3.0", "", true})
		requireElectron(t, e, name, middle, electronWant{"1.2.5", "", true})
		requireElectron(t, e, name, first, electronWant{"1.2.0", "", true})
		requireElectron(t, e, name, "", electronWant{"1.3.0", "10", false})
	}
	if rec := e.get("GET", "/electron/App-1.2.5-latest.bin"); rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "/v1.2.5/") {
		t.Errorf("1.2.5's file, which devices inside its rollout are sent = %d %q, want a redirect to v1.2.5's asset", rec.Code, rec.Header().Get("Location"))
	}
	// Every device: the newest release its buckets take it in.
	for _, id := range deviceIDs(300, 3) {
		want := "1.2.0"
		switch {
		case rollout.Bucket(repo, "v1.3.0", id) < 100_000:
			want = "1.3.0"
		case rollout.Bucket(repo, "v1.2.5", id) < 500_000:
			want = "1.2.5"
		}
		if f, _ := e.electronAs(t, "latest.yml", id); f.Version != want {
			t.Fatalf("device %s: latest.yml says %s, want %s", id, f.Version, want)
		}
	}
}

// TestRolloutElectronBetaNotBehindStagedStable: a stable release in a
// rollout, newer than the published beta, does not replace beta.yml for
// devices it leaves out. With 1.2.0 stable, beta 1.2.5-beta.1 and 1.3.0 at
// 10%, beta.yml is 1.3.0 for a named device inside 1.3.0's 10% and
// 1.2.5-beta.1 for one outside (not 1.2.0, which a beta app, with
// allowDowngrade on since it sets autoUpdater.channel, would install over
// the beta); a device that does not name itself gets 1.2.5-beta.1 too, as
// stagingPercentage on 1.3.0 would keep 90% of beta users from the beta.
func TestRolloutElectronBetaNotBehindStagedStable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5-beta.1", Prerelease: true, PublishedAt: day(2), Assets: electronRelease("1.2.5-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	in, out := insideID(t, "v1.3.0", 100_000), outsideID(t, "v1.3.0", 100_000)
	requireElectron(t, e, "beta.yml", in, electronWant{"1.3.0", "", true})
	requireElectron(t, e, "beta.yml", out, electronWant{"1.2.5-beta.1", "", true})
	requireElectron(t, e, "beta.yml", "", electronWant{"1.2.5-beta.1", "", false})
	requireElectron(t, e, "latest.yml", in, electronWant{"1.3.0", "", true})
	requireElectron(t, e, "latest.yml", out, electronWant{"1.2.0", "", true})
	requireElectron(t, e, "latest.yml", "", electronWant{"1.3.0", "10", false})
	for _, file := range []string{"App-1.2.5-beta.1-beta.bin", "App-1.3.0-latest.bin", "App-1.2.0-latest.bin"} {
		if rec := e.get("GET", "/electron/"+file); rec.Code != http.StatusFound {
			t.Errorf("%s, which some device is sent = %d, want 302", file, rec.Code)
		}
	}
}

// TestRolloutElectronStagedBetaUnderStagedStable: both in rollouts, 1.2.0
// stable, 1.2.5-beta.1 at 50% and 1.3.0 at 10%: a named device gets the
// newest that takes it in of either; one that does not name itself, the
// beta with its own stagingPercentage.
func TestRolloutElectronStagedBetaUnderStagedStable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5-beta.1", Prerelease: true, Notes: rolloutLine(t, "50", false), PublishedAt: day(2), Assets: electronRelease("1.2.5-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	requireElectron(t, e, "beta.yml", findDevice(t, map[string]uint32{"v1.3.0": 100_000}, nil), electronWant{"1.3.0", "", true})
	requireElectron(t, e, "beta.yml", findDevice(t, map[string]uint32{"v1.2.5-beta.1": 500_000}, map[string]uint32{"v1.3.0": 100_000}), electronWant{"1.2.5-beta.1", "", true})
	requireElectron(t, e, "beta.yml", findDevice(t, nil, map[string]uint32{"v1.2.5-beta.1": 500_000, "v1.3.0": 100_000}), electronWant{"1.2.0", "", true})
	requireElectron(t, e, "beta.yml", "", electronWant{"1.2.5-beta.1", "50", false})
}

// TestRolloutElectronOldBetaUnderStagedStable: a beta older than the stable
// release every device gets leaves beta.yml to stable's: 1.3.0 at 10% with
// stagingPercentage for devices that do not name themselves, 1.2.0 for a
// named device outside, never the old beta.
func TestRolloutElectronOldBetaUnderStagedStable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0-beta.1", Prerelease: true, PublishedAt: day(1), Assets: electronRelease("1.1.0-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(2), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	requireElectron(t, e, "beta.yml", insideID(t, "v1.3.0", 100_000), electronWant{"1.3.0", "", true})
	requireElectron(t, e, "beta.yml", outsideID(t, "v1.3.0", 100_000), electronWant{"1.2.0", "", true})
	requireElectron(t, e, "beta.yml", "", electronWant{"1.3.0", "10", false})
}

// TestRolloutElectronNoReleaseForEveryone: the only release in a rollout:
// a named device outside gets it at stagingPercentage 0, which
// electron-updater offers to nobody.
func TestRolloutElectronNoReleaseForEveryone(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	requireElectron(t, e, "latest.yml", insideID(t, "v1.3.0", 100_000), electronWant{"1.3.0", "", true})
	requireElectron(t, e, "latest.yml", outsideID(t, "v1.3.0", 100_000), electronWant{"1.3.0", "0", true})
	requireElectron(t, e, "latest.yml", "", electronWant{"1.3.0", "10", false})
}

// TestRolloutElectronChainDoesNotAllocate: a named device answered from
// the middle of a chain of rollouts, on latest.yml and on a beta.yml that
// merges a staged beta with staged stable releases, allocates nothing.
// It cannot run in parallel (AllocsPerRun counts the whole process).
func TestRolloutElectronChainDoesNotAllocate(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5", Notes: rolloutLine(t, "50", false), PublishedAt: day(2), Assets: electronRelease("1.2.5", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.8-beta.1", Prerelease: true, Notes: rolloutLine(t, "50", false), PublishedAt: day(3), Assets: electronRelease("1.2.8-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(4), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	id := findDevice(t, map[string]uint32{"v1.2.5": 500_000}, map[string]uint32{"v1.3.0": 100_000, "v1.2.8-beta.1": 500_000})
	for _, name := range []string{"latest.yml", "beta.yml"} {
		if f, _ := e.electronAs(t, name, id); f.Version != "1.2.5" {
			t.Fatalf("%s: %s, want 1.2.5", name, f.Version)
		}
		req := httptest.NewRequest("GET", "/electron/"+name+"?noCache=1x", nil)
		req.Header.Set("X-Device-Id", id)
		w := &discardWriter{h: http.Header{}}
		e.h.ServeHTTP(w, req)
		if n := testing.AllocsPerRun(100, func() { clear(w.h); e.h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s for a named device in a chain of rollouts: %v allocations, want 0", name, n)
		}
	}
}

// TestRolloutElectronUpdaterNamesItsDevice: the real electron-updater, its
// device named by autoUpdater.requestHeaders, on the beta channel (1.2.0
// stable, beta 1.2.5-beta.1, 1.3.0 at 10%): inside 1.3.0's rollout it reads
// and downloads 1.3.0, outside it 1.2.5-beta.1; without the header, the
// beta.
func TestRolloutElectronUpdaterNamesItsDevice(t *testing.T) {
	t.Parallel()
	githubsrctest.RequireElectronUpdater(t)
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5-beta.1", Prerelease: true, PublishedAt: day(2), Assets: electronRelease("1.2.5-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	base := serveReal(t, proxy.Config{APIURL: gh.APIURL, Token: githubsrctest.Token, Apps: []proxy.AppConfig{{Repo: repo}}})
	check := func(name, id string) githubsrctest.ElectronCheck {
		c := githubsrctest.ElectronCheck{Name: name, FeedURL: base + "/electron", Channel: "beta", Platform: "win32", Arch: "x64", Download: true}
		if id != "" {
			c.Headers = map[string]string{"X-Device-Id": id}
		}
		return c
	}
	got := githubsrctest.ElectronUpdater(t,
		check("inside", insideID(t, "v1.3.0", 100_000)),
		check("outside", outsideID(t, "v1.3.0", 100_000)),
		check("unnamed", ""))
	for name, want := range map[string]string{"inside": "App-1.3.0-latest.bin", "outside": "App-1.2.5-beta.1-beta.bin", "unnamed": "App-1.2.5-beta.1-beta.bin"} {
		r := got[name]
		if r.Error != "" || r.ChannelFile != "beta.yml" || !strings.HasSuffix(r.Picked, "/electron/"+want) || r.Downloaded != len("payload of "+want) {
			t.Errorf("%s: %s %s picked %q, downloaded %d, error %s %q; want %s", name, r.ChannelFile, r.Version, r.Picked, r.Downloaded, r.Code, r.Error, want)
		}
	}
}

// TestRolloutElectronHaltInTheChain: a halted release between the staged
// newest and the one every device gets is offered to nobody: 1.2.0 for
// everyone, 1.2.5 halted, 1.3.0 at 10%: outside 1.3.0, 1.2.0, whatever
// 1.2.5's share would say.
func TestRolloutElectronHaltInTheChain(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5", Notes: rolloutLine(t, "50", true), PublishedAt: day(2), Assets: electronRelease("1.2.5", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(3), Assets: electronRelease("1.3.0", "latest.yml")})
	e := newEnv(t, gh)
	requireElectron(t, e, "latest.yml", findDevice(t, map[string]uint32{"v1.2.5": 500_000}, map[string]uint32{"v1.3.0": 100_000}), electronWant{"1.2.0", "", true})
	requireElectron(t, e, "latest.yml", insideID(t, "v1.3.0", 100_000), electronWant{"1.3.0", "", true})
	requireElectron(t, e, "latest.yml", "", electronWant{"1.3.0", "10", false})
	if rec := e.get("GET", "/electron/App-1.2.5-latest.bin"); rec.Code != http.StatusNotFound {
		t.Errorf("the halted release's file = %d, want 404 (no channel file lists it)", rec.Code)
	}
}

// TestRolloutElectronChainSameAfterEviction: every file of a chain, and a
// beta*.yml merged with stable, answer each device the same after the app
// is evicted and rebuilt from the releases that answered.
func TestRolloutElectronChainSameAfterEviction(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", PublishedAt: day(1), Assets: electronRelease("1.2.0", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.5", Notes: rolloutLine(t, "50", false), PublishedAt: day(2), Assets: electronRelease("1.2.5", "latest.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.8-beta.1", Prerelease: true, Notes: rolloutLine(t, "30", false), PublishedAt: day(3), Assets: electronRelease("1.2.8-beta.1", "beta.yml")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Notes: rolloutLine(t, "10", false), PublishedAt: day(4), Assets: electronRelease("1.3.0", "latest.yml")})
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.CacheTTL, c.MaxCachedApps = time.Hour, 1
		c.Apps = []proxy.AppConfig{{Slug: "a", Repo: repo}, {Slug: "b", Repo: "demo-org/other"}}
	})
	devices := append(deviceIDs(20, 5), "")
	got := requireSameAfterEviction(t, e, "/b/windows/x86_64/1.0.0", func() map[string]string {
		out := map[string]string{}
		for _, name := range []string{"latest.yml", "beta.yml"} {
			for _, id := range devices {
				req := httptest.NewRequest("GET", "/a/electron/"+name, nil)
				if id != "" {
					req.Header.Set("X-Device-Id", id)
				}
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				out[name+" as "+id] = rec.Result().Status + " " + rec.Body.String()
			}
		}
		return out
	})
	versions := map[string]bool{}
	for _, body := range got {
		if _, v, ok := strings.Cut(body, "version: "); ok {
			v, _, _ = strings.Cut(v, "\n")
			versions[v] = true
		}
	}
	for _, v := range []string{"1.3.0", "1.2.8-beta.1", "1.2.5", "1.2.0"} {
		if !versions[v] {
			t.Errorf("no device got %s: %v", v, versions)
		}
	}
}

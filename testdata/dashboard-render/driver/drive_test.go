//go:build dashboard

// Package driver drives a real `otapub serve` against the fake GitHub of
// githubsrctest for a few minutes, with a population of Tauri devices
// checking, downloading and updating while a release is rolled out in
// stages, so that Prometheus has something true to scrape for the README's
// dashboard screenshot. It is a test only because githubsrctest needs a
// testing.TB; run.sh runs it:
//
//	go test -tags dashboard -count=1 -timeout 0 -run TestDrive ./testdata/dashboard-render/driver
//
// Environment: OTAPUB_BIN (the binary), OTAPUB_ADDR (host:port it listens
// on, which Prometheus scrapes), DRIVE_DURATION (default 6m), DRIVE_WINDOW
// (a file to write {"start","end"} in Unix seconds to), DRIVE_LOG (the
// server's stderr; default discarded), DRIVE_LOG_LEVEL (its --log-level;
// default warn, debug says why payloads are withheld).
package driver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

const (
	repo    = "acme/desktop"
	fixture = "../../fixtures/tauri-v2/v1.2.0"
	devices = 2000
	// period is how often a device checks (± a third).
	period = 40 * time.Second
)

// platform is one Tauri target as a device sends it.
type platform struct {
	target, arch, bundle string
	weight               int
}

var platforms = []platform{
	{"windows", "x86_64", "", 40},
	{"windows", "x86_64", "msi", 8},
	{"windows", "aarch64", "", 4},
	{"darwin", "aarch64", "", 25},
	{"darwin", "x86_64", "", 8},
	{"linux", "x86_64", "", 10},
	{"linux", "x86_64", "deb", 5},
}

func TestDrive(t *testing.T) {
	bin, addr := os.Getenv("OTAPUB_BIN"), os.Getenv("OTAPUB_ADDR")
	if bin == "" || addr == "" {
		t.Skip("run by testdata/dashboard-render/run.sh: set OTAPUB_BIN and OTAPUB_ADDR")
	}
	total := 6 * time.Minute
	if d := os.Getenv("DRIVE_DURATION"); d != "" {
		var err error
		if total, err = time.ParseDuration(d); err != nil {
			t.Fatal(err)
		}
	}

	sign := newSigner(t)
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(repo, githubsrctest.RepoOptions{Private: true})
	now := time.Now()
	for i, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{
			Tag: "v" + v, Name: "Desktop " + v, Notes: "Fixes and improvements.",
			PublishedAt: now.Add(time.Duration(i-3) * 14 * 24 * time.Hour), Assets: sign.assets(t, v),
		})
	}

	serve := exec.Command(bin, "serve", "--repo", repo, "--github-api-url", gh.APIURL,
		"--listen", addr, "--public-url", "http://"+addr, "--cache-ttl", "5s", "--pubkey", sign.pubkey,
		"--log-format", "text", "--log-level", logLevel())
	serve.Env = append(os.Environ(), "GITHUB_TOKEN="+githubsrctest.Token)
	serve.Stdout, serve.Stderr = io.Discard, io.Discard
	if p := os.Getenv("DRIVE_LOG"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		serve.Stderr = f
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Signal(os.Interrupt); serve.Wait() })
	base := "http://" + addr
	waitUp(t, base+"/healthz")

	d := &drive{t: t, base: base, gh: gh, bin: bin, useCLI: exec.Command(bin, "rollout", "--help").Run() == nil,
		client: &http.Client{
			Timeout:       10 * time.Second,
			Transport:     &http.Transport{MaxIdleConnsPerHost: 256},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	t.Logf("otapub at %s, fake GitHub at %s, rollouts changed with %s", base, gh.URL,
		map[bool]string{true: "`otapub rollout`", false: "release edits on the fake's API"}[d.useCLI])

	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(total))
	defer cancel()
	var wg sync.WaitGroup
	rng := mrand.New(mrand.NewPCG(14, 2026))
	for i := range devices {
		dev := newDevice(rng, i)
		wg.Add(1)
		go func() { defer wg.Done(); d.run(ctx, dev) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); d.background(ctx) }()

	// The release story, at fractions of the run.
	at := func(f float64) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(start.Add(time.Duration(f * float64(total))))):
			return true
		}
	}
	var id int64
	if at(0.12) {
		id = gh.AddRelease(repo, githubsrctest.ReleaseSpec{
			Tag: "v1.3.0", Name: "Desktop 1.3.0", Notes: "New sync engine.\n\n<!-- otapub:rollout percent=10 -->", Assets: sign.assets(t, "1.3.0"),
		})
		t.Logf("%s published v1.3.0 at 10%%", since(start))
	}
	if at(0.22) {
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{
			Tag: "v1.4.0-beta.1", Name: "Desktop 1.4.0 beta 1", Notes: "Beta.", Prerelease: true, Assets: sign.assets(t, "1.4.0-beta.1"),
		})
		t.Logf("%s published v1.4.0-beta.1 (prerelease)", since(start))
	}
	if at(0.32) {
		d.rollout(id, "50", "New sync engine.\n\n<!-- otapub:rollout percent=50 -->")
	}
	if at(0.46) {
		// GitHub fails for a while: refreshes fail (each tries three times),
		// answers come from the stale snapshot.
		gh.Inject(githubsrctest.Fault{Match: "GET /api/v3/repos/" + repo + "/releases?per_page", Status: 502, Times: 12})
		t.Logf("%s GitHub answers 502 to the next 12 listings", since(start))
	}
	if at(0.55) {
		d.rollout(id, "--halt", "New sync engine.\n\n<!-- otapub:rollout percent=50 halted -->")
	}
	if at(0.66) {
		d.rollout(id, "--resume", "New sync engine.\n\n<!-- otapub:rollout percent=50 -->")
	}
	if at(0.76) {
		d.rollout(id, "100", "New sync engine.")
	}
	<-ctx.Done()
	wg.Wait()
	end := time.Now()
	t.Logf("%s done: %d requests sent; fake GitHub saw %d API calls", since(start), d.sent(), gh.APICalls())
	if p := os.Getenv("DRIVE_WINDOW"); p != "" {
		b, _ := json.Marshal(map[string]int64{"start": start.Unix(), "end": end.Unix()})
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func since(start time.Time) string { return time.Since(start).Truncate(time.Second).String() }

// signer signs the payloads of every release with a key made for the run,
// as `tauri signer sign` does (the signed version must match the release's).
type signer struct {
	priv   minisign.PrivateKey
	pubkey string // what the app ships, for otapub serve --pubkey
	dir    string
}

func newSigner(t *testing.T) *signer {
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{priv: priv, pubkey: taurisig.EncodePublicKey(pub), dir: t.TempDir()}
}

// assets are the v1.2.0 fixture's files renamed for version v, each
// updater payload with a .sig of its own for v.
func (s *signer) assets(t *testing.T, v string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(fixture)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.Name() == "latest.json" || strings.HasSuffix(e.Name(), ".sig") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fixture, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ReplaceAll(e.Name(), "1.2.0", v)
		out[name] = b
		if _, err := os.Stat(filepath.Join(fixture, e.Name()+".sig")); err != nil {
			continue // not an updater payload (a .dmg)
		}
		path := filepath.Join(s.dir, v+"-"+name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sig, err := taurisig.SignFile(s.priv, path, v, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out[name+".sig"] = []byte(sig)
	}
	return out
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("%s did not answer", url)
}

type drive struct {
	t      *testing.T
	base   string
	gh     *githubsrctest.Server
	bin    string
	useCLI bool
	client *http.Client

	mu    sync.Mutex
	count int
}

func (d *drive) sent() int { d.mu.Lock(); defer d.mu.Unlock(); return d.count }

// rollout changes v1.3.0's rollout with `otapub rollout` when the binary
// has it, else by editing the release notes (release id) on the fake.
func (d *drive) rollout(id int64, arg, notes string) {
	if d.useCLI {
		cmd := exec.Command(d.bin, "rollout", "--repo", repo, "--github-api-url", d.gh.APIURL, "v1.3.0", arg)
		cmd.Env = append(os.Environ(), "GITHUB_TOKEN="+githubsrctest.Token)
		out, err := cmd.CombinedOutput()
		if err != nil {
			d.t.Errorf("otapub rollout v1.3.0 %s: %v\n%s", arg, err, out)
		}
		d.t.Logf("otapub rollout v1.3.0 %s: %s", arg, strings.TrimSpace(string(out)))
		return
	}
	body, _ := json.Marshal(map[string]string{"body": notes})
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%srepos/%s/releases/%d", d.gh.APIURL, repo, id), strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+githubsrctest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.t.Errorf("editing v1.3.0: %s", resp.Status)
	}
	d.t.Logf("v1.3.0 notes now %q", notes)
}

type device struct {
	id      string
	plat    platform
	version string
	beta    bool
	// eager is the chance the user installs an offered update at once.
	eager float64
	rng   *mrand.Rand
}

func newDevice(rng *mrand.Rand, i int) *device {
	dev := &device{
		id:    fmt.Sprintf("%016x", rng.Uint64()),
		beta:  i%25 == 0,
		eager: 0.15 + 0.6*rng.Float64(),
		rng:   mrand.New(mrand.NewPCG(uint64(i), 7)),
	}
	n := 0
	for _, p := range platforms {
		n += p.weight
	}
	w := rng.IntN(n)
	for _, p := range platforms {
		if w -= p.weight; w < 0 {
			dev.plat = p
			break
		}
	}
	switch r := rng.Float64(); {
	case r < 0.12:
		dev.version = "1.0.0"
	case r < 0.40:
		dev.version = "1.1.0"
	default:
		dev.version = "1.2.0"
	}
	if rng.Float64() < 0.02 {
		dev.version = "0.9.4" // older than any release listed
	}
	return dev
}

func (d *drive) get(ctx context.Context, url, deviceID string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if deviceID != "" {
		req.Header.Set("X-Device-Id", deviceID)
	}
	d.mu.Lock()
	d.count++
	d.mu.Unlock()
	return d.client.Do(req)
}

// run is one device: it checks every period (jittered), and when offered
// an update downloads it and, if the user agrees, runs it from then on.
func (d *drive) run(ctx context.Context, dev *device) {
	sleep := func(dur time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(dur):
			return true
		}
	}
	if !sleep(time.Duration(dev.rng.Int64N(int64(period)))) {
		return
	}
	for {
		p := dev.plat
		path := "/" + p.target + "/" + p.arch + "/"
		if p.bundle != "" {
			path += p.bundle + "/"
		}
		path += dev.version
		if dev.beta {
			path += "?channel=beta"
		}
		switch r := dev.rng.Float64(); {
		case r < 0.015:
			path = "/" + p.target + "/" + p.arch + "/latest" // not semver: 400
		case r < 0.025:
			path = "/freebsd/" + p.arch + "/" + dev.version // unknown target: 400
		}
		resp, err := d.get(ctx, d.base+path, dev.id)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.t.Logf("check %s: %v", path, err)
		} else {
			var offer struct{ Version, URL string }
			if resp.StatusCode == http.StatusOK {
				json.NewDecoder(resp.Body).Decode(&offer)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if offer.URL != "" && dev.rng.Float64() < dev.eager {
				if r, err := d.get(ctx, offer.URL, dev.id); err == nil {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
					if r.StatusCode == http.StatusFound {
						dev.version = offer.Version
					}
				}
			}
		}
		if !sleep(period*2/3 + time.Duration(dev.rng.Int64N(int64(period)*2/3))) {
			return
		}
	}
}

// background is the rest of the traffic: static manifests, health checks,
// stray paths.
func (d *drive) background(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		paths := []string{"/latest.json"}
		if n%8 == 0 {
			paths = append(paths, "/healthz", "/latest.json?channel=beta")
		}
		if n%20 == 0 {
			paths = append(paths, "/wp-login.php", "/download/v1.2.0/nope.exe")
		}
		for _, p := range paths {
			if resp, err := d.get(ctx, d.base+p, ""); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
}

// logLevel is the server's --log-level: DRIVE_LOG_LEVEL, default warn.
func logLevel() string {
	if l := os.Getenv("DRIVE_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

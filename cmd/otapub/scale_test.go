package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// BenchmarkScale runs the real `otapub serve` against the fake GitHub
// seeded at scale (issue 11) and prints one Markdown table: cold start of
// a repository with many releases (public and private, GitHub answering at
// once and with latency), memory per app with many apps in one --config,
// checks spread over more apps than --max-cached-apps against an
// all-cached run, and upstream calls per app per TTL in the steady state.
// Run it with:
//
//	go test ./cmd/otapub -run '^$' -bench Scale -benchtime 1x
//
// Environment (defaults in brackets; the defaults take about two minutes
// on a 2-core machine, the binary's build aside):
//
//	OTAPUB_BENCH_RELEASES [1000]        releases of the cold-start repository, GitHub answering at once
//	OTAPUB_BENCH_LATENCY [50ms]         delay of every GitHub request (API, download redirect, storage)
//	OTAPUB_BENCH_LATENCY_RELEASES [100] releases of the cold-start runs with latency: 1,000 take
//	                                    2.5 minutes (public) and more (private) on their own today
//	OTAPUB_BENCH_APPS [1000]            apps in the --config of the memory and eviction runs
//	OTAPUB_BENCH_MAX_CACHED [256]       --max-cached-apps of the eviction run
//	OTAPUB_BENCH_CHECKS [4000]          checks of each steady-state run, spread over all apps
//	OTAPUB_BENCH_CONNS [8]              connections those checks come from
//	OTAPUB_BENCH_TTL [2s]               --cache-ttl of the TTL run
//	OTAPUB_BENCH_TTL_APPS [100]         apps of the TTL run, each checked 10 times per TTL
//	OTAPUB_BENCH_TTL_PERIODS [4]        how many TTLs the TTL run counts (after one it does not)
//	OTAPUB_BENCH_COLD_LIMIT [5m]        give up waiting for a first 200 after this
//	OTAPUB_BENCH_SCENARIOS [all]        comma-separated subset of cold,private,apps,ttl; apps
//	                                    is memory per app and eviction (about a minute):
//	                                    OTAPUB_BENCH_SCENARIOS=apps runs only those
//
// Each release of the cold-start repository carries 5 signed payloads
// (AppImage, NSIS, MSI, two macOS .app.tar.gz) and their .sig files, signed
// for their version with the test key, which --pubkey names; each small app
// has 2 releases of 6 payloads and 6 .sig files (12 assets). The fake's
// rate limit is lifted so that API calls are counted rather than refused;
// the table says what share of a 5,000/hour token they would take.
//
// Times to a first 200 run from the start of the process (serve warms
// every app as it starts) to the first 200 of a check polled every 100 ms,
// as clients keep coming; the 64 concurrent checks are sent as soon as the
// server answers /healthz. Other processes on the machine (builds, other
// tests) slow it: the header line gives the load average, and the rows
// give otapub's own CPU seconds where it matters.
func BenchmarkScale(b *testing.B) {
	e := scaleEnvFromOS()
	bin := otapubBinary(b)
	var rows [][2]string
	row := func(work, result string) {
		rows = append(rows, [2]string{work, result})
		fmt.Printf("  %s: %s\n", work, result) // as it goes, in case a later run fails
	}
	fmt.Printf("scale benchmark (%d CPUs, load average %s):\n", runtime.NumCPU(), scaleLoadAverage())

	if e.on("cold") {
		r := scaleCold(b, bin, e, e.releases, 0, false)
		row(fmt.Sprintf("cold start, public, %s releases × 5 signed payloads, GitHub answering at once", scaleComma(e.releases)), r.String())
		b.ReportMetric(r.first200.Seconds(), "cold-first200-s")
		b.ReportMetric(float64(r.ok), "cold-concurrent-200s/64")
		if e.latency > 0 {
			r := scaleCold(b, bin, e, e.latReleases, e.latency, false)
			row(fmt.Sprintf("same, %s releases, %v per GitHub request", scaleComma(e.latReleases), e.latency), r.String())
			b.ReportMetric(r.first200.Seconds(), "cold-latency-first200-s")
		}
	}
	if e.on("private") {
		r := scaleCold(b, bin, e, e.releases, 0, true)
		row(fmt.Sprintf("cold start, private, %s releases × 5 signed payloads, GitHub answering at once", scaleComma(e.releases)), r.String())
		b.ReportMetric(float64(r.sigAPI)/float64(r.sigAssets), "private-API-calls/sig")
		if e.latency > 0 {
			r := scaleCold(b, bin, e, e.latReleases, e.latency, true)
			row(fmt.Sprintf("same, private, %s releases, %v per GitHub request", scaleComma(e.latReleases), e.latency), r.String())
			b.ReportMetric(r.first200.Seconds(), "private-latency-first200-s")
		}
	}
	if e.on("apps") {
		gh := scaleAppsGitHub(b, e.apps)
		config := scaleConfig(b, e.apps)

		one := scaleWarmApps(b, bin, gh, scaleConfig(b, 1), 1, 1)
		one.proc.stop()

		all := scaleWarmApps(b, bin, gh, config, e.apps, e.apps)
		perApp := all.rss / float64(e.apps)
		overOne := (all.rss - one.rss) / float64(max(e.apps-1, 1))
		row(fmt.Sprintf("%s apps (2 releases × 12 assets) in one --config, each warmed by one check (--max-cached-apps %d)", scaleComma(e.apps), e.apps),
			fmt.Sprintf("RSS %.0f MiB (peak %.0f MiB) = %.3f MiB per app; %.3f MiB per app over a one-app process's %.1f MiB; every app answering 200 after %s (%s refreshes, %d failed; %.1f s of otapub CPU), with %s API calls and %s .sig reads",
				scaleMiB(all.rss), scaleMiB(all.peak), scaleMiB(perApp), scaleMiB(overOne), scaleMiB(one.rss), scaleSecs(all.warm), scaleComma(all.refreshes), all.refreshErrors, all.cpu, scaleComma(all.api), scaleComma(all.sigs)))
		b.ReportMetric(scaleMiB(perApp), "MiB/app")

		cached := scaleSpread(b, gh, all.proc, e)
		all.proc.stop()
		conns := fmt.Sprintf("%d connections", e.conns)
		if e.conns == 1 {
			conns = "1 connection"
		}
		row(fmt.Sprintf("%s checks from %s spread over all %s apps, all cached (--max-cached-apps %d)", scaleComma(e.checks), conns, scaleComma(e.apps), e.apps), cached.String())
		b.ReportMetric(cached.p99.Seconds()*1e3, "cached-p99-ms")

		evicting := scaleWarmApps(b, bin, gh, config, e.apps, e.maxCached)
		spread := scaleSpread(b, gh, evicting.proc, e)
		evicting.proc.stop()
		row(fmt.Sprintf("the same with --max-cached-apps %d (default 256)", e.maxCached), spread.String()+
			fmt.Sprintf("; p99 %.1f× the all-cached run's; RSS %.0f MiB (peak %.0f MiB) after warming", spread.p99.Seconds()/cached.p99.Seconds(), scaleMiB(evicting.rss), scaleMiB(evicting.peak)))
		b.ReportMetric(spread.p99.Seconds()*1e3, "evicting-p99-ms")
		b.ReportMetric(spread.p99.Seconds()/cached.p99.Seconds(), "evicting/cached-p99")
		b.ReportMetric(float64(spread.full)/float64(max(spread.checks, 1)), "evicting-full-listings/check")
	}
	if e.on("ttl") {
		r := scaleTTL(b, bin, e)
		row(fmt.Sprintf("steady state, %d apps, --cache-ttl %v, each app checked 10× per TTL for %d TTLs", e.ttlApps, e.ttl, e.ttlPeriods), r.String())
		b.ReportMetric(r.listingsPerAppTTL, "steady-listings/app/TTL")
	}

	fmt.Println()
	fmt.Println("| work | measured |")
	fmt.Println("|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s |\n", r[0], r[1])
	}
}

// --- configuration ---

type scaleEnv struct {
	releases, latReleases, apps, maxCached, checks, conns int
	ttlApps, ttlPeriods                                   int
	latency, ttl, coldLimit                               time.Duration
	scenarios                                             string
}

func scaleEnvFromOS() scaleEnv {
	return scaleEnv{
		releases:    envInt("OTAPUB_BENCH_RELEASES", 1000),
		latReleases: envInt("OTAPUB_BENCH_LATENCY_RELEASES", 100),
		apps:        envInt("OTAPUB_BENCH_APPS", 1000),
		maxCached:   envInt("OTAPUB_BENCH_MAX_CACHED", 256),
		checks:      envInt("OTAPUB_BENCH_CHECKS", 4000),
		conns:       envInt("OTAPUB_BENCH_CONNS", 8),
		ttlApps:     envInt("OTAPUB_BENCH_TTL_APPS", 100),
		ttlPeriods:  envInt("OTAPUB_BENCH_TTL_PERIODS", 4),
		latency:     scaleEnvDuration("OTAPUB_BENCH_LATENCY", 50*time.Millisecond),
		ttl:         scaleEnvDuration("OTAPUB_BENCH_TTL", 2*time.Second),
		coldLimit:   scaleEnvDuration("OTAPUB_BENCH_COLD_LIMIT", 5*time.Minute),
		scenarios:   os.Getenv("OTAPUB_BENCH_SCENARIOS"),
	}
}

func (e scaleEnv) on(name string) bool {
	return e.scenarios == "" || slices.Contains(strings.Split(e.scenarios, ","), name)
}

// scaleEnvDuration reads a duration; "0" is allowed (no latency).
func scaleEnvDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d >= 0 {
		return d
	}
	return def
}

// --- seeding the fake GitHub ---

// Asset names per release; {v} is the version.
var (
	scaleFive = []string{"DemoApp_{v}_amd64.AppImage", "DemoApp_{v}_x64-setup.exe", "DemoApp_{v}_x64_en-US.msi", "DemoApp_x64.app.tar.gz", "DemoApp_aarch64.app.tar.gz"}
	scaleSix  = append(slices.Clone(scaleFive), "DemoApp_{v}_amd64.deb")
)

const scaleRepo = "scale-org/desktop"

// scaleKeys signs payloads with the test key, as `tauri signer sign` does
// (bound to the version), once per version and name for the whole run.
var scaleKeys struct {
	once sync.Once
	priv minisign.PrivateKey
	pub  string
	err  error
	mu   sync.Mutex
	sigs map[string][]byte
}

func scalePubKey(b *testing.B) string {
	scaleKeys.once.Do(func() {
		key, err := os.ReadFile(filepath.Join(testdata, "fixtures", "keys", "test.key"))
		if err != nil {
			scaleKeys.err = err
			return
		}
		pub, err := os.ReadFile(filepath.Join(testdata, "fixtures", "keys", "test.key.pub"))
		if err != nil {
			scaleKeys.err = err
			return
		}
		scaleKeys.priv, scaleKeys.err = taurisig.ParsePrivateKey(string(key), "")
		scaleKeys.pub = strings.TrimSpace(string(pub))
		scaleKeys.sigs = map[string][]byte{}
	})
	if scaleKeys.err != nil {
		b.Fatal(scaleKeys.err)
	}
	return scaleKeys.pub
}

// scaleAssets returns a release's payloads and their .sig files.
func scaleAssets(b *testing.B, version string, names []string) map[string][]byte {
	scalePubKey(b)
	scaleKeys.mu.Lock()
	defer scaleKeys.mu.Unlock()
	out := make(map[string][]byte, 2*len(names))
	for _, pattern := range names {
		name := strings.ReplaceAll(pattern, "{v}", version)
		data := []byte("scale benchmark payload " + name + " " + version + "\n")
		key := version + "/" + name
		sig, ok := scaleKeys.sigs[key]
		if !ok {
			r := minisign.NewReader(bytes.NewReader(data))
			_, _ = io.Copy(io.Discard, r)
			trusted := "timestamp:1795344485\tfile:" + name + "\tversion:" + version
			sig = []byte(base64.StdEncoding.EncodeToString(r.SignWithComments(scaleKeys.priv, trusted, "signature from tauri secret key")))
			scaleKeys.sigs[key] = sig
		}
		out[name] = data
		out[name+".sig"] = sig
	}
	return out
}

// scaleVersion is the version of release i: 1.0.0, 1.0.1, ... 1.0.99, 1.1.0, ...
func scaleVersion(i int) string { return fmt.Sprintf("1.%d.%d", i/100, i%100) }

// scaleGitHub is a fake GitHub whose rate limit does not run out, so that
// API calls are counted rather than refused.
func scaleGitHub(b *testing.B) *githubsrctest.Server {
	gh := githubsrctest.NewServer(b)
	gh.SetRateLimit(math.MaxInt32, time.Now().Add(24*time.Hour), http.StatusForbidden)
	return gh
}

// Route patterns the fake counts by.
const (
	scaleRouteList     = "GET /api/v3/repos/{owner}/{repo}/releases"
	scaleRouteAsset    = "GET /api/v3/repos/{owner}/{repo}/releases/assets/{id}"
	scaleRouteDownload = "GET /{owner}/{repo}/releases/download/{tag}/{name}"
	scaleRouteStorage  = "GET /storage/{id}"
)

// --- the otapub process ---

type scaleProc struct {
	url     string
	pid     int
	started time.Time
	stop    func()
}

// scaleServe starts `otapub serve` with a token, against gh, and waits
// until it answers /healthz.
func scaleServe(b *testing.B, bin string, gh *githubsrctest.Server, args ...string) *scaleProc {
	addr := freeAddr(b)
	args = append([]string{"serve", "--listen", addr, "--public-url", "http://" + addr, "--github-api-url", gh.APIURL, "--shutdown-grace", "2s"}, args...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTAPUB_") && !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "GH_") && !strings.HasPrefix(kv, "PORT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GITHUB_TOKEN="+githubsrctest.Token)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	p := &scaleProc{url: "http://" + addr, started: time.Now()}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		})
	}
	b.Cleanup(p.stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			b.Fatalf("otapub serve %v did not come up", args)
		}
	}
}

// metric sums a counter of /metrics over its labels.
func (p *scaleProc) metric(name string) int {
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				n += v
			}
		}
	}
	return int(n)
}

var scaleClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}, Timeout: time.Minute}

// scaleGet asks url and returns the status and body (status 0: no answer).
func scaleGet(url string) (int, []byte) {
	resp, err := scaleClient.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// --- 1, 2: cold start ---

type coldResult struct {
	releases       int
	latency        time.Duration
	private        bool
	first200       time.Duration // 0: none within the limit
	limit          time.Duration
	version, want  string
	sigAssets      int
	sigDownloads   int // public .sig reads: browser download redirects
	sigAPI         int // private .sig reads: API asset requests
	storage        int
	api            int
	listings       int
	refreshes      int
	refreshErrors  int
	cpu            float64 // otapub's CPU seconds until the first 200
	ok, busy, fail int     // of the 64 concurrent first checks
}

func (r coldResult) String() string {
	var s strings.Builder
	if r.first200 == 0 {
		fmt.Fprintf(&s, "no 200 within %v", r.limit)
	} else {
		fmt.Fprintf(&s, "first 200 after %s", scaleSecs(r.first200))
	}
	fmt.Fprintf(&s, " (%d refreshes, %d failed; %.1f s of otapub CPU)", r.refreshes, r.refreshErrors, r.cpu)
	if r.version != r.want {
		fmt.Fprintf(&s, " offering %q, not %s", r.version, r.want)
	}
	reads := r.sigDownloads + r.sigAPI
	fmt.Fprintf(&s, "; %s .sig reads for %s .sig files", scaleComma(reads), scaleComma(r.sigAssets))
	if r.private {
		fmt.Fprintf(&s, ", each an API call (%.2f per .sig) plus a storage GET", float64(r.sigAPI)/float64(r.sigAssets))
	} else {
		s.WriteString(", each a download redirect plus a storage GET")
	}
	fmt.Fprintf(&s, "; %s API calls (%s listings; %.0f%% of a 5,000/h token)", scaleComma(r.api), scaleComma(r.listings), 100*float64(r.api)/5000)
	fmt.Fprintf(&s, "; 64 concurrent first checks: %d × 200, %d × 503", r.ok, r.busy)
	if r.fail > 0 {
		fmt.Fprintf(&s, ", %d other", r.fail)
	}
	return s.String()
}

// scaleCold starts otapub on one repository of releases × 5 signed
// payloads, sends 64 concurrent checks as soon as it listens, and polls a
// check every 100 ms until it answers 200 (as clients keep coming).
func scaleCold(b *testing.B, bin string, e scaleEnv, releases int, latency time.Duration, private bool) coldResult {
	gh := scaleGitHub(b)
	gh.AddRepo(scaleRepo, githubsrctest.RepoOptions{Private: private})
	for i := range releases {
		v := scaleVersion(i)
		gh.AddRelease(scaleRepo, githubsrctest.ReleaseSpec{Tag: "v" + v, Assets: scaleAssets(b, v, scaleFive)})
	}
	if latency > 0 {
		scaleDelay(gh, latency)
	}
	r := coldResult{releases: releases, latency: latency, private: private, limit: e.coldLimit, want: scaleVersion(releases - 1), sigAssets: releases * len(scaleFive)}
	p := scaleServe(b, bin, gh, "--repo", scaleRepo, "--pubkey", scalePubKey(b))
	defer p.stop()
	check := p.url + "/linux/x86_64/0.0.1"

	var ok, busy, fail atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			switch status, _ := scaleGet(check); status {
			case 200:
				ok.Add(1)
			case 503:
				busy.Add(1)
			default:
				fail.Add(1)
			}
		})
	}
	for deadline := p.started.Add(e.coldLimit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status, body := scaleGet(check)
		if status != 200 {
			continue
		}
		r.first200 = time.Since(p.started)
		r.cpu = cpuSeconds(b, p.pid)
		r.version = scaleJSONField(body, "version")
		break
	}
	wg.Wait()
	r.ok, r.busy, r.fail = int(ok.Load()), int(busy.Load()), int(fail.Load())
	counts := gh.Counts()
	r.sigDownloads, r.sigAPI, r.storage = counts[scaleRouteDownload], counts[scaleRouteAsset], counts[scaleRouteStorage]
	r.api, r.listings = gh.APICalls(), counts[scaleRouteList]
	r.refreshes = p.metric("otapub_refresh_duration_seconds_count")
	r.refreshErrors = p.metric("otapub_refresh_errors_total")
	return r
}

// scaleDelay delays every request to gh by latency. SetLatency delays the
// API only; GitHub's download redirect and its storage are as far away, so
// a fault that only delays (no status) stands in for latency there.
func scaleDelay(gh *githubsrctest.Server, latency time.Duration) {
	gh.SetLatency(latency)
	for _, m := range []string{"/releases/download/", "GET /storage/"} {
		gh.Inject(githubsrctest.Fault{Match: m, Times: math.MaxInt32, Delay: latency})
	}
}

func scaleJSONField(body []byte, name string) string {
	_, rest, ok := strings.Cut(string(body), `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// --- 3, 4: many apps ---

func scaleSlug(i int) string { return fmt.Sprintf("app-%04d", i) }

// scaleAppsGitHub seeds apps repositories of 2 releases × 12 assets.
func scaleAppsGitHub(b *testing.B, apps int) *githubsrctest.Server {
	gh := scaleGitHub(b)
	for i := range apps {
		for _, v := range []string{"1.0.0", "1.1.0"} {
			gh.AddRelease("scale-org/"+scaleSlug(i), githubsrctest.ReleaseSpec{Tag: "v" + v, Assets: scaleAssets(b, v, scaleSix)})
		}
	}
	return gh
}

// scaleConfig writes a --config file of apps apps, named by scaleSlug.
func scaleConfig(b *testing.B, apps int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "defaults:\n  pubkey: %s\napps:\n", scalePubKey(b))
	for i := range apps {
		fmt.Fprintf(&s, "  %s:\n    repo: scale-org/%s\n", scaleSlug(i), scaleSlug(i))
	}
	path := filepath.Join(b.TempDir(), "apps.yml")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

type warmResult struct {
	proc                     *scaleProc
	rss, peak, cpu           float64
	warm                     time.Duration
	api, sigs                int
	refreshes, refreshErrors int
}

// scaleWarmApps starts otapub on a config of apps apps and checks each
// until it answers 200, from 8 connections; then reads its RSS.
func scaleWarmApps(b *testing.B, bin string, gh *githubsrctest.Server, config string, apps, maxCached int) warmResult {
	gh.ResetCounts()
	p := scaleServe(b, bin, gh, "--config", config, "--max-cached-apps", strconv.Itoa(maxCached))
	var next atomic.Int64
	var failed atomic.Int32
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Minute)
	for range min(8, apps) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < apps; i = int(next.Add(1) - 1) {
				url := p.url + "/" + scaleSlug(i) + "/linux/x86_64/0.0.1"
				for {
					if status, _ := scaleGet(url); status == 200 {
						break
					}
					if time.Now().After(deadline) {
						failed.Add(1)
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Errorf("%d of %d apps never answered 200", n, apps)
	}
	r := warmResult{proc: p, warm: time.Since(p.started), api: gh.APICalls(), sigs: gh.Count(scaleRouteDownload), cpu: cpuSeconds(b, p.pid)}
	r.refreshes = p.metric("otapub_refresh_duration_seconds_count")
	r.refreshErrors = p.metric("otapub_refresh_errors_total")
	time.Sleep(200 * time.Millisecond) // let the last refreshes' garbage settle a little
	r.rss, r.peak = scaleProcStatus(p.pid, "VmRSS:"), scaleProcStatus(p.pid, "VmHWM:")
	return r
}

type spreadResult struct {
	checks, non200         int
	p50, p99, max          time.Duration
	took                   time.Duration
	listings, full, notMod int
	sigs, api              int
	cpu                    float64 // otapub's CPU seconds over the checks
}

func (r spreadResult) String() string {
	s := fmt.Sprintf("p50 %s, p99 %s, max %s (%.0f checks/s, %.0f µs of otapub CPU per check", scaleMs(r.p50), scaleMs(r.p99), scaleMs(r.max), float64(r.checks)/r.took.Seconds(), 1e6*r.cpu/float64(max(r.checks, 1)))
	if r.non200 > 0 {
		s += fmt.Sprintf(", %d not 200", r.non200)
	}
	return s + fmt.Sprintf("); upstream: %s full listings (%.2f per check), %s conditional 304s, %s .sig reads, %s API calls",
		scaleComma(r.full), float64(r.full)/float64(max(r.checks, 1)), scaleComma(r.notMod), scaleComma(r.sigs), scaleComma(r.api))
}

// scaleSpread sends e.checks checks from e.conns connections, app after
// app round the whole config (the spread that defeats an LRU smaller than
// the apps), and counts what reached GitHub meanwhile.
func scaleSpread(b *testing.B, gh *githubsrctest.Server, p *scaleProc, e scaleEnv) spreadResult {
	gh.ResetCounts()
	durs := make([]time.Duration, e.checks)
	var next atomic.Int64
	var non200 atomic.Int32
	var wg sync.WaitGroup
	cpu := cpuSeconds(b, p.pid)
	start := time.Now()
	for range e.conns {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < e.checks; i = int(next.Add(1) - 1) {
				url := p.url + "/" + scaleSlug(i%e.apps) + "/linux/x86_64/0.0.1"
				t := time.Now()
				status, _ := scaleGet(url)
				durs[i] = time.Since(t)
				if status != 200 {
					non200.Add(1)
				}
			}
		})
	}
	wg.Wait()
	r := spreadResult{checks: e.checks, non200: int(non200.Load()), took: time.Since(start), cpu: cpuSeconds(b, p.pid) - cpu}
	slices.Sort(durs)
	r.p50, r.p99, r.max = durs[len(durs)/2], durs[len(durs)*99/100], durs[len(durs)-1]
	counts := gh.Counts()
	r.listings, r.notMod, r.sigs, r.api = counts[scaleRouteList], counts["304"], counts[scaleRouteDownload], gh.APICalls()
	r.full = r.listings - r.notMod
	return r
}

// --- 5: steady state per TTL ---

type ttlResult struct {
	apps, periods, checks        int
	ttl, took                    time.Duration
	listings, notMod, sigs, api  int
	listingsPerAppTTL, apiPerApp float64
}

func (r ttlResult) String() string {
	return fmt.Sprintf("%.2f listings per app per TTL (%s of %s answered 304), %.2f API calls per app per TTL, %s .sig reads; counted over %s checks in %s after one TTL not counted",
		r.listingsPerAppTTL, scaleComma(r.notMod), scaleComma(r.listings), r.apiPerApp, scaleComma(r.sigs), scaleComma(r.checks), scaleSecs(r.took))
}

// scaleTTL warms ttlApps apps with a short --cache-ttl, then checks every
// app 10 times per TTL: one TTL not counted (every app refreshes once, so
// that the first refreshes after startup are behind), then ttlPeriods TTLs
// over which the upstream calls are counted. A refresh starts only on the
// first check after the TTL, so its period is a TTL plus up to a tenth, and
// the apps, warmed together, refresh in step: expect a little under one
// listing per app per TTL.
func scaleTTL(b *testing.B, bin string, e scaleEnv) ttlResult {
	gh := scaleAppsGitHub(b, e.ttlApps)
	config := scaleConfig(b, e.ttlApps)
	p := scaleServe(b, bin, gh, "--config", config, "--max-cached-apps", strconv.Itoa(e.ttlApps), "--cache-ttl", e.ttl.String())
	defer p.stop()
	for i := range e.ttlApps {
		url := p.url + "/" + scaleSlug(i) + "/linux/x86_64/0.0.1"
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if status, _ := scaleGet(url); status == 200 || time.Now().After(deadline) {
				break
			}
		}
	}
	r := ttlResult{apps: e.ttlApps, periods: e.ttlPeriods, ttl: e.ttl}
	tick, lead := e.ttl/10, e.ttl
	start := time.Now()
	end := start.Add(lead + time.Duration(e.ttlPeriods)*e.ttl)
	var counted time.Time
	for round := 0; ; round++ {
		at := start.Add(time.Duration(round) * tick)
		if !at.Before(end) {
			break
		}
		time.Sleep(time.Until(at))
		if counted.IsZero() && !at.Before(start.Add(lead)) {
			gh.ResetCounts()
			counted = time.Now()
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range e.conns {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < e.ttlApps; i = int(next.Add(1) - 1) {
					scaleGet(p.url + "/" + scaleSlug(i) + "/linux/x86_64/0.0.1")
				}
			})
		}
		wg.Wait()
		if !counted.IsZero() {
			r.checks += e.ttlApps
		}
	}
	time.Sleep(time.Until(end))
	r.took = time.Since(counted)
	counts := gh.Counts()
	r.listings, r.notMod, r.sigs, r.api = counts[scaleRouteList], counts["304"], counts[scaleRouteDownload], gh.APICalls()
	periods := r.took.Seconds() / e.ttl.Seconds()
	r.listingsPerAppTTL = float64(r.listings) / float64(e.ttlApps) / periods
	r.apiPerApp = float64(r.api) / float64(e.ttlApps) / periods
	return r
}

// --- formatting and /proc ---

// scaleProcStatus reads a field of /proc/PID/status in bytes (0 without /proc).
func scaleProcStatus(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

func scaleLoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

func scaleMiB(bytes float64) float64 { return bytes / (1 << 20) }

func scaleSecs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func scaleMs(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1e3) }

// comma formats n with thousands separators: 12,345.
func scaleComma(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + scaleComma(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

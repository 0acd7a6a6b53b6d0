package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
)

// The load benchmark runs `otapub serve` as its own process on loopback
// beside a minimal net/http server (this test binary, re-executed) that
// answers every request as otapub does, loads both alike, and prints
// requests/s for each, their ratio, and otapub's peak RSS. It does so for
// each route round: the check (otapub serving a folder, the minimal server a
// fixed body of the same bytes), the check during a staged rollout, /download/{tag}/{asset} of a public
// repository (otapub in front of the fake GitHub, the minimal server the
// same 302: status, Location and Cache-Control), the hot-swap check
// /ota/{current_sequence} (otapub serving a folder of bundles as otapub
// pull leaves them, the minimal server the same body), update-electron-app's
// Squirrel.Mac check /{owner}/{repo}/darwin-arm64/{version} of a public
// repository, electron-updater's /electron/latest.yml (each against the
// minimal server's same body and Content-Type), and hazel's /download for
// a browser on Windows (against the same 302). Run it with:
//
//	go test ./cmd/otapub -run '^$' -bench ServeLoad -benchtime 1x
//
// OTAPUB_LOAD_SECONDS (default 2), OTAPUB_LOAD_ROUNDS (default 15),
// OTAPUB_LOAD_CONNS (default 64), OTAPUB_LOAD_ROUTES (default
// check,rollout,download,ota,squirrel,electron,website) and OTAPUB_LOAD_FLAGS (extra serve flags) tune it. On a
// shared 2-core machine one round's ratio swings by ±0.1, so many short
// rounds, alternating the two servers, give a steadier median than a few
// long ones.

const minimalEnv = "OTAPUB_BENCH_MINIMAL_SERVER"

// runMinimalServer is the baseline: net/http and a fixed answer, nothing
// else: the body, or with _LOCATION set, a 302 there, with otapub's
// Cache-Control either way (the same bytes on the wire).
func runMinimalServer(addr string) {
	body := []byte(os.Getenv(minimalEnv + "_BODY"))
	location := []string{os.Getenv(minimalEnv + "_LOCATION")}
	cacheControl := []string{os.Getenv(minimalEnv + "_CACHE_CONTROL")}
	contentType := []string{cmp.Or(os.Getenv(minimalEnv+"_CONTENT_TYPE"), "application/json")}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cacheControl[0] != "" {
			w.Header()["Cache-Control"] = cacheControl
		}
		if location[0] != "" {
			w.Header()["Location"] = location
			w.WriteHeader(http.StatusFound)
			return
		}
		w.Header()["Content-Type"] = contentType
		_, _ = w.Write(body)
	})
	if err := http.ListenAndServe(addr, h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func BenchmarkServeLoad(b *testing.B) {
	seconds := envInt("OTAPUB_LOAD_SECONDS", 2)
	conns := envInt("OTAPUB_LOAD_CONNS", 64)
	rounds := envInt("OTAPUB_LOAD_ROUNDS", 15)
	routes := cmp.Or(os.Getenv("OTAPUB_LOAD_ROUTES"), "check,rollout,download,ota,squirrel,electron,website")
	dir := b.TempDir()
	bin := otapubBinary(b)
	flags := strings.Fields(os.Getenv("OTAPUB_LOAD_FLAGS"))
	gen := "Go client"
	if _, err := exec.LookPath("wrk"); err == nil {
		gen = "wrk"
	}

	// Each round: otapub serve from its source, and the minimal server
	// answering exactly what otapub answered for path.
	type round struct {
		name, path string
		status     int
		serve      func() []string // otapub serve's source flags
		want       string          // in otapub's answer, when set
		header     string          // a request header, "Name: value", when set
	}
	bundles := filepath.Join(dir, "bundles")
	// electronRepo is a public repository with electron-builder's release.
	electronRepo := func() []string {
		gh := githubsrctest.NewServer(b)
		gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: readFixture(b, "electron/v1.2.0")})
		return []string{"--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL}
	}
	for _, rd := range []round{
		{name: "check", path: "/windows/x86_64/1.0.0", status: http.StatusOK, serve: func() []string {
			releases := filepath.Join(dir, "releases")
			for _, src := range []string{"tauri-v2/v1.2.0", "tauri-v1/v1.1.0"} {
				copyDir(b, filepath.Join("../../testdata/fixtures", src), filepath.Join(releases, filepath.Base(src)))
			}
			return []string{"--dir", releases}
		}},
		// The check while the newest release is in a staged rollout: every
		// request is bucketed (by the client's address, as without a header).
		{name: "rollout", path: "/windows/x86_64/1.0.0", status: http.StatusOK, serve: func() []string {
			releases := filepath.Join(dir, "rollout")
			for _, src := range []string{"tauri-v2/v1.2.0", "tauri-v1/v1.1.0"} {
				copyDir(b, filepath.Join("../../testdata/fixtures", src), filepath.Join(releases, filepath.Base(src)))
			}
			writeFiles(b, filepath.Join(releases, "v1.2.0"), map[string][]byte{
				"release.json": []byte(`{"notes":"Staged.\n<!-- otapub:rollout percent=50 -->","published_at":"2026-11-20T10:00:00Z"}`),
			})
			return []string{"--dir", releases}
		}},
		{name: "download", path: "/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe", status: http.StatusFound, serve: func() []string {
			gh := githubsrctest.NewServer(b)
			gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: readFixture(b, "tauri-v2/v1.2.0")})
			return []string{"--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL}
		}},
		{name: "ota", path: "/ota/2?binary_version=1.2.0&platform=macos&arch=aarch64", status: http.StatusOK, want: `"sequence":7`, serve: func() []string {
			writeBundles(b, bundles)
			return []string{"--dir", bundles}
		}},
		{name: "squirrel", path: "/demo-org/demo-app/darwin-arm64/1.0.0", status: http.StatusOK, want: `-arm64-mac.zip"`, serve: electronRepo},
		{name: "electron", path: "/electron/latest.yml?noCache=1abc2def", status: http.StatusOK, want: "version: 1.2.0", serve: electronRepo},
		// A website's one download button (hazel's /download): the
		// browser's platform read from its User-Agent, then a 302.
		{name: "website", path: "/download", status: http.StatusFound, serve: electronRepo,
			header: "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
	} {
		if !slices.Contains(strings.Split(routes, ","), rd.name) {
			continue
		}
		otapubAddr := freeAddr(b)
		args := append(append([]string{"serve"}, rd.serve()...), "--listen", otapubAddr, "--public-url", "http://"+otapubAddr)
		otapub := start(b, exec.Command(bin, append(args, flags...)...))
		resp := waitFor(b, "http://"+otapubAddr+rd.path, rd.header, rd.status)
		body, _ := io.ReadAll(resp.Body)
		if rd.want != "" && !bytes.Contains(body, []byte(rd.want)) {
			b.Fatalf("GET %s = %s, want %s", rd.path, body, rd.want)
		}
		minimalAddr := freeAddr(b)
		minimal := exec.Command(os.Args[0])
		minimal.Env = append(os.Environ(), minimalEnv+"="+minimalAddr, minimalEnv+"_BODY="+string(body),
			minimalEnv+"_CONTENT_TYPE="+resp.Header.Get("Content-Type"), minimalEnv+"_CACHE_CONTROL="+resp.Header.Get("Cache-Control"))
		if rd.status == http.StatusFound {
			minimal.Env = append(minimal.Env, minimalEnv+"_LOCATION="+resp.Header.Get("Location"))
		}
		start(b, minimal)
		base := waitFor(b, "http://"+minimalAddr+rd.path, rd.header, rd.status)
		for _, h := range []string{"Cache-Control", "Content-Type", "Location"} {
			if got, want := base.Header.Get(h), resp.Header.Get(h); got != want {
				b.Fatalf("the minimal server's %s is %q, otapub's %q: the two must answer alike", h, got, want)
			}
		}
		med := loadRounds(b, gen, rd.path, rd.header, conns, rounds, seconds, [2]*exec.Cmd{minimal, otapub}, [2]string{minimalAddr, otapubAddr})
		prefix := rd.name + "-"
		if rd.name == "check" {
			prefix = "" // the metrics' names before there were other rounds
			b.ReportMetric(peakRSS(b, otapub.Process.Pid)/(1<<20), "otapub-peak-RSS-MiB")
		}
		b.ReportMetric(med.otapub, prefix+"otapub-req/s")
		b.ReportMetric(med.minimal, prefix+"minimal-req/s")
		b.ReportMetric(med.otapub/med.minimal, prefix+"ratio")
	}
}

// writeBundles lays out eight hot-swap bundles, one folder per tag, as
// serve --dir reads them (every fourth on the beta channel).
func writeBundles(b *testing.B, bundles string) {
	_, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for seq := 1; seq <= 8; seq++ {
		archive := githubsrctest.TarGz(map[string]string{"index.html": fmt.Sprintf("<title>bundle %d</title>", seq)})
		meta := ota.Metadata{Format: ota.FormatVersion, Sequence: uint64(seq), Version: fmt.Sprintf("1.4.0-ota.%d", seq),
			MinBinaryVersion: fmt.Sprintf("1.%d.0", seq/3), Archive: "dist.tar.gz", BundleSize: int64(len(archive))}
		if seq%4 == 0 {
			meta.Channel = "beta"
		}
		writeFiles(b, filepath.Join(bundles, fmt.Sprintf("ota-%d", seq)), map[string][]byte{
			"dist.tar.gz":     archive,
			"dist.tar.gz.sig": []byte(base64.StdEncoding.EncodeToString(minisign.Sign(priv, archive))),
			ota.MetadataName:  meta.Encode(),
			"release.json":    []byte(`{"notes":"Bundle notes","published_at":"2026-11-20T10:00:00Z"}`),
		})
	}
}

func writeFiles(b *testing.B, dir string, files map[string][]byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

type loadRound struct{ minimal, otapub, cpuMinimal, cpuOtapub float64 }

// loadRounds loads the minimal server and otapub (procs and addrs, in that
// order) in rounds that pair them back to back, so that drift in the
// machine's speed hits both alike, prints every round, and returns the
// median.
func loadRounds(b *testing.B, gen, path, header string, conns, rounds, seconds int, procs [2]*exec.Cmd, addrs [2]string) loadRound {
	measure := func(i int) (rps, cpuPerReq float64) {
		pid := procs[i].Process.Pid
		before := cpuSeconds(b, pid)
		begin := time.Now()
		rps = load(b, "http://"+addrs[i]+path, header, conns, time.Duration(seconds)*time.Second)
		requests := rps * time.Since(begin).Seconds()
		return rps, (cpuSeconds(b, pid) - before) / requests
	}
	var rs []loadRound
	for i := range rounds {
		// Alternate which goes first: measured against itself this way,
		// net/http scored 0.99 going second.
		var r loadRound
		if i%2 == 0 {
			r.minimal, r.cpuMinimal = measure(0)
			r.otapub, r.cpuOtapub = measure(1)
		} else {
			r.otapub, r.cpuOtapub = measure(1)
			r.minimal, r.cpuMinimal = measure(0)
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(x, y loadRound) int { return cmp.Compare(x.otapub/x.minimal, y.otapub/y.minimal) })
	med := rs[len(rs)/2]
	rss := peakRSS(b, procs[1].Process.Pid)
	fmt.Printf("load (%s) %s, %d connections, %d rounds of %ds per server:\n", gen, path, conns, rounds, seconds)
	for _, r := range rs {
		fmt.Printf("  round: minimal %.0f req/s (%.1f µs CPU each), otapub %.0f req/s (%.1f µs CPU each), ratio %.2f\n",
			r.minimal, r.cpuMinimal*1e6, r.otapub, r.cpuOtapub*1e6, r.otapub/r.minimal)
	}
	q1, q3 := rs[len(rs)/4], rs[len(rs)*3/4]
	fmt.Printf("  median: minimal net/http %.0f req/s, otapub serve %.0f req/s, ratio %.2f (quartiles %.2f–%.2f)\n  otapub peak RSS: %.1f MiB\n",
		med.minimal, med.otapub, med.otapub/med.minimal, q1.otapub/q1.minimal, q3.otapub/q3.minimal, rss/(1<<20))
	return med
}

// readFixture reads a fixture release folder into asset bytes by name.
func readFixture(b *testing.B, dir string) map[string][]byte {
	entries, err := os.ReadDir(filepath.Join("../../testdata/fixtures", dir))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../../testdata/fixtures", dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func start(b *testing.B, cmd *exec.Cmd) *exec.Cmd {
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	return cmd
}

// waitFor polls url until it answers status and returns the answer, its
// body read (the client does not follow redirects).
func waitFor(b *testing.B, url, header string, status int) *http.Response {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Do(request(url, header)); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == status {
				resp.Body = io.NopCloser(bytes.NewReader(body))
				return resp
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%s did not answer %d", url, status)
	return nil
}

// request is a GET of url with header ("Name: value") when it is set.
func request(url, header string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if name, value, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(name, value)
	}
	return req
}

// load sends GETs to url (with header, when set) from conns keep-alive
// connections for d and returns the rate of 200 (or 302) answers. It uses wrk when it is installed (Debian
// package wrk: a C load generator that leaves more CPU to the servers), a
// Go client otherwise. Its request loops end with d.
func load(b *testing.B, url, header string, conns int, d time.Duration) float64 {
	if wrk, err := exec.LookPath("wrk"); err == nil {
		return loadWrk(b, wrk, url, header, conns, d)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range conns {
		wg.Go(func() {
			req := request(url, header).WithContext(ctx)
			for ctx.Err() == nil {
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusFound {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Errorf("%s: %d requests failed", url, n)
	}
	return float64(ok.Load()) / time.Since(begin).Seconds()
}

func loadWrk(b *testing.B, wrk, url, header string, conns int, d time.Duration) float64 {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", url}
	if header != "" {
		args = append(args, "-H", header)
	}
	out, err := exec.Command(wrk, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		b.Errorf("wrk saw errors:\n%s", out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Requests/sec:"); ok {
			rps, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return rps
		}
	}
	b.Fatalf("wrk printed no rate:\n%s", out)
	return 0
}

// cpuSeconds reads a process's user+system CPU time from /proc.
func cpuSeconds(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ is 100 on Linux
}

// peakRSS reads a process's high-water resident set (VmHWM) in bytes.
func peakRSS(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Logf("no /proc: peak RSS unknown: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

func copyDir(b *testing.B, from, to string) {
	if err := os.MkdirAll(to, 0o755); err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUploadRSS uploads a 1 GiB file (OTAPUB_BENCH_UPLOAD_MIB) with
// the real otapub binary to a fake GitHub that keeps only digests, and
// prints otapub's peak RSS (goal: ≤ 64 MiB: memory must not grow with
// file size).
//
//	go test ./cmd/otapub -run '^$' -bench UploadRSS -benchtime 1x
func BenchmarkUploadRSS(b *testing.B) {
	mib := envInt("OTAPUB_BENCH_UPLOAD_MIB", 1024)
	dir := b.TempDir()
	bin := otapubBinary(b)
	path := filepath.Join(dir, "DemoApp_1.0.0_amd64.AppImage")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for range mib {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	f.Close()
	gh := githubsrctest.NewServer(b)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	gh.SetDiscardUploads(true)
	cmd := exec.Command(bin, "upload", "v1.0.0", path, "--repo", "demo-org/demo-app")
	cmd.Env = append(os.Environ(), "GITHUB_API_URL="+gh.APIURL, "GITHUB_TOKEN="+githubsrctest.Token, "GITHUB_ACTIONS=", "GITHUB_OUTPUT=", "GITHUB_STEP_SUMMARY=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("otapub upload: %v\n%s", err, out)
	}
	took := time.Since(start)
	rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB -> MiB
	b.ReportMetric(rss, "peak-RSS-MiB")
	b.ReportMetric(float64(mib)/took.Seconds(), "MiB/s")
	fmt.Printf("otapub upload of %d MiB (hash, then upload): %v, peak RSS %.1f MiB\n", mib, took.Round(time.Millisecond), rss)
}

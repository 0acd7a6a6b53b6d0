package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

const testdata = "../../testdata"

func fixtureAssets(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(testdata, "fixtures", dir))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(testdata, "fixtures", dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for a server's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInProcess runs `otapub serve args...` in this process until the test ends.
func serveInProcess(t *testing.T, env map[string]string, args ...string) (addr string, stderr *syncBuffer) {
	t.Helper()
	addr, stderr, _ = startServe(t, env, args...)
	return addr, stderr
}

// startServe is serveInProcess that also returns stop, which ends the
// server before the test does; once it returns, stderr holds every line
// the server logged (serve flushes its log writer as it exits).
func startServe(t *testing.T, env map[string]string, args ...string) (addr string, stderr *syncBuffer, stop func()) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	addr = freePort(t)
	stderr = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	if _, set := env["OTAPUB_PUBLIC_URL"]; !set && !slices.Contains(args, "--public-url") && !slices.Contains(args, "--config") {
		args = append(args, "--public-url", "http://"+addr)
	}
	inProcess.Lock() // until the server answers: its command line is parsed by then
	locked := true
	defer func() {
		if locked {
			inProcess.Unlock()
		}
	}()
	go func() {
		done <- run(ctx, append([]string{"otapub", "serve", "--listen", addr}, args...), io.Discard, stderr)
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr)
		}
	})
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			locked = false
			inProcess.Unlock()
			return addr, stderr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeFromEnvironment(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: fixtureAssets(t, "tauri-v2/v1.2.0")})
	addr, _ := serveInProcess(t, map[string]string{
		"GITHUB_REPOSITORY": "demo-org/demo-app",
		"GITHUB_API_URL":    gh.APIURL,
		"OTAPUB_PUBLIC_URL": "https://updates.example.com/",
		"OTAPUB_BASE_PATH":  "/api/sync/ota",
	})
	resp, err := http.Get("http://" + addr + "/api/sync/ota/windows/x86_64/1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ Version, URL string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("check = %d, %v", resp.StatusCode, err)
	}
	if a.Version != "1.2.0" || a.URL != "https://updates.example.com/api/sync/ota/download/v1.2.0/DemoApp_1.2.0_x64-setup.exe" {
		t.Errorf("answer %+v", a)
	}
}

func TestServeConfigFile(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: "desktop-v1.2.0", Assets: fixtureAssets(t, "tauri-v2/v1.2.0")})
	releases := t.TempDir()
	copyTree(t, filepath.Join(testdata, "fixtures", "tauri-v1", "v1.1.0"), filepath.Join(releases, "v1.1.0"))
	cfg := filepath.Join(t.TempDir(), "apps.yml")
	writeFile(t, cfg, `
defaults:
  github_api_url: `+gh.APIURL+`
apps:
  private:
    repo: demo-org/private-app
    token_env: PRIVATE_APP_TOKEN
    tag_prefix: desktop-
    windows_installer: msi
  offline:
    dir: `+releases+`
`)
	addr, _ := serveInProcess(t, map[string]string{"PRIVATE_APP_TOKEN": githubsrctest.Token, "GITHUB_TOKEN": ""},
		"--config", cfg, "--public-url", "https://u.example.com")
	for path, want := range map[string]string{
		"/private/windows/x86_64/1.0.0": "https://u.example.com/private/download/desktop-v1.2.0/DemoApp_1.2.0_x64_en-US.msi",
		"/offline/linux/x86_64/1.0.0":   "https://u.example.com/offline/download/v1.1.0/DemoApp_1.1.0_amd64.AppImage.tar.gz",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ URL string }
		_ = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if resp.StatusCode != 200 || a.URL != want {
			t.Errorf("%s = %d %s, want %s", path, resp.StatusCode, a.URL, want)
		}
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, args, want string
	}{
		{"nothing to serve", "", "", "nothing to serve"},
		{"unknown field", "apps:\n  a:\n    repo: o/r\n    tag_prefx: x\n", "", "field tag_prefx not found"},
		{"token in the file", "apps:\n  a:\n    repo: o/r\n    token: ghp_x\n", "", "must not hold secrets"},
		{"token env unset", "apps:\n  a:\n    repo: o/r\n    token_env: NOT_SET_ANYWHERE\n", "", "NOT_SET_ANYWHERE, which is not set"},
		{"no apps", "defaults:\n  private: true\n", "", "no apps"},
		{"single-app flag with config", "apps:\n  a:\n    repo: o/r\n", "--private", "--private applies to one app"},
		{"bad log level", "", "--repo o/r --log-level loud", "--log-level"},
		{"arguments", "", "--repo o/r extra", "serve takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GITHUB_REPOSITORY", "")
			args := []string{"otapub", "serve", "--listen", "127.0.0.1:0"}
			if tt.file != "" {
				path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yml")
				writeFile(t, path, tt.file)
				args = append(args, "--config", path)
			}
			args = append(args, strings.Fields(tt.args)...)
			var stderr bytes.Buffer
			code := run(t.Context(), args, io.Discard, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

// TestServeNeverPrintsTheToken sends a token GitHub refuses and checks that
// neither the logs nor the answers carry it.
func TestServeNeverPrintsTheToken(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{Private: true})
	const secret = "ghp_thisTokenMustNeverBePrinted000000"
	addr, stderr, stop := startServe(t, map[string]string{"GITHUB_TOKEN": secret},
		"--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL, "--log-level", "debug")
	var bodies strings.Builder
	for _, p := range []string{"/windows/x86_64/1.0.0", "/download/v1.0.0/a.exe", "/latest.json", "/metrics"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies.Write(b)
		for k, v := range resp.Header {
			bodies.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
	}
	stop() // and so every line it logged is in stderr
	if strings.Contains(stderr.String(), secret) || strings.Contains(bodies.String(), secret) {
		t.Error("the token was printed")
	}
	if !strings.Contains(stderr.String(), "401") {
		t.Errorf("the refused token left no trace in the logs:\n%s", stderr)
	}
}

// TestServeGracefulShutdown sends SIGTERM to a real otapub process while a
// request is in flight: the request completes and the process exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: fixtureAssets(t, "tauri-v2/v1.2.0")})
	// The first refresh, and so the first check, is held until otapub has
	// begun to shut down.
	release := make(chan struct{})
	gh.Inject(githubsrctest.Fault{Match: "GET /api/v3/repos/demo-org/demo-app/releases", Hold: release})
	bin := otapubBinary(t)
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL, "--listen", addr, "--public-url", "http://"+addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logsDone := make(chan struct{})
	go func() { _, _ = io.Copy(&logs, stderr); close(logsDone) }()
	waitUp(t, "http://"+addr+"/healthz")

	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/windows/x86_64/1.0.0")
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	// The check found no snapshot and waits for the first refresh, which
	// GitHub holds.
	waitMetric(t, "http://"+addr+"/metrics", "otapub_cache_misses_total 1", func() bool { return len(got) > 0 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &logs, "shutting down")
	if len(got) > 0 {
		t.Fatalf("the check was answered before GitHub was: %+v", <-got)
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != 200 {
		t.Errorf("in-flight check after SIGTERM: %d, %v; want 200", r.status, r.err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	<-logsDone
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown in the logs:\n%s", logs.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still answering after exit")
	}
}

// waitLog waits until logs holds text.
func waitLog(t *testing.T, logs *syncBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the logs never read %q:\n%s", text, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMetric polls the metrics at url until one line reads line, or until done.
func waitMetric(t *testing.T, url, line string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if slices.Contains(strings.Split(string(b), "\n"), line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never read %q:\n%s", url, line, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func TestHealthcheck(t *testing.T) {
	addr, _ := serveInProcess(t, map[string]string{"OTAPUB_BASE_PATH": "/ota"}, "--dir", filepath.Join(testdata, "demo"))
	_, port, _ := net.SplitHostPort(addr)
	t.Setenv("PORT", port)
	if code, stdout, stderr := otapub(t, "healthcheck"); code != 0 || !strings.Contains(stdout, "healthy") {
		t.Errorf("healthcheck of a running server: exit %d %s %s", code, stdout, stderr)
	}
	t.Setenv("PORT", strings.TrimPrefix(freePort(t), "127.0.0.1:"))
	if code, _, stderr := otapub(t, "healthcheck --timeout 1s"); code == 0 || !strings.Contains(stderr, "unhealthy") {
		t.Errorf("healthcheck with nothing listening: exit %d %s", code, stderr)
	}
}

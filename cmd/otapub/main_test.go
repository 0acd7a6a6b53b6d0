package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"aead.dev/minisign"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(minimalEnv); addr != "" {
		runMinimalServer(addr) // BenchmarkServeLoad's baseline, this binary re-executed
		return
	}
	dir, err := os.MkdirTemp("", "otapub-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	parsePrivateKey = memoParsePrivateKey(parsePrivateKey)
	code := m.Run()
	shared.wait()
	os.RemoveAll(dir)
	os.Exit(code)
}

// shared is the otapub binary that the tests and benchmarks which run a
// real process share: built once per package run, as the release is built
// (and as .github/action/build.sh builds it, so that the simulated
// runner's build from source finds every package compiled).
var shared sharedBinary

type sharedBinary struct {
	dir     string
	once    sync.Once
	started sync.WaitGroup
	done    chan struct{}
	path    string
	err     error
}

// startBuild starts building the shared binary unless it has begun. Tests
// call it before t.Parallel, so that the build overlaps the serial tests.
func startBuild() {
	shared.once.Do(func() {
		shared.done = make(chan struct{})
		shared.started.Add(1)
		go func() {
			defer shared.started.Done()
			defer close(shared.done)
			path := filepath.Join(shared.dir, "otapub")
			cmd := exec.Command("go", "build", "-trimpath", "-o", path, ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				shared.err = fmt.Errorf("go build: %v\n%s", err, out)
				return
			}
			shared.path = path
		}()
	})
}

// wait waits for a started build, so that its folder can be removed.
func (b *sharedBinary) wait() { b.started.Wait() }

// otapubBinary returns the shared otapub binary, building it if need be.
func otapubBinary(tb testing.TB) string {
	tb.Helper()
	startBuild()
	<-shared.done
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.path
}

// memoParsePrivateKey returns parse, remembering each answer (the key or
// the error) by key text and password: the tests sign with one key many
// times in one process, and each real call derives the key with scrypt
// (about 0.1 s of CPU and 32 MiB). Every distinct key and password, a wrong
// password included, still goes through parse once.
func memoParsePrivateKey(parse func(key, password string) (minisign.PrivateKey, error)) func(key, password string) (minisign.PrivateKey, error) {
	type answer struct {
		key minisign.PrivateKey
		err error
	}
	var mu sync.Mutex
	seen := map[[2]string]answer{}
	return func(key, password string) (minisign.PrivateKey, error) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := seen[[2]string{key, password}]
		if !ok {
			a.key, a.err = parse(key, password)
			seen[[2]string{key, password}] = a
		}
		return a.key, a.err
	}
}

// goEnv returns `go env name`, asked once per run for every name the tests use.
func goEnv(t testing.TB, name string) string {
	t.Helper()
	goEnvOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
		if err != nil {
			goEnvErr = err
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		goEnvValues = map[string]string{"GOCACHE": lines[0], "GOMODCACHE": lines[len(lines)-1]}
	})
	if goEnvErr != nil {
		t.Fatal(goEnvErr)
	}
	v, ok := goEnvValues[name]
	if !ok {
		t.Fatalf("goEnv: %s is not among the names asked for", name)
	}
	return v
}

var (
	goEnvOnce   sync.Once
	goEnvValues map[string]string
	goEnvErr    error
)

// requireUpdaterClient skips the test, before it does any work, when the
// real cargo-packager updater client is not installed (and fails it under
// CI), as githubsrctest.CargoPackager would only once it is called.
func requireUpdaterClient(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("node")
	_, serr := os.Stat(filepath.Join(testdata, "e2e", "node_modules", "@crabnebula", "updater-linux-x64-gnu", "package.json"))
	if err != nil || serr != nil {
		msg := "the cargo-packager updater client is not installed: run npm install --prefix testdata/e2e (needs Node.js)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

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
	if runsAsOtapub(os.Args[0]) {
		main() // otapubBinary's copy of this binary, run by a test as otapub
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

// runsAsOtapub reports whether this test binary was started under one of
// otapub's names (otapub, or otapub_linux_amd64 as the action fetches it)
// rather than as the test binary (otapub.test), and so is to run otapub's
// main.
func runsAsOtapub(arg0 string) bool {
	name := strings.TrimSuffix(filepath.Base(arg0), ".exe")
	return (name == "otapub" || strings.HasPrefix(name, "otapub_")) && !strings.HasSuffix(name, ".test")
}

// otapubBinary returns the path of an otapub executable for the tests that
// run a real process (signals, SIGKILL, the action's fetched binary).
//
// For tests it is this test binary, hard-linked (or copied) as otapub into
// the run's folder: TestMain runs main when started under that name. The
// test binary holds all of package main, so no second link is needed; a go
// build of otapub costs about 2 s of CPU, and the action test's
// build-from-source step (.github/action/build.sh) does one of its own.
//
// For benchmarks, which measure the process, it is otapub built as the
// release is (CGO_ENABLED=0, -trimpath), once per run.
func otapubBinary(tb testing.TB) string {
	tb.Helper()
	if _, ok := tb.(*testing.B); ok {
		return releaseBinary(tb)
	}
	self.once.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			self.err = err
			return
		}
		path := filepath.Join(shared.dir, "otapub")
		if err := os.Link(exe, path); err != nil {
			self.err = copyExecutable(exe, path)
		}
		if self.err == nil {
			self.path = path
		}
	})
	if self.err != nil {
		tb.Fatal(self.err)
	}
	return self.path
}

var self struct {
	once sync.Once
	path string
	err  error
}

func copyExecutable(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// shared is otapub built as the release is (and as
// .github/action/build.sh builds it), for the benchmarks: built once per
// package run, on the first benchmark that asks.
var shared sharedBinary

type sharedBinary struct {
	dir     string
	once    sync.Once
	started sync.WaitGroup
	done    chan struct{}
	path    string
	err     error
}

// start starts building the shared binary unless it has begun.
func (b *sharedBinary) start() {
	b.once.Do(func() {
		b.done = make(chan struct{})
		b.started.Add(1)
		go func() {
			defer b.started.Done()
			defer close(b.done)
			path := filepath.Join(b.dir, "otapub-release")
			cmd := exec.Command("go", "build", "-trimpath", "-o", path, ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.err = fmt.Errorf("go build: %v\n%s", err, out)
				return
			}
			b.path = path
		}()
	})
}

// wait waits for a started build, so that its folder can be removed.
func (b *sharedBinary) wait() { b.started.Wait() }

// releaseBinary returns the shared release-built binary, building it if need be.
func releaseBinary(tb testing.TB) string {
	tb.Helper()
	shared.start()
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

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

// inProcess serializes the command lines tests run in this process:
// urfave/cli v2 shares one HelpFlag between apps and writes to it while
// parsing, so two parses at once race (parallel tests).
var inProcess sync.Mutex

// otapub runs the command line in this process and returns exit status,
// stdout and stderr.
func otapub(t *testing.T, args string) (int, string, string) {
	t.Helper()
	inProcess.Lock()
	defer inProcess.Unlock()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"otapub"}, strings.Fields(args)...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func copyFixture(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(dir))
	copyTree(t, filepath.Join(testdata, "fixtures", dir), out)
	return out
}

func TestUploadVerifyPublishCommands(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	outputs := filepath.Join(t.TempDir(), "outputs")
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_REPOSITORY", "demo-org/demo-app")
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	t.Setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_OUTPUT", outputs)
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	dir := copyFixture(t, "tauri-v2/v1.2.0")
	pub := filepath.Join(testdata, "fixtures", "keys", "test.key.pub")
	require := "--require darwin-aarch64,darwin-x86_64,linux-x86_64,windows-x86_64"

	// Flags after the positional arguments, as people type them.
	code, stdout, stderr := otapub(t, "upload v1.2.0 "+dir+" --pubkey-file "+pub+" --concurrency 3")
	if code != 0 {
		t.Fatalf("upload exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"::group::otapub upload v1.2.0", "every signature verifies", "skipping " + filepath.Join(dir, "latest.json"), "uploaded 19, skipped 0 of 19 files", "(new draft)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("upload output lacks %q:\n%s", want, stdout)
		}
	}
	out, _ := os.ReadFile(outputs)
	if !strings.Contains(string(out), "uploaded=19") || !strings.Contains(string(out), "release-url=") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	if s, _ := os.ReadFile(summary); !strings.Contains(string(s), "| `DemoApp_1.2.0_x64-setup.exe` | 40000 | upload |") {
		t.Errorf("step summary:\n%s", s)
	}

	// Again: nothing new.
	if code, stdout, _ := otapub(t, "upload v1.2.0 "+dir); code != 0 || !strings.Contains(stdout, "uploaded 0, skipped 19 of 19") {
		t.Errorf("re-run: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = otapub(t, "verify v1.2.0 "+require+" --pubkey-file "+pub)
	if code != 0 || !strings.Contains(stdout, "complete: demo-org/demo-app@v1.2.0 is ready to publish") || !strings.Contains(stdout, "8 signatures checked") {
		t.Errorf("verify exit %d\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "PLATFORM") || !strings.Contains(stdout, "windows-x86_64-nsis") {
		t.Errorf("verify table:\n%s", stdout)
	}

	// An incomplete release: exit 1, the problem named, annotated for Actions.
	code, stdout, stderr = otapub(t, "verify v1.2.0 --require linux-aarch64 --json")
	var rep struct {
		Complete bool
		Problems []struct{ Platform, Message, Fix string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify --json printed %q: %v", stdout, err)
	}
	if code != 1 || rep.Complete || len(rep.Problems) != 1 || rep.Problems[0].Platform != "linux-aarch64" || rep.Problems[0].Fix == "" {
		t.Errorf("verify of a missing platform: exit %d, %+v", code, rep)
	}
	if !strings.Contains(stderr, "::error::linux-aarch64: no signed updater payload") {
		t.Errorf("no annotation:\n%s", stderr)
	}
	if code, _, _ := otapub(t, "publish v1.2.0 --require linux-aarch64"); code != 1 {
		t.Errorf("publish of an incomplete release: exit %d, want 1", code)
	}

	code, stdout, stderr = otapub(t, "publish v1.2.0 "+require+" --pubkey-file "+pub+" --latest true")
	if code != 0 || !strings.Contains(stdout, "published demo-org/demo-app@v1.2.0") || !strings.Contains(stdout, "/releases/download/v1.2.0/latest.json") {
		t.Fatalf("publish exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := otapub(t, "publish v1.2.0"); code != 0 || !strings.Contains(stdout, "already published") {
		t.Errorf("second publish: exit %d\n%s", code, stdout)
	}
	if strings.Contains(stdout+stderr, githubsrctest.Token) {
		t.Error("the token was printed")
	}
}

func TestPublisherCommandErrors(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	t.Setenv("GITHUB_REPOSITORY", "demo-org/demo-app")
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	t.Setenv("GITHUB_REF_TYPE", "")
	dir := copyFixture(t, "tauri-v2/v1.2.0")
	other := filepath.Join(testdata, "fixtures", "keys", "other.key.pub")
	tests := []struct {
		args string
		code int
		want string
	}{
		{"upload", 2, "no tag"},
		{"upload v1.2.0", 2, "no files"},
		{"upload v1.2.0 " + dir + " --pubkey nope", 2, "--pubkey: invalid public key"},
		{"upload v1.2.0 " + dir + " --pubkey-file " + other, 1, "do not verify against the public key; nothing was uploaded"},
		{"upload v1.3.0 " + dir, 1, "names version 1.2.0, but the tag v1.3.0 is 1.3.0"},
		{"upload v1.2.0 /nonexistent", 1, "no such file"},
		{"verify", 2, "no tag"},
		{"verify v1.2.0 --require freebsd-x86_64", 2, "unknown target"},
		{"verify v9.9.9", 1, "no draft or release for tag v9.9.9"},
		{"verify v1.2.0 extra", 2, "takes one TAG"},
		{"publish v1.2.0 --latest maybe", 2, "--latest"},
		{"verify v1.2.0 --repo nope", 2, "want owner/name"},
		{"sign", 2, "name the files"},
		{"keygen", 2, "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			code, stdout, stderr := otapub(t, tt.args)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
	t.Run("no token", func(t *testing.T) {
		t.Setenv("GITHUB_TOKEN", "")
		if code, _, stderr := otapub(t, "upload v1.2.0 "+dir); code != 2 || !strings.Contains(stderr, "needs a token") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
	t.Run("GitHub down", func(t *testing.T) {
		t.Setenv("GITHUB_API_URL", "http://127.0.0.1:1/api/v3/")
		// A refused connection is retried as the CLI retries it (every
		// attempt made), without the CLI's seconds of backoff: this test
		// is serial (t.Setenv), so no other test reads cliRetry meanwhile.
		fast := cliRetry
		fast.BaseDelay, fast.MaxDelay = time.Millisecond, time.Millisecond
		defer func(r githubsrc.Retry) { cliRetry = r }(cliRetry)
		cliRetry = fast
		if code, _, stderr := otapub(t, "verify v1.2.0"); code != 3 {
			t.Errorf("verify with GitHub unreachable: exit %d, want 3: %s", code, stderr)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		gh.SetRateLimit(0, timeNowPlusHour(), 403)
		if code, _, stderr := otapub(t, "verify v1.2.0"); code != 3 || !strings.Contains(stderr, "rate limit") {
			t.Errorf("verify while rate limited: exit %d, want 3: %s", code, stderr)
		}
	})
}

// TestKeygenSign makes a key pair and signs a payload with otapub, then has
// the real cargo-packager updater download and verify it through otapub
// serve --dir.
func TestKeygenSign(t *testing.T) {
	requireUpdaterClient(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "updater.key")
	t.Setenv(passwordEnv, "s3cret")
	if code, stdout, stderr := otapub(t, "keygen --out "+key); code != 0 || !strings.Contains(stdout, "plugins.updater.pubkey") {
		t.Fatalf("keygen: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := otapub(t, "keygen --out "+key); code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("keygen over an existing key: exit %d %s", code, stderr)
	}
	if info, _ := os.Stat(key); info.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode %v", info.Mode().Perm())
	}
	releases := filepath.Join(dir, "releases", "v2.0.0")
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(os.MkdirAll(releases, 0o755))
	payload := filepath.Join(releases, "DemoApp_2.0.0_amd64.AppImage")
	check(os.WriteFile(payload, bytes.Repeat([]byte("otapub"), 10000), 0o755))
	if code, stdout, stderr := otapub(t, "sign "+payload+" --private-key-file "+key+" --app-version 2.0.0"); code != 0 || !strings.Contains(stdout, "signed") {
		t.Fatalf("sign: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv(passwordEnv, "wrong")
	if code, _, stderr := otapub(t, "sign "+payload+" --private-key-file "+key); code != 1 || !strings.Contains(stderr, "wrong password") {
		t.Errorf("sign with the wrong password: exit %d %s", code, stderr)
	}
	// The Tauri fixture key (empty password) through TAURI_SIGNING_PRIVATE_KEY.
	t.Setenv(passwordEnv, "")
	fixtureKey, _ := os.ReadFile(filepath.Join(testdata, "fixtures", "keys", "test.key"))
	t.Setenv("TAURI_SIGNING_PRIVATE_KEY", string(fixtureKey))
	other := filepath.Join(dir, "other.bin")
	check(os.WriteFile(other, []byte("x"), 0o644))
	if code, _, stderr := otapub(t, "sign "+other); code != 0 {
		t.Errorf("sign with TAURI_SIGNING_PRIVATE_KEY: exit %d %s", code, stderr)
	}

	pub, _ := os.ReadFile(key + ".pub")
	addr, _ := serveInProcess(t, nil, "--dir", filepath.Join(dir, "releases"))
	results := githubsrctest.CargoPackager(t, string(pub), githubsrctest.UpdaterCheck{
		Name: "signed by otapub", Current: "1.0.0", Endpoints: []string{"http://" + addr + "/{{target}}/{{arch}}/{{current_version}}"}, Download: true,
	})
	if r := results["signed by otapub"]; r.Error != "" || r.Update == nil || r.Downloaded != 60000 {
		t.Errorf("the updater client on an otapub-signed payload: %+v", r)
	}
}

func timeNowPlusHour() time.Time { return time.Now().Add(time.Hour) }

// TestUploadSurvivesSIGKILL kills a real otapub process while it uploads;
// running the same command again completes the draft.
func TestUploadSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := otapubBinary(t)
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	// Every upload hangs after a little, so the process is surely mid-upload when killed.
	gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", StallAfter: 100, StallFor: 3 * time.Second, Times: 4})
	dir := copyFixture(t, "tauri-v2/v1.2.0")
	cmd := exec.Command(bin, "upload", "v1.2.0", dir, "--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL)
	cmd.Env = append(os.Environ(), "GITHUB_TOKEN="+githubsrctest.Token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for gh.Count("POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets") < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the upload never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	broken := 0
	for _, a := range gh.Releases("demo-org/demo-app")[0].Assets {
		if !a.Uploaded() {
			broken++
		}
	}
	if broken == 0 {
		t.Fatal("the kill left nothing to repair; the test does not test repair")
	}
	// The token and API URL as flags, not t.Setenv, so that the test can run in parallel.
	github := " --repo demo-org/demo-app --github-api-url " + gh.APIURL + " --token " + githubsrctest.Token
	if code, stdout, stderr := otapub(t, "upload v1.2.0 "+dir+github); code != 0 {
		t.Fatalf("re-run after SIGKILL: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := otapub(t, "verify v1.2.0 --require darwin-aarch64,darwin-x86_64,linux-x86_64,windows-x86_64"+github); code != 0 {
		t.Errorf("verify after the repair: exit %d\n%s", code, stdout)
	}
	if n := len(gh.Releases("demo-org/demo-app")); n != 1 {
		t.Errorf("%d releases, want one draft", n)
	}
}

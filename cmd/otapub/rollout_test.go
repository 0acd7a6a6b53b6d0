package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// TestRolloutEndToEnd: publish --rollout 10, widen to 50 and 100, halt,
// on an immutable release; after each step the real cargo-packager
// client, naming its device in a header, gets what its bucket says from
// a running otapub serve that a release webhook told of the change.
func TestRolloutEndToEnd(t *testing.T) {
	pub := filepath.Join(testdata, "fixtures", "keys", "test.key.pub")
	pubKey, err := os.ReadFile(pub)
	check(t, err)
	githubsrctest.RequireCargoPackager(t) // skip before any work when Node is missing

	const repo, secret = "demo-org/demo-app", "hook"
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(repo, githubsrctest.RepoOptions{Immutable: true})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Notes: "old", PublishedAt: time.Now().Add(-time.Hour), Assets: fixtureAssets(t, "tauri-v1/v1.1.0")})
	t.Setenv("GITHUB_REPOSITORY", repo)
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)

	dir := copyFixture(t, "tauri-v2/v1.2.0")
	if code, stdout, stderr := otapub(t, "upload v1.2.0 "+dir); code != 0 {
		t.Fatalf("upload: %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := otapub(t, "publish v1.2.0 --rollout 10 --pubkey-file "+pub)
	if code != 0 || !strings.Contains(stdout, "rollout: rolling out to 10% of devices") || !strings.Contains(stdout, "immutable") {
		t.Fatalf("publish --rollout 10: %d\n%s\n%s", code, stdout, stderr)
	}

	// Published already: publish --rollout says how to change it, and fails.
	if code, stdout, stderr := otapub(t, "publish v1.2.0 --rollout 20"); code != 1 || !strings.Contains(stdout+stderr, "set its rollout with otapub rollout v1.2.0 20") {
		t.Errorf("publish --rollout of a published release: %d\n%s\n%s", code, stdout, stderr)
	}
	addr, _ := serveInProcess(t, nil, "--webhook-secret", secret, "--cache-ttl", "1h")
	// Three devices: in the first 10%, in 50% but not 10%, outside 50%.
	var in10, in50, out string
	for i := 0; in10 == "" || in50 == "" || out == ""; i++ {
		id := fmt.Sprintf("device-%d", i)
		switch b := rollout.Bucket(repo, "v1.2.0", id); {
		case b < 100_000 && in10 == "":
			in10 = id
		case b >= 100_000 && b < 500_000 && in50 == "":
			in50 = id
		case b >= 500_000 && out == "":
			out = id
		}
	}
	step := func(name string, want map[string]string) {
		t.Helper()
		var checks []githubsrctest.UpdaterCheck
		for _, id := range []string{in10, in50, out} {
			checks = append(checks, githubsrctest.UpdaterCheck{
				Name: id, Current: "1.0.0", Headers: map[string]string{"X-Device-Id": id},
				Endpoints: []string{"http://" + addr + "/{{target}}/{{arch}}/{{current_version}}"},
			})
		}
		got := githubsrctest.CargoPackager(t, strings.TrimSpace(string(pubKey)), checks...)
		for id, v := range want {
			r := got[id]
			if r.Error != "" || r.Update == nil || r.Update.Version != v {
				t.Errorf("%s: device %s got %+v, want %s", name, id, r, v)
			}
		}
	}
	edited := func() {
		t.Helper()
		body := []byte(`{"action":"edited","release":{"tag_name":"v1.2.0"},"repository":{"full_name":"` + repo + `"}}`)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req, _ := http.NewRequest("POST", "http://"+addr+"/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "release")
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		check(t, err)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("webhook: %d", resp.StatusCode)
		}
	}
	rolloutCmd := func(args string, want string) {
		t.Helper()
		code, stdout, stderr := otapub(t, "rollout v1.2.0 "+args)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("rollout %s: %d\n%s\n%s", args, code, stdout, stderr)
		}
		edited()
	}

	step("10%", map[string]string{in10: "1.2.0", in50: "1.1.0", out: "1.1.0"})
	rolloutCmd("50", "rolling out to 50% of devices (was: rolling out to 10% of devices)")
	step("50%", map[string]string{in10: "1.2.0", in50: "1.2.0", out: "1.1.0"})
	rolloutCmd("--halt", "halted at 50%")
	step("halted", map[string]string{in10: "1.1.0", in50: "1.1.0", out: "1.1.0"})
	rolloutCmd("--resume", "rolling out to 50%")
	rolloutCmd("100", "no rollout: every device gets the release")
	step("100%", map[string]string{in10: "1.2.0", in50: "1.2.0", out: "1.2.0"})

	code, stdout, _ = otapub(t, "rollout v1.2.0 --json")
	var st struct {
		State, Percent string
		Halted         bool
		Immutable      bool
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || st.Percent != "100" || st.Halted || !st.Immutable {
		t.Errorf("rollout --json: %d %s", code, stdout)
	}
	rel := releaseByTag(t, gh, "v1.2.0")
	if strings.Contains(rel.Notes, "otapub:rollout") {
		t.Errorf("at 100%% the notes still carry a rollout line:\n%s", rel.Notes)
	}
}

// TestRolloutLatestCommands: publish --rollout 10 leaves GitHub's latest
// release (what releases/latest serves, to every reader) on the previous
// release; rollout 100 makes the new one latest; an older release reaching
// 100 does not take it; a halt of the latest release moves nothing and
// warns. Text, --json and the step output say what happened to it.
func TestRolloutLatestCommands(t *testing.T) {
	const repo = "demo-org/demo-app"
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(repo, githubsrctest.RepoOptions{})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: time.Now().Add(-time.Hour), Assets: fixtureAssets(t, "tauri-v1/v1.1.0")})
	outputs := filepath.Join(t.TempDir(), "outputs")
	t.Setenv("GITHUB_REPOSITORY", repo)
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	t.Setenv("GITHUB_OUTPUT", outputs)
	run := func(args string, wantStdout, wantStderr []string) string {
		t.Helper()
		code, stdout, stderr := otapub(t, args)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		for _, w := range wantStdout {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: stdout lacks %q:\n%s", args, w, stdout)
			}
		}
		for _, w := range wantStderr {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", args, w, stderr)
			}
		}
		if len(wantStderr) == 0 && strings.Contains(stderr, "warning") {
			t.Errorf("%s: an unexpected warning:\n%s", args, stderr)
		}
		return stdout
	}
	latest := func(step, want, output string) {
		t.Helper()
		if got := latestRelease(t, gh); got != want {
			t.Errorf("%s: GitHub's latest release is %s, want %s", step, got, want)
		}
		if got := readOutputs(t, outputs)["latest"]; got != output {
			t.Errorf("%s: step output latest=%q, want %q", step, got, output)
		}
	}

	dir := copyFixture(t, "tauri-v2/v1.2.0")
	run("upload v1.2.0 "+dir, nil, nil)
	run("publish v1.2.0 --rollout 10", []string{"latest: GitHub's latest release is still v1.1.0", "otapub rollout v1.2.0 100 makes it latest"}, nil)
	latest("publish --rollout 10", "v1.1.0", "false")
	run("rollout v1.2.0 50", []string{"latest: GitHub's latest release is v1.1.0"}, nil)
	run("rollout v1.2.0 100", []string{"latest: made v1.2.0 GitHub's latest release"}, nil)
	latest("rollout 100", "v1.2.0", "true")

	// An older release reaching every device leaves v1.2.0 latest.
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.5", Notes: "<!-- otapub:rollout percent=10 -->", Assets: fixtureAssets(t, "tauri-v1/v1.1.0")})
	run("rollout v1.1.5 100", []string{"latest: GitHub's latest release is v1.2.0", "not made latest: v1.2.0 is newer"}, nil)
	latest("an older release at 100", "v1.2.0", "false")

	// Halting the latest release: GitHub's latest stays, with a warning
	// naming who still gets it and what to do.
	run("rollout v1.2.0 --halt", []string{"halted at 100%"}, []string{
		"warning: v1.2.0 is GitHub's latest release", "releases/latest/download/latest.json", "electron-updater's GitHub provider",
		"gh release edit v1.1.5 --repo demo-org/demo-app --latest",
	})
	latest("halt", "v1.2.0", "true")
	stdout := run("rollout v1.2.0 --json", nil, nil)
	var st struct {
		Latest     bool   `json:"latest"`
		LatestTag  string `json:"latest_tag"`
		MadeLatest bool   `json:"made_latest"`
		Halted     bool   `json:"halted"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || !st.Latest || st.LatestTag != "v1.2.0" || st.MadeLatest || !st.Halted {
		t.Errorf("rollout --json: %v\n%s", err, stdout)
	}
}

// TestRolloutCommandRefusals: bad input exits 2, a draft or an unknown tag
// exits 1, each naming the problem; nothing is changed.
func TestRolloutCommandRefusals(t *testing.T) {
	const repo = "demo-org/demo-app"
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: "notes", Assets: fixtureAssets(t, "tauri-v1/v1.1.0")})
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Draft: true, Assets: fixtureAssets(t, "tauri-v1/v1.1.0")})
	t.Setenv("GITHUB_REPOSITORY", repo)
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	for _, c := range []struct {
		args string
		code int
		want string
	}{
		{"rollout v1.2.0 101", 2, "want a number from 0 to 100"},
		{"rollout v1.2.0 -5", 2, ""},
		{"rollout v1.2.0 12.34567", 2, "at most four decimals"},
		{"rollout v1.2.0 10 20", 2, "at most one PERCENT"},
		{"rollout v1.2.0 --halt --resume", 2, "contradict"},
		{"rollout v1.3.0 10", 1, "still a draft"},
		{"rollout v9.9.9 10", 1, "no published release has that tag"},
		{"publish v1.3.0 --rollout 150", 2, "--rollout"},
	} {
		code, stdout, stderr := otapub(t, c.args)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%s: exit %d, want %d naming %q\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}
	if rel := releaseByTag(t, gh, "v1.2.0"); rel.Notes != "notes" {
		t.Errorf("a refused command changed the notes: %q", rel.Notes)
	}
	if code, stdout, _ := otapub(t, "rollout v1.2.0"); code != 0 || !strings.Contains(stdout, "no rollout: every device gets the release") {
		t.Errorf("rollout (show): %d %s", code, stdout)
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

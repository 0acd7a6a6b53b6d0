package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

type actionFile struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// TestActionYML checks the action's contract: every input is described,
// used, documented in the README and reaches otapub only through the
// environment; no run: script interpolates an expression.
func TestActionYML(t *testing.T) {
	a := readAction(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using %q, want composite (no Docker needed on macOS and Windows runners)", a.Runs.Using)
	}
	readme, _ := os.ReadFile("../../README.md")
	var envs strings.Builder
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script: %q", s.ID, s.Run)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %q has no shell", s.ID)
		}
		for k, v := range s.Env {
			envs.WriteString(k + "=" + v + "\n")
		}
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if !strings.Contains(envs.String(), "${{ inputs."+name+" }}") {
			t.Errorf("input %s is not passed to any step", name)
		}
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("README.md does not document input %s", name)
		}
	}
	for _, want := range []string{"release-id", "release-url", "uploaded", "problems", "latest"} {
		o, ok := a.Outputs[want]
		if !ok || o.Description == "" || o.Value != "${{ steps.run.outputs."+want+" }}" {
			t.Errorf("output %s: %+v", want, o)
		}
		if !strings.Contains(string(readme), "`"+want+"`") {
			t.Errorf("README.md does not document output %s", want)
		}
	}
}

func TestActionArgs(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"dist/a/App_1.0.0_x64-setup.exe", "dist/b/App_1.0.0_amd64.deb", "dist/b/App_1.0.0_amd64.deb.sig"} {
		writeFileAll(t, filepath.Join(dir, p), "x")
	}
	t.Chdir(dir)
	tests := []struct {
		name  string
		env   map[string]string
		want  string
		error string
	}{
		{"upload with globs", map[string]string{"INPUT_COMMAND": "upload", "INPUT_TAG": "v1.0.0", "INPUT_FILES": "dist/**/*.exe\n dist/b/*.deb* \n", "INPUT_REPO": "o/r", "INPUT_CONCURRENCY": "2", "INPUT_REPLACE": "true"},
			"otapub upload v1.0.0 dist/a/App_1.0.0_x64-setup.exe dist/b/App_1.0.0_amd64.deb dist/b/App_1.0.0_amd64.deb.sig --repo o/r --concurrency 2 --replace", ""},
		{"verify on a tag push", map[string]string{"INPUT_COMMAND": "verify", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v2.0.0", "INPUT_REQUIRE": "darwin-aarch64, linux-x86_64\nwindows-x86_64", "INPUT_PUBKEY": "abc"},
			"otapub verify v2.0.0 --pubkey abc --require darwin-aarch64,linux-x86_64,windows-x86_64", ""},
		{"publish with extra args", map[string]string{"INPUT_COMMAND": "publish", "INPUT_TAG": "v1.0.0", "INPUT_PRERELEASE": "true", "INPUT_ARGS": "--latest false\n--tag-prefix desktop-"},
			"otapub publish v1.0.0 --prerelease --latest false --tag-prefix desktop-", ""},
		{"publish with a rollout", map[string]string{"INPUT_COMMAND": "publish", "INPUT_TAG": "v1.0.0", "INPUT_ROLLOUT": "12.5"},
			"otapub publish v1.0.0 --rollout 12.5", ""},
		{"rollout for upload", map[string]string{"INPUT_COMMAND": "upload", "INPUT_TAG": "v1", "INPUT_FILES": "dist/**/*.exe", "INPUT_ROLLOUT": "10"}, "", "rollout input is for publish"},
		{"no command", map[string]string{"INPUT_TAG": "v1"}, "", "command input is empty"},
		{"bad command", map[string]string{"INPUT_COMMAND": "deploy", "INPUT_TAG": "v1"}, "", "use upload, verify or publish"},
		{"no tag", map[string]string{"INPUT_COMMAND": "verify"}, "", "no tag"},
		{"glob matches nothing", map[string]string{"INPUT_COMMAND": "upload", "INPUT_TAG": "v1", "INPUT_FILES": "out/*.exe"}, "", `"out/*.exe" matched nothing`},
		{"no files", map[string]string{"INPUT_COMMAND": "upload", "INPUT_TAG": "v1"}, "", "files input is empty"},
		{"files for verify", map[string]string{"INPUT_COMMAND": "verify", "INPUT_TAG": "v1", "INPUT_FILES": "x"}, "", "files input is for upload"},
		{"bad boolean", map[string]string{"INPUT_COMMAND": "verify", "INPUT_TAG": "v1", "INPUT_REPLACE": "yes"}, "", `replace input is "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := actionArgs(func(k string) string { return tt.env[k] })
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Errorf("error %v, want %q", err, tt.error)
				}
				return
			}
			if err != nil || strings.Join(args, " ") != tt.want {
				t.Errorf("args %q, %v\nwant %q", strings.Join(args, " "), err, tt.want)
			}
		})
	}
}

func writeFileAll(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, content)
}

// runner simulates a GitHub Actions runner executing action.yml's shell steps.
type runner struct {
	t       *testing.T
	action  actionFile
	dir     string // the job's working directory
	base    map[string]string
	inputs  map[string]string
	outputs map[string]map[string]string // step id -> outputs
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval resolves the expressions the action uses: inputs.X, github.X,
// steps.X.outputs.Y and a || b.
func (r *runner) eval(s string) string {
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		for _, alt := range strings.Split(exprRE.FindStringSubmatch(m)[1], "||") {
			alt = strings.TrimSpace(alt)
			var v string
			switch parts := strings.Split(alt, "."); {
			case parts[0] == "inputs":
				v = r.inputs[parts[1]]
				if _, set := r.inputs[parts[1]]; !set {
					v = r.eval(r.action.Inputs[parts[1]].Default)
				}
			case parts[0] == "github":
				v = r.base["github."+parts[1]]
			case parts[0] == "steps" && len(parts) == 4:
				v = r.outputs[parts[1]][parts[3]]
			default:
				r.t.Fatalf("the simulated runner cannot evaluate %q", alt)
			}
			if v != "" {
				return v
			}
		}
		return ""
	})
}

// step runs the shell step with id, as the runner would, and returns its
// exit status and output.
func (r *runner) step(id string) (int, string) {
	r.t.Helper()
	i := slices.IndexFunc(r.action.Runs.Steps, func(s actionStep) bool { return s.ID == id })
	if i < 0 {
		r.t.Fatalf("no step %s", id)
	}
	s := r.action.Runs.Steps[i]
	outputFile := filepath.Join(r.t.TempDir(), "output")
	writeFile(r.t, outputFile, "")
	cmd := exec.Command("bash", "-c", s.Run)
	cmd.Dir = r.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GOCACHE=" + goEnv(r.t, "GOCACHE"), "GOMODCACHE=" + goEnv(r.t, "GOMODCACHE"), "GITHUB_OUTPUT=" + outputFile}
	for k, v := range r.base {
		if !strings.HasPrefix(k, "github.") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+r.eval(v))
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	r.outputs[id] = readOutputs(r.t, outputFile)
	return code, string(out)
}

// readOutputs parses GITHUB_OUTPUT: name=value and name<<DELIM blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var v []string
			for sc.Scan() && sc.Text() != delim {
				v = append(v, sc.Text())
			}
			out[name] = strings.Join(v, "\n")
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestActionOnSimulatedRunner executes action.yml's steps as a runner
// would: fetch a checked prebuilt binary (or refuse a bad one and build
// from source), then upload, verify and publish a release against the fake
// GitHub through the inputs, with an input that tries to inject shell code.
func TestActionOnSimulatedRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	root, _ := filepath.Abs("../..")
	binary, _ := os.ReadFile(otapubBinary(t))
	sum := sha256.Sum256(binary)
	sums := hex.EncodeToString(sum[:]) + "  otapub_linux_amd64\n"
	releases := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v9.9.9/otapub_linux_amd64", "/v6.6.6/otapub_linux_amd64":
			_, _ = w.Write(binary)
		case "/v9.9.9/SHA256SUMS":
			_, _ = fmt.Fprint(w, sums)
		case "/v6.6.6/SHA256SUMS":
			_, _ = fmt.Fprint(w, strings.Repeat("0", 64)+"  otapub_linux_amd64\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(releases.Close)

	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	work := t.TempDir()
	copyTree(t, filepath.Join(testdata, "fixtures", "tauri-v2", "v1.2.0"), filepath.Join(work, "src-tauri", "target", "release", "bundle", "v2"))
	pub, _ := os.ReadFile(filepath.Join(testdata, "fixtures", "keys", "test.key.pub"))
	newRunner := func(t *testing.T, ref string) *runner {
		return &runner{t: t, action: readAction(t), dir: work, outputs: map[string]map[string]string{},
			inputs: map[string]string{},
			base: map[string]string{
				"github.action_path": root, "github.action_ref": ref, "github.token": githubsrctest.Token, "github.repository": "demo-org/demo-app",
				"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TEMP": t.TempDir(), "GITHUB_API_URL": gh.APIURL,
				"OTAPUB_DOWNLOAD_BASE": releases.URL, "GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.2.0",
			}}
	}

	// Each part has a runner of its own; the three run side by side.
	t.Run("a tampered binary is refused", func(t *testing.T) {
		t.Parallel()
		r := newRunner(t, "v6.6.6")
		if code, out := r.step("fetch"); code != 0 || r.outputs["fetch"]["bin"] != "" || !strings.Contains(out, "does not match the SHA256SUMS") {
			t.Errorf("fetch: exit %d, bin %q\n%s", code, r.outputs["fetch"]["bin"], out)
		}
	})
	t.Run("a moving major ref builds from source", func(t *testing.T) {
		t.Parallel()
		r := newRunner(t, "v1")
		if code, out := r.step("fetch"); code != 0 || r.outputs["fetch"]["bin"] != "" {
			t.Errorf("fetch: exit %d\n%s", code, out)
		}
		if code, out := r.step("build"); code != 0 || r.outputs["build"]["bin"] == "" {
			t.Fatalf("build: exit %d\n%s", code, out)
		}
		if out, err := exec.Command(r.outputs["build"]["bin"], "version").CombinedOutput(); err != nil {
			t.Errorf("the built binary: %v %s", err, out)
		}
	})

	t.Run("upload, verify and publish through the inputs", func(t *testing.T) {
		t.Parallel()
		r := newRunner(t, "v9.9.9")
		if code, out := r.step("fetch"); code != 0 || r.outputs["fetch"]["bin"] == "" {
			t.Fatalf("fetch of a checked binary: exit %d\n%s", code, out)
		}
		pwned := filepath.Join(t.TempDir(), "pwned")
		r.inputs = map[string]string{
			"command": "upload",
			"files":   "src-tauri/target/**/bundle/**/*",
			"pubkey":  string(pub),
			"notes":   "$(touch " + pwned + ") `touch " + pwned + "` \"; touch " + pwned + "; \"",
		}
		code, out := r.step("run")
		if code != 0 || r.outputs["run"]["uploaded"] != "19" || r.outputs["run"]["release-url"] == "" {
			t.Fatalf("upload through the action: exit %d, outputs %v\n%s", code, r.outputs["run"], out)
		}
		if _, err := os.Stat(pwned); err == nil {
			t.Fatal("an input was executed as shell code")
		}
		if strings.Contains(out, githubsrctest.Token) {
			t.Error("the token was printed")
		}

		r.inputs = map[string]string{"command": "verify", "require": "darwin-aarch64,darwin-x86_64,linux-x86_64,windows-x86_64,linux-aarch64", "pubkey": string(pub)}
		code, out = r.step("run")
		if code != 1 || !strings.Contains(r.outputs["run"]["problems"], "linux-aarch64") || !strings.Contains(out, "::error::") {
			t.Errorf("verify of a missing platform: exit %d, problems %q\n%s", code, r.outputs["run"]["problems"], out)
		}

		r.inputs = map[string]string{"command": "publish", "require": "darwin-aarch64,darwin-x86_64,linux-x86_64,windows-x86_64", "pubkey": string(pub)}
		code, out = r.step("run")
		if code != 0 || !strings.HasSuffix(r.outputs["run"]["release-url"], "/releases/tag/v1.2.0") {
			t.Fatalf("publish through the action: exit %d, outputs %v\n%s", code, r.outputs["run"], out)
		}
		if rels := gh.Releases("demo-org/demo-app"); len(rels) != 1 || rels[0].Draft || rels[0].Notes == "" {
			t.Errorf("after the action: %+v", rels)
		}
	})
}

// TestActionRedactsTheToken runs the action with a token in its args input:
// the command line it prints names the flag, never the token, which still
// reaches GitHub.
func TestActionRedactsTheToken(t *testing.T) {
	const secret = "ghp_actionArgsTokenMustNeverBePrinted0"
	gh := githubsrctest.NewServer(t)
	gh.SetTokens(secret)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0"})
	for k, v := range map[string]string{
		"INPUT_COMMAND": "publish", "INPUT_TAG": "v1.2.0", "INPUT_REPO": "demo-org/demo-app",
		"INPUT_ARGS":   "--token " + secret + " --github-api-url " + gh.APIURL,
		"GITHUB_TOKEN": "", "OTAPUB_TOKEN": "", "GH_TOKEN": "",
		"GITHUB_ACTIONS": "", "GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": "",
	} {
		t.Setenv(k, v)
	}
	code, stdout, stderr := otapub(t, "action")
	if code != 0 {
		t.Errorf("publish of a private repository's published release through the action: exit %d, want 0 (did the token reach GitHub?)\n%s%s", code, stdout, stderr)
	}
	if want := "otapub publish v1.2.0 --repo demo-org/demo-app --token *** --github-api-url " + gh.APIURL + "\n"; !strings.Contains(stderr, want) {
		t.Errorf("the command line printed is not %q:\n%s", want, stderr)
	}
	if strings.Contains(stdout+stderr, secret) {
		t.Errorf("the token was printed:\n%s%s", stdout, stderr)
	}
}

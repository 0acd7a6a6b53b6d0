package githubsrctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// UpdaterCheck is one update check by the real cargo-packager updater.
type UpdaterCheck struct {
	Name      string            `json:"name"`
	Current   string            `json:"current"`
	Endpoints []string          `json:"endpoints"`
	Target    string            `json:"target,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Download fetches the payload, which the client verifies against the pubkey.
	Download bool `json:"download"`
}

// UpdaterResult is what the client made of a check.
type UpdaterResult struct {
	Name   string `json:"name"`
	Update *struct {
		Version     string `json:"version"`
		DownloadURL string `json:"downloadUrl"`
		Format      string `json:"format"`
		Date        string `json:"date"`
		Signature   string `json:"signature"`
	} `json:"update"`
	Downloaded int    `json:"downloaded"`
	Error      string `json:"error"`
}

// CargoPackager runs checks with the real cargo-packager updater client
// (npm @crabnebula/updater-linux-x64-gnu, a prebuilt Rust binding, driven
// by testdata/e2e/cargo-packager.js). It skips the test when the client is
// not installed, and fails it instead under CI.
func CargoPackager(t testing.TB, pubkey string, checks ...UpdaterCheck) map[string]UpdaterResult {
	t.Helper()
	node, dir := RequireCargoPackager(t)
	cfg, err := json.Marshal(map[string]any{"pubkey": pubkey, "checks": checks})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "cargo-packager.js"), string(cfg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cargo-packager client: %v\n%s", err, stderr.String())
	}
	results := map[string]UpdaterResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r UpdaterResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("cargo-packager client printed %q: %v", sc.Text(), err)
		}
		results[r.Name] = r
	}
	return results
}

// RequireCargoPackager skips the test when the cargo-packager updater
// client is not installed (and fails it under CI), and otherwise returns
// node and the folder of the client's driver. Call it before the work a
// check needs, so that a skipped test costs nothing.
func RequireCargoPackager(t testing.TB) (node, dir string) {
	t.Helper()
	dir = e2eDir(t)
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(filepath.Join(dir, "node_modules", "@crabnebula", "updater-linux-x64-gnu", "package.json")); err != nil || serr != nil {
		msg := "the cargo-packager updater client is not installed: run npm install --prefix testdata/e2e (needs Node.js)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, dir
}

// e2eDir finds testdata/e2e from the module root above the working directory.
func e2eDir(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "e2e")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

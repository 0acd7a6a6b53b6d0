package githubsrctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ElectronCheck is one update check by the real electron-updater client:
// its generic provider pointed at FeedURL, as an app on Platform/Arch runs it.
type ElectronCheck struct {
	Name string `json:"name"`
	// FeedURL is the generic provider's url: the folder holding the channel files.
	FeedURL string `json:"feedURL"`
	// Channel is autoUpdater.channel; empty means the default, "latest".
	Channel string `json:"channel,omitempty"`
	// Platform is "darwin", "win32" or "linux"; Arch is a process.arch: "x64", "arm64".
	Platform string `json:"platform"`
	Arch     string `json:"arch"`
	// PackageType picks the Linux updater: "" (AppImage), "deb", "rpm", "pacman".
	PackageType string `json:"packageType,omitempty"`
	// Headers are autoUpdater.requestHeaders; an Authorization header drops ?noCache=.
	Headers map[string]string `json:"headers,omitempty"`
	// Download fetches the picked file, which the client checks against its sha512.
	Download bool `json:"download"`
}

// ElectronResult is what the client made of a check.
type ElectronResult struct {
	Name string `json:"name"`
	// ChannelFile is the channel file the client asked for, e.g. "latest-mac.yml".
	ChannelFile string `json:"channelFile"`
	Version     string `json:"version"`
	// Files are the channel file's files, their URLs resolved against FeedURL.
	Files []ElectronFile `json:"files"`
	// Picked is the URL of the file this platform's updater downloads.
	Picked     string `json:"picked"`
	Downloaded int    `json:"downloaded"`
	Error      string `json:"error"`
	// Code is electron-updater's error code, e.g. ERR_CHECKSUM_MISMATCH.
	Code string `json:"code"`
	// Requests are the HTTP requests the client made, redirects included.
	Requests []ElectronRequest `json:"requests"`
}

// ElectronFile is one entry of a channel file's files.
type ElectronFile struct {
	URL    string `json:"url"`
	SHA512 string `json:"sha512"`
	Size   int64  `json:"size"`
}

// ElectronRequest is one HTTP request the client made.
type ElectronRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// ElectronUpdater runs checks with the real electron-updater client code
// (npm electron-updater and builder-util-runtime, driven under plain Node
// by testdata/e2e/electron-updater.js, which says what is theirs and what
// stands in for Electron). It skips the test when the client is not
// installed, and fails it instead under CI.
func ElectronUpdater(t testing.TB, checks ...ElectronCheck) map[string]ElectronResult {
	t.Helper()
	node, dir := RequireElectronUpdater(t)
	cfg, err := json.Marshal(map[string]any{"checks": checks})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "electron-updater.js"), string(cfg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("electron-updater client: %v\n%s", err, stderr.String())
	}
	results := map[string]ElectronResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20) // an error carries the server's headers and a stack
	for sc.Scan() {
		var r ElectronResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("electron-updater client printed %q: %v", sc.Text(), err)
		}
		results[r.Name] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("electron-updater client output: %v", err)
	}
	return results
}

// RequireElectronUpdater skips the test when the electron-updater client is
// not installed, or not at the version testdata/e2e/package.json pins (fails
// it under CI), and returns node and testdata/e2e. Tests call it first, so a
// skip costs no work.
func RequireElectronUpdater(t testing.TB) (node, dir string) {
	t.Helper()
	dir = e2eDir(t)
	node, err := exec.LookPath("node")
	if err == nil {
		err = electronUpdaterInstalled(dir)
	}
	if err != nil {
		msg := "the electron-updater client is not installed: run npm install --prefix testdata/e2e (needs Node.js): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, dir
}

// electronUpdaterInstalled reports whether node_modules holds the packages
// the harness requires at the versions package.json pins.
func electronUpdaterInstalled(dir string) error {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return err
	}
	for _, name := range []string{"electron-updater", "builder-util-runtime"} {
		var installed struct {
			Version string `json:"version"`
		}
		if err := readJSON(filepath.Join(dir, "node_modules", name, "package.json"), &installed); err != nil {
			return err
		}
		if want := pkg.Dependencies[name]; installed.Version != want {
			return fmt.Errorf("%s %s is installed, package.json pins %s", name, installed.Version, want)
		}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

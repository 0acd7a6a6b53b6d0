package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyDir runs `otapub verify --dir` as a user would before
// promoting a folder by hand: offline (the API URL leads nowhere), the
// version from the folder's name, the team's manifest checked.
func TestVerifyDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "v1.2.0")
	copyTree(t, filepath.Join(testdata, "fixtures", "tauri-v2", "v1.2.0"), dir)
	if err := os.Remove(filepath.Join(dir, "latest.json")); err != nil {
		t.Fatal(err)
	}
	sums := string(mustReadFile(t, filepath.Join(testdata, "fixtures", "tauri-v2", "SHA256SUMS-v1.2.0.txt")))
	var kept []string
	for _, l := range strings.SplitAfter(sums, "\n") {
		if !strings.Contains(l, "latest.json") {
			kept = append(kept, strings.Replace(l, "\n", "\r\n", 1))
		}
	}
	writeFile(t, filepath.Join(dir, "myapp-sha256.txt"), strings.Join(kept, ""))
	offline := " --github-api-url http://127.0.0.1:1/api/v3/ --pubkey-file " + filepath.Join(testdata, "fixtures", "keys", "test.key.pub")

	code, stdout, stderr := otapub(t, "verify --dir "+dir+offline+" --require darwin-aarch64,linux-x86_64,windows-x86_64")
	if code != 0 || !strings.Contains(stdout, "complete: "+dir+" holds a whole release for v1.2.0") || !strings.Contains(stdout, "8 signatures checked") {
		t.Fatalf("verify --dir of a complete folder: exit %d\n%s%s", code, stdout, stderr)
	}

	deb := filepath.Join(dir, "DemoApp_1.2.0_amd64.deb")
	data := mustReadFile(t, deb)
	data[10] ^= 1
	writeFile(t, deb, string(data))
	code, stdout, _ = otapub(t, "verify --dir "+dir+offline+" --json")
	var rep struct {
		Dir      string
		Complete bool
		Problems []struct{ Check, Asset, Message string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify --dir --json printed %q: %v", stdout, err)
	}
	if code != 1 || rep.Complete || rep.Dir != dir || len(rep.Problems) != 2 {
		t.Fatalf("a flipped byte: exit %d, %+v; want 1 with a manifest and a signature problem", code, rep)
	}
	if p := rep.Problems[0]; p.Asset != "DemoApp_1.2.0_amd64.deb" || !strings.Contains(p.Message, "myapp-sha256.txt line 6") {
		t.Errorf("the manifest problem %+v does not name the file, the manifest and its line", p)
	}

	other := filepath.Join(root, "promote-me")
	copyTree(t, dir, other)
	if code, _, stderr := otapub(t, "verify --dir "+other); code != 2 || !strings.Contains(stderr, "--version 1.2.0") {
		t.Errorf("a folder whose name is no tag, without a version: exit %d, want 2 saying how to give one\n%s", code, stderr)
	}
	if code, stdout, _ := otapub(t, "verify --dir "+other+" --version 1.3.0"); code != 1 || !strings.Contains(stdout, "names version 1.2.0, but the release is 1.3.0") {
		t.Errorf("files of another version: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := otapub(t, "verify --dir "+filepath.Join(root, "missing")+" v1.2.0"); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("a missing folder: exit %d\n%s", code, stderr)
	}
}

package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
)

const bundleUploadRoute = "POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets"

// bundleEnv is a fake GitHub with demo-org/demo-app in the environment
// otapub reads, and a key pair made with otapub keygen; it returns the fake
// and the key file (KEYFILE.pub is the public key). The pair is made once
// per run (see bundleKeyPair) and copied into the test's own folder.
func bundleEnv(t *testing.T) (*githubsrctest.Server, string) {
	t.Helper()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	t.Setenv("GITHUB_REPOSITORY", "demo-org/demo-app")
	t.Setenv("GITHUB_API_URL", gh.APIURL)
	t.Setenv("GITHUB_TOKEN", githubsrctest.Token)
	t.Setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
	t.Setenv("GITHUB_REF_TYPE", "")
	t.Setenv(passwordEnv, "")
	secret, public := bundleKeyPair(t)
	key := filepath.Join(t.TempDir(), "updater.key")
	if err := os.WriteFile(key, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key+".pub", public, 0o644); err != nil {
		t.Fatal(err)
	}
	return gh, key
}

// bundleKeyPair makes, on its first call, a key pair with an empty password
// with otapub keygen, and returns its two files' contents. The bundle tests
// need a key, not a fresh one each (TestKeygenSign tests keygen itself),
// and keygen's scrypt costs about 0.1 s of CPU and 32 MiB a call.
func bundleKeyPair(t *testing.T) (secret, public []byte) {
	t.Helper()
	bundleKey.once.Do(func() {
		key := filepath.Join(t.TempDir(), "updater.key")
		t.Setenv(passwordEnv, "")
		if code, stdout, stderr := otapub(t, "keygen --out "+key); code != 0 {
			bundleKey.err = fmt.Sprintf("keygen: exit %d\n%s%s", code, stdout, stderr)
			return
		}
		bundleKey.secret, _ = os.ReadFile(key)
		bundleKey.public, _ = os.ReadFile(key + ".pub")
		if len(bundleKey.secret) == 0 || len(bundleKey.public) == 0 {
			bundleKey.err = "keygen wrote no key files"
		}
	})
	if bundleKey.err != "" {
		t.Fatal(bundleKey.err)
	}
	return bundleKey.secret, bundleKey.public
}

var bundleKey struct {
	once           sync.Once
	secret, public []byte
	err            string
}

// writeDist writes an archive of files as name in a new folder and
// returns its path; sign with otapub sign when key is set.
func writeDist(t *testing.T, name string, data []byte, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if key != "" {
		if code, stdout, stderr := otapub(t, "sign --private-key-file "+key+" "+path); code != 0 {
			t.Fatalf("sign: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	return path
}

func distOf(title string) []byte {
	return githubsrctest.TarGz(map[string]string{"index.html": "<!doctype html><title>" + title + "</title>", "assets/": "", "assets/main.js": "console.log('" + title + "')"})
}

// releaseByTag returns the fake's release with tag.
func releaseByTag(t *testing.T, gh *githubsrctest.Server, tag string) githubsrc.Release {
	t.Helper()
	for _, r := range gh.Releases("demo-org/demo-app") {
		if r.Tag == tag {
			return r
		}
	}
	t.Fatalf("no release %s", tag)
	return githubsrc.Release{}
}

func assetBytes(t *testing.T, gh *githubsrctest.Server, rel githubsrc.Release, name string) []byte {
	t.Helper()
	a, ok := rel.Asset(name)
	if !ok {
		t.Fatalf("%s has no %s", rel.Tag, name)
	}
	b, _ := gh.AssetData(a.ID)
	return b
}

// latestRelease asks the fake for the repository's latest release: its
// tag, or "" when there is none.
func latestRelease(t *testing.T, gh *githubsrctest.Server) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", gh.APIURL+"/repos/demo-org/demo-app/releases/latest", nil)
	req.Header.Set("Authorization", "Bearer "+githubsrctest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	var rel struct {
		Tag string `json:"tag_name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rel); err != nil {
		t.Fatal(err)
	}
	return rel.Tag
}

// minisignVerify checks data against a Tauri .sig with the minisign tool,
// as a third party would: the .sig and the public key are base64 of
// minisign's own files.
func minisignVerify(t *testing.T, data, tauriSig []byte, tauriPub string) {
	t.Helper()
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("minisign is not installed: apt-get install minisign")
		}
		t.Skip("minisign is not installed: apt-get install minisign")
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(tauriSig)))
	if err != nil {
		t.Fatalf("the .sig is not base64: %v", err)
	}
	pubFile, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tauriPub))
	if err != nil {
		t.Fatalf("the public key is not base64: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(pubFile)), "\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "bundle")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".minisig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-Vm", file, "-P", lines[len(lines)-1], "-x", file+".minisig").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature and comment signature verified") {
		t.Fatalf("minisign -V: %v\n%s", err, out)
	}
}

// TestBundleCommands makes two bundles, signs them with otapub sign,
// takes each through otapub upload, verify and publish against the fake
// GitHub, and reads back what a server would: the metadata, the archive
// bytes (checked with the minisign tool), and that the native release
// stays the repository's latest.
func TestBundleCommands(t *testing.T) {
	gh, key := bundleEnv(t)
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: map[string][]byte{"DemoApp_2.0.0_x64-setup.exe": []byte("native")}})
	pubKey, _ := os.ReadFile(key + ".pub")
	bundles := []struct {
		tag, min string
		seq      string
		extra    string
		meta     ota.Metadata
	}{
		{"ota-5", "1.0.0", "5", "--channel beta --platform macos,windows-x86_64 --ota-version 1.4.0-ui.5",
			ota.Metadata{Format: 1, Sequence: 5, Version: "1.4.0-ui.5", MinBinaryVersion: "1.0.0", Channel: "beta", Platforms: []string{"macos", "windows-x86_64"}}},
		{"ota-6", "2.0.0", "6", "--mandatory --max-bundle-size 1MiB",
			ota.Metadata{Format: 1, Sequence: 6, Version: "ota-6", MinBinaryVersion: "2.0.0", Channel: ota.DefaultChannel, Mandatory: true}},
	}
	for _, b := range bundles {
		archive := writeDist(t, "dist.tar.gz", distOf(b.tag), key)
		code, stdout, stderr := otapub(t, "upload "+b.tag+" "+archive+" --ota-sequence "+b.seq+" --min-binary-version "+b.min+" "+b.extra+" --pubkey-file "+key+".pub")
		if code != 0 {
			t.Fatalf("upload %s: exit %d\n%s%s", b.tag, code, stdout, stderr)
		}
		for _, want := range []string{"bundle dist.tar.gz: sequence " + b.seq, "the signature verifies against the public key", "uploaded 4, skipped 0 of 4 files", "(new draft)"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("upload %s output lacks %q:\n%s", b.tag, want, stdout)
			}
		}
		// Again: nothing new.
		if code, stdout, stderr := otapub(t, "upload "+b.tag+" "+archive+" --ota-sequence "+b.seq+" --min-binary-version "+b.min+" "+b.extra); code != 0 || !strings.Contains(stdout, "uploaded 0, skipped 4 of 4") {
			t.Errorf("re-run %s: exit %d\n%s%s", b.tag, code, stdout, stderr)
		}
		code, stdout, stderr = otapub(t, "verify "+b.tag+" --pubkey-file "+key+".pub --require linux-x86_64")
		if code != 0 || !strings.Contains(stdout, "1 signatures checked") || !strings.Contains(stdout, "ota-bundle") || !strings.Contains(stdout, "is ready to publish") {
			t.Errorf("verify %s: exit %d\n%s%s", b.tag, code, stdout, stderr)
		}
		code, stdout, stderr = otapub(t, "publish "+b.tag+" --pubkey-file "+key+".pub")
		if code != 0 || !strings.Contains(stdout, "published demo-org/demo-app@"+b.tag) || !strings.Contains(stdout, "not made the repository's latest release") {
			t.Fatalf("publish %s: exit %d\n%s%s", b.tag, code, stdout, stderr)
		}

		rel := releaseByTag(t, gh, b.tag)
		if rel.Draft {
			t.Errorf("%s is still a draft", b.tag)
		}
		if _, ok := rel.Asset("latest.json"); ok {
			t.Errorf("%s got a latest.json", b.tag)
		}
		m, err := ota.ParseMetadata(assetBytes(t, gh, rel, ota.MetadataName))
		if err != nil {
			t.Fatal(err)
		}
		data := assetBytes(t, gh, rel, "dist.tar.gz")
		want := b.meta
		want.Archive, want.BundleSize = "dist.tar.gz", int64(len(data))
		if string(m.Encode()) != string(want.Encode()) {
			t.Errorf("%s metadata:\n%s\nwant\n%s", b.tag, m.Encode(), want.Encode())
		}
		minisignVerify(t, data, assetBytes(t, gh, rel, "dist.tar.gz.sig"), string(pubKey))
	}
	if got := latestRelease(t, gh); got != "v2.0.0" {
		t.Errorf("the latest release is %q, want v2.0.0: a bundle became latest", got)
	}
	// A third bundle cannot take a used or a lower sequence.
	archive := writeDist(t, "dist.tar.gz", distOf("late"), key)
	if code, _, stderr := otapub(t, "upload ota-4 "+archive+" --ota-sequence 4 --min-binary-version 1.0.0"); code != 1 || !strings.Contains(stderr, "not above 6") {
		t.Errorf("lower sequence: exit %d\n%s", code, stderr)
	}
	if code, stdout, stderr := otapub(t, "upload ota-4 "+archive+" --ota-sequence 4 --min-binary-version 1.0.0 --allow-lower-sequence"); code != 0 {
		t.Errorf("--allow-lower-sequence: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestBundleUploadRefusals: each refusal exits 1 or 2 with the fix named,
// and uploads nothing.
func TestBundleUploadRefusals(t *testing.T) {
	gh, key := bundleEnv(t)
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "ota-7", Draft: true, Assets: map[string][]byte{ota.MetadataName: []byte(`{"sequence": 7}`)}})
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "ota-3", Assets: map[string][]byte{ota.MetadataName: []byte(`{"sequence": 3}`)}})
	good := writeDist(t, "dist.tar.gz", distOf("good"), key)
	unsigned := writeDist(t, "dist.tar.gz", distOf("unsigned"), "")
	nested := writeDist(t, "dist.tar.gz", githubsrctest.TarGz(map[string]string{"dist/index.html": "x"}), key)
	zipNoIndex := writeDist(t, "dist.zip", githubsrctest.Zip(map[string]string{"main.js": "x"}), key)
	otherKey := filepath.Join(testdata, "fixtures", "keys", "other.key") // a key pair other than bundleEnv's
	flags := " --min-binary-version 1.0.0"
	tests := []struct {
		args string
		code int
		want string
	}{
		{"upload ota-8 " + unsigned + " --ota-sequence 8" + flags, 1, "no signature " + unsigned + ".sig beside it: sign it with otapub sign"},
		{"upload ota-8 " + nested + " --ota-sequence 8" + flags, 1, "no index.html at the archive's root (archive the frontend's dist folder from inside it: tar -czf bundle.tar.gz -C dist .)"},
		{"upload ota-8 " + zipNoIndex + " --ota-sequence 8" + flags, 1, "no index.html at the archive's root"},
		{"upload ota-8 " + good + " --ota-sequence 8 --max-bundle-size 100B" + flags, 1, "over --max-bundle-size 100: make the frontend smaller"},
		{"upload ota-8 " + good + " --ota-sequence 8 --min-binary-version 2.0", 2, `--min-binary-version "2.0"`},
		{"upload ota-8 " + good + " --ota-sequence 8", 2, "--min-binary-version is required with --ota-sequence"},
		{"upload ota-8 " + good + " --ota-sequence 7" + flags, 1, "sequence 7 is already used by ota-7 (draft): sequences are global across channels; use --ota-sequence 8"},
		{"upload ota-8 " + good + " --ota-sequence 7 --channel beta" + flags, 1, "already used by ota-7"},
		{"upload ota-8 " + good + " --ota-sequence 2" + flags, 1, "sequence 2 is not above 3, the highest published bundle's (ota-3): apps that have it would never take this one; use --ota-sequence 4, or pass --allow-lower-sequence"},
		{"upload ota-8 " + good + " --ota-sequence 8 --pubkey-file " + otherKey + ".pub" + flags, 1, "does not verify against the public key; nothing was uploaded"},
		{"upload ota-8 " + good + " --ota-sequence 0" + flags, 2, "bundles start at 1"},
		{"upload ota-8 " + good + " " + good + " --ota-sequence 8" + flags, 2, "a hot-swap bundle is one archive"},
		{"upload ota-8 " + good + flags, 2, "--min-binary-version describes a hot-swap bundle: pass --ota-sequence N too"},
		{"upload ota-8 " + good + " --ota-sequence 8 --channel a/b" + flags, 2, "--channel: channel \"a/b\""},
		{"upload ota-8 " + good + " --ota-sequence 8 --platform beos" + flags, 2, "--platform: platform limit \"beos\""},
		{"upload ota-8 " + good + " --ota-sequence 8 --max-bundle-size lots" + flags, 2, "--max-bundle-size: \"lots\""},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			before := gh.Count(bundleUploadRoute)
			code, stdout, stderr := otapub(t, tt.args)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
			if n := gh.Count(bundleUploadRoute) - before; n != 0 {
				t.Errorf("a refused upload sent %d files", n)
			}
			if strings.Contains(stdout, "uploaded 0") {
				t.Errorf("a refused upload reported an upload:\n%s", stdout)
			}
		})
	}
	for _, r := range gh.Releases("demo-org/demo-app") {
		if r.Tag == "ota-8" {
			t.Errorf("a refused upload made a release: %+v", r)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "100B": 100, "50MB": 50e6, "64MiB": 64 << 20, "1.5 GiB": 3 << 29, "2kb": 2000, "2KiB": 2048} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "10XB", "MB", "1e400"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// TestBundleThroughTheAction uploads a bundle as the GitHub Action does:
// the archive in the files input, the bundle flags in args.
func TestBundleThroughTheAction(t *testing.T) {
	gh, key := bundleEnv(t)
	archive := writeDist(t, "dist.tar.gz", distOf("action"), key)
	t.Setenv("INPUT_COMMAND", "upload")
	t.Setenv("INPUT_TAG", "ota-6")
	t.Setenv("INPUT_FILES", archive)
	t.Setenv("INPUT_ARGS", "--ota-sequence 6\n--min-binary-version 2.0.0 --channel beta")
	t.Setenv("INPUT_PUBKEY", "")
	if code, stdout, stderr := otapub(t, "action"); code != 0 || !strings.Contains(stdout, "bundle dist.tar.gz: sequence 6") {
		t.Fatalf("action upload: exit %d\n%s%s", code, stdout, stderr)
	}
	m, err := ota.ParseMetadata(assetBytes(t, gh, releaseByTag(t, gh, "ota-6"), ota.MetadataName))
	if err != nil || m.Sequence != 6 || m.Channel != "beta" {
		t.Errorf("metadata %+v, %v", m, err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// hotswapAnswer is the 200 of the hotswap contract.
type hotswapAnswer struct {
	Version          string `json:"version"`
	Sequence         uint64 `json:"sequence"`
	MinBinaryVersion string `json:"min_binary_version"`
	URL              string `json:"url"`
	Signature        string `json:"signature"`
	Notes            string `json:"notes"`
	PubDate          string `json:"pub_date"`
	Mandatory        bool   `json:"mandatory"`
	BundleSize       int64  `json:"bundle_size"`
}

// hotswapClient checks for a bundle as tauri-plugin-hotswap does
// (docs/server-contract.md): GET the endpoint with {{current_sequence}}
// replaced and binary_version, platform and arch in the query; 204 is
// "none"; a 200 must carry a sequence above the current one and a
// min_binary_version the binary meets; the archive at url is downloaded
// and its signature verified before it is used. It returns the sequence
// taken (0 for none) and the archive.
func hotswapClient(t *testing.T, endpoint string, current uint64, binary string, pub string) (uint64, []byte, hotswapAnswer) {
	t.Helper()
	u := strings.ReplaceAll(endpoint, "{{current_sequence}}", fmt.Sprint(current)) + "?binary_version=" + binary + "&platform=macos&arch=aarch64"
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return 0, nil, hotswapAnswer{}
	}
	var a hotswapAnswer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if a.Sequence <= current || a.Version == "" || a.URL == "" || a.Signature == "" {
		t.Fatalf("GET %s: %+v breaks the contract", u, a)
	}
	min, err := semver.StrictNewVersion(a.MinBinaryVersion)
	if err != nil || semver.MustParse(binary).LessThan(min) {
		t.Fatalf("GET %s: min_binary_version %q, above binary %s", u, a.MinBinaryVersion, binary)
	}
	dl, err := http.Get(a.URL) // follows the proxy's redirect
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	archive, err := io.ReadAll(dl.Body)
	if err != nil || dl.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", a.URL, dl.StatusCode, err)
	}
	if int64(len(archive)) != a.BundleSize {
		t.Errorf("bundle_size %d, archive %d bytes", a.BundleSize, len(archive))
	}
	key, err := taurisig.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := taurisig.Verify(key, bytes.NewReader(archive), []byte(a.Signature)); err != nil {
		t.Fatalf("the archive of %s does not verify: %v", a.Version, err)
	}
	return a.Sequence, archive, a
}

// TestServeHotSwapEndToEnd: two bundles (sequences 5 and 6, for binaries
// 1.0.0 and 2.0.0 up) signed with otapub sign, taken through otapub
// upload, verify and publish, beside a native release; otapub serve
// under a base path then gives a hotswap client the right bundle for
// binaries 0.9.0, 1.2.0 and 2.1.0, whose archive, downloaded through the
// proxy, verifies with the minisign tool and has index.html at its root.
func TestServeHotSwapEndToEnd(t *testing.T) {
	gh, key := bundleEnv(t)
	native := writeDist(t, "DemoApp_2.0.0_x64-setup.exe", []byte("native"), key)
	nativeSig, err := os.ReadFile(native + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: map[string][]byte{"DemoApp_2.0.0_x64-setup.exe": []byte("native"), "DemoApp_2.0.0_x64-setup.exe.sig": nativeSig}})
	pubKey, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct{ tag, seq, min string }{{"ota-5", "5", "1.0.0"}, {"ota-6", "6", "2.0.0"}} {
		archive := writeDist(t, "dist.tar.gz", distOf(b.tag), key)
		for _, cmd := range []string{
			"upload " + b.tag + " " + archive + " --ota-sequence " + b.seq + " --min-binary-version " + b.min,
			"publish " + b.tag + " --pubkey-file " + key + ".pub",
		} {
			if code, stdout, stderr := otapub(t, cmd); code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", cmd, code, stdout, stderr)
			}
		}
	}
	addr, _ := serveInProcess(t, map[string]string{"OTAPUB_BASE_PATH": "/api/sync/ota"})
	endpoint := "http://" + addr + "/api/sync/ota/ota/{{current_sequence}}"
	for _, c := range []struct {
		current uint64
		binary  string
		want    uint64
	}{
		{0, "0.9.0", 0}, {0, "1.2.0", 5}, {0, "2.1.0", 6}, {5, "1.2.0", 0}, {5, "2.1.0", 6}, {6, "2.1.0", 0},
	} {
		got, archive, a := hotswapClient(t, endpoint, c.current, c.binary, string(pubKey))
		if got != c.want {
			t.Errorf("on %d with binary %s: got sequence %d, want %d", c.current, c.binary, got, c.want)
		}
		if got == 0 {
			continue
		}
		minisignVerify(t, archive, []byte(a.Signature), string(pubKey))
		if err := ota.CheckArchive("dist.tar.gz", bytes.NewReader(archive), int64(len(archive))); err != nil {
			t.Errorf("sequence %d: %v", got, err)
		}
		if !strings.HasPrefix(a.URL, "http://"+addr+"/api/sync/ota/download/ota-") {
			t.Errorf("url %s: want the proxy's download route", a.URL)
		}
	}
	// The native check is not disturbed.
	resp, err := http.Get("http://" + addr + "/api/sync/ota/windows/x86_64/1.0.0?channel=beta")
	if err != nil {
		t.Fatal(err)
	}
	var check struct{ Version string }
	_ = json.NewDecoder(resp.Body).Decode(&check)
	resp.Body.Close()
	if check.Version != "2.0.0" {
		t.Errorf("the native check got %q, want 2.0.0", check.Version)
	}
}

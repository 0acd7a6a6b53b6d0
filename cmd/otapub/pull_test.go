package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

// TestPullThenServeDir is the air-gapped path: pull a published release
// into a folder, serve the folder, and the real cargo-packager client
// updates from it and verifies the signature.
func TestPullThenServeDir(t *testing.T) {
	githubsrctest.RequireCargoPackager(t)
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: "Faster start.", Assets: fixtureAssets(t, "tauri-v2/v1.2.0")})
	gh.AddRelease("demo-org/corrupt", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: fixtureAssets(t, "tauri-v2/v1.2.0")})
	for _, a := range gh.Releases("demo-org/corrupt")[0].Assets {
		if a.Name == "DemoApp_1.2.0_amd64.AppImage" {
			data, _ := gh.AssetData(a.ID)
			bad := append([]byte(nil), data...)
			bad[7] ^= 0xff
			gh.SetAssetData(a.ID, bad)
		}
	}
	keyFile := filepath.Join(testdata, "fixtures", "keys", "test.key.pub")
	root := t.TempDir()
	common := " --github-api-url " + gh.APIURL + " --token " + githubsrctest.Token + " --pubkey-file " + keyFile

	code, stdout, stderr := otapub(t, "pull v1.2.0 "+filepath.Join(root, "corrupt", "v1.2.0")+" --repo demo-org/corrupt"+common)
	if code != 1 || !strings.Contains(stdout, "DemoApp_1.2.0_amd64.AppImage has SHA-256") {
		t.Errorf("pull of a corrupted object: exit %d, want 1 naming the file\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "corrupt", "v1.2.0", "DemoApp_1.2.0_amd64.AppImage")); !os.IsNotExist(err) {
		t.Errorf("the corrupted file is in the folder under its real name (stat: %v)", err)
	}

	releases := filepath.Join(root, "releases")
	code, stdout, stderr = otapub(t, "pull v1.2.0 "+filepath.Join(releases, "v1.2.0")+" --repo demo-org/demo-app"+common)
	if code != 0 || !strings.Contains(stdout, "8 signatures checked") {
		t.Fatalf("pull: exit %d\n%s%s", code, stdout, stderr)
	}
	addr, _ := serveInProcess(t, nil, "--dir", releases)
	got := githubsrctest.CargoPackager(t, strings.TrimSpace(string(mustReadFile(t, keyFile))),
		githubsrctest.UpdaterCheck{Name: "linux", Current: "1.0.0", Endpoints: []string{"http://" + addr + "/{{target}}/{{arch}}/{{current_version}}"}, Download: true})
	r := got["linux"]
	if r.Error != "" || r.Update == nil || r.Update.Version != "1.2.0" || r.Downloaded == 0 {
		t.Fatalf("the client updating from the pulled folder: %+v", r)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPullSurvivesSIGKILL kills a real otapub process mid-download; the
// folder holds no partial file under a real name, and the same command
// run again completes it.
func TestPullSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := otapubBinary(t)
	gh := githubsrctest.NewServer(t)
	assets := fixtureAssets(t, "tauri-v2/v1.2.0")
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: assets})
	const stuck = "DemoApp_1.2.0_x64_en-US.msi"
	var stuckID int64
	for _, a := range gh.Releases("demo-org/demo-app")[0].Assets {
		if a.Name == stuck {
			stuckID = a.ID
		}
	}
	// The storage host holds that one file's bytes back, so the process is
	// surely mid-download when it is killed.
	storage := "GET /storage/" + strconv.FormatInt(stuckID, 10) + "?"
	gh.Inject(githubsrctest.Fault{Match: storage, Delay: time.Minute})
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	args := []string{"pull", "v1.2.0", dir, "--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL, "--token", githubsrctest.Token}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, "."+stuck+".otapub-partial")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(partial); err == nil && gh.Count("GET /storage/{id}") >= len(assets) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pull never got to the held-back file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, stuck)); !os.IsNotExist(err) {
		t.Fatalf("%s is under its real name after the kill (stat: %v)", stuck, err)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("re-run after SIGKILL: %v\n%s", err, out)
	}
	for name, want := range assets {
		if got := mustReadFile(t, filepath.Join(dir, name)); string(got) != string(want) {
			t.Errorf("%s differs after the re-run", name)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// BenchmarkPull pulls a release holding one 1 GiB file
// (OTAPUB_BENCH_PULL_MIB) with the real otapub binary, and downloads the
// same bytes with a plain HTTP GET to a file in the same run. It prints
// both throughputs and otapub's peak RSS (goal: ≤ 64 MiB whatever the
// file's size).
//
//	go test ./cmd/otapub -run '^$' -bench Pull -benchtime 1x
func BenchmarkPull(b *testing.B) {
	mib := envInt("OTAPUB_BENCH_PULL_MIB", 1024)
	dir := b.TempDir()
	bin := otapubBinary(b)
	data := make([]byte, mib<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	gh := githubsrctest.NewServer(b)
	const name = "DemoApp_1.0.0_amd64.AppImage"
	gh.AddRelease("demo-org/demo-app", githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{name: data}})
	browserURL := gh.Releases("demo-org/demo-app")[0].Assets[0].BrowserURL()

	for b.Loop() {
		plainStart := time.Now()
		resp, err := http.Get(browserURL)
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, "plain"))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(f, resp.Body)
		resp.Body.Close()
		f.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("plain download: %d bytes, %v", n, err)
		}
		plain := time.Since(plainStart)

		out := filepath.Join(dir, "pulled")
		os.RemoveAll(out)
		cmd := exec.Command(bin, "pull", "v1.0.0", out, "--repo", "demo-org/demo-app", "--github-api-url", gh.APIURL)
		cmd.Env = append(os.Environ(), "GITHUB_TOKEN=", "GITHUB_ACTIONS=", "GITHUB_OUTPUT=", "GITHUB_STEP_SUMMARY=")
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The child's own high-water mark, read while it runs: rusage's
		// Maxrss would count this process's copy of the file, which the
		// child shares between fork and exec.
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var rss float64
		for waiting := true; waiting; {
			select {
			case err := <-done:
				if err != nil {
					b.Fatalf("otapub pull: %v\n%s", err, output.String())
				}
				waiting = false
			case <-time.After(20 * time.Millisecond):
				rss = max(rss, peakRSS(b, cmd.Process.Pid)/(1<<20))
			}
		}
		took := time.Since(start)
		b.ReportMetric(rss, "peak-RSS-MiB")
		b.ReportMetric(float64(mib)/took.Seconds(), "MiB/s")
		b.ReportMetric(plain.Seconds()/took.Seconds(), "x-plain")
		fmt.Printf("pull of %d MiB: %v (%.0f MiB/s), peak RSS %.1f MiB; plain GET to a file: %v (%.0f MiB/s); pull/plain throughput %.2f\n",
			mib, took.Round(time.Millisecond), float64(mib)/took.Seconds(), rss, plain.Round(time.Millisecond), float64(mib)/plain.Seconds(), plain.Seconds()/took.Seconds())
	}
}

// TestPromoteToAnotherRepo pulls a published release and promotes the
// folder to another repository: what the source's publish generated
// (latest.json, the combined SHA256SUMS) is regenerated by the target's
// publish and never fails the target's verify.
func TestPromoteToAnotherRepo(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/demo-app", githubsrctest.RepoOptions{})
	gh.AddRepo("demo-org/public-mirror", githubsrctest.RepoOptions{})
	pub := filepath.Join(testdata, "fixtures", "keys", "test.key.pub")
	require := " --require darwin-aarch64,darwin-x86_64,linux-x86_64,windows-x86_64 --pubkey-file " + pub
	common := " --github-api-url " + gh.APIURL + " --token " + githubsrctest.Token
	src, dst := " --repo demo-org/demo-app"+common, " --repo demo-org/public-mirror"+common
	sh := func(args string) string {
		t.Helper()
		code, stdout, stderr := otapub(t, args)
		if code != 0 {
			t.Fatalf("otapub %s: exit %d\n%s%s", args, code, stdout, stderr)
		}
		return stdout
	}
	sh("upload v1.2.0 " + copyFixture(t, "tauri-v2/v1.2.0") + src + " --target 0123456789abcdef0123456789abcdef01234567")
	sh("publish v1.2.0" + src + require)

	dir := filepath.Join(t.TempDir(), "v1.2.0")
	sh("pull v1.2.0 " + dir + src + " --pubkey-file " + pub)
	for _, generated := range []string{"latest.json", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(dir, generated)); err != nil {
			t.Fatalf("the pulled folder lacks the source's %s: %v", generated, err)
		}
	}
	// The pulled folder, checked offline as an air-gapped site would.
	sh("verify --dir " + dir + " --pubkey-file " + pub + " --github-api-url http://127.0.0.1:1/api/v3/")
	sh("upload v1.2.0 " + dir + dst + " --target 0123456789abcdef0123456789abcdef01234567")
	sh("verify v1.2.0" + dst + require)
	out := sh("publish v1.2.0" + dst + require)
	if !strings.Contains(out, "published demo-org/public-mirror@v1.2.0") {
		t.Fatalf("publish to the mirror:\n%s", out)
	}
	for _, r := range gh.Releases("demo-org/public-mirror") {
		for _, a := range r.Assets {
			if a.Name != "latest.json" {
				continue
			}
			data, _ := gh.AssetData(a.ID)
			if strings.Contains(string(data), "demo-org/demo-app") || !strings.Contains(string(data), "demo-org/public-mirror") {
				t.Errorf("the mirror's latest.json points elsewhere:\n%s", data)
			}
		}
	}
}

package publisher_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

// requireConverged checks the repository holds exactly one draft for tag
// with every file of p, each complete and byte-identical, and no strays.
func requireConverged(t *testing.T, gh *githubsrctest.Server, tag string, p publisher.Plan) {
	t.Helper()
	var drafts []githubsrc.Release
	for _, r := range gh.Releases(fullName) {
		if r.Tag == tag {
			drafts = append(drafts, r)
		}
	}
	if len(drafts) != 1 {
		t.Fatalf("%d releases for %s, want one draft", len(drafts), tag)
	}
	names := map[string]bool{}
	for _, a := range drafts[0].Assets {
		if names[a.Name] {
			t.Errorf("asset %s twice", a.Name)
		}
		names[a.Name] = true
		if !a.Uploaded() {
			t.Errorf("asset %s in state %q", a.Name, a.State)
		}
	}
	for _, f := range p.Files {
		a, ok := drafts[0].Asset(f.Name)
		if !ok {
			t.Errorf("%s missing", f.Name)
			continue
		}
		data, _ := gh.AssetData(a.ID)
		want, _ := os.ReadFile(f.Path)
		if !bytes.Equal(data, want) {
			t.Errorf("%s: stored bytes differ", f.Name)
		}
	}
}

func TestUploadFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []githubsrctest.Fault
	}{
		{"dropped uploads", []githubsrctest.Fault{{Match: "POST /api/uploads", DropAfter: 1000, Times: 3}}},
		{"502 that succeeded anyway", []githubsrctest.Fault{{Match: "POST /api/uploads", Status: http.StatusBadGateway, Apply: true, Times: 3}}},
		{"502 that failed", []githubsrctest.Fault{{Match: "POST /api/uploads", Status: http.StatusBadGateway, Times: 3}}},
		{"secondary rate limit", []githubsrctest.Fault{{Match: "POST /api/uploads", RetryAfter: time.Second, Status: http.StatusForbidden, Times: 2}}},
		{"5xx on listing and creating", []githubsrctest.Fault{
			{Match: "GET /api/v3/repos/demo-org/demo-app/releases", Status: http.StatusServiceUnavailable},
			{Match: "POST /api/v3/repos/demo-org/demo-app/releases", Status: http.StatusBadGateway},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			for _, f := range tt.faults {
				gh.Inject(f)
			}
			c := client(t, gh)
			p := plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json"))
			_, err := publisher.Upload(t.Context(), c, p, uploadOpts())
			if err != nil {
				// A failure must leave what a re-run repairs.
				t.Logf("first run: %v", err)
				_, err = publisher.Upload(t.Context(), c, p, uploadOpts())
			}
			check(t, err)
			requireConverged(t, gh, "v1.2.0", p)
			if _, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", nil, allTauriV2...)); err != nil {
				t.Errorf("verify after the faults: %v", err)
			}
		})
	}
}

// TestUploadStall feeds a connection that stops reading: the upload is
// aborted after --stall-timeout and retried.
func TestUploadStall(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	dir := t.TempDir()
	big := make([]byte, 16<<20) // larger than the socket buffers, so the stall reaches the reader
	_, _ = rand.Read(big)
	check(t, os.WriteFile(filepath.Join(dir, "DemoApp_1.2.0_amd64.AppImage"), big, 0o644))
	// The stall would last a minute (it ends when the test does).
	stalled := make(chan struct{}, 1)
	gh.Inject(githubsrctest.Fault{Match: "name=DemoApp_1.2.0_amd64.AppImage", StallAfter: 1 << 20, StallFor: time.Minute, Notify: stalled})
	c := client(t, gh)
	p := plan(t, "v1.2.0", dir)
	opts := uploadOpts()
	opts.StallTimeout = time.Second
	starts := &attemptStarts{name: "DemoApp_1.2.0_amd64.AppImage"}
	opts.Progress = starts
	// Stall time runs on a fake clock that moves only from when GitHub
	// stops reading until the retry begins: the stalled attempt is cut,
	// and no other, however slow the machine (the real clock cut the
	// 16 MiB retry too under the race detector on a loaded machine).
	clock := githubsrctest.NewClock(time.Now())
	opts.StallClock = clock.Now
	uploaded := make(chan struct{})
	moved := make(chan struct{})
	go func() {
		defer close(moved)
		select {
		case <-stalled:
		case <-uploaded:
			return
		}
		tick := time.NewTicker(20 * time.Millisecond) // paces the clock; the watchdog looks every StallTimeout/8
		defer tick.Stop()
		for starts.count() < 2 {
			clock.Advance(opts.StallTimeout) // two moves past the last byte make a stall
			select {
			case <-tick.C:
			case <-uploaded:
				return
			}
		}
	}()
	rep, err := publisher.Upload(t.Context(), c, p, opts)
	close(uploaded)
	<-moved
	check(t, err)
	if rep.Files[0].Attempts < 2 || len(starts.at) < 2 {
		t.Fatalf("attempts %d, want a stalled one and a retry", rep.Files[0].Attempts)
	}
	// The retry starts after --stall-timeout and a read-back, however long
	// the bytes then take to send.
	if gap := starts.at[1].Sub(starts.at[0]); gap > 3*time.Second {
		t.Errorf("the retry started %v after the stalled attempt: the stall was not cut short", gap)
	}
	requireConverged(t, gh, "v1.2.0", p)
}

// attemptStarts records when each upload attempt of one file started.
type attemptStarts struct {
	name string
	mu   sync.Mutex
	at   []time.Time
}

func (a *attemptStarts) Start(name string, _ int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if name == a.name {
		a.at = append(a.at, time.Now())
	}
}
func (a *attemptStarts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}
func (a *attemptStarts) Advance(string, int64)                  {}
func (a *attemptStarts) Finish(string, publisher.Action, error) {}

// TestUploadKilledMidway cancels a run while uploads are in flight, as
// Ctrl-C or a CI timeout would; the next run repairs everything.
func TestUploadKilledMidway(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	stalled := make(chan struct{}, 4)
	gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", StallAfter: 100, Times: 4, Notify: stalled})
	c := client(t, gh)
	p := plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json"))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for range 4 {
			<-stalled // four uploads hang mid-body: now the job is killed
		}
		cancel()
	}()
	opts := uploadOpts()
	_, err := publisher.Upload(ctx, c, p, opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("interrupted run: %v", err)
	}
	stuck := 0
	for _, a := range gh.Releases(fullName)[0].Assets {
		if !a.Uploaded() {
			stuck++
		}
	}
	if stuck == 0 {
		t.Fatal("the interruption left no broken asset; the test does not test repair")
	}
	if _, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", nil)); err == nil {
		t.Fatal("verify passed a half-uploaded draft")
	}
	rep, err := publisher.Upload(t.Context(), c, p, opts)
	check(t, err)
	if rep.Count(publisher.ActionRepair) == 0 {
		t.Error("no asset was repaired")
	}
	requireConverged(t, gh, "v1.2.0", p)
}

// TestConcurrentJobsConverge runs a CI matrix: four jobs upload their own
// platform's files to the same new tag at the same moment.
func TestConcurrentJobsConverge(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.SetLatency(20 * time.Millisecond)
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	jobs := [][]string{
		{"DemoApp_1.2.0_x64-setup.exe", "DemoApp_1.2.0_x64-setup.exe.sig", "DemoApp_1.2.0_x64_en-US.msi", "DemoApp_1.2.0_x64_en-US.msi.sig"},
		{"DemoApp_1.2.0_arm64-setup.exe", "DemoApp_1.2.0_arm64-setup.exe.sig"},
		{"DemoApp_1.2.0_amd64.AppImage", "DemoApp_1.2.0_amd64.AppImage.sig", "DemoApp_1.2.0_amd64.deb", "DemoApp_1.2.0_amd64.deb.sig", "DemoApp-1.2.0-1.x86_64.rpm", "DemoApp-1.2.0-1.x86_64.rpm.sig"},
		{"DemoApp_aarch64.app.tar.gz", "DemoApp_aarch64.app.tar.gz.sig", "DemoApp_x64.app.tar.gz", "DemoApp_x64.app.tar.gz.sig", "DemoApp_1.2.0_x64.dmg", "DemoApp_1.2.0_aarch64.dmg"},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	var all []publisher.File
	for i, names := range jobs {
		var paths []string
		for _, n := range names {
			paths = append(paths, filepath.Join(dir, n))
		}
		p := plan(t, "v1.2.0", paths...)
		all = append(all, p.Files...)
		wg.Go(func() {
			opts := uploadOpts()
			opts.SettleDelay = 100 * time.Millisecond
			_, errs[i] = publisher.Upload(t.Context(), client(t, gh), p, opts)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("job %d: %v", i, err)
		}
	}
	requireConverged(t, gh, "v1.2.0", publisher.Plan{Files: all})
	manifests := 0
	for _, a := range gh.Releases(fullName)[0].Assets {
		if strings.HasPrefix(a.Name, "SHA256SUMS-") {
			manifests++
		}
	}
	if manifests != len(jobs) {
		t.Errorf("%d job manifests, want %d (one per job, no collisions)", manifests, len(jobs))
	}
	pub := pubkey(t, "test.key.pub")
	if _, err := publisher.Publish(t.Context(), client(t, gh), publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", &pub, allTauriV2...)}); err != nil {
		t.Errorf("publish after the matrix: %v", err)
	}
}

func TestUploadReplace(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	p := plan(t, "v1.2.0", dir)
	_, err := publisher.Upload(t.Context(), c, p, uploadOpts())
	check(t, err)

	// A rebuilt file: without --replace nothing is uploaded.
	path := filepath.Join(dir, "DemoApp_1.2.0_amd64.deb")
	check(t, os.WriteFile(path, []byte("a rebuilt deb"), 0o644))
	p2 := plan(t, "v1.2.0", dir)
	uploads := gh.Count(uploadRoute)
	_, err = publisher.Upload(t.Context(), c, p2, uploadOpts())
	if err == nil || !strings.Contains(err.Error(), "--replace") || !strings.Contains(err.Error(), "DemoApp_1.2.0_amd64.deb") {
		t.Fatalf("upload of a changed file = %v, want a refusal naming it and --replace", err)
	}
	if gh.Count(uploadRoute) != uploads {
		t.Error("a refused upload sent files")
	}

	// With --replace, the new bytes land first; a failure keeps the old.
	gh.Inject(githubsrctest.Fault{Match: "name=otapub-tmp-", Status: http.StatusUnprocessableEntity, Times: 2})
	opts := uploadOpts()
	opts.Replace = true
	if _, err := publisher.Upload(t.Context(), c, p2, opts); err == nil {
		t.Fatal("replacement succeeded through a 422")
	}
	old := assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_amd64.deb")
	if data, _ := gh.AssetData(old.ID); string(data) == "a rebuilt deb" || len(data) == 0 {
		t.Fatal("a failed replacement lost the old asset")
	}
	rep, err := publisher.Upload(t.Context(), c, p2, opts)
	check(t, err)
	if rep.Count(publisher.ActionReplace) != 2 { // the file and the job's manifest
		t.Errorf("%d replaced, want 2", rep.Count(publisher.ActionReplace))
	}
	requireConverged(t, gh, "v1.2.0", p2)
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	t.Run("published", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0"})
		_, err := publisher.Upload(t.Context(), client(t, gh), plan(t, "v1.1.0", fixtureCopy(t, "tauri-v1/v1.1.0")), uploadOpts())
		if err == nil || !strings.Contains(err.Error(), "--allow-published") {
			t.Errorf("upload to a published release = %v", err)
		}
	})
	t.Run("immutable", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{Immutable: true})
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0"})
		opts := uploadOpts()
		opts.AllowPublished = true
		_, err := publisher.Upload(t.Context(), client(t, gh), plan(t, "v1.1.0", fixtureCopy(t, "tauri-v1/v1.1.0")), opts)
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("upload to an immutable release = %v", err)
		}
	})
	t.Run("dry run changes nothing", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		opts := uploadOpts()
		opts.DryRun = true
		rep, err := publisher.Upload(t.Context(), client(t, gh), plan(t, "v1.1.0", fixtureCopy(t, "tauri-v1/v1.1.0")), opts)
		check(t, err)
		if !rep.Created || rep.Count(publisher.ActionUpload) != 10 || len(gh.Releases(fullName)) != 0 {
			t.Errorf("dry run: %+v; the fake has %d releases", rep, len(gh.Releases(fullName)))
		}
	})
}

func TestCheckSignatures(t *testing.T) {
	t.Parallel()
	pub := pubkey(t, "test.key.pub")
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"other key", func(dir string) {
			sig, _ := readFixture("signatures/signed-by-other.bin.sig")
			_ = os.WriteFile(filepath.Join(dir, "DemoApp_1.2.0_amd64.deb.sig"), sig, 0o644)
		}, "DemoApp_1.2.0_amd64.deb: wrong key"},
		{"tampered", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "DemoApp_1.2.0_amd64.deb"), []byte("changed"), 0o644)
		}, "DemoApp_1.2.0_amd64.deb: tampered"},
		{"not a signature", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "DemoApp_1.2.0_amd64.deb.sig"), []byte("hello"), 0o644)
		}, "DemoApp_1.2.0_amd64.deb: not a signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fixtureCopy(t, "tauri-v2/v1.2.0")
			tt.setup(dir)
			err := publisher.CheckSignatures(t.Context(), plan(t, "v1.2.0", dir), pub, 4)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was uploaded") {
				t.Errorf("CheckSignatures = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("bound to another version", func(t *testing.T) {
		t.Parallel()
		dir := fixtureCopy(t, "tauri-v2/v1.2.0")
		files, _, err := publisher.Collect([]string{dir})
		check(t, err)
		check(t, publisher.Hash(t.Context(), files, 2))
		// The v1.2.0 build, tagged v1.2.1 with its names allowed to differ.
		p, err := publisher.NewPlan("v1.2.1", files, publisher.PlanOptions{AllowVersionMismatch: true})
		check(t, err)
		if err := publisher.CheckSignatures(t.Context(), p, pub, 4); err == nil || !strings.Contains(err.Error(), "bound to version 1.2.0, but the tag is 1.2.1") {
			t.Errorf("CheckSignatures = %v", err)
		}
	})
}

func TestNewPlan(t *testing.T) {
	t.Parallel()
	dir := fixtureCopy(t, "tauri-v2/v1.2.0")
	files, _, err := publisher.Collect([]string{dir})
	check(t, err)
	for _, tt := range []struct {
		tag, want string
		files     []publisher.File
	}{
		{"v1.3.0", "names version 1.2.0, but the tag v1.3.0 is 1.3.0", files},
		{"latest", "does not name a semver version", files},
		{"v1.2.0", "signs DemoApp_1.2.0_amd64.deb, which is not among the files", withoutFile(files, "DemoApp_1.2.0_amd64.deb")},
	} {
		if _, err := publisher.NewPlan(tt.tag, tt.files, publisher.PlanOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPlan(%s) = %v, want %q", tt.tag, err, tt.want)
		}
	}
	for _, tt := range []struct {
		setup func(dir string) []string
		want  string
	}{
		{func(dir string) []string { return []string{filepath.Join(dir, "nope")} }, "no such file"},
		{func(dir string) []string {
			_ = os.WriteFile(filepath.Join(dir, "empty.deb"), nil, 0o644)
			return []string{filepath.Join(dir, "empty.deb")}
		}, "is empty"},
		{func(dir string) []string {
			_ = os.WriteFile(filepath.Join(dir, "a b.exe"), []byte("1"), 0o644)
			_ = os.WriteFile(filepath.Join(dir, "a.b.exe"), []byte("2"), 0o644)
			return []string{filepath.Join(dir, "a b.exe"), filepath.Join(dir, "a.b.exe")}
		}, "would both be the asset a.b.exe"},
		{func(dir string) []string {
			_ = os.Mkdir(filepath.Join(dir, "empty"), 0o755)
			return []string{filepath.Join(dir, "empty")}
		}, "has no release files"},
		{func(dir string) []string { return nil }, "no files"},
	} {
		if _, _, err := publisher.Collect(tt.setup(t.TempDir())); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Collect = %v, want %q", err, tt.want)
		}
	}
}

func withoutFile(files []publisher.File, name string) []publisher.File {
	var out []publisher.File
	for _, f := range files {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

// TestCollectTauriBundle walks a tree shaped like `tauri build`'s output:
// the artifacts are collected, the bundlers' staging folders are not.
func TestCollectTauriBundle(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "bundle")
	for path, content := range map[string]string{
		"macos/DemoApp.app/Contents/Info.plist":     "plist",
		"macos/DemoApp.app/Contents/MacOS/DemoApp":  "binary",
		"macos/DemoApp.app.tar.gz":                  "tgz",
		"macos/DemoApp.app.tar.gz.sig":              "sig",
		"dmg/DemoApp_1.2.0_aarch64.dmg":             "dmg",
		"dmg/bundle_dmg.sh":                         "script",
		"appimage/DemoApp.AppDir/usr/bin/demo":      "binary",
		"appimage/DemoApp_1.2.0_amd64.AppImage":     "appimage",
		"appimage/DemoApp_1.2.0_amd64.AppImage.sig": "sig",
		"deb/DemoApp_1.2.0_amd64/control/control":   "control",
		"deb/DemoApp_1.2.0_amd64/data/usr/bin/demo": "binary",
		"deb/DemoApp_1.2.0_amd64.deb":               "deb",
		".DS_Store":                                 "junk",
	} {
		writeFileAll(t, filepath.Join(root, path), content)
	}
	files, skipped, err := publisher.Collect([]string{root})
	check(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"DemoApp.app.tar.gz", "DemoApp.app.tar.gz.sig", "DemoApp_1.2.0_aarch64.dmg", "DemoApp_1.2.0_amd64.AppImage", "DemoApp_1.2.0_amd64.AppImage.sig", "DemoApp_1.2.0_amd64.deb"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("collected %v\nwant %v", names, want)
	}
	if len(skipped) < 4 {
		t.Errorf("skipped %v: the staging files should be listed", skipped)
	}
	// A file named explicitly is taken whatever it is.
	files, _, err = publisher.Collect([]string{filepath.Join(root, "dmg/bundle_dmg.sh")})
	if err != nil || len(files) != 1 {
		t.Errorf("an explicit file: %v %v", files, err)
	}
}

func writeFileAll(t *testing.T, path, content string) {
	t.Helper()
	check(t, os.MkdirAll(filepath.Dir(path), 0o755))
	check(t, os.WriteFile(path, []byte(content), 0o644))
}

// TestUploadCleansBrokenReplacement runs again after a --replace that died
// mid-upload of its temporary asset: the broken temporary asset of one of
// this run's files is deleted; another job's is left alone.
func TestUploadCleansBrokenReplacement(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	p := plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json"))
	_, err := publisher.Upload(t.Context(), c, p, uploadOpts())
	check(t, err)
	rel := gh.Releases(fullName)[0]
	mine, theirs := "otapub-tmp-0123456789ab-DemoApp_1.2.0_amd64.deb", "otapub-tmp-0123456789ab-Other_1.2.0_amd64.deb"
	for _, name := range []string{mine, theirs} {
		a, err := c.Upload(t.Context(), repo, rel, name, strings.NewReader("half"), 4)
		check(t, err)
		gh.SetAssetState(a.ID, "starter")
	}
	rep, err := publisher.Upload(t.Context(), c, p, uploadOpts())
	check(t, err)
	if rep.Count(publisher.ActionSkip) != len(p.Files)+1 {
		t.Errorf("%d skipped, want all %d", rep.Count(publisher.ActionSkip), len(p.Files)+1)
	}
	left := map[string]bool{}
	for _, a := range gh.Releases(fullName)[0].Assets {
		left[a.Name] = true
	}
	if left[mine] || !left[theirs] {
		t.Errorf("after the re-run: %s there %v (want deleted), %s there %v (want kept: another job's)", mine, left[mine], theirs, left[theirs])
	}
}

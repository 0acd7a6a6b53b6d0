package publisher_test

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

// electronJobs lays the fixture out as a CI matrix of electron-builder
// jobs, each folder what one job's dist/ holds: the macOS x64 and arm64
// jobs each with a latest-mac.yml of its own arch only (the fixture's,
// split: electron-builder#5592), Windows NSIS with Squirrel.Windows'
// RELEASES and .nupkg, and the two Linux arches.
func electronJobs(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	jobs := map[string][]string{
		"mac-x64":     {"DemoApp-1.2.0-mac.zip", "DemoApp-1.2.0-mac.zip.blockmap", "DemoApp-1.2.0.dmg", "DemoApp-1.2.0.dmg.blockmap"},
		"mac-arm64":   {"DemoApp-1.2.0-arm64-mac.zip", "DemoApp-1.2.0-arm64-mac.zip.blockmap", "DemoApp-1.2.0-arm64.dmg", "DemoApp-1.2.0-arm64.dmg.blockmap"},
		"win-x64":     {"DemoApp Setup 1.2.0.exe", "DemoApp Setup 1.2.0.exe.blockmap", "latest.yml"},
		"linux-x64":   {"DemoApp-1.2.0.AppImage", "latest-linux.yml"},
		"linux-arm64": {"DemoApp-1.2.0-arm64.AppImage", "latest-linux-arm64.yml"},
	}
	out := map[string]string{}
	for job, files := range jobs {
		dir := filepath.Join(root, job)
		check(t, os.MkdirAll(dir, 0o755))
		for _, f := range files {
			check(t, os.WriteFile(filepath.Join(dir, f), mustRead(t, "electron/v1.2.0/"+f), 0o644))
		}
		out[job] = dir
	}
	mac := mustRead(t, "electron/v1.2.0/latest-mac.yml")
	for job, arm := range map[string]bool{"mac-x64": false, "mac-arm64": true} {
		doc, err := githubsrc.ParseChannelDoc(mac)
		check(t, err)
		var files []githubsrc.ChannelEntry
		for _, f := range doc.Files() {
			if strings.Contains(f.URL, "arm64") == arm {
				files = append(files, f)
			}
		}
		doc.SetFiles(files)
		doc.SetPath(files[0].URL, files[0].SHA512)
		data, err := doc.Encode()
		check(t, err)
		check(t, os.WriteFile(filepath.Join(out[job], "latest-mac.yml"), data, 0o644))
	}
	// Squirrel.Windows: a tiny package and the RELEASES line for it.
	nupkg := []byte("PK\x03\x04 a tiny DemoApp-1.2.0-full.nupkg for the test")
	sum := sha1.Sum(nupkg)
	check(t, os.WriteFile(filepath.Join(out["win-x64"], "DemoApp-1.2.0-full.nupkg"), nupkg, 0o644))
	check(t, os.WriteFile(filepath.Join(out["win-x64"], "RELEASES"), fmt.Appendf(nil, "%s DemoApp-1.2.0-full.nupkg %d\n", strings.ToUpper(hex.EncodeToString(sum[:])), len(nupkg)), 0o644))
	return out
}

// uploadJobs uploads each job's folder as its own otapub upload, all at
// once, as a matrix does.
func uploadJobs(t *testing.T, c *githubsrc.Client, jobs map[string]string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(jobs))
	for job, dir := range jobs {
		p := plan(t, "v1.2.0", dir)
		wg.Go(func() {
			if _, err := publisher.Upload(t.Context(), c, p, uploadOpts()); err != nil {
				errs <- fmt.Errorf("%s: %w", job, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var electronPlatforms = []string{"darwin-aarch64", "darwin-x86_64", "windows-x86_64", "linux-x86_64", "linux-aarch64"}

// TestElectronMatrixRelease: five electron-builder jobs upload at once,
// the two macOS ones each with its own latest-mac.yml; verify passes the
// whole set, its table in Electron's columns; publish writes one
// latest-mac.yml listing both arches with the sizes and SHA-512s of the
// bytes on the release; the real electron-updater takes each platform's
// file from the published channel files.
func TestElectronMatrixRelease(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	ctx := t.Context()
	jobs := electronJobs(t)
	uploadJobs(t, c, jobs)
	if rels := gh.Releases(fullName); len(rels) != 1 {
		t.Fatalf("%d releases, want the jobs converged on one draft", len(rels))
	}
	var parts []string
	for _, a := range gh.Releases(fullName)[0].Assets {
		if ch, ok := publisher.ChannelFileOfPart(a.Name); ok {
			parts = append(parts, ch)
		}
		if githubsrc.IsChannelFile(a.Name) {
			t.Errorf("upload put %s up under the name clients ask for: a second job would collide with it", a.Name)
		}
	}
	if strings.Count(strings.Join(parts, " "), "latest-mac.yml") != 2 || len(parts) != 5 {
		t.Errorf("channel-file parts %v, want two of latest-mac.yml and one of each other", parts)
	}

	// A job run again changes nothing.
	again, err := publisher.Upload(ctx, c, plan(t, "v1.2.0", jobs["mac-arm64"]), uploadOpts())
	check(t, err)
	if n := again.Count(publisher.ActionSkip); n != len(again.Files) {
		t.Errorf("re-run: %d of %d skipped, want all: %+v", n, len(again.Files), again.Files)
	}

	v, err := publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", nil, electronPlatforms...))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(v.Platforms) != len(electronPlatforms) {
		t.Errorf("platform rows %+v, want one per Electron platform", v.Platforms)
	}
	for _, r := range v.Platforms {
		if r.Lane != publisher.LaneElectron {
			t.Errorf("%s: lane %q, want electron", r.Key, r.Lane)
		}
		for _, col := range publisher.ElectronColumns {
			want := publisher.StatusOK
			if col == publisher.CheckBlockmap && strings.HasPrefix(r.Key, "linux") {
				want = publisher.StatusSkipped // the AppImage carries its blockmap inside
			}
			if r.Checks[col] != want {
				t.Errorf("%s %s = %q, want %q", r.Key, col, r.Checks[col], want)
			}
		}
		if _, ok := r.Checks[publisher.CheckSig]; ok {
			t.Errorf("%s has a .sig column: %v", r.Key, r.Checks)
		}
	}
	taken := map[string]string{}
	for _, r := range v.Platforms {
		taken[r.Key] = r.Payload
	}
	for key, want := range map[string]string{"darwin-aarch64": "DemoApp-1.2.0-arm64-mac.zip", "darwin-x86_64": "DemoApp-1.2.0-mac.zip",
		"windows-x86_64": "DemoApp-Setup-1.2.0.exe", "linux-x86_64": "DemoApp-1.2.0.AppImage", "linux-aarch64": "DemoApp-1.2.0-arm64.AppImage"} {
		if taken[key] != want {
			t.Errorf("%s takes %q, want %q", key, taken[key], want)
		}
	}

	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil, electronPlatforms...)})
	check(t, err)
	if pr.Release.Draft {
		t.Fatal("still a draft")
	}
	published := map[string][]byte{}
	for _, a := range pr.Release.Assets {
		data, ok := gh.AssetData(a.ID)
		if !ok {
			t.Fatalf("no bytes for %s", a.Name)
		}
		published[a.Name] = data
	}
	doc, err := githubsrc.ParseChannelDoc(published["latest-mac.yml"])
	if err != nil {
		t.Fatalf("published latest-mac.yml: %v\n%s", err, published["latest-mac.yml"])
	}
	var urls []string
	for _, f := range doc.Files() {
		urls = append(urls, f.URL)
		data, ok := published[f.AssetName()]
		if !ok {
			t.Errorf("latest-mac.yml names %s, not on the release", f.URL)
			continue
		}
		sum := sha512.Sum512(data)
		if f.Size != int64(len(data)) || f.SHA512 != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("latest-mac.yml: %s size %d sha512 %.16s…, the bytes are %d, %.16s…", f.URL, f.Size, f.SHA512, len(data), base64.StdEncoding.EncodeToString(sum[:]))
		}
	}
	if want := "DemoApp-1.2.0-mac.zip DemoApp-1.2.0-arm64-mac.zip DemoApp-1.2.0.dmg DemoApp-1.2.0-arm64.dmg"; strings.Join(urls, " ") != want {
		t.Errorf("published latest-mac.yml lists %v, want both arches, zips first: %s", urls, want)
	}
	if path, _ := doc.Path(); path != "DemoApp-1.2.0-mac.zip" {
		t.Errorf("legacy path %q, want the x64 zip, as electron-builder writes", path)
	}
	for _, name := range []string{"latest.yml", "latest-linux.yml", "latest-linux-arm64.yml", "RELEASES", "DemoApp-1.2.0-full.nupkg", publisher.CombinedManifest} {
		if _, ok := published[name]; !ok {
			t.Errorf("the published release lacks %s", name)
		}
	}
	if _, err := publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", nil, electronPlatforms...)); err != nil {
		t.Errorf("verify of the published release (the merged channel files beside the parts): %v", err)
	}
	sums, err := publisher.ParseManifest(published[publisher.CombinedManifest])
	check(t, err)
	macSum := sha256Hex(published["latest-mac.yml"])
	if !containsLine(sums, "latest-mac.yml", macSum) {
		t.Errorf("SHA256SUMS does not list the published latest-mac.yml (%s): %+v", macSum, sums)
	}

	// The real electron-updater reads what publish wrote, from a plain
	// file server holding the release's assets.
	githubsrctest.RequireElectronUpdater(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := published[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	checks := []githubsrctest.ElectronCheck{
		{Name: "windows-x64", Platform: "win32", Arch: "x64"},
		{Name: "mac-x64", Platform: "darwin", Arch: "x64"},
		{Name: "mac-arm64", Platform: "darwin", Arch: "arm64"},
		{Name: "linux-x64", Platform: "linux", Arch: "x64"},
		{Name: "linux-arm64", Platform: "linux", Arch: "arm64"},
	}
	for i := range checks {
		checks[i].FeedURL, checks[i].Download = srv.URL+"/", true
	}
	results := githubsrctest.ElectronUpdater(t, checks...)
	for name, want := range map[string]string{"windows-x64": "DemoApp-Setup-1.2.0.exe", "mac-x64": "DemoApp-1.2.0-mac.zip", "mac-arm64": "DemoApp-1.2.0-arm64-mac.zip",
		"linux-x64": "DemoApp-1.2.0.AppImage", "linux-arm64": "DemoApp-1.2.0-arm64.AppImage"} {
		r := results[name]
		if r.Error != "" || r.Version != "1.2.0" || !strings.HasSuffix(r.Picked, "/"+want) || r.Downloaded == 0 {
			t.Errorf("%s: electron-updater got version %q, picked %q, downloaded %d, error %s %s; want %s downloaded and its SHA-512 accepted",
				name, r.Version, r.Picked, r.Downloaded, r.Code, r.Error, want)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func containsLine(lines []publisher.ManifestLine, name, sum string) bool {
	for _, l := range lines {
		if l.Name == name && l.SHA256 == sum {
			return true
		}
	}
	return false
}

// TestElectronVerifyRefuses breaks a whole matrix-uploaded Electron draft
// in each way and checks that verify names the problem, with no
// --require where the release itself shows what is missing, and that
// publish refuses it.
func TestElectronVerifyRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		break_             func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client)
		check, asset, text string
		platform, column   string // the table cell that fails
	}{
		{"missing blockmap", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp-Setup-1.2.0.exe.blockmap").ID))
		}, publisher.CheckBlockmap, "DemoApp-Setup-1.2.0.exe.blockmap", "DemoApp-Setup-1.2.0.exe.blockmap is missing", "windows-x86_64", publisher.CheckBlockmap},
		{"yml SHA-512 does not match", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			part := partOf(t, gh, "latest-mac.yml", "arm64")
			data, _ := gh.AssetData(part.ID)
			doc, err := githubsrc.ParseChannelDoc(data)
			check(t, err)
			files := doc.Files()
			files[0].SHA512 = base64.StdEncoding.EncodeToString(make([]byte, 64))
			doc.SetFiles(files)
			out, err := doc.Encode()
			check(t, err)
			gh.SetAssetData(part.ID, out)
		}, publisher.CheckYML, "latest-mac.yml", "says DemoApp-1.2.0-arm64-mac.zip has sha512 AAAAAAAA", "darwin-aarch64", publisher.CheckSHA512},
		{"zip not fully uploaded", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetState(assetByName(t, gh, "v1.2.0", "DemoApp-1.2.0-arm64-mac.zip").ID, "starter")
		}, publisher.CheckYML, "DemoApp-1.2.0-arm64-mac.zip", "which is not fully uploaded", "darwin-aarch64", publisher.CheckFile},
		{"an arch missing from latest-mac.yml", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, partOf(t, gh, "latest-mac.yml", "arm64").ID))
		}, publisher.CheckPayload, "latest-mac.yml", "latest-mac.yml offers no aarch64 build: electron-updater on darwin-aarch64 would take DemoApp-1.2.0-mac.zip", "darwin-aarch64", publisher.CheckChannel},
		{"RELEASES SHA-1 does not match", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			a := assetByName(t, gh, "v1.2.0", "RELEASES")
			data, _ := gh.AssetData(a.ID)
			gh.SetAssetData(a.ID, append([]byte("0000000000"), data[10:]...))
		}, publisher.CheckReleases, "DemoApp-1.2.0-full.nupkg", "has SHA-1 0000000000", "windows-x86_64", publisher.CheckChannel},
		{"RELEASES names a missing package", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp-1.2.0-full.nupkg").ID))
		}, publisher.CheckReleases, "DemoApp-1.2.0-full.nupkg", "names DemoApp-1.2.0-full.nupkg, which is not an asset", "windows-x86_64", publisher.CheckChannel},
		{"channel file names an absent file", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp-1.2.0.AppImage").ID))
		}, publisher.CheckYML, "latest-linux.yml", "names DemoApp-1.2.0.AppImage, which is not an asset", "linux-x86_64", publisher.CheckFile},
		{"a whole platform's channel file missing", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, partOf(t, gh, "latest-linux-arm64.yml", "").ID))
		}, publisher.CheckPayload, "latest-linux-arm64.yml", "no latest-linux-arm64.yml on the release", "linux-aarch64", publisher.CheckChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			c := client(t, gh)
			uploadJobs(t, c, electronJobs(t))
			tt.break_(t, gh, c)
			v, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", nil))
			if !hasProblem(problemsOf(err), tt.check, tt.asset, tt.text) {
				t.Fatalf("verify = %v, want a %s problem with %s: %q", err, tt.check, tt.asset, tt.text)
			}
			var cell string
			for _, r := range v.Platforms {
				if r.Key == tt.platform {
					cell = r.Checks[tt.column]
				}
			}
			if cell != publisher.StatusFail && cell != publisher.StatusMissing {
				t.Errorf("table %+v: %s %s = %q, want it failed", v.Platforms, tt.platform, tt.column, cell)
			}
			_, err = publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil)})
			var ie *publisher.IncompleteError
			if !errors.As(err, &ie) || !gh.Releases(fullName)[0].Draft {
				t.Errorf("publish = %v, want it refused and the release a draft", err)
			}
		})
	}
}

// partOf finds the part of channel file name whose text contains word.
func partOf(t *testing.T, gh *githubsrctest.Server, name, word string) githubsrc.Asset {
	t.Helper()
	for _, a := range gh.Releases(fullName)[0].Assets {
		if ch, ok := publisher.ChannelFileOfPart(a.Name); ok && ch == name {
			if data, _ := gh.AssetData(a.ID); strings.Contains(string(data), word) {
				return a
			}
		}
	}
	t.Fatalf("no part of %s with %q", name, word)
	return githubsrc.Asset{}
}

// issueTree writes the electron-builder output the issue tried, named by
// an artifactName of its own: myapp-macos-0.1.5-arm64.zip, an .exe with
// no "Setup" in its name, and the files electron-builder leaves beside
// them that are no release files.
func issueTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dist")
	write := func(name string, data []byte) {
		check(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		check(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	entry := func(name string) string {
		data := []byte(strings.Repeat(name, 100))
		write(name, data)
		sum := sha512.Sum512(data)
		return fmt.Sprintf("  - url: %s\n    sha512: %s\n    size: %d\n", name, base64.StdEncoding.EncodeToString(sum[:]), len(data))
	}
	yml := func(name string, files ...string) {
		write(name, []byte("version: 0.1.5\nfiles:\n"+strings.Join(files, "")+"releaseDate: '2026-11-20T10:00:00.000Z'\n"))
	}
	yml("latest-mac.yml", entry("myapp-macos-0.1.5-arm64.zip"), entry("myapp-macos-0.1.5-arm64.dmg"))
	yml("latest.yml", entry("myapp-windows-0.1.5-x64.exe"))
	yml("latest-linux.yml", entry("myapp-linux-0.1.5-x86_64.AppImage"))
	for _, f := range []string{"myapp-macos-0.1.5-arm64.zip", "myapp-macos-0.1.5-arm64.dmg", "myapp-windows-0.1.5-x64.exe"} {
		write(f+".blockmap", []byte("blockmap of "+f))
	}
	write("builder-debug.yml", []byte("x: 1\n"))
	write("builder-effective-config.yaml", []byte("x: 1\n"))
	write("win-unpacked/myapp.exe", []byte("the unpacked app"))
	write("win-unpacked/ffmpeg.dll", []byte("a dll"))
	return dir
}

// TestElectronIssueTree: the issue's tree uploads whole, skips
// electron-builder's leftovers, and verifies with --require for the three
// platforms (no "no signed updater payload"), in Electron's columns.
func TestElectronIssueTree(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	dir := issueTree(t)
	files, skipped, err := publisher.Collect([]string{dir})
	check(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if want := "latest-linux.yml latest-mac.yml latest.yml myapp-linux-0.1.5-x86_64.AppImage myapp-macos-0.1.5-arm64.dmg myapp-macos-0.1.5-arm64.dmg.blockmap myapp-macos-0.1.5-arm64.zip myapp-macos-0.1.5-arm64.zip.blockmap myapp-windows-0.1.5-x64.exe myapp-windows-0.1.5-x64.exe.blockmap"; strings.Join(names, " ") != want {
		t.Errorf("collected %v\nwant %s", names, want)
	}
	if len(skipped) != 3 {
		t.Errorf("skipped %+v, want builder-debug.yml, builder-effective-config.yaml and win-unpacked", skipped)
	}
	require := []string{"darwin-aarch64", "windows-x86_64", "linux-x86_64"}
	if _, err := publisher.VerifyDir(t.Context(), dir, verifyOpts(t, "v0.1.5", nil, require...)); err != nil {
		t.Errorf("verify --dir: %v", err)
	}
	_, err = publisher.Upload(t.Context(), c, plan(t, "v0.1.5", dir), uploadOpts())
	check(t, err)
	v, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v0.1.5", nil, require...))
	if err != nil {
		t.Fatalf("verify --require %s: %v", strings.Join(require, ","), err)
	}
	for _, r := range v.Platforms {
		if r.Lane != publisher.LaneElectron || r.Checks[publisher.CheckChannel] != publisher.StatusOK {
			t.Errorf("row %+v, want an Electron row, its channel file ok", r)
		}
	}
	// A platform the release lacks is named, in the same keys.
	_, err = publisher.Verify(t.Context(), c, verifyOpts(t, "v0.1.5", nil, "darwin-x86_64", "linux-aarch64"))
	if !hasProblem(problemsOf(err), publisher.CheckPayload, "latest-linux-arm64.yml", "no latest-linux-arm64.yml on the release") ||
		!hasProblem(problemsOf(err), publisher.CheckPayload, "latest-mac.yml", "latest-mac.yml gives electron-updater on darwin-x86_64 no file") {
		t.Errorf("verify --require darwin-x86_64,linux-aarch64 = %v, want both named", err)
	}
}

// TestElectronBuilderDraft: a draft electron-builder uploaded itself (the
// real latest*.yml on it) verifies and publishes; and a job otapub
// uploads beside one (an arm64 job's part next to electron-builder's x64
// latest-mac.yml) is merged into it.
func TestElectronBuilderDraft(t *testing.T) {
	t.Parallel()
	fixture := func(t *testing.T, skip func(string) bool) map[string][]byte {
		assets := map[string][]byte{}
		entries, err := os.ReadDir(filepath.Join(testdataDir, "fixtures", "electron", "v1.2.0"))
		check(t, err)
		for _, e := range entries {
			if !skip(e.Name()) {
				assets[strings.ReplaceAll(e.Name(), " ", "-")] = mustRead(t, "electron/v1.2.0/"+e.Name())
			}
		}
		return assets
	}
	t.Run("all by electron-builder", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		c := client(t, gh)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true, Assets: fixture(t, func(string) bool { return false })})
		pr, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil, electronPlatforms...)})
		check(t, err)
		a, _ := pr.Release.Asset("latest-mac.yml")
		data, _ := gh.AssetData(a.ID)
		doc, err := githubsrc.ParseChannelDoc(data)
		check(t, err)
		if len(doc.Files()) != 4 {
			t.Errorf("published latest-mac.yml:\n%s\nwant electron-builder's four files", data)
		}
	})
	t.Run("x64 by electron-builder, arm64 by otapub", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		c := client(t, gh)
		jobs := electronJobs(t)
		x64, err := os.ReadFile(filepath.Join(jobs["mac-x64"], "latest-mac.yml"))
		check(t, err)
		assets := fixture(t, func(name string) bool {
			return strings.Contains(name, "arm64") && strings.Contains(name, ".dmg") || strings.Contains(name, "arm64-mac")
		})
		assets["latest-mac.yml"] = x64
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true, Assets: assets})
		if _, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", nil, "darwin-aarch64")); !hasProblem(problemsOf(err), publisher.CheckPayload, "latest-mac.yml", "offers no aarch64 build") {
			t.Errorf("before the arm64 job: verify = %v, want darwin-aarch64 missing", err)
		}
		_, err = publisher.Upload(t.Context(), c, plan(t, "v1.2.0", jobs["mac-arm64"]), uploadOpts())
		check(t, err)
		pr, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil, electronPlatforms...)})
		check(t, err)
		a, _ := pr.Release.Asset("latest-mac.yml")
		data, _ := gh.AssetData(a.ID)
		doc, err := githubsrc.ParseChannelDoc(data)
		check(t, err)
		if len(doc.Files()) != 4 {
			t.Errorf("published latest-mac.yml:\n%s\nwant electron-builder's x64 files and the arm64 job's", data)
		}
	})
	t.Run("one job", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		c := client(t, gh)
		jobs := electronJobs(t)
		_, err := publisher.Upload(t.Context(), c, plan(t, "v1.2.0", jobs["mac-arm64"]), uploadOpts())
		check(t, err)
		pr, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil, "darwin-aarch64")})
		check(t, err)
		a, _ := pr.Release.Asset("latest-mac.yml")
		data, _ := gh.AssetData(a.ID)
		doc, err := githubsrc.ParseChannelDoc(data)
		check(t, err)
		if len(doc.Files()) != 2 || !strings.Contains(doc.Files()[0].URL, "arm64") {
			t.Errorf("published latest-mac.yml:\n%s\nwant the arm64 job's zip and dmg", data)
		}
	})
}

// TestElectronJobRebuilt: a macOS job built again (new bytes, a new
// latest-mac.yml naming the same files) is refused without --replace,
// naming its part and its zip; with --replace its part is replaced, not
// added to, and publish writes the new SHA-512 beside the other job's.
func TestElectronJobRebuilt(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	jobs := electronJobs(t)
	uploadJobs(t, c, jobs)
	before := len(gh.Releases(fullName)[0].Assets)

	dir := jobs["mac-arm64"]
	zip := filepath.Join(dir, "DemoApp-1.2.0-arm64-mac.zip")
	data, err := os.ReadFile(zip)
	check(t, err)
	data = append(data, "rebuilt"...)
	check(t, os.WriteFile(zip, data, 0o644))
	sum := sha512.Sum512(data)
	newSum := base64.StdEncoding.EncodeToString(sum[:])
	yml, err := os.ReadFile(filepath.Join(dir, "latest-mac.yml"))
	check(t, err)
	doc, err := githubsrc.ParseChannelDoc(yml)
	check(t, err)
	files := doc.Files()
	for i := range files {
		if files[i].URL == "DemoApp-1.2.0-arm64-mac.zip" {
			files[i].SHA512, files[i].Size = newSum, int64(len(data))
		}
	}
	doc.SetFiles(files)
	doc.SetPath("DemoApp-1.2.0-arm64-mac.zip", newSum)
	doc.SetReleaseDate("2026-11-21T10:00:00.000Z")
	yml, err = doc.Encode()
	check(t, err)
	check(t, os.WriteFile(filepath.Join(dir, "latest-mac.yml"), yml, 0o644))

	_, err = publisher.Upload(t.Context(), c, plan(t, "v1.2.0", dir), uploadOpts())
	if err == nil || !strings.Contains(err.Error(), "latest-mac.yml.part-") || !strings.Contains(err.Error(), "DemoApp-1.2.0-arm64-mac.zip") {
		t.Fatalf("a rebuilt job without --replace: %v, want its part and zip named", err)
	}
	opts := uploadOpts()
	opts.Replace = true
	_, err = publisher.Upload(t.Context(), c, plan(t, "v1.2.0", dir), opts)
	check(t, err)
	if after := len(gh.Releases(fullName)[0].Assets); after != before {
		t.Errorf("%d assets after the rebuilt job, %d before: want its part and files replaced, none added", after, before)
	}
	pr, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil, electronPlatforms...)})
	check(t, err)
	a, _ := pr.Release.Asset("latest-mac.yml")
	published, _ := gh.AssetData(a.ID)
	if !strings.Contains(string(published), newSum) || !strings.Contains(string(published), "DemoApp-1.2.0-mac.zip") || !strings.Contains(string(published), "2026-11-21T10:00:00.000Z") {
		t.Errorf("published latest-mac.yml:\n%s\nwant the rebuilt arm64 zip's SHA-512, the x64 job's files and the later releaseDate", published)
	}
}

// TestElectronEveryPieceNamed: the hosted Electron set passes verify
// --dir, and without any piece, with no --require, fails naming it (or
// the channel file that is gone) with a fix.
func TestElectronEveryPieceNamed(t *testing.T) {
	t.Parallel()
	dir := fixtureCopy(t, "electron/v1.2.0")
	if _, err := publisher.VerifyDir(t.Context(), dir, verifyOpts(t, "v1.2.0", nil)); err != nil {
		t.Fatalf("the whole set: %v", err)
	}
	for _, piece := range []string{
		"DemoApp-1.2.0.dmg", "DemoApp-1.2.0-arm64-mac.zip", "latest-mac.yml", "DemoApp-1.2.0-mac.zip.blockmap", "DemoApp-1.2.0-arm64.dmg.blockmap",
		"DemoApp Setup 1.2.0.exe", "latest.yml", "DemoApp Setup 1.2.0.exe.blockmap",
		"DemoApp-1.2.0.AppImage", "latest-linux.yml", "latest-linux-arm64.yml",
	} {
		t.Run(piece, func(t *testing.T) {
			t.Parallel()
			dir := fixtureCopy(t, "electron/v1.2.0", piece)
			_, err := publisher.VerifyDir(t.Context(), dir, verifyOpts(t, "v1.2.0", nil))
			named := strings.ReplaceAll(piece, " ", "-")
			for _, p := range problemsOf(err) {
				if strings.Contains(p.Message, named) && p.Fix != "" {
					return
				}
			}
			t.Errorf("without %s: verify = %v, want it named with a fix", piece, err)
		})
	}
}

package publisher_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

// fixtureAssets reads a fixture folder as the assets of a seeded release.
func fixtureAssets(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(filepath.Join(testdataDir, "fixtures", dir))
	check(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(testdataDir, "fixtures", dir, e.Name()))
		check(t, err)
		out[e.Name()] = b
	}
	return out
}

func pullOpts(t testing.TB, dir string) publisher.PullOptions {
	pub := pubkey(t, "test.key.pub")
	return publisher.PullOptions{Repo: repo, Tag: "v1.2.0", Dir: dir, PubKey: &pub}
}

// TestPull pulls a published release with its team's manifest, checks
// every file and the metadata serve --dir reads, and pulls it again for
// free.
func TestPull(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	assets := fixtureAssets(t, "tauri-v2/v1.2.0")
	manifest, err := readFixture("tauri-v2/SHA256SUMS-v1.2.0.txt")
	check(t, err)
	assets["myapp-sha256.txt"] = manifest
	published := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Name: "Demo 1.2", Notes: "Fixes.", PublishedAt: published, Assets: assets})
	dir := filepath.Join(t.TempDir(), "v1.2.0")

	rep, err := publisher.Pull(context.Background(), client(t, gh), pullOpts(t, dir))
	check(t, err)
	for name, want := range assets {
		got, err := os.ReadFile(filepath.Join(dir, name))
		check(t, err)
		if string(got) != string(want) {
			t.Errorf("%s: the pulled bytes differ", name)
		}
	}
	if len(rep.Files) != len(assets) || rep.Signatures != 8 {
		t.Errorf("pulled %d files with %d signatures checked, want %d and 8", len(rep.Files), rep.Signatures, len(assets))
	}
	for _, f := range rep.Files {
		if f.Action != publisher.ActionDownload || f.Error != "" {
			t.Errorf("%s: %s %q, want a clean download", f.Name, f.Action, f.Error)
		}
		if !strings.Contains(strings.Join(f.CheckedBy, ","), "github-digest") {
			t.Errorf("%s: checked by %v, want GitHub's digest among them", f.Name, f.CheckedBy)
		}
	}
	if f := fileOf(rep, "DemoApp_1.2.0_amd64.AppImage"); strings.Join(f.CheckedBy, ",") != "github-digest,myapp-sha256.txt,signature" {
		t.Errorf("the AppImage was checked by %v, want the digest, the manifest and the signature", f.CheckedBy)
	}
	var meta publisher.ReleaseMetadata
	b, err := os.ReadFile(filepath.Join(dir, publisher.ReleaseMetadataFile))
	check(t, err)
	check(t, json.Unmarshal(b, &meta))
	if meta.Name != "Demo 1.2" || meta.Notes != "Fixes." || !meta.PublishedAt.Equal(published) || meta.Prerelease || meta.Draft {
		t.Errorf("release.json = %+v", meta)
	}

	again, err := publisher.Pull(context.Background(), client(t, gh), pullOpts(t, dir))
	check(t, err)
	for _, f := range again.Files {
		if f.Action != publisher.ActionKeep {
			t.Errorf("re-run: %s was %sed, want kept", f.Name, f.Action)
		}
	}
	if again.Bytes > 8<<10 {
		t.Errorf("re-run downloaded %d bytes, want only the manifests and signatures", again.Bytes)
	}
}

func fileOf(rep publisher.PullReport, name string) publisher.PulledFile {
	for _, f := range rep.Files {
		if f.Name == name {
			return f
		}
	}
	return publisher.PulledFile{}
}

// TestPullRefuses: bytes that differ from what the release promises never
// reach their real name, and each problem names the file and the fix.
func TestPullRefuses(t *testing.T) {
	t.Parallel()
	const appImage = "DemoApp_1.2.0_amd64.AppImage"
	flip := func(b []byte) []byte {
		out := append([]byte(nil), b...)
		out[100] ^= 0xff
		return out
	}
	for _, tc := range []struct {
		name  string
		spec  func(assets map[string][]byte) githubsrctest.ReleaseSpec
		after func(gh *githubsrctest.Server)
		check string
		asset string
		text  string
	}{
		{
			name: "storage corrupted behind GitHub's digest",
			spec: func(a map[string][]byte) githubsrctest.ReleaseSpec {
				return githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a}
			},
			after: func(gh *githubsrctest.Server) {
				id := assetByName(t, gh, "v1.2.0", appImage).ID
				data, _ := gh.AssetData(id)
				gh.SetAssetData(id, flip(data))
			},
			check: publisher.CheckManifest, asset: appImage, text: "GitHub's digest says",
		},
		{
			name: "no digest, and the team's manifest disagrees",
			spec: func(a map[string][]byte) githubsrctest.ReleaseSpec {
				a["SHA256SUMS.txt"] = []byte(strings.Repeat("ab", 32) + "  " + appImage + "\r\n")
				return githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a, NoDigest: true}
			},
			check: publisher.CheckManifest, asset: appImage, text: "SHA256SUMS.txt line 1 says",
		},
		{
			name: "signed by another key",
			spec: func(a map[string][]byte) githubsrctest.ReleaseSpec {
				other, err := readFixture("signatures/signed-by-other.bin.sig")
				check(t, err)
				a[appImage+".sig"] = other
				return githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a}
			},
			check: publisher.CheckSignature, asset: appImage, text: "signature",
		},
		{
			name: "an unfinished upload",
			spec: func(a map[string][]byte) githubsrctest.ReleaseSpec {
				return githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: a, States: map[string]string{appImage: "starter"}, Draft: true}
			},
			check: publisher.CheckUploaded, asset: appImage, text: "not fully uploaded",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRelease(fullName, tc.spec(fixtureAssets(t, "tauri-v2/v1.2.0")))
			if tc.after != nil {
				tc.after(gh)
			}
			dir := filepath.Join(t.TempDir(), "v1.2.0")
			_, err := publisher.Pull(context.Background(), client(t, gh), pullOpts(t, dir))
			if !hasProblem(problemsOf(err), tc.check, tc.asset, tc.text) {
				t.Fatalf("got %v, want a %s problem for %s saying %q", err, tc.check, tc.asset, tc.text)
			}
			if _, err := os.Stat(filepath.Join(dir, appImage)); !os.IsNotExist(err) {
				t.Errorf("%s is in the folder under its real name (stat: %v)", appImage, err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
			if _, err := os.Stat(filepath.Join(dir, "DemoApp_1.2.0_x64-setup.exe")); err != nil {
				t.Errorf("a good file was not pulled beside the bad one: %v", err)
			}
		})
	}
}

// TestPullManifestForms reads sha256sum's binary form and CRLF line ends,
// and names a line for a file the release does not have.
func TestPullManifestForms(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	assets := fixtureAssets(t, "tauri-v2/v1.2.0")
	sum := func(name string) string {
		return assetSHA(assets[name])
	}
	assets["mac-sha256.txt"] = []byte(sum("DemoApp_x64.app.tar.gz") + " *DemoApp_x64.app.tar.gz\r\n" +
		sum("DemoApp_1.2.0_x64.dmg") + "  DemoApp_1.2.0_x64.dmg\r\n" +
		sum("DemoApp_1.2.0_x64.dmg") + "  DemoApp_1.2.0_universal.dmg\r\n")
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: assets, NoDigest: true})
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	rep, err := publisher.Pull(context.Background(), client(t, gh), pullOpts(t, dir))
	if !hasProblem(problemsOf(err), publisher.CheckManifest, "mac-sha256.txt", "line 3 names DemoApp_1.2.0_universal.dmg, which is not on the release") {
		t.Fatalf("got %v, want the line for a missing file named", err)
	}
	if len(problemsOf(err)) != 1 {
		t.Errorf("problems %v, want only the missing file's line", problemsOf(err))
	}
	for _, name := range []string{"DemoApp_x64.app.tar.gz", "DemoApp_1.2.0_x64.dmg"} {
		if f := fileOf(rep, name); len(f.CheckedBy) == 0 || f.CheckedBy[0] != "mac-sha256.txt" {
			t.Errorf("%s: checked by %v, want the binary-mode and CRLF lines of mac-sha256.txt", name, f.CheckedBy)
		}
	}
}

// TestPullRepairsTheFolder: a file of the right size with other bytes and a
// temporary file left by a killed run are both set right.
func TestPullRepairsTheFolder(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	assets := fixtureAssets(t, "tauri-v2/v1.2.0")
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: assets, Draft: true})
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	check(t, os.MkdirAll(dir, 0o755))
	const exe = "DemoApp_1.2.0_x64-setup.exe"
	wrong := append([]byte(nil), assets[exe]...)
	wrong[0] ^= 1
	check(t, os.WriteFile(filepath.Join(dir, exe), wrong, 0o644))
	// A killed run's temporary file of an asset the release no longer has.
	check(t, os.WriteFile(filepath.Join(dir, ".DemoApp_1.1.0_x64.dmg.otapub-partial"), []byte("half"), 0o644))

	rep, err := publisher.Pull(context.Background(), client(t, gh), pullOpts(t, dir))
	check(t, err)
	if !rep.Draft {
		t.Error("the report does not say the release is a draft")
	}
	got, err := os.ReadFile(filepath.Join(dir, exe))
	check(t, err)
	if string(got) != string(assets[exe]) || fileOf(rep, exe).Action != publisher.ActionDownload {
		t.Errorf("%s with wrong bytes was %sed, want downloaded again", exe, fileOf(rep, exe).Action)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	var meta publisher.ReleaseMetadata
	b, err := os.ReadFile(filepath.Join(dir, publisher.ReleaseMetadataFile))
	check(t, err)
	check(t, json.Unmarshal(b, &meta))
	if !meta.Draft {
		t.Error("release.json of a pulled draft does not say draft: serve --dir would offer an unpublished release")
	}
}

func assetSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

package publisher_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/publisher"
)

// manifestOf writes the sha256sum manifest of dir's release files into
// dir as name, with CRLF line ends and the first line in binary form
// ("<hex> *<name>"), as Windows tools and `sha256sum -b` write them.
func manifestOf(t *testing.T, dir, name string) {
	t.Helper()
	files, _, err := publisher.Collect([]string{dir})
	check(t, err)
	check(t, publisher.Hash(context.Background(), files, 2))
	var lines []publisher.ManifestLine
	for _, f := range files {
		lines = append(lines, publisher.ManifestLine{SHA256: f.SHA256, Name: f.Name})
	}
	text := strings.ReplaceAll(string(publisher.FormatManifest(lines)), "\n", "\r\n")
	text = strings.Replace(text, "  ", " *", 1)
	check(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
}

func dirOpts(t *testing.T, tag string, require ...string) publisher.VerifyOptions {
	pub := pubkey(t, "test.key.pub")
	return publisher.VerifyOptions{Tag: tag, PubKey: &pub, Require: platforms(t, require...)}
}

// TestVerifyDir runs verify's checks over a folder: no network, every
// digest from the bytes, signatures checked, the team's own manifest read
// in its CRLF and binary forms.
func TestVerifyDir(t *testing.T) {
	t.Parallel()
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	manifestOf(t, dir, "myapp-sha256.txt")
	rep, err := publisher.VerifyDir(context.Background(), dir, dirOpts(t, "v1.2.0", "darwin-aarch64", "linux-x86_64", "windows-x86_64"))
	if err != nil {
		t.Fatalf("verify --dir of a complete folder: %v", err)
	}
	if !rep.Complete || rep.Signatures != 8 || rep.Dir != dir || rep.ReleaseID != 0 {
		t.Errorf("report %+v: want complete, 8 signatures, the folder named", rep)
	}
}

// TestVerifyDirNamesEachProblem breaks a folder one way at a time; each
// problem names the file, the manifest and its line where there is one.
func TestVerifyDirNamesEachProblem(t *testing.T) {
	t.Parallel()
	const deb = "DemoApp_1.2.0_amd64.deb"
	for _, tc := range []struct {
		name    string
		tag     string
		require []string
		breakIt func(t *testing.T, dir string)
		check   string
		asset   string
		text    string
	}{
		{
			name:    "one flipped byte",
			breakIt: func(t *testing.T, dir string) { flipMiddle(t, filepath.Join(dir, deb)) },
			check:   publisher.CheckManifest, asset: deb, text: "in the folder, but myapp-sha256.txt line 6 says",
		},
		{
			name:    "one flipped byte, signature",
			breakIt: func(t *testing.T, dir string) { flipMiddle(t, filepath.Join(dir, deb)) },
			check:   publisher.CheckSignature, asset: deb, text: deb,
		},
		{
			name: "a line for a missing file",
			breakIt: func(t *testing.T, dir string) {
				f, err := os.OpenFile(filepath.Join(dir, "myapp-sha256.txt"), os.O_APPEND|os.O_WRONLY, 0)
				check(t, err)
				_, err = f.WriteString(strings.Repeat("0", 64) + "  DemoApp_1.2.0_universal.dmg\r\n")
				check(t, err)
				check(t, f.Close())
			},
			check: publisher.CheckManifest, asset: "myapp-sha256.txt", text: "myapp-sha256.txt line 19 lists DemoApp_1.2.0_universal.dmg, which is not in the folder",
		},
		{
			name:    "a required platform missing",
			require: []string{"linux-aarch64"},
			check:   publisher.CheckPayload, text: "no signed updater payload",
		},
		{
			name:  "files of another version",
			tag:   "v1.3.0",
			check: publisher.CheckVersion, asset: deb, text: "names version 1.2.0, but the release is 1.3.0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
			manifestOf(t, dir, "myapp-sha256.txt")
			if tc.breakIt != nil {
				tc.breakIt(t, dir)
			}
			tag := tc.tag
			if tag == "" {
				tag = "v1.2.0"
			}
			_, err := publisher.VerifyDir(context.Background(), dir, dirOpts(t, tag, tc.require...))
			if !hasProblem(problemsOf(err), tc.check, tc.asset, tc.text) {
				t.Errorf("got %v\nwant a %s problem for %q saying %q", err, tc.check, tc.asset, tc.text)
			}
		})
	}
}

func flipMiddle(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	check(t, err)
	data[len(data)/2] ^= 1
	check(t, os.WriteFile(path, data, 0o644))
}

// TestVerifyDirElectron checks latest*.yml against the files in a folder
// of electron-builder outputs: sizes and SHA-512s.
func TestVerifyDirElectron(t *testing.T) {
	t.Parallel()
	dir := fixtureCopy(t, "electron/v1.2.0")
	if _, err := publisher.VerifyDir(context.Background(), dir, publisher.VerifyOptions{Tag: "v1.2.0"}); err != nil {
		t.Fatalf("verify --dir of electron-builder's outputs: %v", err)
	}
	flipMiddle(t, filepath.Join(dir, "DemoApp-1.2.0-arm64-mac.zip"))
	_, err := publisher.VerifyDir(context.Background(), dir, publisher.VerifyOptions{Tag: "v1.2.0"})
	if !hasProblem(problemsOf(err), publisher.CheckYML, "", "DemoApp-1.2.0-arm64-mac.zip") {
		t.Errorf("a changed zip: %v, want latest-mac.yml's SHA-512 named", err)
	}
}

// TestVerifyDirWithoutManifest: a build folder before upload has no
// manifest (upload writes one), so no file is missing from one; a folder
// with a manifest must cover every payload.
func TestVerifyDirWithoutManifest(t *testing.T) {
	t.Parallel()
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	if _, err := publisher.VerifyDir(context.Background(), dir, dirOpts(t, "v1.2.0")); err != nil {
		t.Fatalf("a build folder without a manifest: %v", err)
	}
	check(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS.txt"), []byte(assetSHA(mustRead(t, "tauri-v2/v1.2.0/DemoApp_1.2.0_x64.dmg"))+"  DemoApp_1.2.0_x64.dmg\n"), 0o644))
	_, err := publisher.VerifyDir(context.Background(), dir, dirOpts(t, "v1.2.0"))
	if !hasProblem(problemsOf(err), publisher.CheckManifest, "DemoApp_1.2.0_amd64.deb", "is in no checksum manifest") {
		t.Errorf("a folder whose manifest leaves payloads out: %v", err)
	}
}

// TestVerifyDirBundle pulls a published hot-swap bundle into a folder and
// checks the folder offline: the bundle lane's rules (metadata, size,
// signature, index.html), whatever the archive's name.
func TestVerifyDirBundle(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedBundle(t, gh, "ota-3", false, ota.Metadata{Sequence: 3, MinBinaryVersion: "1.0.0"}, githubsrctest.TarGz(dist))
	dir := filepath.Join(t.TempDir(), "ota-3")
	pub := pubkey(t, "test.key.pub")
	if _, err := publisher.Pull(context.Background(), client(t, gh), publisher.PullOptions{Repo: repo, Tag: "ota-3", Dir: dir, PubKey: &pub}); err != nil {
		t.Fatalf("pull of a bundle: %v", err)
	}
	opts := publisher.VerifyOptions{Tag: "ota-3", PubKey: &pub}
	rep, err := publisher.VerifyDir(context.Background(), dir, opts)
	if err != nil || rep.Signatures != 1 {
		t.Fatalf("verify --dir of a pulled bundle: %d signatures, %v", rep.Signatures, err)
	}
	flipMiddle(t, filepath.Join(dir, "dist.tar.gz"))
	_, err = publisher.VerifyDir(context.Background(), dir, opts)
	named := false
	for _, p := range problemsOf(err) {
		named = named || p.Asset == "dist.tar.gz" && strings.Contains(p.Message, "signature does not match")
	}
	if !named {
		t.Errorf("a changed archive: %v, want its signature named", err)
	}
}

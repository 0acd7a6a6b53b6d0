package publisher_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/taurisig"
	"github.com/otapub/ota-action/publisher"
)

// dist is a frontend's dist folder, index.html at its root.
var dist = map[string]string{"index.html": "<!doctype html><title>demo</title>", "assets/": "", "assets/app.js": "console.log('v')"}

// privateKey returns a fixture key, parsed once per test binary (see
// publisher.FixtureKey): parsing runs scrypt.
func privateKey(t testing.TB, name string) minisign.PrivateKey {
	t.Helper()
	k, err := publisher.FixtureKey(name)
	check(t, err)
	return k
}

// writeBundle writes an archive named name into a new folder and, with a
// key name, signs it there as otapub sign does; it returns the path.
func writeBundle(t testing.TB, name string, data []byte, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	check(t, os.WriteFile(path, data, 0o644))
	if key != "" {
		sig, err := taurisig.SignFile(privateKey(t, key), path, "", time.Now())
		check(t, err)
		check(t, os.WriteFile(path+".sig", []byte(sig), 0o644))
	}
	return path
}

func bundleOpts(seq uint64, minBinary string) publisher.BundleOptions {
	return publisher.BundleOptions{Sequence: seq, MinBinaryVersion: minBinary}
}

func bundlePlan(t testing.TB, tag, path string, opts publisher.BundleOptions) publisher.BundlePlan {
	t.Helper()
	p, err := publisher.NewBundlePlan(t.Context(), tag, path, opts)
	check(t, err)
	return p
}

// seedBundle adds a bundle release to the fake directly, its archive
// signed with test.key and its metadata saying what meta says (archive
// name dist.tar.gz unless meta names one, size filled in), and returns
// the release's ID.
func seedBundle(t testing.TB, gh *githubsrctest.Server, tag string, draft bool, meta ota.Metadata, archive []byte) int64 {
	t.Helper()
	if meta.Archive == "" {
		meta.Archive = "dist.tar.gz"
	}
	path := writeBundle(t, meta.Archive, archive, "test.key")
	sig, err := os.ReadFile(path + ".sig")
	check(t, err)
	meta.Format, meta.BundleSize = ota.FormatVersion, int64(len(archive))
	if meta.Version == "" {
		meta.Version = tag
	}
	return gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: tag, Draft: draft, Assets: map[string][]byte{
		meta.Archive: archive, meta.Archive + ".sig": sig, ota.MetadataName: meta.Encode(),
	}})
}

// latestTag asks the fake which release GitHub calls the repository's latest.
func latestTag(t testing.TB, gh *githubsrctest.Server) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", gh.APIURL+"/repos/"+fullName+"/releases/latest", nil)
	req.Header.Set("Authorization", "Bearer "+githubsrctest.Token)
	resp, err := http.DefaultClient.Do(req)
	check(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	var rel struct {
		Tag string `json:"tag_name"`
	}
	check(t, json.NewDecoder(resp.Body).Decode(&rel))
	return rel.Tag
}

// TestBundleFlow takes a hot-swap bundle through upload, verify and
// publish beside a native release: its tag is no version, native rules
// (--require) do not judge it, it gets no latest.json, and the native
// release stays the repository's latest.
func TestBundleFlow(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"DemoApp_1.0.0_x64-setup.exe": []byte("native")}})
	c := client(t, gh)
	ctx := t.Context()
	pub := pubkey(t, "test.key.pub")
	path := writeBundle(t, "dist.tar.gz", githubsrctest.TarGz(dist), "test.key")
	opts := bundleOpts(5, "1.0.0")
	opts.Channel, opts.Platforms, opts.Mandatory = "beta", []string{"darwin-arm64", "windows"}, true
	p := bundlePlan(t, "ota-5", path, opts)
	check(t, p.CheckSignature(ctx, pub))

	rep, err := publisher.UploadBundle(ctx, c, p, publisher.SequenceOptions{}, uploadOpts())
	check(t, err)
	if !rep.Created || rep.Count(publisher.ActionUpload) != 4 {
		t.Fatalf("upload: created %v, %d uploaded; want a new draft with the archive, .sig, metadata and run manifest", rep.Created, rep.Count(publisher.ActionUpload))
	}
	again, err := publisher.UploadBundle(ctx, c, p, publisher.SequenceOptions{}, uploadOpts())
	check(t, err)
	if again.Created || again.Count(publisher.ActionSkip) != 4 {
		t.Errorf("re-run: created %v, %d skipped; want everything skipped", again.Created, again.Count(publisher.ActionSkip))
	}

	vopts := verifyOpts(t, "ota-5", &pub, allTauriV2...)
	v, err := publisher.Verify(ctx, c, vopts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.Complete || v.Signatures != 1 || len(v.Platforms) != 1 || v.Platforms[0].Key != publisher.CheckBundle || v.Platforms[0].Payload != "dist.tar.gz" {
		t.Errorf("verify: complete %v, %d signatures, rows %+v", v.Complete, v.Signatures, v.Platforms)
	}
	for col, st := range v.Platforms[0].Checks {
		if st != publisher.StatusOK {
			t.Errorf("bundle row: %s is %s", col, st)
		}
	}

	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: vopts})
	check(t, err)
	if pr.Release.Draft {
		t.Fatal("still a draft")
	}
	if _, ok := pr.Release.Asset(publisher.LatestJSON); ok {
		t.Error("a bundle got latest.json")
	}
	if _, ok := pr.Release.Asset(publisher.CombinedManifest); !ok {
		t.Error("no SHA256SUMS")
	}
	if got := latestTag(t, gh); got != "v1.0.0" {
		t.Errorf("latest release is %q, want the native v1.0.0", got)
	}
	meta, ok := pr.Release.Asset(ota.MetadataName)
	if !ok {
		t.Fatal("no metadata")
	}
	data, _ := gh.AssetData(meta.ID)
	m, err := ota.ParseMetadata(data)
	check(t, err)
	want := ota.Metadata{Format: 1, Sequence: 5, Version: "ota-5", MinBinaryVersion: "1.0.0", Channel: "beta", Mandatory: true,
		Platforms: []string{"macos-aarch64", "windows"}, Archive: "dist.tar.gz", BundleSize: p.Archive.Size}
	if string(m.Encode()) != string(want.Encode()) {
		t.Errorf("metadata %s, want %s", m.Encode(), want.Encode())
	}
	if _, err := publisher.Verify(ctx, c, vopts); err != nil {
		t.Errorf("verify of the published bundle: %v", err)
	}
}

// TestBundlePublishLatest: --latest true makes a bundle the latest when asked.
func TestBundlePublishLatest(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"DemoApp_1.0.0_x64-setup.exe": []byte("native")}})
	seedBundle(t, gh, "ota-1", true, ota.Metadata{Sequence: 1, MinBinaryVersion: "1.0.0"}, githubsrctest.TarGz(dist))
	_, err := publisher.Publish(t.Context(), client(t, gh), publisher.PublishOptions{VerifyOptions: verifyOpts(t, "ota-1", nil), MakeLatest: "true"})
	check(t, err)
	if got := latestTag(t, gh); got != "ota-1" {
		t.Errorf("latest is %q, want ota-1 (--latest true)", got)
	}
}

// TestBundlePlanRefusals: each local refusal names its fix, before
// anything is asked of GitHub.
func TestBundlePlanRefusals(t *testing.T) {
	t.Parallel()
	good := githubsrctest.TarGz(dist)
	nested := githubsrctest.TarGz(map[string]string{"dist/index.html": "x", "dist/app.js": "y"})
	tests := []struct {
		name string
		path func(t *testing.T) string
		opts publisher.BundleOptions
		want string
	}{
		{"no .sig", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "") }, bundleOpts(1, "1.0.0"), ".sig beside it: sign it with otapub sign"},
		{"index.html in a folder", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", nested, "test.key") }, bundleOpts(1, "1.0.0"), "no index.html at the archive's root (archive the frontend's dist folder from inside it"},
		{"zip without index.html", func(t *testing.T) string {
			return writeBundle(t, "dist.zip", githubsrctest.Zip(map[string]string{"app.js": "x"}), "test.key")
		}, bundleOpts(1, "1.0.0"), "no index.html"},
		{"entry escaping the folder", func(t *testing.T) string {
			return writeBundle(t, "dist.tar.gz", githubsrctest.TarGz(map[string]string{"index.html": "x", "../evil": "y"}), "test.key")
		}, bundleOpts(1, "1.0.0"), "outside the bundle's folder"},
		{"over --max-bundle-size", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") },
			publisher.BundleOptions{Sequence: 1, MinBinaryVersion: "1.0.0", MaxBundleSize: 10}, "over --max-bundle-size 10: make the frontend smaller"},
		{"min binary not semver", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") }, bundleOpts(1, "1.0"), "min_binary_version"},
		{"no min binary", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") }, bundleOpts(1, ""), "want the native app version"},
		{"sequence 0", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") }, bundleOpts(0, "1.0.0"), "sequence is missing or 0"},
		{"bad channel", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") },
			publisher.BundleOptions{Sequence: 1, MinBinaryVersion: "1.0.0", Channel: "a b"}, "use letters, digits"},
		{"bad platform", func(t *testing.T) string { return writeBundle(t, "dist.tar.gz", good, "test.key") },
			publisher.BundleOptions{Sequence: 1, MinBinaryVersion: "1.0.0", Platforms: []string{"beos"}}, "platform limit \"beos\""},
		{"named like a native payload", func(t *testing.T) string { return writeBundle(t, "Frontend_aarch64.app.tar.gz", good, "test.key") },
			bundleOpts(1, "1.0.0"), "is named like an updater payload for darwin-aarch64-app: an update server could offer it to the native updaters; name it like dist.tar.gz"},
		{"not an archive", func(t *testing.T) string { return writeBundle(t, "dist.7z", good, "test.key") }, bundleOpts(1, "1.0.0"), "extracts .tar.gz or .zip"},
		{"a folder", func(t *testing.T) string { return t.TempDir() }, bundleOpts(1, "1.0.0"), "is a folder: archive it from inside"},
		{"no such file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "dist.tar.gz") }, bundleOpts(1, "1.0.0"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := publisher.NewBundlePlan(t.Context(), "ota-1", tt.path(t), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewBundlePlan = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("the .sig is named with the fix", func(t *testing.T) {
		t.Parallel()
		path := writeBundle(t, "dist.tar.gz", good, "")
		_, err := publisher.NewBundlePlan(t.Context(), "ota-1", path, bundleOpts(1, "1.0.0"))
		if err == nil || !strings.Contains(err.Error(), "sign it with otapub sign "+path) {
			t.Errorf("missing .sig: %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		p := bundlePlan(t, "ota-1", writeBundle(t, "dist.tar.gz", good, "other.key"), bundleOpts(1, "1.0.0"))
		err := p.CheckSignature(t.Context(), pubkey(t, "test.key.pub"))
		if err == nil || !strings.Contains(err.Error(), "wrong key") || !strings.Contains(err.Error(), "nothing was uploaded") {
			t.Errorf("CheckSignature = %v", err)
		}
	})
	t.Run("bound to a version is fine for a bundle", func(t *testing.T) {
		t.Parallel()
		path := writeBundle(t, "dist.tar.gz", good, "")
		sig, err := taurisig.SignFile(privateKey(t, "test.key"), path, "9.9.9", time.Now())
		check(t, err)
		check(t, os.WriteFile(path+".sig", []byte(sig), 0o644))
		p := bundlePlan(t, "ota-1", path, bundleOpts(1, "1.0.0"))
		check(t, p.CheckSignature(t.Context(), pubkey(t, "test.key.pub")))
	})
}

// TestBundlePlanDefaults: the version shown defaults to the tag, without
// the v of a version tag; an archive made with tar -C dist . (entries
// under "./") has its index.html at the root.
func TestBundlePlanDefaults(t *testing.T) {
	t.Parallel()
	path := writeBundle(t, "dist.tar.gz", githubsrctest.TarGz(dist), "test.key")
	for tag, want := range map[string]string{"ota-6": "ota-6", "v1.4.0-ota.6": "1.4.0-ota.6", "very-new": "very-new"} {
		if got := bundlePlan(t, tag, path, bundleOpts(6, "1.0.0")).Metadata.Version; got != want {
			t.Errorf("tag %s: version %q, want %q", tag, got, want)
		}
	}
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar")
	}
	dir := t.TempDir()
	check(t, os.MkdirAll(filepath.Join(dir, "dist", "assets"), 0o755))
	check(t, os.WriteFile(filepath.Join(dir, "dist", "index.html"), []byte("<p>"), 0o644))
	check(t, os.WriteFile(filepath.Join(dir, "dist", "assets", "a.js"), []byte("1"), 0o644))
	archive := filepath.Join(dir, "dist.tar.gz")
	if out, err := exec.Command(tarBin, "-czf", archive, "-C", filepath.Join(dir, "dist"), ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	sig, err := taurisig.SignFile(privateKey(t, "test.key"), archive, "", time.Now())
	check(t, err)
	check(t, os.WriteFile(archive+".sig", []byte(sig), 0o644))
	bundlePlan(t, "ota-6", archive, bundleOpts(6, "1.0.0"))
}

// TestBundleSequenceRefusals: sequences are global, drafts and every
// channel included, and only ever go up; a refused upload sends nothing.
func TestBundleSequenceRefusals(t *testing.T) {
	t.Parallel()
	archive := githubsrctest.TarGz(dist)
	seed := func(t *testing.T, gh *githubsrctest.Server) {
		seedBundle(t, gh, "ota-3", false, ota.Metadata{Sequence: 3, MinBinaryVersion: "1.0.0", Channel: "beta"}, archive)
		seedBundle(t, gh, "ota-7", true, ota.Metadata{Sequence: 7, MinBinaryVersion: "1.0.0"}, archive)
		// A published bundle whose metadata is broken keeps its number.
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "ota-4", Assets: map[string][]byte{ota.MetadataName: []byte(`{"sequence": 4}`)}})
		// An interrupted upload's metadata cannot be read; it holds nothing.
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "ota-9", Draft: true, Assets: map[string][]byte{ota.MetadataName: []byte(`{"sequence": 9}`)},
			States: map[string]string{ota.MetadataName: "starter"}})
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v2.0.0", Assets: map[string][]byte{"DemoApp_2.0.0_x64-setup.exe": []byte("native")}})
	}
	tests := []struct {
		tag        string
		seq        uint64
		allowLower bool
		want       string // "" uploads
	}{
		{"ota-x", 7, false, "sequence 7 is already used by ota-7 (draft): sequences are global across channels; use --ota-sequence 8"},
		{"ota-x", 3, false, "sequence 3 is already used by ota-3 (published)"},
		{"ota-x", 3, true, "already used by ota-3"},
		{"ota-x", 4, false, "already used by ota-4 (published)"},
		{"ota-x", 2, false, "sequence 2 is not above 4, the highest published bundle's (ota-4): apps that have it would never take this one; use --ota-sequence 5, or pass --allow-lower-sequence"},
		{"ota-x", 2, true, ""},
		{"ota-x", 5, false, ""},
		{"ota-x", 9, false, ""},
		{"ota-7", 7, false, ""}, // its own draft: a re-run
		{"v2.0.0", 10, false, "release v2.0.0 already holds other files (DemoApp_2.0.0_x64-setup.exe): a bundle needs a release of its own; give it another tag, such as ota-10"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s seq %d allow-lower %v", tt.tag, tt.seq, tt.allowLower), func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			seed(t, gh)
			before := len(gh.Releases(fullName))
			p := bundlePlan(t, tt.tag, writeBundle(t, "dist.tar.gz", archive, "test.key"), bundleOpts(tt.seq, "1.0.0"))
			opts := uploadOpts()
			opts.Replace = true // ota-7's re-run has a new signature
			_, err := publisher.UploadBundle(t.Context(), client(t, gh), p, publisher.SequenceOptions{AllowLower: tt.allowLower}, opts)
			if tt.want == "" {
				check(t, err)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was uploaded") {
				t.Fatalf("upload = %v\nwant %q", err, tt.want)
			}
			if gh.Count(uploadRoute) != 0 || len(gh.Releases(fullName)) != before {
				t.Errorf("a refused upload changed GitHub: %d uploads, %d releases (was %d)", gh.Count(uploadRoute), len(gh.Releases(fullName)), before)
			}
		})
	}
}

// TestVerifyBundleProblems breaks a bundle release each way verify must
// catch, and publish must refuse.
func TestVerifyBundleProblems(t *testing.T) {
	t.Parallel()
	pub := pubkey(t, "test.key.pub")
	setMeta := func(t *testing.T, gh *githubsrctest.Server, edit func(*ota.Metadata)) {
		a := assetByName(t, gh, "ota-5", ota.MetadataName)
		data, _ := gh.AssetData(a.ID)
		m, err := ota.ParseMetadata(data)
		check(t, err)
		edit(&m)
		gh.SetAssetData(a.ID, m.Encode())
	}
	tests := []struct {
		name        string
		break_      func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client)
		asset, text string
		check       string
	}{
		{"invalid metadata", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetData(assetByName(t, gh, "ota-5", ota.MetadataName).ID, []byte(`{"otapub_bundle": 1, "sequence": 5}`))
		}, ota.MetadataName, "min_binary_version", publisher.CheckBundle},
		{"archive missing", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "ota-5", "dist.tar.gz").ID))
		}, "dist.tar.gz", "names the archive dist.tar.gz, which is not on the release", publisher.CheckBundle},
		{".sig missing", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "ota-5", "dist.tar.gz.sig").ID))
		}, "dist.tar.gz.sig", "has no .sig beside it", publisher.CheckBundle},
		{"archive not fully uploaded", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetState(assetByName(t, gh, "ota-5", "dist.tar.gz").ID, "starter")
		}, "dist.tar.gz", `stuck in state "starter"`, publisher.CheckUploaded},
		{"metadata not fully uploaded", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetState(assetByName(t, gh, "ota-5", ota.MetadataName).ID, "starter")
		}, ota.MetadataName, `stuck in state "starter"`, publisher.CheckUploaded},
		{"sig from the other key", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetData(assetByName(t, gh, "ota-5", "dist.tar.gz.sig").ID, mustRead(t, "signatures/signed-by-other.bin.sig"))
		}, "dist.tar.gz", "signed by another key", publisher.CheckBundle},
		{"tampered archive", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			a := assetByName(t, gh, "ota-5", "dist.tar.gz")
			data, _ := gh.AssetData(a.ID)
			gh.SetAssetData(a.ID, append(append([]byte{}, data[:len(data)-1]...), data[len(data)-1]^1))
		}, "dist.tar.gz", "does not match the file", publisher.CheckBundle},
		{"bundle_size wrong", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			setMeta(t, gh, func(m *ota.Metadata) { m.BundleSize++ })
		}, "dist.tar.gz", "says bundle_size", publisher.CheckBundle},
		{"no index.html at the root", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			for _, r := range gh.Releases(fullName) {
				check(t, c.DeleteRelease(t.Context(), repo, r.ID))
			}
			seedBundle(t, gh, "ota-5", true, ota.Metadata{Sequence: 5, MinBinaryVersion: "1.0.0"}, githubsrctest.TarGz(map[string]string{"dist/index.html": "x"}))
		}, "dist.tar.gz", "no index.html at the archive's root", publisher.CheckBundle},
		{"sequence used by another release", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			seedBundle(t, gh, "ota-5-again", true, ota.Metadata{Sequence: 5, MinBinaryVersion: "2.0.0", Channel: "beta"}, githubsrctest.TarGz(dist))
		}, ota.MetadataName, "sequence 5 is also used by ota-5-again", publisher.CheckBundle},
		{"a native payload on the bundle release", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			rel := gh.Releases(fullName)[0]
			for _, name := range []string{"DemoApp_aarch64.app.tar.gz", "DemoApp_aarch64.app.tar.gz.sig"} {
				_, err := c.Upload(t.Context(), repo, rel, name, strings.NewReader("x"), 1)
				check(t, err)
			}
		}, "DemoApp_aarch64.app.tar.gz", "native updater payload on a hot-swap bundle release", publisher.CheckBundle},
		{"an electron channel file on the bundle release", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			_, err := c.Upload(t.Context(), repo, gh.Releases(fullName)[0], "latest-mac.yml", strings.NewReader("version: 1.0.0\n"), 15)
			check(t, err)
		}, "latest-mac.yml", "carries latest-mac.yml: native updaters must not be pointed at a bundle", publisher.CheckBundle},
		{"archive named like a native payload", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			for _, r := range gh.Releases(fullName) {
				check(t, c.DeleteRelease(t.Context(), repo, r.ID))
			}
			seedBundle(t, gh, "ota-5", true, ota.Metadata{Sequence: 5, MinBinaryVersion: "1.0.0", Archive: "Frontend_aarch64.app.tar.gz"}, githubsrctest.TarGz(dist))
		}, "Frontend_aarch64.app.tar.gz", "is named like an updater payload for darwin-aarch64-app", publisher.CheckBundle},
		{"a second draft", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "ota-5", Draft: true})
		}, "", "2 drafts share the tag ota-5", publisher.CheckRelease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			c := client(t, gh)
			p := bundlePlan(t, "ota-5", writeBundle(t, "dist.tar.gz", githubsrctest.TarGz(dist), "test.key"), bundleOpts(5, "1.0.0"))
			_, err := publisher.UploadBundle(t.Context(), c, p, publisher.SequenceOptions{}, uploadOpts())
			check(t, err)
			tt.break_(t, gh, c)
			opts := verifyOpts(t, "ota-5", &pub)
			_, err = publisher.Verify(t.Context(), c, opts)
			var ie *publisher.IncompleteError
			if !errors.As(err, &ie) || !hasProblem(ie.Problems, tt.check, tt.asset, tt.text) {
				t.Fatalf("verify = %v\nwant a %s problem on %q containing %q", err, tt.check, tt.asset, tt.text)
			}
			for _, p := range ie.Problems {
				switch p.Check {
				case publisher.CheckPayload, publisher.CheckSig, publisher.CheckSignature, publisher.CheckVersion, publisher.CheckLatest, publisher.CheckYML: // the manifest check is both lanes'
					t.Errorf("a native rule judged the bundle: %s", p)
				}
			}
			_, err = publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: opts})
			if !errors.As(err, &ie) {
				t.Fatalf("publish = %v, want a refusal", err)
			}
			for _, r := range gh.Releases(fullName) {
				if !r.Draft {
					t.Fatalf("release %s was published despite the problem", r.Tag)
				}
			}
		})
	}
}

// TestLanesApart: a native release is never judged by the bundle rules
// (an archive without index.html on it is just a file), and a bundle
// never by the native ones (no version in its tag, no payloads, any
// --require).
func TestLanesApart(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	pub := pubkey(t, "test.key.pub")
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	check(t, os.WriteFile(filepath.Join(dir, "frontend.zip"), githubsrctest.Zip(map[string]string{"app.js": "x"}), 0o644))
	_, err := publisher.Upload(t.Context(), c, plan(t, "v1.2.0", dir, filepath.Join(dir, "frontend.zip")), uploadOpts())
	check(t, err)
	v, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", &pub, allTauriV2...))
	if err != nil || !v.Complete {
		t.Fatalf("native release with an archive beside it: %v", err)
	}
	for _, r := range v.Platforms {
		if r.Key == publisher.CheckBundle {
			t.Errorf("a native release got a bundle row: %+v", r)
		}
	}

	seedBundle(t, gh, "frontend-build-12", true, ota.Metadata{Sequence: 12, MinBinaryVersion: "1.2.0"}, githubsrctest.TarGz(dist))
	opts := verifyOpts(t, "frontend-build-12", &pub, "linux-aarch64", "windows-x86_64")
	v, err = publisher.Verify(t.Context(), c, opts)
	if err != nil || !v.Complete {
		t.Fatalf("a bundle under --require: %v", err)
	}
	if len(v.Platforms) != 1 || v.Platforms[0].Key != publisher.CheckBundle {
		t.Errorf("a bundle's table: %+v, want only its bundle row", v.Platforms)
	}
	pr, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: opts})
	check(t, err)
	if _, ok := pr.Release.Asset(publisher.LatestJSON); ok {
		t.Error("a bundle got latest.json")
	}
}

// TestBundleUploadResumes: a bundle upload cut short (the metadata never
// sent, the archive stuck mid-upload) is finished by running it again;
// until then verify says what is wrong.
func TestBundleUploadResumes(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	pub := pubkey(t, "test.key.pub")
	p := bundlePlan(t, "ota-2", writeBundle(t, "dist.zip", githubsrctest.Zip(dist), "test.key"), bundleOpts(2, "1.0.0"))
	_, err := publisher.UploadBundle(t.Context(), c, p, publisher.SequenceOptions{}, uploadOpts())
	check(t, err)
	check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "ota-2", ota.MetadataName).ID))
	gh.SetAssetState(assetByName(t, gh, "ota-2", "dist.zip").ID, "starter")

	// Without its metadata the release is no bundle yet: the native rules
	// call it what it is, a release without a version or payloads.
	if _, err := publisher.Verify(t.Context(), c, verifyOpts(t, "ota-2", &pub)); err == nil {
		t.Fatal("verify passed a bundle without its metadata")
	}
	rep, err := publisher.UploadBundle(t.Context(), c, p, publisher.SequenceOptions{}, uploadOpts())
	check(t, err)
	if rep.Created || rep.Count(publisher.ActionRepair) != 1 || rep.Count(publisher.ActionUpload) != 1 || rep.Count(publisher.ActionSkip) != 2 {
		t.Errorf("re-run: %+v; want the archive repaired, the metadata uploaded, the rest skipped", rep.Files)
	}
	v, err := publisher.Verify(t.Context(), c, verifyOpts(t, "ota-2", &pub))
	if err != nil || v.Signatures != 1 {
		t.Fatalf("after the re-run: %v", err)
	}
}

// TestBundleSequenceUnreadable: when another bundle's metadata cannot be
// read (GitHub keeps failing), the upload stops rather than guess its
// sequence, and sends nothing.
func TestBundleSequenceUnreadable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	seedBundle(t, gh, "ota-3", false, ota.Metadata{Sequence: 3, MinBinaryVersion: "1.0.0"}, githubsrctest.TarGz(dist))
	gh.Inject(githubsrctest.Fault{Match: "GET /api/v3/repos/" + fullName + "/releases/assets/", Times: 100, Status: 502})
	p := bundlePlan(t, "ota-4", writeBundle(t, "dist.tar.gz", githubsrctest.TarGz(dist), "test.key"), bundleOpts(4, "1.0.0"))
	_, err := publisher.UploadBundle(t.Context(), client(t, gh), p, publisher.SequenceOptions{}, uploadOpts())
	var api *githubsrc.APIError
	if !errors.As(err, &api) || api.Status != 502 {
		t.Fatalf("upload = %v, want GitHub's 502", err)
	}
	if gh.Count(uploadRoute) != 0 || len(gh.Releases(fullName)) != 1 {
		t.Error("an upload that could not check its sequence sent files")
	}
}

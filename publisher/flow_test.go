package publisher_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

const uploadRoute = "POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets"

// TestTauriV2Release takes the Tauri v2 fixture release (as tauri-action
// would build it) through upload, verify and publish, then hands every
// entry of the published latest.json to the real cargo-packager updater.
func TestTauriV2Release(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	ctx := t.Context()
	dir := fixtureCopy(t, "tauri-v2/v1.2.0")
	p := plan(t, "v1.2.0", dir)
	if len(p.Skipped) != 1 || !strings.HasSuffix(p.Skipped[0].Path, "latest.json") {
		t.Errorf("skipped %v, want tauri-action's latest.json", p.Skipped)
	}
	pub := pubkey(t, "test.key.pub")
	check(t, publisher.CheckSignatures(ctx, p, pub, 4))

	rep, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	if !rep.Created || rep.Count(publisher.ActionUpload) != len(p.Files)+1 {
		t.Fatalf("first upload: created %v, %d uploads; want a new draft and %d uploads", rep.Created, rep.Count(publisher.ActionUpload), len(p.Files)+1)
	}
	if !rep.Release.Draft || rep.Release.TargetCommitish != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("release %+v: want a draft pinned to the commit", rep.Release)
	}

	// Re-running the same command uploads nothing.
	uploads := gh.Count(uploadRoute)
	again, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	if again.Created || again.Count(publisher.ActionSkip) != len(p.Files)+1 || gh.Count(uploadRoute) != uploads {
		t.Errorf("re-run: created %v, %d skipped, %d new uploads; want everything skipped", again.Created, again.Count(publisher.ActionSkip), gh.Count(uploadRoute)-uploads)
	}

	v, err := publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", &pub, allTauriV2...))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.Complete || v.Signatures != 8 || v.PayloadBytes == 0 {
		t.Errorf("verify: complete %v, %d signatures over %d bytes", v.Complete, v.Signatures, v.PayloadBytes)
	}

	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", &pub, allTauriV2...)})
	check(t, err)
	rel := pr.Release
	if rel.Draft || rel.PublishedAt.IsZero() || !strings.HasSuffix(pr.URL, "/releases/tag/v1.2.0") {
		t.Fatalf("after publish: %+v", rel)
	}
	if _, ok := rel.Asset(publisher.CombinedManifest); !ok {
		t.Error("no SHA256SUMS")
	}
	latestAsset, ok := rel.Asset(publisher.LatestJSON)
	if !ok {
		t.Fatal("no latest.json")
	}
	data, _ := gh.AssetData(latestAsset.ID)
	var latest struct {
		Version   string
		PubDate   string `json:"pub_date"`
		Platforms map[string]struct{ URL, Signature, Format string }
	}
	check(t, json.Unmarshal(data, &latest))
	if latest.Version != "1.2.0" || len(latest.Platforms) != 13 {
		t.Errorf("latest.json: version %s, %d platforms; want 1.2.0 and the 13 keys tauri-action writes", latest.Version, len(latest.Platforms))
	}
	// Every entry points at the published tag's download path and carries its own .sig.
	fixtures := map[string][]byte{}
	for _, f := range p.Files {
		b, _ := gh.AssetData(assetByName(t, gh, "v1.2.0", f.Name).ID)
		fixtures[f.Name] = b
	}
	for key, e := range latest.Platforms {
		name := e.URL[strings.LastIndex(e.URL, "/")+1:]
		if !strings.Contains(e.URL, "/releases/download/v1.2.0/") || string(fixtures[name+".sig"]) != e.Signature {
			t.Errorf("latest.json %s: url %s, signature of %s? %v", key, e.URL, name, string(fixtures[name+".sig"]) == e.Signature)
		}
	}

	// Publishing again changes nothing; uploading to the public release is refused.
	if pr2, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil)}); err != nil || !pr2.AlreadyPublished {
		t.Errorf("second publish: %+v, %v", pr2.AlreadyPublished, err)
	}
	if _, err := publisher.Upload(ctx, c, p, uploadOpts()); err == nil || !strings.Contains(err.Error(), "already published") {
		t.Errorf("upload into a published release: %v", err)
	}

	// Each entry, handed to the real cargo-packager updater as a one-entry
	// answer, downloads and verifies against the app's public key.
	t.Run("the real updater takes every entry", func(t *testing.T) {
		githubsrctest.RequireCargoPackager(t) // skip before the work
		answers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, ok := latest.Platforms[strings.TrimPrefix(r.URL.Path, "/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			format := e.Format
			if format == "" {
				format = "appimage" // deb and rpm: cargo-packager has no format; download only checks the signature
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"version": latest.Version, "pub_date": latest.PubDate, "url": e.URL, "signature": e.Signature, "format": format})
		}))
		defer answers.Close()
		var checks []githubsrctest.UpdaterCheck
		for key := range latest.Platforms {
			checks = append(checks, githubsrctest.UpdaterCheck{Name: key, Current: "1.0.0", Endpoints: []string{answers.URL + "/" + key}, Download: true})
		}
		results := githubsrctest.CargoPackager(t, string(mustRead(t, "keys/test.key.pub")), checks...)
		for key, e := range latest.Platforms {
			r := results[key]
			name := e.URL[strings.LastIndex(e.URL, "/")+1:]
			if r.Error != "" || r.Update == nil || r.Downloaded != len(fixtures[name]) {
				t.Errorf("%s: error %q, downloaded %d of %d bytes", key, r.Error, r.Downloaded, len(fixtures[name]))
			}
		}
	})
}

func mustRead(t *testing.T, fixture string) []byte {
	t.Helper()
	b, err := readFixture(fixture)
	check(t, err)
	return b
}

func TestTauriV1Release(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	ctx := t.Context()
	p := plan(t, "v1.1.0", fixtureCopy(t, "tauri-v1/v1.1.0"))
	pub := pubkey(t, "test.key.pub")
	check(t, publisher.CheckSignatures(ctx, p, pub, 2))
	_, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.1.0", &pub, "darwin-x86_64", "linux-x86_64", "windows-x86_64", "windows-x86_64-msi")})
	check(t, err)
	a, _ := pr.Release.Asset(publisher.LatestJSON)
	data, _ := gh.AssetData(a.ID)
	var latest struct {
		Platforms map[string]struct{ URL string }
	}
	check(t, json.Unmarshal(data, &latest))
	if u := latest.Platforms["darwin-x86_64"].URL; !strings.HasSuffix(u, "/v1.1.0/DemoApp.app.tar.gz") {
		t.Errorf("darwin-x86_64 -> %q, want the version-less .app.tar.gz (arch from the dmg)", u)
	}
	if u := latest.Platforms["windows-x86_64"].URL; !strings.HasSuffix(u, ".nsis.zip") {
		t.Errorf("windows-x86_64 -> %q, want the NSIS zip", u)
	}
}

func TestElectronRelease(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	ctx := t.Context()
	p := plan(t, "v1.2.0", fixtureCopy(t, "electron/v1.2.0"))
	names := map[string]bool{}
	for _, f := range p.Files {
		names[f.Name] = true
	}
	if !names["DemoApp-Setup-1.2.0.exe"] || !names["DemoApp-Setup-1.2.0.exe.blockmap"] {
		t.Fatalf("the installer keeps the name latest.yml gives it: %v", names)
	}
	_, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	v, err := publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", nil, "windows-x86_64", "darwin-aarch64", "darwin-x86_64", "linux-x86_64", "linux-aarch64"))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v.PayloadBytes == 0 {
		t.Error("latest*.yml SHA-512s were not checked against the bytes")
	}
	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil)})
	check(t, err)
	if _, ok := pr.Release.Asset(publisher.LatestJSON); ok {
		t.Error("an Electron release got a Tauri latest.json")
	}
	if _, ok := pr.Release.Asset(publisher.CombinedManifest); !ok || pr.Release.Draft {
		t.Error("not published with SHA256SUMS")
	}
}

func TestElectronYMLMismatch(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	ctx := t.Context()
	p := plan(t, "v1.2.0", fixtureCopy(t, "electron/v1.2.0"))
	_, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	zip := assetByName(t, gh, "v1.2.0", "DemoApp-1.2.0-mac.zip")
	data, _ := gh.AssetData(zip.ID)
	gh.SetAssetData(zip.ID, append([]byte("X"), data[1:]...))
	_, err = publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", nil))
	if !hasProblem(problemsOf(err), publisher.CheckYML, "latest-mac.yml", "sha512") {
		t.Errorf("verify = %v, want a latest-mac.yml sha512 problem", err)
	}
}

// TestVerifyNamesEveryProblem breaks a complete draft in each way users
// meet and checks that verify names it and publish refuses it.
func TestVerifyNamesEveryProblem(t *testing.T) {
	t.Parallel()
	pub := pubkey(t, "test.key.pub")
	tests := []struct {
		name               string
		break_             func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client)
		check, asset, text string
	}{
		{"deleted asset", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_amd64.AppImage").ID))
		}, publisher.CheckManifest, "", "DemoApp_1.2.0_amd64.AppImage, which is not on the release"},
		{"required platform missing", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_arm64-setup.exe").ID))
		}, publisher.CheckPayload, "", "no signed updater payload for windows-aarch64"},
		{"sig from the other key", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetData(assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_x64-setup.exe.sig").ID, mustRead(t, "signatures/signed-by-other.bin.sig"))
		}, publisher.CheckSignature, "DemoApp_1.2.0_x64-setup.exe", "signed by another key"},
		{"tampered payload", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			a := assetByName(t, gh, "v1.2.0", "DemoApp_aarch64.app.tar.gz")
			data, _ := gh.AssetData(a.ID)
			gh.SetAssetData(a.ID, append([]byte{data[0] ^ 1}, data[1:]...))
		}, publisher.CheckSignature, "DemoApp_aarch64.app.tar.gz", "does not match the file"},
		{"manifest mismatch", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			for _, a := range gh.Releases(fullName)[0].Assets {
				if strings.HasPrefix(a.Name, "SHA256SUMS-") {
					data, _ := gh.AssetData(a.ID)
					gh.SetAssetData(a.ID, []byte(strings.Replace(string(data), "9fd7db56", "00000000", 1)))
				}
			}
		}, publisher.CheckManifest, "DemoApp_1.2.0_amd64.AppImage", "says 00000000"},
		{"asset stuck in starter", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.SetAssetState(assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_amd64.deb").ID, "starter")
		}, publisher.CheckUploaded, "DemoApp_1.2.0_amd64.deb", `stuck in state "starter"`},
		{"wrong version in a name", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			rel := gh.Releases(fullName)[0]
			_, err := c.Upload(t.Context(), repo, rel, "DemoApp_1.1.9_x64.dmg", strings.NewReader("old"), 3)
			check(t, err)
		}, publisher.CheckVersion, "DemoApp_1.1.9_x64.dmg", "names version 1.1.9"},
		{"unsigned payload", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			check(t, c.DeleteAsset(t.Context(), repo, assetByName(t, gh, "v1.2.0", "DemoApp-1.2.0-1.x86_64.rpm.sig").ID))
		}, publisher.CheckSig, "DemoApp-1.2.0-1.x86_64.rpm", "has no .sig"},
		{"a second draft", func(t *testing.T, gh *githubsrctest.Server, c *githubsrc.Client) {
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true})
		}, publisher.CheckRelease, "", "2 drafts share the tag v1.2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			c := client(t, gh)
			_, err := publisher.Upload(t.Context(), c, plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")), uploadOpts())
			check(t, err)
			tt.break_(t, gh, c)
			opts := verifyOpts(t, "v1.2.0", &pub, allTauriV2...)
			_, err = publisher.Verify(t.Context(), c, opts)
			var ie *publisher.IncompleteError
			if !errors.As(err, &ie) || !hasProblem(ie.Problems, tt.check, tt.asset, tt.text) {
				t.Fatalf("verify = %v\nwant a %s problem on %q containing %q", err, tt.check, tt.asset, tt.text)
			}
			if ie.ExitStatus() != 1 {
				t.Errorf("exit status %d", ie.ExitStatus())
			}
			_, err = publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: opts})
			if !errors.As(err, &ie) {
				t.Fatalf("publish = %v, want a refusal", err)
			}
			for _, r := range gh.Releases(fullName) {
				if !r.Draft {
					t.Fatalf("release %d was published despite the problem", r.ID)
				}
			}
		})
	}
}

// TestVerifyCost measures what verify costs on a complete 13-asset draft
// without --pubkey: no payload bytes, few API calls.
func TestVerifyCost(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json", "DemoApp_1.2.0_x64.dmg", "DemoApp_1.2.0_aarch64.dmg")
	// Six payloads, their signatures and the run's manifest: 13 assets.
	check(t, os.Remove(filepath.Join(dir, "DemoApp-1.2.0-1.x86_64.rpm")))
	check(t, os.Remove(filepath.Join(dir, "DemoApp-1.2.0-1.x86_64.rpm.sig")))
	check(t, os.Remove(filepath.Join(dir, "DemoApp_1.2.0_amd64.deb")))
	check(t, os.Remove(filepath.Join(dir, "DemoApp_1.2.0_amd64.deb.sig")))
	p := plan(t, "v1.2.0", dir)
	_, err := publisher.Upload(t.Context(), c, p, uploadOpts())
	check(t, err)
	assets := len(gh.Releases(fullName)[0].Assets)
	if assets != 13 {
		t.Fatalf("%d assets, want 13", assets)
	}
	gh.ResetCounts()
	v, err := publisher.Verify(t.Context(), c, verifyOpts(t, "v1.2.0", nil, "darwin-aarch64", "darwin-x86_64", "linux-x86_64", "windows-x86_64", "windows-x86_64-msi", "windows-aarch64"))
	check(t, err)
	api := gh.APICalls()
	t.Logf("verify of a complete %d-asset draft without --pubkey: %d payload bytes, %d metadata bytes, %d API calls", assets, v.PayloadBytes, v.MetadataBytes, api)
	if v.PayloadBytes != 0 || api > 4 {
		t.Errorf("verify downloaded %d payload bytes in %d API calls; want 0 bytes and at most 4 calls", v.PayloadBytes, api)
	}
}

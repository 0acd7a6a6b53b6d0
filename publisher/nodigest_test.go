package publisher_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

// TestNoDigests takes a release through upload, verify and publish on a
// GitHub that gives no asset digests (GitHub Enterprise Server, assets
// from before June 2025): every comparison falls back to hashing the
// bytes, and must still skip, refuse, catch and write what it would with
// digests.
func TestNoDigests(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.SetNoDigests(true)
	c := client(t, gh)
	ctx := t.Context()
	dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
	p := plan(t, "v1.2.0", dir)

	// An upload whose 502 hid a success is read back by hashing the bytes.
	gh.Inject(githubsrctest.Fault{Match: "name=DemoApp_1.2.0_amd64.deb", Status: http.StatusBadGateway, Apply: true})
	rep, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	for _, f := range rep.Files {
		if f.Name == "DemoApp_1.2.0_amd64.deb" && f.Attempts != 1 {
			t.Errorf("the landed upload took %d attempts, want 1 (read back, not sent again)", f.Attempts)
		}
	}
	if a := assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_amd64.deb"); a.Digest != "" {
		t.Fatalf("the fake gave a digest %q", a.Digest)
	}

	// Re-running skips everything: the bytes on GitHub hash the same.
	uploads := gh.Count(uploadRoute)
	again, err := publisher.Upload(ctx, c, p, uploadOpts())
	check(t, err)
	if again.Count(publisher.ActionSkip) != len(p.Files)+1 || gh.Count(uploadRoute) != uploads {
		t.Errorf("re-run: %d of %d skipped, %d uploads; want all skipped", again.Count(publisher.ActionSkip), len(p.Files)+1, gh.Count(uploadRoute)-uploads)
	}
	// A rebuilt file of the same size is told apart by its bytes.
	deb := filepath.Join(dir, "DemoApp_1.2.0_amd64.deb")
	orig, err := os.ReadFile(deb)
	check(t, err)
	changed := append([]byte{orig[0] ^ 1}, orig[1:]...)
	check(t, os.WriteFile(deb, changed, 0o644))
	if _, err := publisher.Upload(ctx, c, plan(t, "v1.2.0", dir), uploadOpts()); err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("upload of a same-size rebuilt file = %v, want a refusal", err)
	}
	check(t, os.WriteFile(deb, orig, 0o644))

	// Verify hashes what the manifest lists, and catches a corrupted asset.
	a := assetByName(t, gh, "v1.2.0", "DemoApp_1.2.0_amd64.AppImage")
	data, _ := gh.AssetData(a.ID)
	gh.SetAssetData(a.ID, append([]byte{data[0] ^ 1}, data[1:]...))
	v, err := publisher.Verify(ctx, c, verifyOpts(t, "v1.2.0", nil, allTauriV2...))
	if !hasProblem(problemsOf(err), publisher.CheckManifest, "DemoApp_1.2.0_amd64.AppImage", "on the release, but SHA256SUMS-") {
		t.Errorf("verify of a corrupted asset = %v, want a manifest mismatch", err)
	}
	if v.PayloadBytes == 0 {
		t.Error("verify read no bytes to hash")
	}
	gh.SetAssetData(a.ID, data)

	// Publish writes SHA256SUMS from the hashed bytes. A publish that fails
	// at the flip leaves its files; the next one keeps them as they are.
	now := func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) }
	gh.Inject(githubsrctest.Fault{Match: "PATCH /api/v3/repos/demo-org/demo-app/releases/", Status: http.StatusBadGateway, Times: 5})
	_, err = publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil), Now: now})
	if err == nil || !strings.Contains(err.Error(), "stays a draft") {
		t.Fatalf("publish through five 502s = %v, want a failure that leaves the draft", err)
	}
	uploads = gh.Count(uploadRoute)
	pr, err := publisher.Publish(ctx, c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", nil), Now: now})
	check(t, err)
	if n := gh.Count(uploadRoute) - uploads; n != 0 {
		t.Errorf("the second publish uploaded %d files, want 0: latest.json and SHA256SUMS were already right", n)
	}
	sums, ok := pr.Release.Asset(publisher.CombinedManifest)
	if !ok {
		t.Fatal("no SHA256SUMS")
	}
	text, _ := gh.AssetData(sums.ID)
	lines, err := publisher.ParseManifest(text)
	check(t, err)
	if len(lines) != len(p.Files)+1 { // every file, and latest.json
		t.Errorf("SHA256SUMS has %d lines, want %d", len(lines), len(p.Files)+1)
	}
	for _, l := range lines {
		b, _ := gh.AssetData(assetByName(t, gh, "v1.2.0", l.Name).ID)
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != l.SHA256 {
			t.Errorf("SHA256SUMS: %s has %.12s…, the bytes hash to %.12s…", l.Name, l.SHA256, hex.EncodeToString(sum[:]))
		}
	}
}

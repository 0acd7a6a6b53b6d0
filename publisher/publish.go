package publisher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// LatestJSON is the name of the Tauri static manifest publish writes.
const LatestJSON = "latest.json"

// PublishOptions configure Publish.
type PublishOptions struct {
	VerifyOptions
	// WindowsInstaller is what latest.json's bare windows keys point at:
	// NSIS unless MSI.
	WindowsInstaller githubsrc.Installer
	// MakeLatest is GitHub's make_latest: "true", "false" or "legacy"; ""
	// leaves GitHub's default (true), except for a hot-swap bundle and
	// under a partial Rollout, which are published with "false" (latest.go).
	MakeLatest string
	// Prerelease, when set, marks the release as a prerelease or not.
	Prerelease *bool
	// Rollout, when set, publishes to that share of devices only (in
	// millionths; see Rollout), written in the same edit that publishes.
	Rollout *uint32
	Now     func() time.Time
	Log     *slog.Logger
}

// PublishReport says what Publish did.
type PublishReport struct {
	Verify           VerifyReport `json:"verify"`
	AlreadyPublished bool         `json:"already_published"`
	// Immutable is true when the repository makes published releases
	// immutable: this one can no longer change.
	Immutable bool              `json:"immutable"`
	URL       string            `json:"url"`
	Assets    []string          `json:"assets"`
	Release   githubsrc.Release `json:"-"`
	// MakeLatest is the make_latest publish sent: "true", "false",
	// "legacy", or "" for GitHub's default (true for a release).
	MakeLatest string `json:"make_latest"`
	// Latest is true when GitHub calls the release the repository's latest
	// once published; LatestTag names the release it calls latest ("" when
	// none, or when it could not be read: LatestError).
	Latest      bool   `json:"latest"`
	LatestTag   string `json:"latest_tag"`
	LatestError string `json:"latest_error,omitempty"`
}

// Publish verifies the draft for the tag and refuses on any problem; then
// writes latest.json and a combined SHA256SUMS from the draft's actual
// assets (once, after every job uploaded: no race drops a platform), and
// flips the draft public. A failure before the flip leaves a draft; running
// it again is safe.
func Publish(ctx context.Context, gh Releases, opts PublishOptions) (PublishReport, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	var rep PublishReport
	v, err := Verify(ctx, gh, opts.VerifyOptions)
	rep.Verify = v
	if err != nil {
		return rep, err
	}
	rel := v.release
	if !rel.Draft {
		rep.AlreadyPublished, rep.Release, rep.URL = true, rel, rel.HTMLURL
		rep.Assets = browserURLs(rel.Tag, v.assets)
		rep.setLatest(ctx, gh, opts.Repo)
		return rep, nil
	}
	repo := opts.Repo
	if immutable, err := gh.ImmutableReleases(ctx, repo); err == nil {
		rep.Immutable = immutable
	} else {
		opts.Log.Debug("could not read the immutable-releases setting", "err", err)
	}

	sigs, err := readSigs(ctx, v)
	if err != nil {
		return rep, err
	}
	bundle := isBundle(v.assets) // a hot-swap bundle: no latest.json, no channel files, not "latest" unless asked
	var files []File
	if len(githubsrc.FindPayloads(v.assets).ByKey) > 0 && !bundle { // Electron-only releases have latest*.yml instead
		version, err := githubsrc.ParseTag(rel.Tag, opts.TagPrefix)
		if err != nil {
			return rep, err
		}
		latest, err := BuildLatestJSON(rel, v.assets, sigs, version.String(), opts.WindowsInstaller, opts.Now())
		if err != nil {
			return rep, err
		}
		files = append(files, memFile(LatestJSON, latest))
	}
	if !bundle {
		channels, err := channelFiles(v)
		if err != nil {
			return rep, err
		}
		files = append(files, channels...)
	}
	sums, err := combinedManifest(ctx, v, files)
	if err != nil {
		return rep, err
	}
	files = append(files, memFile(CombinedManifest, sums))
	for _, f := range files {
		if err := writeFile(ctx, gh, repo, rel, f, v.assets); err != nil {
			return rep, fmt.Errorf("publish %s@%s: write %s (the release stays a draft): %w", repo, rel.Tag, f.Name, err)
		}
	}
	edit := githubsrc.ReleaseEdit{Draft: new(false), MakeLatest: opts.MakeLatest, Prerelease: opts.Prerelease}
	if opts.Rollout != nil {
		notes := rollout.Join(rel.Notes, RolloutState(*opts.Rollout))
		edit.Notes = &notes
	}
	if bundle && edit.MakeLatest == "" {
		edit.MakeLatest = "false"
	}
	if opts.Rollout != nil && !RolloutState(*opts.Rollout).Full() && edit.MakeLatest == "" {
		// GitHub's latest goes to every reader at once; otapub rollout
		// makes the release latest when it goes to every device.
		edit.MakeLatest = "false"
	}
	rep.MakeLatest = edit.MakeLatest
	if _, err := gh.EditRelease(ctx, repo, rel.ID, edit); err != nil {
		return rep, fmt.Errorf("publish %s@%s (the release stays a draft): %w", repo, rel.Tag, err)
	}
	final, err := gh.Release(ctx, repo, rel.ID)
	if err != nil {
		return rep, fmt.Errorf("published %s@%s, but reading it back failed: %w", repo, rel.Tag, err)
	}
	rep.Release, rep.URL = final, final.HTMLURL
	rep.Immutable = rep.Immutable || final.Immutable
	rep.Assets = browserURLs(final.Tag, final.Assets)
	rep.setLatest(ctx, gh, repo)
	opts.Log.Info("published", "repo", repo.String(), "tag", final.Tag, "url", final.HTMLURL, "latest", rep.LatestTag)
	return rep, nil
}

// setLatest reads which release GitHub calls latest. The release is
// published by then, so a failure is reported, not returned.
func (rep *PublishReport) setLatest(ctx context.Context, gh Releases, repo githubsrc.Repo) {
	latest, err := readLatest(ctx, gh, repo)
	if err != nil {
		rep.LatestError = err.Error()
		return
	}
	rep.LatestTag, rep.Latest = latest.Tag, latest.ID != 0 && latest.ID == rep.Release.ID
}

// channelFiles are the electron-updater channel files publish writes:
// each one's parts (and the real file, if one is there already) merged,
// every entry's size and SHA-512 those of the bytes on the release, as
// verify read them (electron.go). A real channel file that is all there
// is comes back as it was unless a size or SHA-512 was missing; the
// parts stay on the release, names no client asks for.
func channelFiles(v VerifyReport) ([]File, error) {
	if v.electron == nil {
		return nil, nil
	}
	var out []File
	for _, s := range v.electron.sets {
		if s.merged == nil {
			return nil, fmt.Errorf("%s: its parts did not merge (verify should have refused it): %v", s.name, s.mergeErr)
		}
		data, err := s.merged.Encode()
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", s.name, err)
		}
		out = append(out, memFile(s.name, data))
	}
	return out, nil
}

// appNotes are a release's notes as apps show them: without the rollout
// line.
func appNotes(notes string) string {
	_, clean := rollout.Split(notes)
	return clean
}

// writeFile writes an in-memory file to the release, replacing an asset of
// the same name with other bytes.
func writeFile(ctx context.Context, gh Releases, repo githubsrc.Repo, rel githubsrc.Release, f File, assets []githubsrc.Asset) error {
	for _, a := range assets {
		if a.Name != f.Name {
			continue
		}
		if same, err := gh.HasBytes(ctx, repo, a, f.Size, f.SHA256); err != nil {
			return err
		} else if same && a.Uploaded() {
			return nil
		}
		if err := gh.DeleteAsset(ctx, repo, a.ID); err != nil {
			return err
		}
	}
	_, _, err := putAsset(ctx, gh, repo, rel, f, f.Name, putOptions{stall: defaultStall})
	return err
}

// readSigs returns the .sig text of every signed payload, as verify read
// it (or reads it now).
func readSigs(ctx context.Context, v VerifyReport) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range githubsrc.FindPayloads(v.assets).ByKey {
		text, err := v.ev.Text(ctx, p.Sig)
		if err != nil {
			return nil, err
		}
		out[p.Sig.Name] = strings.TrimSpace(string(text))
	}
	return out, nil
}

// BuildLatestJSON writes the Tauri static manifest of a release: every key
// clients look up (bare and installer-suffixed, by githubsrc.UpdaterKeys),
// each with the URL its asset will have once the release is published and
// the contents of its .sig. It does no I/O.
func BuildLatestJSON(rel githubsrc.Release, assets []githubsrc.Asset, sigs map[string]string, version string, windows githubsrc.Installer, now time.Time) ([]byte, error) {
	found := githubsrc.FindPayloads(assets)
	keys := githubsrc.UpdaterKeys(found.ByKey, found.Shipped, windows)
	if len(keys) == 0 {
		return nil, fmt.Errorf("release %s has no signed updater payload to put in latest.json", rel.Tag)
	}
	type entry struct {
		Signature string `json:"signature"`
		URL       string `json:"url"`
		Format    string `json:"format,omitempty"`
	}
	m := struct {
		Version   string           `json:"version"`
		Notes     string           `json:"notes"`
		PubDate   string           `json:"pub_date"`
		Platforms map[string]entry `json:"platforms"`
	}{Version: version, Notes: appNotes(rel.Notes), PubDate: now.UTC().Format(time.RFC3339), Platforms: map[string]entry{}}
	for key, p := range keys {
		sig, ok := sigs[p.Sig.Name]
		if !ok || sig == "" {
			return nil, fmt.Errorf("no signature text for %s", p.Asset.Name)
		}
		m.Platforms[key.Key()] = entry{Signature: sig, URL: publishedURL(p.Asset, rel.Tag), Format: githubsrc.CargoPackagerFormat(p.Artifact.Platform.Installer)}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// publishedURL is an asset's browser URL once its release is published: a
// draft's URLs carry an "untagged-…" placeholder where the tag will be.
func publishedURL(a githubsrc.Asset, tag string) string {
	u := a.BrowserURL()
	i := strings.Index(u, "/releases/download/")
	if i < 0 {
		return u
	}
	rest := u[i+len("/releases/download/"):]
	_, name, ok := strings.Cut(rest, "/")
	if !ok {
		return u
	}
	return u[:i] + "/releases/download/" + url.PathEscape(tag) + "/" + name
}

func browserURLs(tag string, assets []githubsrc.Asset) []string {
	out := make([]string, 0, len(assets))
	for _, a := range assets {
		out = append(out, publishedURL(a, tag))
	}
	return out
}

// combinedManifest lists every asset but the manifests themselves, plus
// the files publish writes (latest.json, the channel files) as written,
// by their SHA-256s: GitHub's digests, or the hashes verify computed
// where GitHub gave none.
func combinedManifest(ctx context.Context, v VerifyReport, written []File) ([]byte, error) {
	var lines []ManifestLine
	mine := map[string]bool{}
	for _, f := range written {
		sum := sha256.Sum256(f.data)
		lines = append(lines, ManifestLine{SHA256: hex.EncodeToString(sum[:]), Name: f.Name})
		mine[f.Name] = true
	}
	for _, a := range v.assets {
		if mine[a.Name] || githubsrc.Classify(a.Name).Role == githubsrc.RoleChecksums {
			continue
		}
		d, err := v.ev.SHA256(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("hash %s: %w", a.Name, err)
		}
		lines = append(lines, ManifestLine{SHA256: d, Name: a.Name})
	}
	return FormatManifest(lines), nil
}

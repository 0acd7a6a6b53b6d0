package proxy

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// Channel selects which releases an updater is offered.
type Channel uint8

// Channels. Stable never sees prereleases; Beta gets the newer of the
// newest prerelease and the newest stable release.
const (
	Stable Channel = iota
	Beta
	numChannels
)

// ParseChannel reads ?channel=; empty is Stable.
func ParseChannel(s string) (Channel, error) {
	switch strings.ToLower(s) {
	case "", "stable", "latest":
		return Stable, nil
	case "beta", "prerelease", "pre":
		return Beta, nil
	}
	return 0, fmt.Errorf("unknown channel %q: use stable or beta", s)
}

func (c Channel) String() string {
	if c == Beta {
		return "beta"
	}
	return "stable"
}

// SnapshotOptions shape how releases become answers.
type SnapshotOptions struct {
	// TagPrefix precedes the version in tags ("desktop-" for "desktop-v1.2.0").
	TagPrefix string
	// WindowsInstaller is what a Windows check that does not say its
	// installer gets: NSIS unless set to MSI.
	WindowsInstaller githubsrc.Installer
	// DownloadBase is the absolute URL of this app's /download/ route, ending
	// in "/". Answers point there unless Direct is set.
	DownloadBase string
	// Direct puts GitHub's browser_download_url in answers (public repositories only).
	Direct bool
	// PubKeyID, when set, withholds payloads whose .sig is from another key:
	// the app would refuse them with UnexpectedKeyId.
	PubKeyID uint64
}

// Snapshot is one immutable view of an app's published releases with every
// answer encoded in advance: a check is a map lookup and one comparison.
type Snapshot struct {
	answers      [numChannels]map[githubsrc.Platform]*Answer
	latest       [numChannels][]byte // Tauri static manifest; nil when no release qualifies
	latestLength [numChannels][]string
	assets       map[string]map[string]assetRef
	// Releases is how many published releases the snapshot read.
	Releases int
	// Withheld says, per payload, why it is not offered (no .sig, bad .sig, ...).
	Withheld []string
}

// Answer is the update offered for one (channel, platform key).
type Answer struct {
	Version *semver.Version
	Tag     string
	Asset   string
	// Body is the JSON Tauri and cargo-packager read, encoded once.
	Body   []byte
	length []string // Content-Length, ready for the header map
}

type assetRef struct {
	rel   *githubsrc.Release
	asset githubsrc.Asset
}

// Answer returns the update for platform p on channel c, or nil.
func (s *Snapshot) Answer(c Channel, p githubsrc.Platform) *Answer { return s.answers[c][p] }

// LatestJSON returns the Tauri static manifest for channel c, or nil.
func (s *Snapshot) LatestJSON(c Channel) []byte { return s.latest[c] }

func (s *Snapshot) latestJSON(c Channel) ([]byte, []string) { return s.latest[c], s.latestLength[c] }

// Asset finds a downloadable asset by tag and name.
func (s *Snapshot) Asset(tag, name string) (githubsrc.Release, githubsrc.Asset, bool) {
	ref, ok := s.assets[tag][name]
	if !ok {
		return githubsrc.Release{}, githubsrc.Asset{}, false
	}
	return *ref.rel, ref.asset, true
}

// candidate is a signed payload of one release.
type candidate struct {
	rel     *release
	payload githubsrc.Artifact
	asset   githubsrc.Asset
	sig     githubsrc.Asset
	sigText string // the .sig contents, surrounding whitespace trimmed
}

type release struct {
	gh         *githubsrc.Release
	version    *semver.Version
	prerelease bool
	entries    map[githubsrc.Platform]*candidate // full and derived keys
	// shipped is every payload key the release has, offered or not
	// (unsigned, mid-upload): what its users may have installed.
	shipped map[githubsrc.Platform]bool
}

// formatPreference orders payload containers per installer when a release
// has several for one key: raw installers first (Tauri v2, cargo-packager,
// which cannot apply a tar.gz AppImage), v1 archives after.
var formatPreference = map[string]int{"exe": 0, "msi": 0, "appimage": 0, "deb": 0, "rpm": 0, "tar.gz": 1, "zip": 1}

// SignatureLookup returns the .sig contents of a signature asset, or false
// when they are not at hand yet.
type SignatureLookup func(githubsrc.Asset) ([]byte, bool)

// BuildSnapshot turns published releases into answers. Signatures come from
// sigs; the .sig assets it needed but could not find are returned in
// missing, so the caller can fetch them and build again. Drafts, assets not
// fully uploaded, tags that are not versions and payloads without a valid
// .sig are left out: a payload is never advertised unsigned.
func BuildSnapshot(rels []githubsrc.Release, sigs SignatureLookup, opts SnapshotOptions) (snap *Snapshot, missing []githubsrc.Asset) {
	snap = &Snapshot{assets: map[string]map[string]assetRef{}}
	var parsed []*release
	for i := range rels {
		gh := &rels[i]
		if gh.Draft {
			continue
		}
		snap.Releases++
		byName := map[string]assetRef{}
		for _, a := range gh.Assets {
			if a.Uploaded() {
				byName[a.Name] = assetRef{rel: gh, asset: a}
			}
		}
		snap.assets[gh.Tag] = byName
		v, err := gh.Version(opts.TagPrefix)
		if err != nil {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("release %s: %v", gh.Tag, err))
			continue
		}
		r := &release{gh: gh, version: v, prerelease: gh.Prerelease || v.Prerelease() != "",
			entries: map[githubsrc.Platform]*candidate{}, shipped: map[githubsrc.Platform]bool{}}
		snap.collect(r, byName, sigs, opts, &missing)
		r.derive(opts.WindowsInstaller)
		parsed = append(parsed, r)
	}
	// Newest version first; the same version twice (v1.2.0 and 1.2.0): the later publication.
	slices.SortStableFunc(parsed, func(a, b *release) int {
		if c := b.version.Compare(a.version); c != 0 {
			return c
		}
		return b.gh.PublishedAt.Compare(a.gh.PublishedAt)
	})
	for c := range numChannels {
		snap.answers[c] = map[githubsrc.Platform]*Answer{}
		var newest *release
		for _, r := range parsed {
			if c == Stable && r.prerelease {
				continue
			}
			if newest == nil && len(r.entries) > 0 {
				newest = r
			}
			for p, cand := range r.entries {
				if _, taken := snap.answers[c][p]; !taken {
					snap.answers[c][p] = cand.answer(p, opts)
				}
			}
		}
		if newest != nil {
			snap.latest[c] = newest.staticManifest(opts)
			snap.latestLength[c] = []string{strconv.Itoa(len(snap.latest[c]))}
		}
	}
	return snap, missing
}

// collect finds r's signed payloads and files them under their full keys.
func (snap *Snapshot) collect(r *release, byName map[string]assetRef, sigs SignatureLookup, opts SnapshotOptions, missing *[]githubsrc.Asset) {
	var arts []githubsrc.Artifact
	for _, a := range r.gh.Assets {
		arts = append(arts, githubsrc.Classify(a.Name))
	}
	for _, art := range githubsrc.InferArch(arts) {
		if !art.ClientCompatible() {
			continue
		}
		r.shipped[art.Platform] = true
		if _, ok := byName[art.Name]; !ok {
			withhold := fmt.Sprintf("release %s: %s: not fully uploaded", r.gh.Tag, art.Name)
			snap.Withheld = append(snap.Withheld, withhold)
			continue
		}
		withhold := func(why string) {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("release %s: %s: %s", r.gh.Tag, art.Name, why))
		}
		sig, ok := byName[art.Name+".sig"]
		if !ok {
			withhold("no .sig beside it")
			continue
		}
		text, ok := sigs(sig.asset)
		if !ok {
			*missing = append(*missing, sig.asset)
			continue
		}
		s, err := taurisig.ParseSignature(text)
		switch {
		case err != nil:
			withhold(err.Error())
			continue
		case opts.PubKeyID != 0 && s.KeyID != opts.PubKeyID:
			withhold(fmt.Sprintf("signed by key %s, not the configured %s", taurisig.KeyID(s.KeyID), taurisig.KeyID(opts.PubKeyID)))
			continue
		}
		if signed, bad := s.VersionMismatch(r.version.String()); bad {
			withhold(fmt.Sprintf("its signature is bound to version %s, and Tauri refuses it for %s", signed, r.version))
			continue
		}
		cand := &candidate{rel: r, payload: art, asset: byName[art.Name].asset, sig: sig.asset, sigText: strings.TrimSpace(string(text))}
		if old, ok := r.entries[art.Platform]; ok && !old.preferTo(cand) {
			continue
		}
		r.entries[art.Platform] = cand
	}
}

// preferTo reports whether c should stay over other for the same key.
func (c *candidate) preferTo(other *candidate) bool {
	return cmp.Or(
		cmp.Compare(formatPreference[c.payload.Format], formatPreference[other.payload.Format]),
		cmp.Compare(len(c.asset.Name), len(other.asset.Name)),
		strings.Compare(c.asset.Name, other.asset.Name),
	) <= 0
}

// derive adds the keys clients ask for without an installer, and lets a
// universal macOS build serve both arches where no native one exists.
func (r *release) derive(windows githubsrc.Installer) {
	if windows == "" {
		windows = githubsrc.NSIS
	}
	full := make([]githubsrc.Platform, 0, len(r.entries))
	for p := range r.entries {
		full = append(full, p)
	}
	if u, ok := r.entries[githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.Universal, Installer: githubsrc.App}]; ok {
		for _, arch := range []githubsrc.Arch{githubsrc.AArch64, githubsrc.X86_64} {
			p := githubsrc.Platform{OS: githubsrc.Darwin, Arch: arch, Installer: githubsrc.App}
			if _, native := r.entries[p]; !native {
				r.entries[p] = u
				full = append(full, p)
			}
		}
	}
	for _, p := range full {
		bare := p.Bare()
		switch p.Installer {
		case githubsrc.App, githubsrc.AppImage:
			// The bare macOS key is the .app; the bare Linux key is the
			// AppImage, never a .deb or .rpm (Tauri applies those only to
			// package installs, which say so with {{bundle_type}}).
			r.entries[bare] = r.entries[p]
		case githubsrc.NSIS, githubsrc.MSI:
			// The configured installer; else, when the release ships only
			// the other kind, that one (every install is of that kind).
			// Never a guess between two: an NSIS install fed an MSI
			// installs a second copy.
			other := githubsrc.MSI
			if p.Installer == githubsrc.MSI {
				other = githubsrc.NSIS
			}
			if p.Installer == windows || !r.shipped[githubsrc.Platform{OS: githubsrc.Windows, Arch: p.Arch, Installer: other}] {
				r.entries[bare] = r.entries[p]
			}
		}
	}
}

// DownloadURL is where an answer sends the client for asset a of tag.
func DownloadURL(opts SnapshotOptions, tag string, a githubsrc.Asset) string {
	if opts.Direct && a.BrowserURL != "" {
		return a.BrowserURL
	}
	return opts.DownloadBase + url.PathEscape(tag) + "/" + url.PathEscape(a.Name)
}

func (r *release) pubDate() string {
	if r.gh.PublishedAt.IsZero() {
		return ""
	}
	return r.gh.PublishedAt.UTC().Format(time.RFC3339)
}

package proxy

import (
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

// candidate is a signed payload of one release, fit to offer.
type candidate struct {
	rel *release
	githubsrc.Payload
	sigText string // the .sig contents, surrounding whitespace trimmed
}

type release struct {
	gh         *githubsrc.Release
	version    *semver.Version
	prerelease bool
	entries    map[githubsrc.Platform]*candidate // every key clients look up
}

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
		r := &release{gh: gh, version: v, prerelease: gh.Prerelease || v.Prerelease() != ""}
		snap.collect(r, sigs, opts, &missing)
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

// collect finds r's payloads fit to offer and files them under every key
// clients look up.
func (snap *Snapshot) collect(r *release, sigs SignatureLookup, opts SnapshotOptions, missing *[]githubsrc.Asset) {
	withhold := func(name, why string) {
		snap.Withheld = append(snap.Withheld, fmt.Sprintf("release %s: %s: %s", r.gh.Tag, name, why))
	}
	found := githubsrc.FindPayloads(r.gh.Assets)
	for _, a := range found.Incomplete {
		withhold(a.Name, "not fully uploaded")
	}
	for _, a := range found.Unsigned {
		withhold(a.Name, "no .sig beside it")
	}
	fit := map[githubsrc.Platform]githubsrc.Payload{}
	sigText := map[int64]string{}
	for key, p := range found.ByKey {
		text, ok := sigs(p.Sig)
		if !ok {
			*missing = append(*missing, p.Sig)
			continue
		}
		s, err := taurisig.ParseSignature(text)
		switch {
		case err != nil:
			withhold(p.Asset.Name, err.Error())
			continue
		case opts.PubKeyID != 0 && s.KeyID != opts.PubKeyID:
			withhold(p.Asset.Name, fmt.Sprintf("signed by key %s, not the configured %s", taurisig.KeyID(s.KeyID), taurisig.KeyID(opts.PubKeyID)))
			continue
		}
		if signed, bad := s.VersionMismatch(r.version.String()); bad {
			withhold(p.Asset.Name, fmt.Sprintf("its signature is bound to version %s, and Tauri refuses it for %s", signed, r.version))
			continue
		}
		fit[key] = p
		sigText[p.Sig.ID] = strings.TrimSpace(string(text))
	}
	r.entries = map[githubsrc.Platform]*candidate{}
	byAsset := map[int64]*candidate{}
	for key, p := range githubsrc.UpdaterKeys(fit, found.Shipped, opts.WindowsInstaller) {
		c := byAsset[p.Asset.ID]
		if c == nil {
			c = &candidate{rel: r, Payload: p, sigText: sigText[p.Sig.ID]}
			byAsset[p.Asset.ID] = c
		}
		r.entries[key] = c
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

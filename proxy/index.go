package proxy

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
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

// Index is one immutable, feed-agnostic view of an app's published
// releases: every release and uploaded asset as the source listed them,
// whether a feed answers with it or not, and the small texts the feeds
// asked for. Feeds build their answer tables from it; /download serves
// from it.
type Index struct {
	// Releases are the published releases, in the source's order, their
	// notes as apps show them (without the rollout line).
	Releases []githubsrc.Release
	// rollouts holds the staged rollout of each release whose notes carry
	// one (githubsrc/rollout), by release ID; the others go to every device.
	rollouts map[int64]rollout.State
	// versions are the releases' versions as clients spell them (the tag
	// without the prefix and a leading "v"): the adoption metrics' labels.
	versions map[string]struct{}
	texts    map[int64][]byte
	// tags are the releases by tag, as indexes in Releases (the later of
	// two with one tag); locations, the redirect of each of their assets
	// that is the same for every client (a public repository's browser
	// URL, Index.locate), release after release from the release's
	// locatedAt, made on the asset's first download; nil when none has one.
	tags      map[string]int
	fixed     fixedURLs
	locations []atomic.Pointer[[]string]
	locatedAt []int
	tauri     *tauriPlan        // the Tauri feed's, while the snapshot is built
	electron  []electronRelease // electronReleases', while the snapshot is built
	// only, when set, limits the releases feeds look at to these IDs: a
	// rebuild from the very releases and texts of the last build, which
	// found only those answering (Index.answering).
	only []int64
	// answering is set by the feeds as they build: the IDs of the
	// releases that answer something.
	answering []int64
	// facts are what parsing each release gave (facts.go), by release
	// ID, while the snapshot is built.
	facts map[int64]*releaseFacts
}

// fixedURLs is a Source whose download URLs are the same for every client
// and every moment (a public repository's browser URLs): /download
// answers them from the Index without asking the source.
type fixedURLs interface {
	// FixedURL returns a's, or false when it has none (a private
	// repository's assets, which need a signed URL each time).
	FixedURL(a githubsrc.Asset) (string, bool)
	// HasFixedURL reports whether FixedURL has one for a, without making it.
	HasFixedURL(a githubsrc.Asset) bool
}

// locate readies the redirect of every asset src has a fixed URL for:
// made on its first download, since most assets are never downloaded
// through the proxy (answers point at the installers and updater
// payloads), and their URLs are the biggest part of a listing.
func (ix *Index) locate(src fixedURLs) {
	n, fixed := 0, false
	ix.locatedAt = make([]int, len(ix.Releases))
	for i, r := range ix.Releases {
		ix.locatedAt[i] = n
		n += len(r.Assets)
		for _, a := range r.Assets {
			fixed = fixed || src.HasFixedURL(a)
		}
	}
	if !fixed {
		ix.locatedAt = nil // none: a private repository's
		return
	}
	ix.fixed, ix.locations = src, make([]atomic.Pointer[[]string], n)
}

// newIndex indexes the app's releases among rels: published, and tagged
// with its tag prefix (in a monorepo the others are another app's). texts
// holds the fetched contents of small assets by ID and is kept, not copied;
// so is rels, unless the index leaves some out or changes their notes.
func newIndex(rels []githubsrc.Release, texts map[int64][]byte, opts SnapshotOptions) *Index {
	ix := &Index{texts: texts, tags: make(map[string]int, len(rels)), versions: make(map[string]struct{}, len(rels))}
	shared := !slices.ContainsFunc(rels, func(r githubsrc.Release) bool { return !opts.ours(r) })
	if shared {
		ix.Releases = rels
	} else {
		for _, r := range rels {
			if opts.ours(r) {
				ix.Releases = append(ix.Releases, r)
			}
		}
	}
	for i := range ix.Releases {
		if st, notes := rollout.Split(ix.Releases[i].Notes); st.Set {
			if ix.rollouts == nil {
				ix.rollouts = map[int64]rollout.State{}
				if shared {
					ix.Releases = slices.Clone(ix.Releases) // the notes change: rels is the app's
				}
			}
			ix.rollouts[ix.Releases[i].ID], ix.Releases[i].Notes = st, notes
		}
	}
	for i, rel := range ix.Releases {
		ix.versions[opts.tagVersion(rel.Tag)] = struct{}{}
		ix.tags[rel.Tag] = i
	}
	return ix
}

// ours reports whether r is one of the app's releases.
func (opts SnapshotOptions) ours(r githubsrc.Release) bool {
	return !r.Draft && strings.HasPrefix(r.Tag, opts.TagPrefix)
}

// tagVersion is the version a tag names as clients spell it: without the
// tag prefix and a leading "v" (a substring: it does not allocate).
func (opts SnapshotOptions) tagVersion(tag string) string {
	return strings.TrimPrefix(strings.TrimPrefix(tag, opts.TagPrefix), "v")
}

// knownVersion reports whether v is the version of one of the releases.
func (ix *Index) knownVersion(v string) bool {
	_, ok := ix.versions[v]
	return ok
}

// Rollout returns the staged rollout of the release with that ID; the
// zero State (every device) when it carries none.
func (ix *Index) Rollout(id int64) rollout.State { return ix.rollouts[id] }

// Text returns the fetched contents of a small asset, and false when it
// was not fetched. A text that was gone when fetched is empty. Feeds read
// texts while they build; the snapshot does not keep them.
func (ix *Index) Text(a githubsrc.Asset) ([]byte, bool) {
	b, ok := ix.texts[a.ID]
	return b, ok
}

// keepText has the app keep a's text, for its next refresh, as kept: the
// trimmed copy an encoded answer holds, itself kept, instead of a copy of
// its own. Feeds call it as they build; trimming changes nothing a feed
// reads from a .sig.
func (ix *Index) keepText(a githubsrc.Asset, kept []byte) {
	if _, ok := ix.texts[a.ID]; ok && len(kept) > 0 {
		ix.texts[a.ID] = kept
	}
}

// Asset finds an uploaded asset by tag and name.
func (ix *Index) Asset(tag, name string) (githubsrc.Release, githubsrc.Asset, bool) {
	i, j, ok := ix.find(tag, name)
	if !ok {
		return githubsrc.Release{}, githubsrc.Asset{}, false
	}
	return ix.Releases[i], ix.Releases[i].Assets[j], true
}

// find finds an uploaded asset by tag and name: the release's index in
// Releases, the asset's in its Assets (the last of two with one name).
// It does not allocate.
func (ix *Index) find(tag, name string) (int, int, bool) {
	i, ok := ix.tags[tag]
	if !ok {
		return 0, 0, false
	}
	assets := ix.Releases[i].Assets
	for j := len(assets) - 1; j >= 0; j-- {
		if assets[j].Name == name && assets[j].Uploaded() {
			return i, j, true
		}
	}
	return 0, 0, false
}

// location returns the fixed redirect of asset j of release i (locate),
// as a header value, or nil when it has none. Only an asset's first
// download from the Index allocates.
func (ix *Index) location(i, j int) []string {
	if ix.locations == nil {
		return nil
	}
	p := &ix.locations[ix.locatedAt[i]+j]
	if loc := p.Load(); loc != nil {
		return *loc
	}
	u, ok := ix.fixed.FixedURL(ix.Releases[i].Assets[j])
	if !ok {
		return nil
	}
	loc := []string{u}
	p.Store(&loc)
	return loc
}

// Snapshot is what one refresh built: the Index, and every feed's answer
// tables, encoded in advance so a check is a map lookup and one comparison.
type Snapshot struct {
	index    *Index
	tauri    tauriTables
	ota      otaTables
	electron electronTables
	squirrel squirrelTables
	// Releases is how many published releases the snapshot read.
	Releases int
	// Withheld says, per payload, why it is not offered (no .sig, bad .sig, ...).
	Withheld []string
}

// wantedTexts lists the small assets whose contents the feeds need from
// ix, given the texts it holds: a feed may ask for more once it has read
// some (an older .sig when the newest is bad).
func wantedTexts(feeds []feed, ix *Index, opts SnapshotOptions) []githubsrc.Asset {
	var want []githubsrc.Asset
	for _, f := range feeds {
		want = f.texts(ix, opts, want)
	}
	return want
}

// buildSnapshot has every feed build its tables from ix, whose texts must
// hold every asset wantedTexts lists.
func buildSnapshot(feeds []feed, ix *Index, opts SnapshotOptions) *Snapshot {
	snap := &Snapshot{index: ix, Releases: len(ix.Releases)}
	ix.answering = []int64{} // not nil: a rebuild looks at none but these
	for _, f := range feeds {
		f.build(ix, opts, snap)
	}
	ix.texts, ix.tauri, ix.electron = nil, nil, nil // in the answers now; the app keeps the texts for its next refresh
	return snap
}

// Asset finds a downloadable asset by tag and name.
func (snap *Snapshot) Asset(tag, name string) (githubsrc.Release, githubsrc.Asset, bool) {
	return snap.index.Asset(tag, name)
}

// DownloadURL is where an answer sends the client for asset a of tag.
func DownloadURL(opts SnapshotOptions, tag string, a githubsrc.Asset) string {
	if opts.Direct && a.HasBrowserURL() {
		return a.BrowserURL()
	}
	return opts.DownloadBase + url.PathEscape(tag) + "/" + url.PathEscape(a.Name)
}

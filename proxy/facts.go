package proxy

import (
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
)

// What a rebuild need not work out again. An evicted app rebuilds its
// snapshot from the listing and .sig texts it kept (cache.go). Most of a
// build went into reading them: classifying every asset name (regular
// expressions), parsing the tag's version and each signature, pairing
// payloads with keys (release.collect) and encoding the answers; and all
// of it comes out the same for the same listing, texts and options. So
// an app keeps, beside its listing, what that gave for the releases that
// answered in its last build, in a compact form (assets by index, not
// copied; the answers, whose bodies hold the kept .sig texts anyway), and
// a rebuild from the same listing starts from it: what is left is
// indexing the assets and assembling the tables. A full listing, or other
// options, start afresh.

// releaseFacts are what a release's tag, asset names and signatures say.
type releaseFacts struct {
	version *semver.Version
	err     error // the tag is not a version
	// The release's githubsrc.FindPayloads, without copies of the assets:
	// payloads name them by index in the release's Assets.
	payloads             []payloadAt
	shipped              []githubsrc.Platform
	unsigned, incomplete []githubsrc.Artifact
	// collected says collect has run: entries are the keys it filed
	// payloads under (each payload by index in payloads), and notes why
	// it withheld the others (Index.recollect).
	collected bool
	entries   []entryAt
	notes     []string
	// allFit says collect found every payload fit to offer: the keys it
	// filed them under are then all the keys the release could answer.
	allFit bool
	// answers are the encoded answers of the release's payloads, as
	// payloads orders them (nil: not encoded): Index.answer. Their bodies
	// hold the .sig texts the app keeps (Index.keepText), so keeping them
	// costs little more.
	answers []*Answer
	// squirrel are the release's releaseFiles (feed_squirrel.go), each
	// asset by index; nil until the Squirrel feed asks. squirrelValid
	// says the feed made an answer of every one of them and found each
	// fit (newSquirrelFile): what it checks is the listing's and the
	// options'.
	squirrel      []squirrelAt
	squirrelValid bool
}

// squirrelValid reports whether the last build from the same listing
// found every one of gh's releaseFiles fit to answer Squirrel.Mac.
func (ix *Index) squirrelValid(gh *githubsrc.Release) bool {
	f := ix.facts[gh.ID]
	return f != nil && f.squirrel != nil && f.squirrelValid
}

// squirrelChecked notes, for the next build from the same listing,
// whether every one of gh's releaseFiles was found fit.
func (ix *Index) squirrelChecked(gh *githubsrc.Release, valid bool) {
	if f := ix.facts[gh.ID]; f != nil {
		f.squirrelValid = valid && f.squirrel != nil
	}
}

type squirrelAt struct {
	key squirrelKey
	at  int // in the release's Assets
}

// squirrelFiles returns gh's releaseFiles, classifying its asset names
// once per listing like parse.
func (ix *Index) squirrelFiles(gh *githubsrc.Release) map[squirrelKey]githubsrc.Asset {
	f := ix.facts[gh.ID]
	if f != nil && f.squirrel != nil {
		files := make(map[squirrelKey]githubsrc.Asset, len(f.squirrel))
		for _, s := range f.squirrel {
			files[s.key] = gh.Assets[s.at]
		}
		return files
	}
	files := releaseFiles(gh)
	if f != nil {
		at := make(map[int64]int, len(gh.Assets))
		for i, a := range gh.Assets {
			at[a.ID] = i
		}
		f.squirrel = make([]squirrelAt, 0, len(files))
		for k, a := range files {
			f.squirrel = append(f.squirrel, squirrelAt{k, at[a.ID]})
		}
	}
	return files
}

type payloadAt struct {
	art        githubsrc.Artifact
	asset, sig int // in the release's Assets
}

type entryAt struct {
	key githubsrc.Platform
	at  int // in releaseFacts.payloads
}

// parse returns gh's version and payloads (FindPayloads), parsing its tag
// and asset names once per listing: the Index starts from what the app's
// last build from the same listing kept (Server.build). Those it returns
// as the facts they are noted in, without the payloads, which a rebuild
// mostly needs no map of (release.payloads makes it).
func (ix *Index) parse(gh *githubsrc.Release, opts SnapshotOptions) (*semver.Version, githubsrc.Payloads, *releaseFacts, error) {
	if f, ok := ix.facts[gh.ID]; ok {
		return f.version, githubsrc.Payloads{}, f, f.err
	}
	f := &releaseFacts{}
	var found githubsrc.Payloads
	if f.version, f.err = gh.Version(opts.TagPrefix); f.err == nil {
		found = githubsrc.FindPayloads(gh.Assets)
		f.keep(gh, found)
	}
	if ix.facts == nil {
		ix.facts = map[int64]*releaseFacts{}
	}
	ix.facts[gh.ID] = f
	return f.version, found, nil, f.err
}

// version returns gh's version, from the facts parse kept when there are
// some (the Tauri feed parses every release first).
func (ix *Index) version(gh *githubsrc.Release, opts SnapshotOptions) (*semver.Version, error) {
	if f, ok := ix.facts[gh.ID]; ok {
		return f.version, f.err
	}
	return gh.Version(opts.TagPrefix)
}

// keep notes found in f, its assets by index in gh's.
func (f *releaseFacts) keep(gh *githubsrc.Release, found githubsrc.Payloads) {
	at := make(map[int64]int, len(gh.Assets))
	for i, a := range gh.Assets {
		at[a.ID] = i
	}
	f.payloads = make([]payloadAt, 0, len(found.ByKey))
	for _, p := range found.ByKey {
		f.payloads = append(f.payloads, payloadAt{art: p.Artifact, asset: at[p.Asset.ID], sig: at[p.Sig.ID]})
	}
	f.shipped = make([]githubsrc.Platform, 0, len(found.Shipped))
	for k := range found.Shipped {
		f.shipped = append(f.shipped, k)
	}
	f.unsigned, f.incomplete = found.Unsigned, found.Incomplete
}

// found is the FindPayloads that f notes, of gh's assets.
func (f *releaseFacts) found(gh *githubsrc.Release) githubsrc.Payloads {
	p := githubsrc.Payloads{
		ByKey:    make(map[githubsrc.Platform]githubsrc.Payload, len(f.payloads)),
		Shipped:  make(map[githubsrc.Platform]bool, len(f.shipped)),
		Unsigned: f.unsigned, Incomplete: f.incomplete,
	}
	for _, k := range f.payloads {
		p.ByKey[k.art.Platform] = githubsrc.Payload{Artifact: k.art, Asset: gh.Assets[k.asset], Sig: gh.Assets[k.sig]}
	}
	for _, k := range f.shipped {
		p.Shipped[k] = true
	}
	return p
}

// recollect does what r.collect did in the last build from the same
// listing and texts, and reports whether there was one: its result depends
// on r's assets, their .sig texts and the options alone.
func (ix *Index) recollect(r *release, note func(tag, what string)) bool {
	f := ix.facts[r.gh.ID]
	if f == nil || !f.collected {
		return false
	}
	for _, what := range f.notes {
		note(r.gh.Tag, what)
	}
	r.entries = make(map[githubsrc.Platform]*candidate, len(f.entries))
	cands := make([]*candidate, len(f.payloads))
	for _, e := range f.entries {
		c := cands[e.at]
		if c == nil {
			k := f.payloads[e.at]
			c = &candidate{rel: r, Payload: githubsrc.Payload{Artifact: k.art, Asset: r.gh.Assets[k.asset], Sig: r.gh.Assets[k.sig]}}
			if f.answers == nil || f.answers[e.at] == nil {
				text, _ := ix.Text(c.Sig)
				c.sigText = strings.TrimSpace(string(text))
			}
			cands[e.at] = c
		}
		r.entries[e.key] = c
	}
	return true
}

// collecting returns note, noting for recollect what it is told about r.
func (ix *Index) collecting(r *release, note func(tag, what string)) func(tag, what string) {
	f := ix.facts[r.gh.ID]
	if f == nil {
		return note
	}
	f.notes = nil
	return func(tag, what string) {
		f.notes = append(f.notes, what)
		note(tag, what)
	}
}

// collected notes, for recollect, the entries r.collect filed.
func (ix *Index) collected(r *release) {
	f := ix.facts[r.gh.ID]
	if f == nil {
		return
	}
	at := make(map[int64]int, len(f.payloads))
	for i, k := range f.payloads {
		at[r.gh.Assets[k.asset].ID] = i
	}
	f.entries = make([]entryAt, 0, len(r.entries))
	filed := make([]bool, len(f.payloads))
	fit := 0
	for key, c := range r.entries {
		i, ok := at[c.Asset.ID]
		if !ok {
			f.entries = nil
			return // not a payload parse found: collect it again next time
		}
		f.entries = append(f.entries, entryAt{key, i})
		if !filed[i] {
			filed[i] = true
			fit++
		}
	}
	f.collected, f.allFit = true, fit == len(f.payloads)
}

// updaterKeys returns the keys r could answer, if its payloads were all
// fit to offer: those of githubsrc.UpdaterKeys. When the last build from
// the same listing found them all fit, they are the keys collect filed
// them under, and no map of payloads is made.
func (ix *Index) updaterKeys(r *release, opts SnapshotOptions) map[githubsrc.Platform]bool {
	f := ix.facts[r.gh.ID]
	if f != nil && f.collected && f.allFit {
		keys := make(map[githubsrc.Platform]bool, len(f.entries))
		for _, e := range f.entries {
			keys[e.key] = true
		}
		return keys
	}
	found := r.payloads()
	all := githubsrc.UpdaterKeys(found.ByKey, found.Shipped, opts.WindowsInstaller)
	keys := make(map[githubsrc.Platform]bool, len(all))
	for k := range all {
		keys[k] = true
	}
	return keys
}

// answer returns c's encoded answer (candidate.answer), encoding it once
// per listing and options: what it is made of (the release's version,
// notes and date, the payload's URL, its .sig text) are the listing's and
// the texts'.
func (ix *Index) answer(c *candidate, opts SnapshotOptions) *Answer {
	f := ix.facts[c.rel.gh.ID]
	i := -1
	if f != nil {
		for j, k := range f.payloads {
			if c.rel.gh.Assets[k.asset].ID == c.Asset.ID {
				i = j
				break
			}
		}
	}
	if i >= 0 && f.answers != nil && f.answers[i] != nil {
		return f.answers[i]
	}
	a := c.answer(opts)
	if i >= 0 {
		if f.answers == nil {
			f.answers = make([]*Answer, len(f.payloads))
		}
		f.answers[i] = a
	}
	return a
}

// keepFacts returns the facts of the answering releases: those a rebuild
// looks at.
func keepFacts(facts map[int64]*releaseFacts, answering []int64) map[int64]*releaseFacts {
	kept := make(map[int64]*releaseFacts, len(answering))
	for _, id := range answering {
		if f, ok := facts[id]; ok {
			kept[id] = f
		}
	}
	return kept
}

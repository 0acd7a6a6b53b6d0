package proxy

// The Tauri / cargo-packager feed: the dynamic check
// /{target}/{arch}[/{bundle}]/{version} and the static /latest.json, from
// each release's signed payloads. The wire format is in tauri.go.

import (
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// tauriFeed answers Tauri v1/v2 and cargo-packager updaters.
type tauriFeed struct{}

func (tauriFeed) routes() []route {
	return []route{
		// matchCheck serves the plain shapes of these two without the mux (fastpath.go).
		{pattern: "GET /{target}/{arch}/{version}", name: "check", hint: "/{target}/{arch}/{current_version}", check: true, h: (*Server).handleCheck},
		{pattern: "GET /{target}/{arch}/{bundle}/{version}", name: "check", check: true, h: (*Server).handleCheck},
		{pattern: "GET /latest.json", name: "latest", hint: "/latest.json", h: (*Server).handleLatest},
	}
}

// tauriTables are the feed's answers in one snapshot.
type tauriTables struct {
	// answers hold the newest answer per channel and key.
	answers [numChannels]map[githubsrc.Platform]*Answer
	// held hold, for a key whose newest answer is in a staged rollout (or
	// halted), the answers for devices outside it: older releases', newest
	// first, down to the first one every device gets (see offerFor).
	held [numChannels]map[githubsrc.Platform][]*Answer
	// latest is the Tauri static manifest, newest release first, with the
	// older ones devices outside its rollout get, as held; empty when no
	// release qualifies.
	latest [numChannels][]*manifest
}

// Answer is the update offered for one (channel, platform key).
type Answer struct {
	Version *semver.Version
	Tag     string
	Asset   string
	// Body is the JSON Tauri and cargo-packager read, encoded once.
	Body   []byte
	length []string // Content-Length, ready for the header map
	// sig and url spell the signature and URL, slices of Body where it
	// holds them verbatim; format is the answer's format. latest.json is
	// made of them.
	sig, url []byte
	format   string
	// rollout is the release's staged rollout: which devices get it.
	rollout rollout.State
	label   string // Version as metrics label it
}

// Answer returns the newest update for platform p on channel c, or nil,
// whatever its rollout (AnswerFor decides for a device).
func (s *Snapshot) Answer(c Channel, p githubsrc.Platform) *Answer { return s.tauri.answers[c][p] }

// AnswerFor returns the update device d gets for platform p on channel c:
// the newest whose rollout includes d, or nil.
func (s *Snapshot) AnswerFor(c Channel, p githubsrc.Platform, d Device) *Answer {
	return offerFor(s.tauri.answers[c][p], s.tauri.held[c][p], d)
}

// LatestJSON returns the Tauri static manifest for channel c as device d
// gets it, or nil.
func (s *Snapshot) LatestJSON(c Channel, d Device) []byte {
	b, _, _ := s.latestJSON(c, d)
	return b
}

// latestJSON returns the manifest d gets, its Content-Length, and whether
// the answer depends on the device.
func (s *Snapshot) latestJSON(c Channel, d Device) ([]byte, []string, bool) {
	ms := s.tauri.latest[c]
	if len(ms) == 0 {
		return nil, nil, false
	}
	if m := offerFor(ms[0], ms[1:], d); m != nil {
		b, n := m.encoded()
		return b, n, !ms[0].rollout.Full()
	}
	return nil, nil, true
}

// texts asks for the .sig files build consults: those of every release
// that would answer some platform key on some channel, newest first, a
// .sig not read yet counted as good. A refresh asks again after reading
// them, until nothing new is asked for: a cold start reads the newest
// release's signatures, and an older release's only for the keys the newer
// ones do not answer (a .sig missing or bad, a platform they dropped).
func (tauriFeed) texts(ix *Index, opts SnapshotOptions, dst []githubsrc.Asset) []githubsrc.Asset {
	for _, r := range plan(ix, opts).parsed {
		if r.needed {
			dst = slices.Grow(dst, r.payloadCount())
			for sig := range r.sigs() {
				dst = append(dst, sig)
			}
		}
	}
	return dst
}

// build chooses, per channel and platform key, the newest release with a
// payload fit to offer, and encodes the answers and latest.json. Releases
// whose tag is not a version and payloads without a valid .sig are left
// out: a payload is never advertised unsigned.
func (tauriFeed) build(ix *Index, opts SnapshotOptions, snap *Snapshot) {
	p := plan(ix, opts)
	parsed := p.parsed
	snap.Withheld = append(snap.Withheld, p.withheld...)
	for _, r := range parsed {
		if len(r.entries) > 0 {
			ix.answering = append(ix.answering, r.gh.ID)
		}
	}
	t := &snap.tauri
	// A payload answers every key it serves, on both channels, with one
	// encoded answer; a release is latest.json on both channels with one file.
	answers := map[*candidate]*Answer{}
	answerOf := func(cand *candidate) *Answer {
		if answers[cand] == nil {
			answers[cand] = ix.answer(cand, opts)
			ix.keepText(cand.Sig, answers[cand].sig)
		}
		return answers[cand]
	}
	manifests := map[*release]*manifest{}
	// Without a prerelease, Beta is answered as Stable is: one table,
	// worked out once.
	channels, keys := Stable+1, 0
	for _, r := range parsed {
		if r.prerelease {
			channels = numChannels
		}
		keys = max(keys, len(r.entries))
	}
	for c := range channels {
		t.answers[c] = make(map[githubsrc.Platform]*Answer, keys)
		full := make(map[githubsrc.Platform]bool, keys) // answered for every device
		for _, r := range parsed {
			if c == Stable && r.prerelease {
				continue
			}
			if len(r.entries) > 0 && (len(t.latest[c]) == 0 || !t.latest[c][len(t.latest[c])-1].rollout.Full()) {
				if manifests[r] == nil {
					manifests[r] = r.newManifest(answerOf)
				}
				t.latest[c] = append(t.latest[c], manifests[r])
			}
			for p, cand := range r.entries {
				if full[p] {
					continue
				}
				if _, taken := t.answers[c][p]; !taken {
					t.answers[c][p] = answerOf(cand)
				} else {
					if t.held[c] == nil {
						t.held[c] = map[githubsrc.Platform][]*Answer{}
					}
					t.held[c][p] = append(t.held[c][p], answerOf(cand))
				}
				full[p] = r.rollout.Full()
			}
		}
	}
	if channels == Stable+1 {
		t.answers[Beta], t.held[Beta], t.latest[Beta] = t.answers[Stable], t.held[Stable], t.latest[Stable]
	} else if maps.Equal(t.answers[Stable], t.answers[Beta]) && maps.EqualFunc(t.held[Stable], t.held[Beta], slices.Equal) {
		t.answers[Beta], t.held[Beta] = t.answers[Stable], t.held[Stable] // no prerelease is newer: one table
	}
}

// tauriPlan is what plan worked out from an Index, kept on it while the
// snapshot is built: texts asks for more until it asks for nothing new,
// and build then uses the same plan rather than working it out again.
type tauriPlan struct {
	parsed   []*release // the releases whose tag is a version, newest first
	badTags  []string   // withheld: tags that are not a version
	texts    int        // how many texts the Index held when the plan was made
	withheld []string   // why what the plan looked at is not offered
}

// plan parses ix's releases, newest first, and works out which of them
// answer: a release is needed when, on a channel it belongs to, some key
// it could answer (every key of its signed payloads) is not answered by a
// newer release yet. A needed release whose .sig files are all read is
// collected (its entries are the keys it answers); one not read yet counts
// as answering every key it could, which is what texts asks to read. The
// rest are not looked at: their keys are answered by newer releases. So
// once texts asks for nothing new, every release that answers a key has
// been read, and the answers are those reading every .sig would give.
//
// The releases are parsed once per Index; the rest is worked out again
// when the Index holds more texts than last time (texts only grow while a
// snapshot is built).
func plan(ix *Index, opts SnapshotOptions) *tauriPlan {
	p := ix.tauri
	if p != nil && p.texts == len(ix.texts) {
		return p
	}
	if p == nil {
		p = &tauriPlan{}
		for i := range ix.Releases {
			gh := &ix.Releases[i]
			if ix.only != nil && !slices.Contains(ix.only, gh.ID) {
				continue // answered nothing in the build this one repeats
			}
			if isBundle(gh) {
				continue // a hot-swap bundle (feed_ota.go), never a native update
			}
			v, found, facts, err := ix.parse(gh, opts)
			if err != nil {
				p.badTags = append(p.badTags, fmt.Sprintf("release %s: %s", gh.Tag, err))
				continue
			}
			p.parsed = append(p.parsed, &release{gh: gh, version: v, prerelease: gh.Prerelease || v.Prerelease() != "", found: found, facts: facts, rollout: ix.Rollout(gh.ID)})
		}
		// Newest version first; the same version twice (v1.2.0 and 1.2.0): the later publication.
		slices.SortStableFunc(p.parsed, func(a, b *release) int {
			if c := b.version.Compare(a.version); c != 0 {
				return c
			}
			return b.gh.PublishedAt.Compare(a.gh.PublishedAt)
		})
		ix.tauri = p
	}
	p.texts = len(ix.texts)
	p.withheld = slices.Clone(p.badTags)
	withhold := func(tag, what string) { p.withheld = append(p.withheld, fmt.Sprintf("release %s: %s", tag, what)) }
	// Without a prerelease, Beta takes the keys Stable does: worked out once.
	channels := Stable + 1
	if slices.ContainsFunc(p.parsed, func(r *release) bool { return r.prerelease }) {
		channels = numChannels
	}
	var taken [numChannels]map[githubsrc.Platform]bool
	for _, r := range p.parsed {
		r.needed, r.entries = false, nil
		possible := ix.updaterKeys(r, opts)
		for c := range channels {
			if taken[c] == nil {
				taken[c] = make(map[githubsrc.Platform]bool, len(possible))
			}
		}
		for c := range channels {
			if c == Stable && r.prerelease {
				continue
			}
			for k := range possible {
				if !taken[c][k] {
					r.needed = true
					break
				}
			}
		}
		if !r.needed && r.payloadCount() > 0 {
			continue // every key it could answer is answered by newer releases
		}
		answers := func(k githubsrc.Platform) bool { _, ok := possible[k]; return ok }
		if r.read(ix) {
			r.collect(ix, opts, withhold)
			answers = func(k githubsrc.Platform) bool { _, ok := r.entries[k]; return ok }
		}
		if !r.rollout.Full() {
			continue // devices outside its rollout need an older release's answer
		}
		for c := range channels {
			if c == Stable && r.prerelease {
				continue
			}
			for k := range possible {
				if answers(k) {
					taken[c][k] = true
				}
			}
		}
	}
	return p
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
	// found are r's payloads (FindPayloads); with facts, what the last
	// build from the same listing noted of them, made only when asked
	// for (payloads).
	found githubsrc.Payloads
	facts *releaseFacts
	// rollout is the release's staged rollout (Index.Rollout).
	rollout rollout.State
	// needed says some key r could answer is not answered by a newer
	// release that every device gets.
	needed  bool
	entries map[githubsrc.Platform]*candidate // every key clients look up
}

// payloads returns r's payloads, made from its facts on first use.
func (r *release) payloads() githubsrc.Payloads {
	if r.facts != nil && r.found.ByKey == nil {
		r.found = r.facts.found(r.gh)
	}
	return r.found
}

// payloadCount is how many signed payloads r has.
func (r *release) payloadCount() int {
	if r.facts != nil {
		return len(r.facts.payloads)
	}
	return len(r.found.ByKey)
}

// sigs yields the .sig of each of r's payloads, without making a map of
// them from its facts.
func (r *release) sigs() iter.Seq[githubsrc.Asset] {
	return func(yield func(githubsrc.Asset) bool) {
		if r.facts != nil {
			for _, k := range r.facts.payloads {
				if !yield(r.gh.Assets[k.sig]) {
					return
				}
			}
			return
		}
		for _, p := range r.found.ByKey {
			if !yield(p.Sig) {
				return
			}
		}
	}
}

// read reports whether every .sig of r's payloads has been read.
func (r *release) read(ix *Index) bool {
	for sig := range r.sigs() {
		if _, ok := ix.Text(sig); !ok {
			return false
		}
	}
	return true
}

// collect finds r's payloads fit to offer and files them under every key
// clients look up, and tells note why the others are not.
func (r *release) collect(ix *Index, opts SnapshotOptions, note func(tag, what string)) {
	if ix.recollect(r, note) {
		return // as the last build from the same listing and texts found (facts.go)
	}
	note = ix.collecting(r, note)
	defer ix.collected(r)
	withhold := func(name, why string) { note(r.gh.Tag, name+": "+why) }
	found := r.payloads()
	for _, a := range found.Incomplete {
		withhold(a.Name, "not fully uploaded")
	}
	for _, a := range found.Unsigned {
		withhold(a.Name, "no .sig beside it")
	}
	fit := map[githubsrc.Platform]githubsrc.Payload{}
	sigText := map[int64]string{}
	for key, p := range found.ByKey {
		text, ok := ix.Text(p.Sig)
		if !ok {
			withhold(p.Asset.Name, "its .sig was not read") // cannot happen: plan collects only read releases
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

func (r *release) pubDate() string {
	if r.gh.PublishedAt.IsZero() {
		return ""
	}
	return r.gh.PublishedAt.UTC().Format(time.RFC3339)
}

// checkRequest is what a check URL says: /{target}/{arch}[/{bundle}]/{version}.
type checkRequest struct {
	target, arch, bundle, version string
	// electron marks update.electronjs.org's
	// /{owner}/{repo}/{platform}/{version} for a served repository
	// (feed_squirrel.go), with its platform as squirrelTarget read it.
	electron    bool
	squirrel    squirrelKey
	squirrelErr error
	// platform is "{target}/{arch}[/{bundle}]" as the path spells it, when
	// matchCheck saw it whole: the key of the parsed-platform cache.
	platform string
}

// handleCheck serves checks the mux routed: paths with escaped characters
// or other unusual shapes that matchCheck leaves to it.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	// A path of four segments may be update.electronjs.org's
	// /{owner}/{repo}/{platform}/{version}: with one app the mux reads it as
	// /{target}/{arch}/{bundle}/{version}, with several as
	// /{app}/{target}/{arch}/{version}.
	seg := [4]string{r.PathValue("target"), r.PathValue("arch"), r.PathValue("bundle"), r.PathValue("version")}
	if s.single == nil {
		seg = [4]string{r.PathValue("app"), r.PathValue("target"), r.PathValue("arch"), r.PathValue("version")}
	}
	if (s.single == nil) == (r.PathValue("bundle") == "") && s.electronCheck(w, r, seg) {
		return
	}
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveCheck(w, r, a, checkRequest{target: r.PathValue("target"), arch: r.PathValue("arch"), bundle: r.PathValue("bundle"), version: r.PathValue("version")})
}

// serveCheck answers a check: 204 when up to date, 200 with the
// pre-encoded answer when newer, 400 for what it cannot read.
func (s *Server) serveCheck(w http.ResponseWriter, r *http.Request, a *app, c checkRequest) {
	p, ch, cur, err := s.parseCheck(r, c)
	if err != nil {
		a.adoption.check(p, ch, outcomeBad, "", false)
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	w.Header()["Cache-Control"] = s.checkCacheControl
	ans, heldBack := snap.Answer(ch, p), false
	if ans != nil && !ans.rollout.Full() {
		w.Header()["Cache-Control"] = s.deviceCacheControl
		newest := ans
		ans = snap.AnswerFor(ch, p, s.device(r, a))
		heldBack = ans != newest && newest.Version.GreaterThan(cur)
	}
	offered := ans != nil && ans.Version.GreaterThan(cur)
	a.adoption.check(p, ch, outcomeOf(offered, heldBack), c.version, snap.index.knownVersion(c.version))
	if !offered {
		w.WriteHeader(http.StatusNoContent) // Tauri and cargo-packager: up to date
		return
	}
	a.adoption.offer(ans.label, p)
	writeBody(w, r, ans.Body, ans.length)
}

// parseCheck reads platform, channel and current version from a check.
func (s *Server) parseCheck(r *http.Request, c checkRequest) (githubsrc.Platform, Channel, *semver.Version, error) {
	q := r.URL.RawQuery
	bundle, key := c.bundle, c.platform
	if bundle == "" && q != "" {
		bundle = queryValue(q, "bundle_type")
		if bundle == "" {
			bundle = queryValue(q, "bundle")
		}
		if bundle != "" {
			key = "" // not in the path: parse without the cache
		}
	}
	p, err := s.platforms.get(key, func() (githubsrc.Platform, error) { return parsePlatform(c.target, c.arch, bundle) })
	if err != nil {
		return p, 0, nil, err
	}
	var ch Channel
	if q != "" {
		if ch, err = ParseChannel(queryValue(q, "channel")); err != nil {
			return p, 0, nil, err
		}
	}
	v, err := s.versions.get(c.version, func() (*semver.Version, error) { return githubsrc.ParseVersion(c.version) })
	if err != nil {
		return p, 0, nil, fmt.Errorf("current version: %w", err)
	}
	return p, ch, v, nil
}

// queryValue returns the first value of key in a raw query, decoding it
// only when it is escaped.
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			return unescapeValue(v)
		}
	}
	return ""
}

// queryValues sets vals[i] to the first value of keys[i] in a raw query,
// reading the query once (a check that wants several values).
func queryValues(raw string, keys, vals []string) {
	var found uint64
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		for i, key := range keys {
			if k == key && found&(1<<i) == 0 {
				vals[i], found = unescapeValue(v), found|1<<i
				break
			}
		}
	}
}

// unescapeValue decodes a query value, allocating only when it is escaped.
func unescapeValue(v string) string {
	if strings.IndexByte(v, '%') >= 0 || strings.IndexByte(v, '+') >= 0 {
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// parseCache remembers what a parser made of the strings clients send: an
// app's users send a handful of versions and platforms, and parsing one
// costs more than the rest of a check. Readers load an immutable map; a
// writer copies it. It keeps at most maxCached successes, so junk cannot
// grow it, and no failures.
type parseCache[V any] struct {
	m  atomic.Pointer[map[string]V]
	mu sync.Mutex
}

const maxCached = 1024

// get returns the value for key, from the cache or from parse. An empty
// key is parsed and not kept.
func (c *parseCache[V]) get(key string, parse func() (V, error)) (V, error) {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[key]; ok { // never holds the empty key
			return v, nil
		}
	}
	v, err := parse()
	if err != nil || key == "" {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil && len(*old) >= maxCached {
		return v, nil
	}
	next := make(map[string]V, 1+lenOf(old))
	if old != nil {
		for k, x := range *old {
			next[k] = x
		}
	}
	next[strings.Clone(key)] = v
	c.m.Store(&next)
	return v, nil
}

func lenOf[V any](m *map[string]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// parsePlatform reads {target}/{arch}[/{bundle}]. A custom target that is
// a platform key ("darwin-universal", "windows-x86_64-nsis") stands for
// itself, as Tauri then substitutes it for {{target}}.
func parsePlatform(target, arch, bundle string) (githubsrc.Platform, error) {
	installer, err := githubsrc.ParseInstaller(bundle)
	if err != nil {
		return githubsrc.Platform{}, err
	}
	var p githubsrc.Platform
	if strings.Contains(target, "-") {
		if p, err = githubsrc.ParsePlatform(target); err != nil {
			return p, fmt.Errorf("target: %w", err)
		}
		if p.Installer == "" {
			p.Installer = installer
		}
	} else {
		if p.OS, err = githubsrc.ParseOS(target); err != nil {
			return p, err
		}
		if p.Arch, err = githubsrc.ParseArch(arch); err != nil {
			return p, err
		}
		p.Installer = installer
	}
	if err := p.Validate(); err != nil {
		return githubsrc.Platform{}, err // counted as "invalid", not as a platform that cannot be
	}
	return p, nil
}

func (s *Server) handleLatest(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	ch, err := ParseChannel(r.URL.Query().Get("channel"))
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	body, length, perDevice := snap.latestJSON(ch, s.device(r, a))
	if body == nil && perDevice {
		// Every release this device could get is held back from it: up
		// to date, as Tauri reads a 204 from any endpoint.
		w.Header()["Cache-Control"] = s.deviceCacheControl
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if body == nil {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no published %s release with a signed updater payload", ch))
		return
	}
	w.Header()["Cache-Control"] = s.checkCacheControl
	if perDevice {
		w.Header()["Cache-Control"] = s.deviceCacheControl
	}
	writeBody(w, r, body, length)
}

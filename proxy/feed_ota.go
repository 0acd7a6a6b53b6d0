package proxy

// The hot-swap bundle feed: GET /ota/{current_sequence} for the
// sequence-based contract of tauri-plugin-hotswap (docs/server-contract.md,
// research/client-protocols.md §7), from releases carrying
// ota.MetadataName (githubsrc/ota, publisher/bundle.go):
//
//   - the query always has binary_version, platform and arch, and channel
//     only when the app set one (absent: ota.DefaultChannel);
//   - 204 with no body when there is nothing to swap to;
//   - 200 with {version, sequence, min_binary_version, url, signature,
//     notes, pub_date, mandatory, bundle_size}; the plugin compares only
//     sequence, and checks min_binary_version itself too.

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// otaFeed answers tauri-plugin-hotswap.
type otaFeed struct{}

func (otaFeed) routes() []route {
	return []route{
		// matchPlain serves the plain shape without the mux (fastpath.go).
		{pattern: "GET /ota/{sequence}", name: "ota", hint: "/ota/{current_sequence}", plain: (*Server).serveOTA, h: (*Server).handleOTA},
	}
}

// otaTables are the feed's answers in one snapshot: the bundles fit to
// offer, highest sequence first, and each one's encoded answer.
type otaTables struct {
	cands   []ota.Candidate
	answers []otaAnswer // of cands[i]
	// staged holds the rollout and tag of cands[i], when any is in a
	// staged rollout (nil when none is: every device gets every bundle).
	staged []stagedBundle
}

type stagedBundle struct {
	rollout rollout.State
	tag     string
}

type otaAnswer struct {
	body   []byte
	length []string
}

// isBundle reports whether r is a hot-swap bundle: it carries the
// metadata asset, uploaded or not. The native feeds never offer it.
func isBundle(r *githubsrc.Release) bool {
	for i := range r.Assets {
		if r.Assets[i].Name == ota.MetadataName {
			return true
		}
	}
	return false
}

// bundles lists ix's bundle releases (among ix.only, when set).
func (ix *Index) bundles() []*githubsrc.Release {
	var out []*githubsrc.Release
	for i := range ix.Releases {
		r := &ix.Releases[i]
		if isBundle(r) && (ix.only == nil || slices.Contains(ix.only, r.ID)) {
			out = append(out, r)
		}
	}
	return out
}

// texts asks, in one round, for every bundle's metadata and the .sig
// files beside it (a bundle release carries one: its archive's).
func (otaFeed) texts(ix *Index, _ SnapshotOptions, dst []githubsrc.Asset) []githubsrc.Asset {
	for _, r := range ix.bundles() {
		for _, a := range r.Assets {
			if a.Uploaded() && (a.Name == ota.MetadataName || strings.HasSuffix(a.Name, ".sig")) {
				dst = append(dst, a)
			}
		}
	}
	return dst
}

// bundle is a bundle release fit to offer.
type bundle struct {
	rel  *githubsrc.Release
	meta ota.Metadata
	cand ota.Candidate
	url  string
	sig  string
}

// build keeps the bundles fit to offer, sorted by sequence, and encodes
// each one's answer. A bundle is withheld (and the refresh says why at
// debug level) when its metadata is missing, unfinished or invalid, its
// archive or .sig is missing or not fully uploaded, its .sig is not a
// signature (or, with --pubkey, is another key's), its bundle_size is not
// the archive's, or another bundle has its sequence: of two, the one
// published first is kept.
func (otaFeed) build(ix *Index, opts SnapshotOptions, snap *Snapshot) {
	var fit []bundle
	for _, r := range ix.bundles() {
		b, why := readBundle(ix, opts, r)
		if why != "" {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("bundle %s: %s", r.Tag, why))
			continue
		}
		fit = append(fit, b)
	}
	slices.SortStableFunc(fit, func(a, b bundle) int {
		if c := cmp.Compare(b.meta.Sequence, a.meta.Sequence); c != 0 {
			return c
		}
		if c := a.rel.PublishedAt.Compare(b.rel.PublishedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.rel.ID, b.rel.ID)
	})
	t := &snap.ota
	for i, b := range fit {
		if i > 0 && fit[i-1].meta.Sequence == b.meta.Sequence {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("bundle %s: sequence %d is also that of %s, published first", b.rel.Tag, b.meta.Sequence, fit[i-1].rel.Tag))
			continue
		}
		body := encode(otaWire{
			Version:          b.meta.Version,
			Sequence:         b.meta.Sequence,
			MinBinaryVersion: b.meta.MinBinaryVersion,
			URL:              b.url,
			Signature:        b.sig,
			Notes:            b.rel.Notes,
			PubDate:          pubDate(b.rel.PublishedAt),
			Mandatory:        b.meta.Mandatory,
			BundleSize:       b.meta.BundleSize,
		})
		t.cands = append(t.cands, b.cand)
		t.answers = append(t.answers, otaAnswer{body: body, length: []string{strconv.Itoa(len(body))}})
		t.staged = append(t.staged, stagedBundle{ix.Rollout(b.rel.ID), b.rel.Tag})
		ix.answering = append(ix.answering, b.rel.ID)
	}
	if !slices.ContainsFunc(t.staged, func(s stagedBundle) bool { return !s.rollout.Full() }) {
		t.staged = nil
	}
}

// pick returns the index of the bundle the device r comes from gets: the
// highest fit (ota.Pick) whose rollout takes the device in; -1 for none.
// perDevice says whether a rollout decided it.
func (t *otaTables) pick(s *Server, r *http.Request, a *app, chk ota.Check) (i int, perDevice bool) {
	i = ota.Pick(t.cands, chk)
	if t.staged == nil {
		return i, false
	}
	var d Device
	for i >= 0 && !t.staged[i].rollout.Full() {
		if !perDevice {
			d, perDevice = s.device(r, a), true
		}
		if st := t.staged[i]; st.rollout.Includes(d.App, st.tag, d.ID) {
			break
		}
		next := ota.Pick(t.cands[i+1:], chk)
		if next < 0 {
			return -1, true
		}
		i += 1 + next
	}
	return i, perDevice
}

// otaWire is the 200 answer of the hotswap contract.
type otaWire struct {
	Version          string `json:"version"`
	Sequence         uint64 `json:"sequence"`
	MinBinaryVersion string `json:"min_binary_version"`
	URL              string `json:"url"`
	Signature        string `json:"signature"`
	Notes            string `json:"notes"`
	PubDate          string `json:"pub_date,omitempty"`
	Mandatory        bool   `json:"mandatory"`
	BundleSize       int64  `json:"bundle_size"`
}

func pubDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// readBundle reads bundle release r from ix, or says why it is not fit to offer.
func readBundle(ix *Index, opts SnapshotOptions, r *githubsrc.Release) (bundle, string) {
	ma, _ := r.Asset(ota.MetadataName)
	if !ma.Uploaded() {
		return bundle{}, ota.MetadataName + " is not fully uploaded"
	}
	text, ok := ix.Text(ma)
	if !ok {
		return bundle{}, ota.MetadataName + " was not read" // cannot happen: texts asks for it
	}
	m, err := ota.ParseMetadata(text)
	if err != nil {
		return bundle{}, err.Error()
	}
	archive, ok := r.Asset(m.Archive)
	switch {
	case !ok:
		return bundle{}, fmt.Sprintf("its archive %s is not on the release", m.Archive)
	case !archive.Uploaded():
		return bundle{}, fmt.Sprintf("its archive %s is not fully uploaded", m.Archive)
	case archive.Size != m.BundleSize:
		return bundle{}, fmt.Sprintf("bundle_size is %d but the archive %s is %d bytes", m.BundleSize, m.Archive, archive.Size)
	}
	sa, ok := r.Asset(m.Archive + ".sig")
	switch {
	case !ok:
		return bundle{}, fmt.Sprintf("no %s.sig beside the archive", m.Archive)
	case !sa.Uploaded():
		return bundle{}, fmt.Sprintf("%s.sig is not fully uploaded", m.Archive)
	}
	sigText, ok := ix.Text(sa)
	if !ok {
		return bundle{}, sa.Name + " was not read" // cannot happen: texts asks for it
	}
	s, err := taurisig.ParseSignature(sigText)
	if err != nil {
		return bundle{}, sa.Name + ": " + err.Error()
	}
	if opts.PubKeyID != 0 && s.KeyID != opts.PubKeyID {
		return bundle{}, fmt.Sprintf("%s: signed by key %s, not the configured %s", sa.Name, taurisig.KeyID(s.KeyID), taurisig.KeyID(opts.PubKeyID))
	}
	c, err := ota.NewCandidate(m)
	if err != nil {
		return bundle{}, err.Error() // cannot happen: ParseMetadata validated it
	}
	return bundle{rel: r, meta: m, cand: c, url: DownloadURL(opts, r.Tag, archive), sig: strings.TrimSpace(string(sigText))}, ""
}

// handleOTA serves the checks the mux routed (escaped paths and the like).
func (s *Server) handleOTA(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveOTA(w, r, a, r.PathValue("sequence"))
}

// serveOTA answers GET /ota/{current_sequence}: 204 when no bundle fits,
// 200 with the pre-encoded answer, 400 for what it cannot read. It
// allocates nothing for a plain query of a version and target seen before.
func (s *Server) serveOTA(w http.ResponseWriter, r *http.Request, a *app, sequence string) {
	chk, err := s.parseOTACheck(r, sequence)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	w.Header()["Cache-Control"] = s.checkCacheControl
	i, perDevice := snap.ota.pick(s, r, a, chk)
	if perDevice {
		w.Header()["Cache-Control"] = s.deviceCacheControl
	}
	if i < 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ans := &snap.ota.answers[i]
	writeBody(w, r, ans.body, ans.length)
}

// parseOTACheck reads a hotswap check: the current sequence from the
// path, the rest from the query.
func (s *Server) parseOTACheck(r *http.Request, sequence string) (ota.Check, error) {
	cur, err := strconv.ParseUint(sequence, 10, 64)
	if err != nil {
		return ota.Check{}, fmt.Errorf("current sequence %q: want a non-negative integer (0 before the first swap)", sequence)
	}
	var vals [len(otaQuery)]string
	queryValues(r.URL.RawQuery, otaQuery[:], vals[:])
	bv, platform, arch, channel := vals[0], vals[1], vals[2], vals[3]
	if bv == "" {
		return ota.Check{}, fmt.Errorf("binary_version is missing: want the native app version, like ?binary_version=1.2.0")
	}
	v, err := s.versions.get(bv, func() (*semver.Version, error) { return ota.ParseBinaryVersion(bv) })
	if err != nil {
		return ota.Check{}, fmt.Errorf("binary_version: %w", err)
	}
	t, err := ota.ParseTarget(platform, arch)
	if err != nil {
		return ota.Check{}, err
	}
	return ota.Check{Current: cur, Binary: v, Target: t, Channel: ota.ChannelOf(channel)}, nil
}

// otaQuery are the query keys of a hotswap check, in parseOTACheck's order.
var otaQuery = [...]string{"binary_version", "platform", "arch", "channel"}

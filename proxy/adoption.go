package proxy

// Adoption figures: which versions checking clients run, what they were
// offered and downloaded, what staged rollouts held back. Every label set
// is bounded: apps are configured, platforms are parsed keys, versions are
// those of the app's releases ("other" for anything else), outcomes fixed.
//
// With a thousand apps these are most of the server's series, so they are
// not client_golang children (about 600 bytes each, label pairs made in
// advance): each app keeps plain atomic counters in copy-on-write maps,
// which the check path only looks up (no label hashing, no allocation),
// and adoptionCollector turns them into metrics when /metrics is read.

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otapub/ota-action/githubsrc"
)

// outcome is what a check came to.
type outcome uint8

const (
	outcomeOffered  outcome = iota // an update was offered
	outcomeUpToDate                // nothing newer for this device
	outcomeHeldBack                // a newer release exists, but its rollout leaves this device out
	outcomeBad                     // the check could not be read
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"offered", "up_to_date", "held_back", "bad_request"}

// outcomeOf is what a check that was read came to: held back when a
// rollout left the device without a newer release (even if it was offered
// an older one), else offered or up to date.
func outcomeOf(offered, heldBack bool) outcome {
	switch {
	case heldBack:
		return outcomeHeldBack
	case offered:
		return outcomeOffered
	}
	return outcomeUpToDate
}

// otherVersion labels a client version that is not one of the app's releases.
const otherVersion = "other"

// counters is a copy-on-write set of counts by key: readers load an
// immutable table, a writer copies it. Its keys are bounded by the
// callers. Most apps have a handful of keys, kept in a slice (a map costs
// a few hundred bytes before its first entry, a thousand apps times four
// sets of them); past smallCounters they move to a map.
type counters[K comparable] struct {
	t  atomic.Pointer[countTable[K]]
	mu sync.Mutex
}

// countTable is one immutable state of counters: small, or m once it grew.
type countTable[K comparable] struct {
	small []countEntry[K]
	m     map[K]*count
}

type countEntry[K comparable] struct {
	key K
	c   *count
}

const smallCounters = 8

func (t *countTable[K]) find(key K) *count {
	if t == nil {
		return nil
	}
	if t.m != nil {
		return t.m[key]
	}
	for i := range t.small {
		if t.small[i].key == key {
			return t.small[i].c
		}
	}
	return nil
}

// count is one series: its count, and labels worked out when it was made.
type count struct {
	n      atomic.Uint64
	labels [2]string
}

// inc adds one to key's count. The first time, it makes the key the map
// keeps (a string from a request must not pin the request) and the
// count's labels with first.
func (c *counters[K]) inc(key K, first func(K) (K, [2]string)) {
	if ctr := c.t.Load().find(key); ctr != nil {
		ctr.n.Add(1)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.t.Load()
	if ctr := old.find(key); ctr != nil {
		ctr.n.Add(1)
		return
	}
	k, labels := first(key)
	ctr := &count{labels: labels}
	ctr.n.Add(1)
	next := &countTable[K]{}
	switch {
	case old == nil:
		next.small = []countEntry[K]{{k, ctr}}
	case old.m == nil && len(old.small) < smallCounters:
		next.small = append(slices.Clip(old.small), countEntry[K]{k, ctr})
	default:
		next.m = make(map[K]*count, len(old.small)+len(old.m)+1)
		maps.Copy(next.m, old.m)
		for _, e := range old.small {
			next.m[e.key] = e.c
		}
		next.m[k] = ctr
	}
	c.t.Store(next)
}

// each calls f with every key and its count.
func (c *counters[K]) each(f func(K, *count)) {
	t := c.t.Load()
	if t == nil {
		return
	}
	for _, e := range t.small {
		f(e.key, e.c)
	}
	for k, v := range t.m {
		f(k, v)
	}
}

func same[K any](k K) (K, [2]string) { return k, [2]string{} }

type checkKey struct {
	p  githubsrc.Platform
	ch Channel
	o  outcome
}

type offerKey struct {
	version string
	p       githubsrc.Platform
}

// adoption is one app's adoption counters.
type adoption struct {
	m         *metrics
	app       string // the app label
	checks    counters[checkKey]
	versions  counters[string]
	offers    counters[offerKey]
	downloads counters[int64] // by asset ID; labels version and platform
	// rollouts are the tags whose rollout gauges are set, so a release
	// that leaves its rollout shows 100 rather than its last share.
	rolloutMu sync.Mutex
	rollouts  map[string]bool
}

// adoption makes app's counters and has /metrics report them.
func (m *metrics) adoption(app string) *adoption {
	ad := &adoption{m: m, app: app}
	m.adoptions.add(ad)
	return ad
}

// platformLabel names p in labels; a check whose platform could not be
// read counts under "invalid".
func platformLabel(p githubsrc.Platform) string {
	if p.OS == "" || p.Arch == "" {
		return "invalid"
	}
	return p.Key()
}

// check counts a check of platform p on channel ch by a client on version
// (as the path spells it), known says whether that is a release's version.
func (ad *adoption) check(p githubsrc.Platform, ch Channel, o outcome, version string, known bool) {
	if p.OS == "" || p.Arch == "" {
		// However far parsing got, one key: platformLabel names every
		// such platform "invalid", and two series of one name and labels
		// would fail the whole scrape.
		p = githubsrc.Platform{}
	}
	ad.checks.inc(checkKey{p, ch, o}, same)
	if o == outcomeBad {
		return
	}
	if !known {
		version = otherVersion
	}
	ad.versions.inc(version, func(v string) (string, [2]string) { return strings.Clone(v), [2]string{} })
}

// offer counts an update to version offered to platform p.
func (ad *adoption) offer(version string, p githubsrc.Platform) {
	ad.offers.inc(offerKey{version, p}, same)
}

// download counts a download of asset a of the release with version.
func (ad *adoption) download(a githubsrc.Asset, version string) {
	ad.downloads.inc(a.ID, func(id int64) (int64, [2]string) {
		p, platform := githubsrc.Classify(a.Name).Platform, "other"
		if p.OS != "" && p.Arch != "" {
			platform = p.Key()
		}
		return id, [2]string{version, platform}
	})
}

// setRollouts shows the rollouts ix holds as gauges.
func (ad *adoption) setRollouts(ix *Index) {
	ad.rolloutMu.Lock()
	defer ad.rolloutMu.Unlock()
	seen := map[string]bool{}
	for i := range ix.Releases {
		rel := &ix.Releases[i]
		st := ix.Rollout(rel.ID)
		if !st.Set {
			continue
		}
		seen[rel.Tag] = true
		ad.m.rolloutPercent.WithLabelValues(ad.app, rel.Tag).Set(float64(st.Share) / 1e4)
		halted := 0.0
		if st.Halted {
			halted = 1
		}
		ad.m.rolloutHalted.WithLabelValues(ad.app, rel.Tag).Set(halted)
	}
	for tag := range ad.rollouts {
		if !seen[tag] { // rolled out to everyone (or gone)
			ad.m.rolloutPercent.WithLabelValues(ad.app, tag).Set(100)
			ad.m.rolloutHalted.WithLabelValues(ad.app, tag).Set(0)
			seen[tag] = true
		}
	}
	ad.rollouts = seen
}

// adoptionCollector reports every app's adoption counters.
type adoptionCollector struct {
	checks, versions, offers, downloads *prometheus.Desc

	mu   sync.Mutex
	apps []*adoption
}

func newAdoptionCollector() *adoptionCollector {
	return &adoptionCollector{
		checks: prometheus.NewDesc("otapub_checks_total",
			"Update checks by app, platform, channel and outcome (offered, up_to_date, held_back by a rollout, bad_request).",
			[]string{"app", "platform", "channel", "outcome"}, nil),
		versions: prometheus.NewDesc("otapub_client_versions_total",
			"Update checks by the version the checking client runs (other: not one of the app's releases).",
			[]string{"app", "version"}, nil),
		offers: prometheus.NewDesc("otapub_offers_total",
			"Updates offered, by app, offered version and platform.",
			[]string{"app", "version", "platform"}, nil),
		downloads: prometheus.NewDesc("otapub_downloads_total",
			"Downloads through /download, by app, release version and platform (other: not an installer or payload).",
			[]string{"app", "version", "platform"}, nil),
	}
}

func (c *adoptionCollector) add(ad *adoption) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apps = append(c.apps, ad)
}

// Describe implements prometheus.Collector.
func (c *adoptionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.checks
	ch <- c.versions
	ch <- c.offers
	ch <- c.downloads
}

// Collect implements prometheus.Collector.
func (c *adoptionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	apps := c.apps
	c.mu.Unlock()
	counter := func(d *prometheus.Desc, n uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
	}
	for _, ad := range apps {
		ad.checks.each(func(k checkKey, n *count) {
			counter(c.checks, n.n.Load(), ad.app, platformLabel(k.p), k.ch.String(), outcomeNames[k.o])
		})
		ad.versions.each(func(v string, n *count) { counter(c.versions, n.n.Load(), ad.app, v) })
		ad.offers.each(func(k offerKey, n *count) { counter(c.offers, n.n.Load(), ad.app, k.version, k.p.Key()) })
		// One asset, one series; assets of one version and platform
		// (a re-upload) add up.
		downloads := map[[2]string]uint64{}
		ad.downloads.each(func(_ int64, n *count) { downloads[n.labels] += n.n.Load() })
		for l, n := range downloads {
			counter(c.downloads, n, ad.app, l[0], l[1])
		}
	}
}

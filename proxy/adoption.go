package proxy

// Adoption figures: which versions checking clients run, what they were
// offered and downloaded, what staged rollouts held back. Every label set
// is bounded: apps are configured, platforms are parsed keys, versions are
// those of the app's releases ("other" for anything else), outcomes fixed.
// Counters are resolved once per label set into copy-on-write maps, so the
// check path only looks them up: no label hashing, no allocation.

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otapub/ota-action/githubsrc"
)

// Outcome is what a check came to.
type outcome uint8

const (
	outcomeOffered  outcome = iota // an update was offered
	outcomeUpToDate                // nothing newer for this device
	outcomeHeldBack                // a newer release exists, but its rollout leaves this device out
	outcomeBad                     // the check could not be read
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"offered", "up_to_date", "held_back", "bad_request"}

// otherVersion labels a client version that is not one of the app's releases.
const otherVersion = "other"

// counters is a copy-on-write map of resolved counters: readers load an
// immutable map, a writer copies it. Its keys are bounded by the callers.
type counters[K comparable] struct {
	m  atomic.Pointer[map[K]prometheus.Counter]
	mu sync.Mutex
}

// get returns the counter for key, resolving it the first time.
func (c *counters[K]) get(key K, resolve func() prometheus.Counter) prometheus.Counter {
	if m := c.m.Load(); m != nil {
		if ctr, ok := (*m)[key]; ok {
			return ctr
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if ctr, ok := (*old)[key]; ok {
			return ctr
		}
	}
	next := map[K]prometheus.Counter{}
	if old != nil {
		next = maps.Clone(*old)
	}
	ctr := resolve()
	next[key] = ctr
	c.m.Store(&next)
	return ctr
}

type checkKey struct {
	p  githubsrc.Platform
	ch Channel
	o  outcome
}

type offerKey struct {
	version string
	p       githubsrc.Platform
}

// adoption is one app's resolved adoption counters.
type adoption struct {
	m         *metrics
	app       string // the app label
	checks    counters[checkKey]
	versions  counters[string]
	offers    counters[offerKey]
	downloads counters[int64] // by asset ID
	// rollouts are the tags whose rollout gauges are set, so a release
	// that leaves its rollout shows 100 rather than its last share.
	rolloutMu sync.Mutex
	rollouts  map[string]bool
}

func (m *metrics) adoption(app string) *adoption { return &adoption{m: m, app: app} }

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
	ad.checks.get(checkKey{p, ch, o}, func() prometheus.Counter {
		return ad.m.checks.WithLabelValues(ad.app, platformLabel(p), ch.String(), outcomeNames[o])
	}).Inc()
	if o == outcomeBad {
		return
	}
	if !known {
		version = otherVersion
	}
	ad.versions.get(version, func() prometheus.Counter {
		return ad.m.clientVersions.WithLabelValues(ad.app, strings.Clone(version))
	}).Inc()
}

// offer counts an update to version offered to platform p.
func (ad *adoption) offer(version string, p githubsrc.Platform) {
	ad.offers.get(offerKey{version, p}, func() prometheus.Counter {
		return ad.m.offers.WithLabelValues(ad.app, version, p.Key())
	}).Inc()
}

// download counts a download of asset a of the release with version.
func (ad *adoption) download(a githubsrc.Asset, version string) {
	ad.downloads.get(a.ID, func() prometheus.Counter {
		p, platform := githubsrc.Classify(a.Name).Platform, "other"
		if p.OS != "" && p.Arch != "" {
			platform = p.Key()
		}
		return ad.m.downloads.WithLabelValues(ad.app, version, platform)
	}).Inc()
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

package proxy

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/otapub/ota-action/githubsrc"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (no globals, so tests can run servers side by side). The request path
// only touches pre-resolved counters: atomic adds, no label hashing.
type metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	cacheHits, cacheMisses, cacheStale prometheus.Counter
	evictions, rebuilds                prometheus.Counter
	refreshErrors, notModified         prometheus.Counter
	refreshDuration                    durationObserver

	upstream       *prometheus.CounterVec
	upstreamErrors prometheus.Counter
	upstream304    prometheus.Counter
	rateRemaining  *prometheus.GaugeVec

	// Adoption (adoption.go).
	adoptions                     *adoptionCollector
	rolloutPercent, rolloutHalted *prometheus.GaugeVec
}

type requestMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

type durationObserver struct{ prometheus.Observer }

// UpdateDuration records the time since start.
func (d durationObserver) UpdateDuration(start time.Time) { d.Observe(time.Since(start).Seconds()) }

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		f(c)
		return c
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otapub_requests_total", Help: "HTTP requests answered, by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "otapub_request_duration_seconds", Help: "Time to answer an HTTP request, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		cacheHits:     counter("otapub_cache_hits_total", "Answers from a fresh snapshot."),
		cacheMisses:   counter("otapub_cache_misses_total", "Requests that found no snapshot and waited for the first refresh."),
		cacheStale:    counter("otapub_cache_stale_total", "Answers from a stale snapshot while it was refreshed or while GitHub failed."),
		evictions:     counter("otapub_cache_evictions_total", "Apps whose snapshot --max-cached-apps pushed out (they keep their listing and .sig texts)."),
		rebuilds:      counter("otapub_cache_rebuilds_total", "Snapshots of evicted apps made again from what they kept, without a full listing."),
		refreshErrors: counter("otapub_refresh_errors_total", "Refreshes that failed; the last good snapshot stayed in use."),
		notModified:   counter("otapub_refresh_not_modified_total", "Refreshes that found the releases unchanged."),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otapub_upstream_requests_total", Help: "Requests to GitHub, by status (0: no answer).",
		}, []string{"status"}),
		upstreamErrors: counter("otapub_upstream_errors_total", "Requests to GitHub that failed (network, 5xx, rate limit, ...)."),
		upstream304:    counter("otapub_upstream_not_modified_total", "Conditional requests GitHub answered 304 (free of rate limit)."),
		rateRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "otapub_github_rate_limit_remaining", Help: "GitHub's x-ratelimit-remaining as last seen, per token (named by its first app).",
		}, []string{"token"}),
	}
	m.adoptions = newAdoptionCollector()
	m.rolloutPercent = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "otapub_rollout_percent", Help: "Share of devices a release in a staged rollout is offered to (100 once rolled out to all).",
	}, []string{"app", "tag"})
	m.rolloutHalted = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "otapub_rollout_halted", Help: "1 while a release's rollout is halted.",
	}, []string{"app", "tag"})
	f(m.adoptions)
	f(m.rolloutPercent)
	f(m.rolloutHalted)
	refresh := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "otapub_refresh_duration_seconds", Help: "Time to refresh an app's releases from its source.",
		Buckets: prometheus.DefBuckets,
	})
	m.refreshDuration = durationObserver{refresh}
	f(m.requests)
	f(m.latency)
	f(m.upstream)
	f(m.rateRemaining)
	f(refresh)
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// routeMetrics resolves one route's counters per status once, so the
// request path reads an atomic pointer instead of hashing labels.
type routeMetrics struct {
	m        *metrics
	name     string
	latency  prometheus.Observer
	byStatus [600]atomic.Pointer[requestMetrics]
}

func (m *metrics) route(name string) *routeMetrics {
	return &routeMetrics{m: m, name: name, latency: m.latency.WithLabelValues(name)}
}

func (rm *routeMetrics) status(code int) *requestMetrics {
	if code < 100 || code >= len(rm.byStatus) {
		code = 599
	}
	if p := rm.byStatus[code].Load(); p != nil {
		return p
	}
	p := &requestMetrics{count: rm.m.requests.WithLabelValues(rm.name, strconv.Itoa(code)), latency: rm.latency}
	rm.byStatus[code].CompareAndSwap(nil, p)
	return rm.byStatus[code].Load()
}

// observe is the githubsrc.Options.Observe of the client for token (named
// by the first app that uses it).
func (m *metrics) observe(token string) func(githubsrc.Observation) {
	remaining := m.rateRemaining.WithLabelValues(token)
	return func(o githubsrc.Observation) {
		m.upstream.WithLabelValues(strconv.Itoa(o.Status)).Inc()
		switch {
		case o.Status == 304:
			m.upstream304.Inc()
		case o.Err != nil:
			m.upstreamErrors.Inc()
		}
		if o.RateRemaining >= 0 {
			remaining.Set(float64(o.RateRemaining))
		}
	}
}

package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/otapub/ota-action/githubsrc"
)

// app is one served app and its cached snapshot. The hot path reads snap
// and validatedAt atomically and takes no lock; everything else belongs to
// the one refresh that singleflight lets run at a time.
type app struct {
	AppConfig
	opts SnapshotOptions
	// rolloutKey names the app in device buckets (AppConfig.rolloutName).
	rolloutKey string
	adoption   *adoption

	snap        atomic.Pointer[Snapshot]
	validatedAt atomic.Int64 // unix nanoseconds of the last successful refresh or 304
	expireAt    atomic.Int64 // unix nanoseconds before which a refresh is not needed; 0: by TTL
	// usedAt is when a request last used the app (unix nanoseconds, to
	// usedGranularity): the hot path's only write, and only once a second.
	usedAt atomic.Int64
	// touchedAt is usedAt as the LRU last saw it (guarded by Server.lruMu):
	// an app used since has its recency updated before it can be evicted.
	touchedAt int64

	flight singleflight.Group

	mu   sync.Mutex          // guards what refresh keeps between runs
	prev any                 // the source's token for a conditional read
	rels []githubsrc.Release // what the source last listed: a 304 refers to it
	// answering are the IDs of the releases that answer something in the
	// last snapshot built from rels: a rebuild from the same rels and
	// texts needs to look at those only.
	answering []int64
	texts     map[int64][]byte // fetched small assets (.sig) by ID, kept while listed
	blocked   time.Time        // no upstream calls before this (rate limit, negative cache, backoff)
	lastErr   error
	backoff   time.Duration // after consecutive failures: 5s, 10s, ... up to a minute
	// warnedDirect says the warning that direct downloads are off was given.
	warnedDirect bool
	// facts are what parsing the answering releases of the last build
	// gave, and their answers, made with the options factsFor (facts.go):
	// a rebuild from rels parses and encodes none of them again.
	facts    map[int64]*releaseFacts
	factsFor SnapshotOptions
}

// errTooStale says the last good snapshot is older than --max-stale.
var errTooStale = errors.New("the cached releases are older than --max-stale and GitHub cannot be reached")

// errColdTimeout says the first refresh is still running after the cold-start wait.
var errColdTimeout = errors.New("still fetching releases for the first time")

// current returns the snapshot to answer from and whether it is stale,
// starting a background refresh when the snapshot is due for one. With no
// snapshot yet it waits for the first refresh, at most cfg.ColdWait.
func (s *Server) current(ctx context.Context, a *app) (*Snapshot, bool, error) {
	now := s.cfg.Now()
	if t := now.UnixNano(); t-a.usedAt.Load() >= int64(usedGranularity) {
		a.usedAt.Store(t)
	}
	snap := a.snap.Load()
	if snap != nil {
		validated := time.Unix(0, a.validatedAt.Load())
		due := validated.Add(s.cfg.CacheTTL)
		if exp := a.expireAt.Load(); exp != 0 && exp < due.UnixNano() {
			due = time.Unix(0, exp)
		}
		if now.Before(due) {
			s.metrics.cacheHits.Inc()
			return snap, false, nil
		}
		s.refreshAsync(a)
		if now.Sub(validated) > s.cfg.MaxStale {
			return nil, true, errTooStale
		}
		s.metrics.cacheStale.Inc()
		return snap, true, nil
	}
	s.metrics.cacheMisses.Inc()
	ch := a.flight.DoChan("refresh", s.refreshTask(a))
	timer := time.NewTimer(s.cfg.ColdWait)
	defer timer.Stop()
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, false, res.Err
		}
		if snap := a.snap.Load(); snap != nil {
			return snap, false, nil
		}
		return nil, false, errColdTimeout
	case <-timer.C:
		return nil, false, errColdTimeout
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// snapshot returns the snapshot to answer r from, or answers the error
// (fail) and returns nil.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request, a *app) *Snapshot {
	snap, _, err := s.current(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return snap
}

// refreshAsync starts a refresh unless one is running.
func (s *Server) refreshAsync(a *app) {
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		_, _, _ = a.flight.Do("refresh", s.refreshTask(a))
	}()
}

// refreshNow runs a refresh (or joins the running one) and waits for it.
func (s *Server) refreshNow(a *app) error {
	_, err, _ := a.flight.Do("refresh", s.refreshTask(a))
	return err
}

// errClosed answers refreshes asked for after Close.
var errClosed = errors.New("the server is shutting down")

// refreshTask is what singleflight runs: a refresh that Close waits for,
// and none at all once Close has begun (so nothing logs after it returns).
func (s *Server) refreshTask(a *app) func() (any, error) {
	return func() (any, error) {
		s.bgMu.Lock()
		if s.closed {
			s.bgMu.Unlock()
			return nil, errClosed
		}
		s.bg.Add(1)
		s.bgMu.Unlock()
		defer s.bg.Done()
		return nil, s.refresh(a)
	}
}

// refresh reads the app's releases and swaps in a new snapshot, complete or
// not at all. It runs under singleflight: one per app at a time.
func (s *Server) refresh(a *app) (err error) {
	now := s.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.base, s.cfg.UpstreamTimeout)
	defer cancel()
	start := time.Now()
	if a.snap.Load() == nil && a.rels != nil && !s.due(a, now) {
		// Evicted while fresh: what it last listed is as good as GitHub's
		// answer, and its texts are kept, so this asks GitHub nothing.
		if snap, err := s.build(ctx, a, a.rels, a.answering); err == nil {
			s.metrics.rebuilds.Inc()
			s.install(a, snap, true, start)
			return nil
		}
	}
	if now.Before(a.blocked) {
		return a.lastErr // rate limited or negatively cached: do not ask
	}
	defer func() {
		s.metrics.refreshDuration.UpdateDuration(start)
		if err != nil {
			s.metrics.refreshErrors.Inc()
			a.lastErr = err
			s.log.Warn("refresh failed", "app", a.name(), "source", a.Source.String(), "err", err, "dur", time.Since(start).Round(time.Millisecond))
		}
	}()

	// Conditional, evicted or not: an evicted app kept its listing.
	rels, next, unchanged, err := a.Source.Releases(ctx, a.prev)
	if err != nil {
		a.block(err, s.cfg.Now()) // from the failure: a refresh that timed out took UpstreamTimeout
		return fmt.Errorf("refresh %s: %w", a.name(), err)
	}
	if unchanged {
		s.metrics.notModified.Inc()
		if a.snap.Load() == nil { // evicted: the 304 says what it listed still holds
			snap, err := s.build(ctx, a, a.rels, a.answering)
			if err != nil {
				a.block(err, s.cfg.Now())
				return fmt.Errorf("refresh %s: %w", a.name(), err)
			}
			s.metrics.rebuilds.Inc()
			s.install(a, snap, true, start)
		}
		a.validate(now)
		return nil
	}
	snap, err := s.build(ctx, a, rels, nil)
	if err != nil {
		a.block(err, s.cfg.Now())
		return fmt.Errorf("refresh %s: %w", a.name(), err)
	}
	a.prev, a.rels = next, rels
	a.validate(now)
	s.install(a, snap, false, start)
	return nil
}

// install makes snap the app's snapshot and counts the app among the
// cached ones.
func (s *Server) install(a *app, snap *Snapshot, rebuilt bool, start time.Time) {
	a.snap.Store(snap)
	a.adoption.setRollouts(snap.index)
	s.keep(a)
	for _, w := range snap.Withheld {
		s.log.Debug("payload withheld", "app", a.name(), "why", w)
	}
	level, msg := slog.LevelInfo, "releases refreshed"
	if rebuilt {
		level, msg = slog.LevelDebug, "releases rebuilt after eviction" // routine under eviction churn
	}
	s.log.Log(context.Background(), level, msg, "app", a.name(), "releases", snap.Releases, "withheld", len(snap.Withheld), "dur", time.Since(start).Round(time.Millisecond))
}

// due reports whether a's releases are due for a refresh at now.
func (s *Server) due(a *app, now time.Time) bool {
	due := time.Unix(0, a.validatedAt.Load()).Add(s.cfg.CacheTTL)
	if exp := a.expireAt.Load(); exp != 0 && exp < due.UnixNano() {
		due = time.Unix(0, exp)
	}
	return !now.Before(due)
}

func (a *app) validate(now time.Time) {
	a.validatedAt.Store(now.UnixNano())
	a.expireAt.Store(0)
	a.blocked = time.Time{}
	a.lastErr = nil
	a.backoff = 0
}

// block stops upstream calls after err: until a rate limit resets, briefly
// after "not found" (negative caching), and with a growing pause after
// other failures, so that an outage costs GitHub a few calls a minute
// however many clients ask.
func (a *app) block(err error, now time.Time) {
	var rl *githubsrc.RateLimitError
	switch {
	case errors.As(err, &rl):
		a.blocked = rl.Reset
	case errors.Is(err, githubsrc.ErrNotFound):
		a.blocked = now.Add(negativeTTL)
	default:
		a.backoff = min(max(2*a.backoff, minBackoff), maxBackoff)
		a.blocked = now.Add(a.backoff)
	}
}

// negativeTTL is how long "repository not found" is remembered.
const negativeTTL = 30 * time.Second

// minBackoff and maxBackoff bound the pause after a failed refresh.
const (
	minBackoff = 5 * time.Second
	maxBackoff = time.Minute
)

// build makes a snapshot: it forgets the texts of assets no longer
// listed, fetches the small texts the feeds ask for that it does not hold
// yet (in rounds, as long as what it read makes them ask for more), and
// has the feeds build their tables. Texts are immutable per asset ID, so
// each is fetched once while it is listed.
func (s *Server) build(ctx context.Context, a *app, rels []githubsrc.Release, only []int64) (*Snapshot, error) {
	opts := s.options(a)
	if a.texts == nil {
		a.texts = map[int64][]byte{}
	}
	var relOf map[int64]githubsrc.Release
	listed := func() map[int64]githubsrc.Release {
		if relOf == nil {
			relOf = map[int64]githubsrc.Release{}
			for _, r := range rels {
				for _, as := range r.Assets {
					relOf[as.ID] = r
				}
			}
		}
		return relOf
	}
	if only == nil { // a rebuild's listing is the one its texts were pruned to
		a.pruneTexts(listed())
	}
	ix := newIndex(rels, a.texts, opts)
	ix.only = only
	if only != nil && opts == a.factsFor {
		ix.facts = a.facts // the same listing: its releases parse as they did
	}
	for {
		want := wantedTexts(s.feeds, ix, opts)
		var missing []githubsrc.Asset
		asked := map[int64]bool{}
		for _, as := range want {
			if _, ok := a.texts[as.ID]; !ok && !asked[as.ID] {
				asked[as.ID] = true
				missing = append(missing, as)
			}
		}
		if len(missing) == 0 {
			break
		}
		if err := s.fetchTexts(ctx, a, missing, listed()); err != nil {
			return nil, err
		}
	}
	if f, ok := a.Source.(fixedURLs); ok {
		ix.locate(f)
	}
	snap := buildSnapshot(s.feeds, ix, opts) // which lets go of a.texts
	a.answering = ix.answering
	a.facts, a.factsFor = keepFacts(ix.facts, ix.answering), opts
	ix.facts = nil
	return snap, nil
}

// privacy is what a Source that can tell says about its repository.
type privacy interface {
	IsPrivate() (private, known bool)
}

// options are the app's snapshot options as far as its source is known:
// direct downloads of a repository detected as private would point
// clients at browser URLs that answer 404, so its answers keep the
// /download/ route, and the server says so once.
func (s *Server) options(a *app) SnapshotOptions {
	opts := a.opts
	if p, ok := a.Source.(privacy); ok && opts.Direct {
		if private, _ := p.IsPrivate(); private {
			opts.Direct = false
			if !a.warnedDirect {
				a.warnedDirect = true
				s.log.Warn("direct downloads are off for this app: its repository is private, and GitHub answers 404 to the browser URLs of private repositories; answers point at /download/ instead",
					"app", a.name(), "source", a.Source.String())
			}
		}
	}
	return opts
}

// textReaders is how many small assets a refresh reads at once: a
// release's signatures (5 to 8 of them) in one round trip.
const textReaders = 8

// fetchTexts reads missing small assets, textReaders at a time. One that
// is gone is recorded as empty, which feeds withhold as malformed.
func (s *Server) fetchTexts(ctx context.Context, a *app, missing []githubsrc.Asset, relOf map[int64]githubsrc.Release) error {
	type result struct {
		id  int64
		b   []byte
		err error
	}
	results := make(chan result, len(missing))
	work := make(chan githubsrc.Asset, len(missing))
	for _, as := range missing {
		work <- as
	}
	close(work)
	for range min(len(missing), textReaders) {
		go func() {
			for as := range work {
				b, err := a.Source.Text(ctx, relOf[as.ID], as)
				results <- result{as.ID, b, err}
			}
		}()
	}
	var firstErr error
	for range missing {
		r := <-results
		switch {
		case r.err == nil:
			a.texts[r.id] = bytes.Clone(r.b) // its own size: ReadAll's buffer grew by doubling
		case errors.Is(r.err, githubsrc.ErrNotFound):
			a.texts[r.id] = nil
		case firstErr == nil:
			firstErr = r.err
		}
	}
	return firstErr
}

// pruneTexts forgets the texts of assets no longer listed.
func (a *app) pruneTexts(listed map[int64]githubsrc.Release) {
	for id := range a.texts {
		if _, ok := listed[id]; !ok {
			delete(a.texts, id)
		}
	}
}

// usedGranularity is how often a request notes that its app is in use:
// eviction tells apps apart by use within a second, and the hot path then
// writes once a second per app, not once a request.
const usedGranularity = time.Second

// keep counts a among the apps whose snapshots are held, as the most
// recently used. To stay within --max-cached-apps it evicts the least
// recently used other app: the LRU's oldest, unless a request used it
// since the LRU last saw it (requests do not touch the LRU, only usedAt),
// in which case it moves to the front and the next oldest is looked at.
func (s *Server) keep(a *app) {
	s.lruMu.Lock()
	defer s.lruMu.Unlock()
	a.touchedAt = a.usedAt.Load()
	if _, ok := s.cached.Get(a.name()); ok {
		return // moved to the front
	}
	for chances := 2 * s.cached.Len(); s.cached.Len() >= s.cfg.MaxCachedApps; chances-- {
		name, old, ok := s.cached.GetOldest()
		if !ok {
			break
		}
		if u := old.usedAt.Load(); u > old.touchedAt && chances > 0 {
			old.touchedAt = u
			s.cached.Get(name) // used since: to the front
			continue
		}
		s.cached.RemoveOldest() // evicts it
	}
	s.cached.Add(a.name(), a)
}

// evict drops an app's snapshot when the bound on cached apps pushes it
// out. It keeps what the app last listed (the ETags of its listing and
// the releases a 304 refers to), the .sig texts it read and what parsing
// them gave (facts.go): its next request rebuilds the snapshot from them,
// parsing nothing again, asking GitHub nothing while they are fresh and a
// conditional read (a 304 when nothing changed) once they are due. It
// takes no lock: it runs inside another app's refresh.
func (a *app) evict() { a.snap.Store(nil) }

func (a *app) name() string {
	if a.Slug == "" {
		return "default"
	}
	return a.Slug
}

// invalidate makes the app due for a refresh now, evicted or not (an
// evicted app that is due asks GitHub rather than rebuilding from what it
// kept), and lifts any block (backoff, negative cache, rate limit) its
// last failure set: a webhook says the releases changed.
func (a *app) invalidate(now time.Time) {
	a.recheckAt(now)
	a.mu.Lock()
	a.blocked = time.Time{}
	a.mu.Unlock()
}

// recheckAt makes the app due for a refresh at t, however fresh it is.
func (a *app) recheckAt(t time.Time) { a.expireAt.Store(t.UnixNano()) }

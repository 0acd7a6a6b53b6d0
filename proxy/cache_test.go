package proxy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// memSource is a Source over releases in memory.
type memSource struct {
	mu    sync.Mutex
	rels  []githubsrc.Release
	texts map[int64][]byte
	reads int
}

func (m *memSource) Releases(context.Context, any) ([]githubsrc.Release, any, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rels), nil, false, nil
}

func (m *memSource) Text(_ context.Context, _ githubsrc.Release, a githubsrc.Asset) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.texts[a.ID], nil
}

func (m *memSource) Download(context.Context, githubsrc.Release, githubsrc.Asset) (Download, error) {
	return Download{}, githubsrc.ErrNotFound
}

func (m *memSource) String() string { return "memory" }

// TestTextsForgottenWithTheirAssets: a refresh fetches each wanted text
// once, and forgets the texts of assets no longer listed.
func TestTextsForgottenWithTheirAssets(t *testing.T) {
	t.Parallel()
	rel := func(id int64, tag string) githubsrc.Release {
		up := func(id int64, name string) githubsrc.Asset {
			return githubsrc.Asset{ID: id, Name: name, State: "uploaded", Size: 10}
		}
		return githubsrc.Release{ID: id, Tag: tag, Assets: []githubsrc.Asset{
			up(id+1, "App_"+tag[1:]+"_x64-setup.exe"), up(id+2, "App_"+tag[1:]+"_x64-setup.exe.sig"),
		}}
	}
	src := &memSource{
		rels:  []githubsrc.Release{rel(100, "v1.0.0"), rel(200, "v1.1.0")},
		texts: map[int64][]byte{102: []byte("sig one"), 202: []byte("sig two")},
	}
	s, err := New(Config{PublicURL: "https://updates.example.com", Apps: []AppConfig{{Source: src}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	a := s.single
	if err := s.refreshNow(a); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(a.texts)); !slices.Equal(got, []int64{102, 202}) || src.reads != 2 {
		t.Fatalf("texts held %v after %d reads, want both .sig files after 2", got, src.reads)
	}
	src.mu.Lock()
	src.rels = src.rels[1:] // v1.0.0 deleted
	src.mu.Unlock()
	if err := s.refreshNow(a); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(a.texts)); !slices.Equal(got, []int64{202}) || src.reads != 2 {
		t.Errorf("texts held %v after %d reads, want only v1.1.0's, read once (2 reads)", got, src.reads)
	}
}

// countingSource is a Source that notes how many listings run at once.
type countingSource struct {
	memSource
	inFlight, most, lists *atomic.Int64
}

func (c *countingSource) Releases(ctx context.Context, prev any) ([]githubsrc.Release, any, bool, error) {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	c.lists.Add(1)
	time.Sleep(5 * time.Millisecond) // long enough for listings started together to overlap
	return c.memSource.Releases(ctx, prev)
}

// TestWarmIsBounded: Warm reads the apps a few at a time, not all at once,
// and no more of them than --max-cached-apps holds.
func TestWarmIsBounded(t *testing.T) {
	t.Parallel()
	var inFlight, most, lists atomic.Int64
	var apps []AppConfig
	for i := range 40 {
		apps = append(apps, AppConfig{Slug: fmt.Sprintf("app-%02d", i), Source: &countingSource{inFlight: &inFlight, most: &most, lists: &lists}})
	}
	s, err := New(Config{PublicURL: "https://updates.example.com", Apps: apps, MaxCachedApps: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Warm()
	s.async.Wait()
	if n := most.Load(); n > warmConcurrency {
		t.Errorf("%d listings ran at once, want at most %d", n, warmConcurrency)
	}
	if n := lists.Load(); n != 30 {
		t.Errorf("Warm listed %d apps, want the 30 --max-cached-apps holds", n)
	}
	for _, a := range apps[:30] {
		if s.apps[a.Slug].snap.Load() == nil {
			t.Errorf("%s not warm", a.Slug)
		}
	}
}

// slowFailingSource fails its listings after taking the upstream timeout
// (it moves the clock), once fail is set.
type slowFailingSource struct {
	memSource
	clock *atomic.Int64
	fail  atomic.Bool
	lists atomic.Int64
}

func (f *slowFailingSource) Releases(ctx context.Context, prev any) ([]githubsrc.Release, any, bool, error) {
	f.lists.Add(1)
	if f.fail.Load() {
		f.clock.Add(int64(30 * time.Second))
		return nil, nil, false, context.DeadlineExceeded
	}
	return f.memSource.Releases(ctx, prev)
}

// TestBackoffCountsFromTheFailure: a refresh that fails after the upstream
// timeout is not retried at once: its backoff runs from the failure, not
// from the refresh's start.
func TestBackoffCountsFromTheFailure(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	src := &slowFailingSource{clock: &clock}
	s, err := New(Config{PublicURL: "https://updates.example.com", Apps: []AppConfig{{Source: src}}, Now: now, UpstreamTimeout: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	a := s.single
	if err := s.refreshNow(a); err != nil {
		t.Fatal(err)
	}
	src.fail.Store(true)
	if err := s.refreshNow(a); err == nil {
		t.Fatal("the failing refresh succeeded")
	}
	clock.Add(int64(time.Second)) // a check a second after the failure
	_ = s.refreshNow(a)
	if n := src.lists.Load(); n != 2 {
		t.Errorf("%d listings, want 2: a refresh a second after a failure must wait out the backoff", n)
	}
	clock.Add(int64(minBackoff))
	_ = s.refreshNow(a)
	if n := src.lists.Load(); n != 3 {
		t.Errorf("%d listings, want 3: after the backoff the refresh runs", n)
	}
}

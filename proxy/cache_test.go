package proxy

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"

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

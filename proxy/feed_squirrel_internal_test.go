package proxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// TestSquirrelCandidates: a key's candidates run from the newest release
// down to the first one rolled out to every device, so that a later
// choice by rollout bucket has an older release to fall back on; offer
// answers with the newest.
func TestSquirrelCandidates(t *testing.T) {
	t.Parallel()
	zip := func(id int64, v string) githubsrc.Asset {
		return githubsrc.Asset{ID: id, Name: "App-" + v + "-arm64-mac.zip", State: "uploaded"}
	}
	rel := func(id int64, v, notes string) githubsrc.Release {
		return githubsrc.Release{ID: id, Tag: "v" + v, Notes: notes, PublishedAt: time.Date(2026, 11, int(id), 0, 0, 0, 0, time.UTC), Assets: []githubsrc.Asset{zip(id*10, v)}}
	}
	rels := []githubsrc.Release{
		rel(5, "1.5.0", "Newest.\n<!-- otapub:rollout percent=10 -->"),
		rel(4, "1.4.0", "<!-- otapub:rollout percent=50 halted -->"),
		rel(3, "1.3.0", "Everyone."),
		rel(2, "1.2.0", ""),
	}
	opts := SnapshotOptions{DownloadBase: "https://updates.example.com/download/"}
	snap := buildSnapshot([]feed{squirrelFeed{}}, newIndex(rels, map[int64][]byte{}, opts), opts)
	k := squirrelKey{githubsrc.Darwin, githubsrc.AArch64, "zip"}
	var got []string
	for _, f := range snap.squirrel.files[k] {
		got = append(got, f.tag)
	}
	if want := "[v1.5.0 v1.4.0 v1.3.0]"; fmt.Sprint(got) != want {
		t.Errorf("candidates %v, want %s", got, want)
	}
	cur, _ := githubsrc.ParseVersion("1.0.0")
	if f := snap.squirrel.offer(k, cur); f == nil || f.tag != "v1.5.0" || !strings.Contains(string(f.body), `"notes":"Newest."`) {
		t.Errorf("offer = %+v, want v1.5.0 with its notes, the rollout line stripped", f)
	}
	if snap.index.answering == nil || len(snap.index.answering) != 3 {
		t.Errorf("answering %v, want the three candidates' releases", snap.index.answering)
	}
}

package proxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// TestSquirrelCandidates: a key's candidates run from the newest release
// down to the first one rolled out to every device; a device gets the
// newest whose rollout takes it in, a new install the newest every device
// gets.
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
	device := func(tag string, inside bool) Device {
		for i := 0; ; i++ {
			id := fmt.Sprint("device-", i)
			if b := rollout.Bucket("acme/app", tag, id); (b < 100_000) == inside {
				return Device{App: "acme/app", ID: id}
			}
		}
	}
	cands := snap.squirrel.files[k]
	if f, perDevice := forDevice(cands, func() Device { return device("v1.5.0", true) }); f == nil || !perDevice || f.tag != "v1.5.0" || !strings.Contains(string(first(f.encoded(opts))), `"notes":"Newest."`) {
		t.Errorf("inside the rollout: %+v, want v1.5.0 with its notes, the rollout line stripped", f)
	}
	// Outside 1.5.0's 10%: 1.4.0 is halted, so 1.3.0, which every device gets.
	if f, _ := forDevice(cands, func() Device { return device("v1.5.0", false) }); f == nil || f.tag != "v1.3.0" {
		t.Errorf("outside the rollout: %+v, want v1.3.0", f)
	}
	if f := settled(cands); f == nil || f.tag != "v1.3.0" {
		t.Errorf("a new install gets %+v, want v1.3.0, the newest every device gets", f)
	}
	if snap.index.answering == nil || len(snap.index.answering) != 3 {
		t.Errorf("answering %v, want the three candidates' releases", snap.index.answering)
	}
}

func first[A, B any](a A, _ B) A { return a }

// TestSquirrelFilesClassifiedOncePerListing: a release's Squirrel files
// come from its kept facts on a rebuild, not from its asset names again.
func TestSquirrelFilesClassifiedOncePerListing(t *testing.T) {
	gh := &githubsrc.Release{ID: 1, Tag: "v1.2.0", Assets: []githubsrc.Asset{
		{ID: 10, Name: "App-1.2.0-arm64-mac.zip", State: "uploaded"},
		{ID: 11, Name: "App Setup 1.2.0.exe", State: "uploaded"},
	}}
	ix := &Index{facts: map[int64]*releaseFacts{1: {}}}
	first := ix.squirrelFiles(gh)
	if len(first) == 0 {
		t.Fatal("no Squirrel files classified")
	}
	for i := range gh.Assets {
		gh.Assets[i].Name = "renamed-" + fmt.Sprint(i) // classifying again would find nothing
	}
	again := ix.squirrelFiles(gh)
	if len(again) != len(first) {
		t.Fatalf("again: %d files, want the %d the facts kept", len(again), len(first))
	}
	for k, a := range first {
		if again[k].ID != a.ID {
			t.Errorf("%v: asset %d, want %d", k, again[k].ID, a.ID)
		}
	}
}

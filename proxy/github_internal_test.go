package proxy

import (
	"strings"
	"sync"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

// TestTrimLeavesTrimmedReleasesAlone: the pages of a listing that came
// back 304 are the previous listing's, which the live snapshot reads while
// the next listing is trimmed; trim must not write to them (the race
// detector, which CI runs, sees any write), and trims what is new.
func TestTrimLeavesTrimmedReleasesAlone(t *testing.T) {
	fresh := func() githubsrc.Release {
		return githubsrc.Release{Tag: "v1.2.0", HTMLURL: "https://github.com/o/r/releases/tag/v1.2.0", TargetCommitish: "main",
			Assets: []githubsrc.Asset{
				{Name: "a.tar.gz", State: strings.Clone("uploaded"), Digest: "sha256:00"},
				{Name: "b.tar.gz", State: "starter", Digest: "sha256:01"},
			}}
	}
	old := []githubsrc.Release{fresh()}
	trim(old)
	next := append([]githubsrc.Release{fresh()}, old...) // page 1 new, page 2 reused

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the snapshot serving from old
		defer wg.Done()
		for range 1000 {
			for _, a := range old[0].Assets {
				_, _ = a.State, a.Digest
			}
			_ = old[0].HTMLURL
		}
	}()
	trim(next)
	wg.Wait()

	for i, r := range next {
		if r.HTMLURL != "" || r.TargetCommitish != "" {
			t.Errorf("release %d: HTMLURL %q, TargetCommitish %q, want both dropped", i, r.HTMLURL, r.TargetCommitish)
		}
		for _, a := range r.Assets {
			if a.Digest != "" {
				t.Errorf("release %d, %s: digest %q kept", i, a.Name, a.Digest)
			}
		}
		if got := r.Assets[0].State; got != "uploaded" || r.Assets[1].State != "starter" {
			t.Errorf("release %d: states %q, %q", i, got, r.Assets[1].State)
		}
	}
}

package publisher_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

// lagging hides drafts from the first hide listings by tag, as GitHub may
// list a draft created a moment ago only later.
type lagging struct {
	*githubsrc.Client
	hide  int32
	calls atomic.Int32
}

func (l *lagging) ReleasesByTag(ctx context.Context, repo githubsrc.Repo, tag string) ([]githubsrc.Release, error) {
	rels, err := l.Client.ReleasesByTag(ctx, repo, tag)
	if l.calls.Add(1) > l.hide || err != nil {
		return rels, err
	}
	var published []githubsrc.Release
	for _, r := range rels {
		if !r.Draft {
			published = append(published, r)
		}
	}
	return published, nil
}

// TestUploadMovesToTheFirstDraft: a job that created its draft while
// another job's (older) draft was not yet listed uploads, finds the older
// draft when it looks again, moves its files there and deletes its own.
// While GitHub does not list even the job's own new draft, the job looks
// again rather than trust a listing that has not caught up.
func TestUploadMovesToTheFirstDraft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		hide   int32 // listings that show no drafts: the first is upload's own look before creating
		settle time.Duration
	}{
		{"the look after the uploads sees both", 1, 0},
		{"GitHub lists the new drafts late", 3, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			dir := fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")
			other := plan(t, "v1.2.0", filepath.Join(dir, "DemoApp_1.2.0_x64.dmg"))
			theirs := gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true, Assets: map[string][]byte{"DemoApp_1.2.0_x64.dmg": mustRead(t, "tauri-v2/v1.2.0/DemoApp_1.2.0_x64.dmg")}})
			ours := plan(t, "v1.2.0", filepath.Join(dir, "DemoApp_1.2.0_amd64.AppImage"), filepath.Join(dir, "DemoApp_1.2.0_amd64.AppImage.sig"))
			opts := uploadOpts()
			opts.SettleDelay = tc.settle
			gh2 := &lagging{Client: client(t, gh), hide: tc.hide}
			rep, err := publisher.Upload(t.Context(), gh2, ours, opts)
			check(t, err)
			if rep.Release.ID != theirs || rep.Created {
				t.Errorf("the run ended on release %d (created %v), want the older draft %d", rep.Release.ID, rep.Created, theirs)
			}
			if n := gh2.calls.Load(); n != tc.hide+1 {
				t.Errorf("%d listings, want %d: it must look until GitHub lists its own draft, and no longer", n, tc.hide+1)
			}
			requireConverged(t, gh, "v1.2.0", publisher.Plan{Files: append(other.Files, ours.Files...)})
		})
	}
}

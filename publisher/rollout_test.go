package publisher_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/publisher"
)

func share(t *testing.T, percent string) *uint32 {
	s, err := rollout.ParsePercent(percent)
	check(t, err)
	return &s
}

// TestRollout widens, halts, resumes and completes a rollout on a
// published release (immutable, so only its notes may change), keeping
// the notes apps are shown as they were.
func TestRollout(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{Immutable: true})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: "Faster start.", Assets: map[string][]byte{"App_1.2.0_x64-setup.exe": []byte("exe")}})
	c := client(t, gh)
	ctx := context.Background()
	for _, step := range []struct {
		change  publisher.RolloutChange
		want    rollout.State
		changed bool
	}{
		{publisher.RolloutChange{}, rollout.State{}, false},
		{publisher.RolloutChange{Share: share(t, "10")}, rollout.State{Set: true, Share: 100_000}, true},
		{publisher.RolloutChange{Share: share(t, "12.5")}, rollout.State{Set: true, Share: 125_000}, true},
		{publisher.RolloutChange{Halt: true}, rollout.State{Set: true, Share: 125_000, Halted: true}, true},
		{publisher.RolloutChange{Share: share(t, "50")}, rollout.State{Set: true, Share: 500_000, Halted: true}, true},
		{publisher.RolloutChange{Resume: true}, rollout.State{Set: true, Share: 500_000}, true},
		{publisher.RolloutChange{Resume: true}, rollout.State{Set: true, Share: 500_000}, false},
		{publisher.RolloutChange{Share: share(t, "100")}, rollout.State{}, true},
		{publisher.RolloutChange{Halt: true}, rollout.State{Set: true, Share: rollout.Scale, Halted: true}, true},
	} {
		rep, err := publisher.Rollout(ctx, c, repo, "v1.2.0", step.change)
		check(t, err)
		if rep.After != step.want || rep.Changed != step.changed || !rep.Immutable {
			t.Fatalf("%+v: after %+v (changed %v, immutable %v), want %+v (changed %v)", step.change, rep.After, rep.Changed, rep.Immutable, step.want, step.changed)
		}
		notes := gh.Releases(fullName)[0].Notes
		got, clean := rollout.Split(notes)
		if got != step.want || clean != "Faster start." {
			t.Fatalf("%+v: the release's notes %q read as %+v / %q", step.change, notes, got, clean)
		}
	}
}

func TestRolloutRefuses(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Draft: true, Assets: map[string][]byte{"App_1.3.0_x64-setup.exe": []byte("exe")}})
	c := client(t, gh)
	_, err := publisher.Rollout(context.Background(), c, repo, "v1.3.0", publisher.RolloutChange{Share: share(t, "5")})
	if err == nil || !strings.Contains(err.Error(), "draft") || !strings.Contains(err.Error(), "publish v1.3.0 --rollout") {
		t.Errorf("a draft: %v, want a refusal pointing at publish --rollout", err)
	}
	_, err = publisher.Rollout(context.Background(), c, repo, "v9.9.9", publisher.RolloutChange{})
	if !errors.Is(err, githubsrc.ErrNotFound) {
		t.Errorf("an unknown tag: %v, want ErrNotFound", err)
	}
	if n := len(gh.Releases(fullName)); n != 1 || gh.Releases(fullName)[0].Notes != "" {
		t.Errorf("a refusal changed something: %+v", gh.Releases(fullName))
	}
}

// TestPublishWithRollout writes the rollout in the edit that publishes,
// and keeps the line out of latest.json's notes.
func TestPublishWithRollout(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := client(t, gh)
	opts := uploadOpts()
	opts.Notes = "Faster start."
	_, err := publisher.Upload(t.Context(), c, plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")), opts)
	check(t, err)
	pub := pubkey(t, "test.key.pub")
	edits := gh.Count("PATCH /api/v3/repos/{owner}/{repo}/releases/{id}")
	_, err = publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", &pub), Rollout: share(t, "10")})
	check(t, err)
	if n := gh.Count("PATCH /api/v3/repos/{owner}/{repo}/releases/{id}") - edits; n != 1 {
		t.Errorf("%d edits, want the rollout written in the one edit that publishes", n)
	}
	rel := gh.Releases(fullName)[0]
	if st, clean := rollout.Split(rel.Notes); rel.Draft || st.Share != 100_000 || st.Halted || clean != "Faster start." {
		t.Errorf("published notes %q (draft %v)", rel.Notes, rel.Draft)
	}
	a, _ := rel.Asset("latest.json")
	latest, _ := gh.AssetData(a.ID)
	if strings.Contains(string(latest), "otapub:rollout") || !strings.Contains(string(latest), "Faster start.") {
		t.Errorf("latest.json carries the rollout line or lost the notes:\n%s", latest)
	}
}

package publisher

import (
	"context"
	"fmt"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// RolloutChange is what `otapub rollout` asks for; the zero value only
// reads the state.
type RolloutChange struct {
	// Share, when set, is the part of devices to offer the release to, in
	// millionths (rollout.ParsePercent).
	Share *uint32
	// Halt offers the release to nobody until Resume; the share is kept.
	Halt, Resume bool
}

// RolloutReport says what Rollout found and did.
type RolloutReport struct {
	Repo      string        `json:"repo"`
	Tag       string        `json:"tag"`
	ReleaseID int64         `json:"release_id"`
	Before    rollout.State `json:"-"`
	After     rollout.State `json:"-"`
	// State and Percent describe After for people and scripts.
	State     string `json:"state"`
	Percent   string `json:"percent"`
	Halted    bool   `json:"halted"`
	Changed   bool   `json:"changed"`
	Immutable bool   `json:"immutable"`
	// Latest is true when GitHub calls this release the repository's
	// latest after the command; LatestTag names the release it calls
	// latest ("" when none, or when it could not be read: LatestError).
	Latest      bool   `json:"latest"`
	LatestTag   string `json:"latest_tag"`
	LatestError string `json:"latest_error,omitempty"`
	// MadeLatest is true when this command made the release latest
	// (make_latest=true), as it does when the rollout reaches every device.
	MadeLatest bool `json:"made_latest"`
	// NotLatest says why a release that now goes to every device was not
	// made latest.
	NotLatest string `json:"not_latest,omitempty"`
	// LatestWarning says who still gets a release that is GitHub's latest
	// while its rollout holds it back (halted or partial), and what to do.
	LatestWarning string `json:"latest_warning,omitempty"`
}

// Rollout reads, and with a change writes, the rollout state of the
// published release for tag. The state lives in the release's notes
// (package rollout), the one part an immutable release still lets change,
// so replicas of `otapub serve` all read it from GitHub. A draft is
// refused: its rollout starts when it is published (PublishOptions.Rollout).
//
// A change that makes the release go to every device (a share of 100, or
// --resume of one) also makes it GitHub's latest release, in the same
// edit, when it is the newest release every device gets (mayBeLatest).
// A halt or a partial share never moves GitHub's latest: when the release
// is latest, LatestWarning says who still gets it.
func Rollout(ctx context.Context, gh Releases, repo githubsrc.Repo, tag string, change RolloutChange) (RolloutReport, error) {
	rep := RolloutReport{Repo: repo.String(), Tag: tag}
	list, err := gh.ListReleases(ctx, repo, nil)
	if err != nil {
		return rep, err
	}
	var rel githubsrc.Release
	found, draft := false, false
	for _, r := range list.Releases {
		if r.Tag != tag {
			continue
		}
		if r.Draft {
			draft = true
			continue
		}
		rel, found = r, true
	}
	switch {
	case !found && draft:
		return rep, fmt.Errorf("rollout %s of %s: it is still a draft, and a rollout starts when it is published: otapub publish %s --rollout PERCENT", tag, repo, tag)
	case !found:
		return rep, fmt.Errorf("rollout %s of %s: %w: no published release has that tag (check the tag and --repo)", tag, repo, githubsrc.ErrNotFound)
	}
	rep.ReleaseID, rep.Immutable = rel.ID, rel.Immutable
	before, _ := rollout.Split(rel.Notes)
	after := change.apply(before)
	rep.Before, rep.After = before, after
	writes := change.Share != nil || change.Halt || change.Resume

	latest, lerr := readLatest(ctx, gh, repo)
	if lerr != nil {
		rep.LatestError = lerr.Error()
	}
	makeLatest := false
	if writes && after.Full() {
		ok, why := mayBeLatest(rel, list.Releases)
		if ok && lerr == nil && latest.ID != 0 && latest.ID != rel.ID {
			ok, why = mayTakeLatest(rel, latest)
		}
		switch {
		case !ok:
			rep.NotLatest = why
		case lerr != nil:
			rep.NotLatest = "GitHub's latest release could not be read, so it is left alone (" + latestByHand(tag) + ")"
		case latest.ID != rel.ID:
			makeLatest = true
		}
	}
	if after != before || makeLatest {
		var edit githubsrc.ReleaseEdit
		if after != before {
			notes := rollout.Join(rel.Notes, after)
			edit.Notes = &notes
		}
		if makeLatest {
			edit.MakeLatest = "true"
		}
		if _, err := gh.EditRelease(ctx, repo, rel.ID, edit); err != nil {
			return rep, fmt.Errorf("rollout %s of %s (unchanged: %s): %w", tag, repo, before, err)
		}
		back, err := gh.Release(ctx, repo, rel.ID)
		if err != nil {
			return rep, fmt.Errorf("rollout %s of %s: changed, but reading it back failed: %w", tag, repo, err)
		}
		if got, _ := rollout.Split(back.Notes); got != after {
			return rep, fmt.Errorf("rollout %s of %s: GitHub kept %q, not %q: run the command again", tag, repo, got, after)
		}
		rep.Changed = after != before
		if makeLatest {
			rep.MadeLatest = true
			latest, lerr = readLatest(ctx, gh, repo)
			rep.LatestError = ""
			if lerr != nil {
				rep.LatestError = lerr.Error()
			}
		}
	}
	if lerr == nil {
		rep.LatestTag, rep.Latest = latest.Tag, latest.ID == rel.ID && latest.ID != 0
	}
	if writes && !after.Full() && rep.Latest {
		rep.LatestWarning = latestWarning(repo, rel, after, list.Releases)
	}
	rep.State, rep.Percent, rep.Halted = after.String(), "100", after.Set && after.Halted
	if after.Set {
		rep.Percent = after.Percent()
	}
	return rep, nil
}

// apply returns st changed as c asks. A release rolled out to every device
// and not halted carries no rollout line at all.
func (c RolloutChange) apply(st rollout.State) rollout.State {
	if !st.Set {
		st = rollout.State{Set: true, Share: rollout.Scale}
	}
	if c.Share != nil {
		st.Share = *c.Share
	}
	if c.Halt {
		st.Halted = true
	}
	if c.Resume {
		st.Halted = false
	}
	if st.Full() {
		return rollout.State{}
	}
	return st
}

// RolloutState is the state publish --rollout writes: share millionths of
// devices get the release.
func RolloutState(share uint32) rollout.State {
	return RolloutChange{Share: &share}.apply(rollout.State{})
}

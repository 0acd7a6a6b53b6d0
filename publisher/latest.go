package publisher

// GitHub keeps one "latest" release per repository: what
// github.com/OWNER/NAME/releases/latest (and its /download/NAME links),
// the API's GET /releases/latest and electron-updater's GitHub provider
// serve, to every reader, with no notion of a rollout. make_latest on
// publish or edit sets it: "true", "false" or "legacy", "true" by default
// for a newly published release; drafts and prereleases cannot be latest.
// So a release in a partial rollout is published with make_latest=false,
// and made latest when its rollout reaches every device, unless a newer
// release already goes to every device.

import (
	"context"
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// readLatest returns the release GitHub calls latest, the zero Release
// when there is none.
func readLatest(ctx context.Context, gh Releases, repo githubsrc.Repo) (githubsrc.Release, error) {
	rel, err := gh.Latest(ctx, repo)
	if errors.Is(err, githubsrc.ErrNotFound) {
		return githubsrc.Release{}, nil
	}
	return rel, err
}

// splitTag splits a tag into the part before its version and the
// version: "desktop-v1.2.0" is "desktop-" and 1.2.0, "v1.2.0" is "" and
// 1.2.0. ok is false when no suffix of the tag is a semver version.
func splitTag(tag string) (prefix string, v *semver.Version, ok bool) {
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c != 'v' && (c < '0' || c > '9') {
			continue
		}
		if v, err := githubsrc.ParseTag(tag, tag[:i]); err == nil {
			return tag[:i], v, true
		}
	}
	return "", nil, false
}

// latestByHand is the command that makes tag latest when otapub will not.
func latestByHand(tag string) string {
	return "gh release edit " + tag + " --latest makes it latest by hand"
}

// stable is a published release every device gets: not a draft, not a
// prerelease (by GitHub's flag or its version), not a hot-swap bundle, not
// in a partial or halted rollout. Only such a release should be latest.
func stable(r githubsrc.Release) (prefix string, v *semver.Version, ok bool) {
	if r.Draft || r.Prerelease || isBundleRelease(r) {
		return "", nil, false
	}
	if st, _ := rollout.Split(r.Notes); !st.Full() {
		return "", nil, false
	}
	prefix, v, ok = splitTag(r.Tag)
	if !ok || v.Prerelease() != "" {
		return "", nil, false
	}
	return prefix, v, true
}

func isBundleRelease(r githubsrc.Release) bool {
	_, ok := r.Asset(ota.MetadataName)
	return ok
}

// mayBeLatest reports whether rel, now going to every device, should
// become GitHub's latest release, or why not: a prerelease or a bundle
// never is, nor a release whose tag names no version (otapub cannot tell
// it is the newest), nor one older than a release of the same tag form
// that every device gets.
func mayBeLatest(rel githubsrc.Release, all []githubsrc.Release) (bool, string) {
	hint := latestByHand(rel.Tag)
	prefix, v, ok := splitTag(rel.Tag)
	switch {
	case rel.Prerelease || ok && v.Prerelease() != "":
		return false, "it is a prerelease, and GitHub never makes a prerelease latest"
	case isBundleRelease(rel):
		return false, "it is a hot-swap bundle, which is not made latest (" + hint + ")"
	case !ok:
		return false, "its tag names no semver version, so otapub cannot tell it is the newest (" + hint + ")"
	}
	for _, r := range all {
		if r.ID == rel.ID {
			continue
		}
		if p, rv, ok := stable(r); ok && p == prefix && rv.GreaterThan(v) {
			return false, fmt.Sprintf("%s is newer and goes to every device", r.Tag)
		}
	}
	return true, ""
}

// mayTakeLatest reports whether rel, allowed to be latest, may take the
// place of current, GitHub's latest release now, or why not. GitHub does
// not say whether a release was made latest by choice or by default, so
// otapub moves latest only within one tag form (desktop-v…: a monorepo's
// other app, published with --latest false, never takes it) and never
// from a newer release devices are offered (one an operator made latest
// during its rollout, with --latest true). A newer release held back
// (heldBack) gives way.
func mayTakeLatest(rel, current githubsrc.Release) (bool, string) {
	hint := latestByHand(rel.Tag)
	prefix, v, _ := splitTag(rel.Tag)
	cprefix, cv, ok := splitTag(current.Tag)
	switch {
	case !ok || cprefix != prefix:
		return false, fmt.Sprintf("GitHub's latest release is %s, of another tag form: otapub leaves that choice alone (%s)", current.Tag, hint)
	case cv.GreaterThan(v) && !heldBack(current):
		return false, fmt.Sprintf("GitHub's latest release is %s, newer and offered to devices: otapub leaves that choice alone (%s)", current.Tag, hint)
	}
	return true, ""
}

// heldBack reports whether a release should give way as GitHub's latest
// whatever its version: a prerelease (by GitHub's flag or its version, as
// publish without --prerelease leaves a beta), a hot-swap bundle, or one
// its rollout offers to no device (halted, or at 0%).
func heldBack(r githubsrc.Release) bool {
	if _, v, ok := splitTag(r.Tag); r.Prerelease || isBundleRelease(r) || ok && v.Prerelease() != "" {
		return true
	}
	st, _ := rollout.Split(r.Notes)
	return st.Halted || st.Set && st.Share == 0
}

// lastGood is the newest release older than rel that every device gets,
// of the same tag form: the one to make latest instead of rel.
func lastGood(rel githubsrc.Release, all []githubsrc.Release) (githubsrc.Release, bool) {
	prefix, v, ok := splitTag(rel.Tag)
	if !ok {
		return githubsrc.Release{}, false
	}
	var best githubsrc.Release
	var bestV *semver.Version
	for _, r := range all {
		if p, rv, ok := stable(r); ok && r.ID != rel.ID && p == prefix && rv.LessThan(v) && (bestV == nil || rv.GreaterThan(bestV)) {
			best, bestV = r, rv
		}
	}
	return best, bestV != nil
}

// latestWarning says who still gets rel, GitHub's latest release, though
// its rollout holds it back, and what to do. otapub does not move GitHub's
// latest on a halt: which release should take it is the operator's call.
func latestWarning(repo githubsrc.Repo, rel githubsrc.Release, st rollout.State, all []githubsrc.Release) string {
	serve := "otapub serve honours the halt"
	if !st.Halted {
		serve = "otapub serve offers it to " + st.Percent() + "% of devices"
	}
	what := "make the last release every device gets latest on its GitHub page (Set as the latest release)"
	if good, ok := lastGood(rel, all); ok {
		what = fmt.Sprintf("make %s latest: gh release edit %s --repo %s --latest", good.Tag, good.Tag, repo)
	}
	return fmt.Sprintf("%s is GitHub's latest release and stays so: %s, but whatever reads %s's releases/latest still gets it, on every device "+
		"(Tauri endpoints at releases/latest/download/latest.json, electron-updater's GitHub provider, website links to /releases/latest). "+
		"To take it from them, %s",
		rel.Tag, serve, repo, what)
}

package publisher_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/publisher"
)

// TestPublishRolloutKeepsLatest: publish --rollout 10 sends
// make_latest=false, so GitHub's releases/latest (which every reader gets
// at 100%) stays on the previous release; the rollout reaching 100 makes
// the new release latest in the edit that widens it.
func TestPublishRolloutKeepsLatest(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0", PublishedAt: time.Now().Add(-time.Hour), Assets: map[string][]byte{"App_1.1.0_x64-setup.exe": []byte("exe")}})
	c := client(t, gh)
	_, err := publisher.Upload(t.Context(), c, plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")), uploadOpts())
	check(t, err)
	pub := pubkey(t, "test.key.pub")
	rep, err := publisher.Publish(t.Context(), c, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", &pub), Rollout: share(t, "10")})
	check(t, err)
	if got := latestTag(t, gh); got != "v1.1.0" || rep.MakeLatest != "false" || rep.Latest || rep.LatestTag != "v1.1.0" {
		t.Fatalf("after publish --rollout 10: GitHub's latest %q; report make_latest %q, latest %v, latest_tag %q", got, rep.MakeLatest, rep.Latest, rep.LatestTag)
	}

	r, err := publisher.Rollout(t.Context(), c, repo, "v1.2.0", publisher.RolloutChange{Share: share(t, "50")})
	check(t, err)
	if got := latestTag(t, gh); got != "v1.1.0" || r.MadeLatest || r.Latest || r.LatestWarning != "" {
		t.Fatalf("at 50%%: GitHub's latest %q, report %+v", got, r)
	}
	edits := gh.Count("PATCH /api/v3/repos/{owner}/{repo}/releases/{id}")
	r, err = publisher.Rollout(t.Context(), c, repo, "v1.2.0", publisher.RolloutChange{Share: share(t, "100")})
	check(t, err)
	if got := latestTag(t, gh); got != "v1.2.0" || !r.MadeLatest || !r.Latest || r.LatestTag != "v1.2.0" || !r.Changed {
		t.Fatalf("at 100%%: GitHub's latest %q, report %+v", got, r)
	}
	if n := gh.Count("PATCH /api/v3/repos/{owner}/{repo}/releases/{id}") - edits; n != 1 {
		t.Errorf("%d edits, want the notes and make_latest in one", n)
	}
	// Again: already latest, nothing to send.
	r, err = publisher.Rollout(t.Context(), c, repo, "v1.2.0", publisher.RolloutChange{Share: share(t, "100")})
	check(t, err)
	if r.MadeLatest || !r.Latest || r.Changed {
		t.Errorf("100%% again: %+v", r)
	}
}

// TestPublishRolloutExplicitLatest: --latest wins over the rollout's
// default, and a full --rollout 100 leaves GitHub's default (latest).
func TestPublishRolloutExplicitLatest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, percent, makeLatest, want string
	}{
		{"partial, --latest true", "10", "true", "v1.2.0"},
		{"100", "100", "", "v1.2.0"},
		{"partial", "0", "", "v1.1.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: map[string][]byte{"App_1.1.0_x64-setup.exe": []byte("exe")}})
			cl := client(t, gh)
			_, err := publisher.Upload(t.Context(), cl, plan(t, "v1.2.0", fixtureCopy(t, "tauri-v2/v1.2.0", "latest.json")), uploadOpts())
			check(t, err)
			pub := pubkey(t, "test.key.pub")
			rep, err := publisher.Publish(t.Context(), cl, publisher.PublishOptions{VerifyOptions: verifyOpts(t, "v1.2.0", &pub), Rollout: share(t, c.percent), MakeLatest: c.makeLatest})
			check(t, err)
			if got := latestTag(t, gh); got != c.want || rep.LatestTag != c.want || rep.Latest != (c.want == "v1.2.0") {
				t.Errorf("GitHub's latest %q, report %q (latest %v), want %q", got, rep.LatestTag, rep.Latest, c.want)
			}
		})
	}
}

// TestRolloutLatestRules: a release reaching every device is made latest
// only when no newer release already goes to every device; never a
// prerelease; and a halt of the latest release moves nothing but warns,
// naming the release to make latest instead.
func TestRolloutLatestRules(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	at := func(percent string) string {
		return rollout.Join("Notes.", publisher.RolloutState(*share(t, percent)))
	}
	add := func(tag, notes string, pre bool) int64 {
		return gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: tag, Notes: notes, Prerelease: pre, Assets: map[string][]byte{"App_" + strings.TrimPrefix(tag, "v") + "_x64-setup.exe": []byte("exe")}})
	}
	add("v1.3.0", "", false)
	add("v1.4.0", at("50"), false)
	add("v1.5.0", at("10"), false)
	add("v2.1.0-beta.1", at("10"), true)
	v2 := add("v2.0.0", "", false)
	add("v1.9.0", at("20"), false)
	c := client(t, gh)
	check(t, func() error {
		_, err := c.EditRelease(t.Context(), repo, v2, githubsrc.ReleaseEdit{MakeLatest: "true"})
		return err
	}())
	step := func(tag string, change publisher.RolloutChange) publisher.RolloutReport {
		t.Helper()
		r, err := publisher.Rollout(t.Context(), c, repo, tag, change)
		check(t, err)
		return r
	}

	// A prerelease is never made latest.
	r := step("v2.1.0-beta.1", publisher.RolloutChange{Share: share(t, "100")})
	if got := latestTag(t, gh); got != "v2.0.0" || r.MadeLatest || !strings.Contains(r.NotLatest, "prerelease") {
		t.Errorf("a prerelease at 100%%: GitHub's latest %q, report %+v", got, r)
	}
	// Halting GitHub's latest release moves nothing, and says who still
	// gets it and which release every device gets to make latest instead.
	r = step("v2.0.0", publisher.RolloutChange{Halt: true})
	if got := latestTag(t, gh); got != "v2.0.0" || !r.Latest || r.MadeLatest {
		t.Errorf("halt of the latest release: GitHub's latest %q, report %+v", got, r)
	}
	for _, want := range []string{"v2.0.0 is GitHub's latest release", "releases/latest", "electron-updater", "gh release edit v1.3.0 --repo " + fullName + " --latest"} {
		if !strings.Contains(r.LatestWarning, want) {
			t.Errorf("the halt's warning lacks %q:\n%s", want, r.LatestWarning)
		}
	}
	// Newer releases in a rollout (v1.5.0, v1.9.0) or halted (v2.0.0) do
	// not keep v1.4.0, now going to every device, from being latest.
	r = step("v1.4.0", publisher.RolloutChange{Share: share(t, "100")})
	if got := latestTag(t, gh); got != "v1.4.0" || !r.MadeLatest || !r.Latest {
		t.Errorf("v1.4.0 at 100%% over newer releases in a rollout: GitHub's latest %q, report %+v", got, r)
	}
	// Resuming v2.0.0 at 100% makes it latest again: the newest.
	r = step("v2.0.0", publisher.RolloutChange{Resume: true})
	if got := latestTag(t, gh); got != "v2.0.0" || !r.MadeLatest || r.LatestWarning != "" {
		t.Errorf("v2.0.0 resumed: GitHub's latest %q, report %+v", got, r)
	}
	// v1.9.0 is older than v2.0.0, which every device gets: latest stays.
	r = step("v1.9.0", publisher.RolloutChange{Share: share(t, "100")})
	if got := latestTag(t, gh); got != "v2.0.0" || r.MadeLatest || r.Latest || !strings.Contains(r.NotLatest, "v2.0.0 is newer") {
		t.Errorf("an older release at 100%%: GitHub's latest %q, report %+v", got, r)
	}
	// Narrowing the latest release warns too: it stays latest.
	r = step("v2.0.0", publisher.RolloutChange{Share: share(t, "50")})
	if got := latestTag(t, gh); got != "v2.0.0" || !strings.Contains(r.LatestWarning, "offers it to 50% of devices") || !strings.Contains(r.LatestWarning, "gh release edit v1.9.0") {
		t.Errorf("v2.0.0 narrowed to 50%%: GitHub's latest %q, warning %q", got, r.LatestWarning)
	}
	// A halt of a release that is not latest: no warning.
	r = step("v1.5.0", publisher.RolloutChange{Halt: true})
	if r.LatestWarning != "" || r.Latest {
		t.Errorf("halt of a release that is not latest: %+v", r)
	}
}

// TestRolloutLeavesAChosenLatest: GitHub does not say whether a release
// was made latest by choice, so reaching 100% takes latest only from an
// older release of the same tag form, or a newer one that is halted: a
// monorepo's other app (published with --latest false, as the README's
// recipe says) and a newer release an operator made latest during its
// rollout keep it.
func TestRolloutLeavesAChosenLatest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		latest  githubsrctest.ReleaseSpec // GitHub's latest before
		release string                    // the release rolled out to 100%
		want    string                    // GitHub's latest after
		why     string                    // in the report's NotLatest
	}{
		{"another app's tag form", githubsrctest.ReleaseSpec{Tag: "desktop-v3.0.0"}, "cli-v1.2.0", "desktop-v3.0.0", "another tag form"},
		{"a newer release made latest during its rollout", githubsrctest.ReleaseSpec{Tag: "cli-v1.3.0", Notes: rollout.Join("", publisher.RolloutState(100_000))}, "cli-v1.2.0", "cli-v1.3.0", "newer and offered to devices"},
		{"a newer release since halted", githubsrctest.ReleaseSpec{Tag: "cli-v1.3.0", Notes: rollout.Join("", rollout.State{Set: true, Share: 100_000, Halted: true})}, "cli-v1.2.0", "cli-v1.2.0", ""},
		{"a newer release rolled back to 0%", githubsrctest.ReleaseSpec{Tag: "cli-v1.3.0", Notes: rollout.Join("", rollout.State{Set: true, Share: 0})}, "cli-v1.2.0", "cli-v1.2.0", ""},
		{"a newer beta published without --prerelease", githubsrctest.ReleaseSpec{Tag: "cli-v1.3.0-beta.1"}, "cli-v1.2.0", "cli-v1.2.0", ""},
		{"a newer hot-swap bundle", githubsrctest.ReleaseSpec{Tag: "cli-v1.2.1", Assets: map[string][]byte{"ota-bundle.json": []byte("{}")}}, "cli-v1.2.0", "cli-v1.2.0", ""},
		{"an older release of the same form", githubsrctest.ReleaseSpec{Tag: "cli-v1.1.0"}, "cli-v1.2.0", "cli-v1.2.0", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			if c.latest.Assets == nil {
				c.latest.Assets = map[string][]byte{"App_x64-setup.exe": []byte("exe")}
			}
			latestID := gh.AddRelease(fullName, c.latest)
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: c.release, Notes: rollout.Join("Notes.", publisher.RolloutState(100_000)),
				Assets: map[string][]byte{"App_1.2.0_x64-setup.exe": []byte("exe")}})
			cl := client(t, gh)
			_, err := cl.EditRelease(t.Context(), repo, latestID, githubsrc.ReleaseEdit{MakeLatest: "true"})
			check(t, err)
			r, err := publisher.Rollout(t.Context(), cl, repo, c.release, publisher.RolloutChange{Share: share(t, "100")})
			check(t, err)
			if got := latestTag(t, gh); got != c.want || r.MadeLatest != (c.want == c.release) || !strings.Contains(r.NotLatest, c.why) {
				t.Errorf("GitHub's latest %q, want %q; report made_latest %v, not_latest %q", got, c.want, r.MadeLatest, r.NotLatest)
			}
		})
	}
}

// TestRolloutLatestUnreadable: when GitHub's latest release cannot be
// read, reaching 100% leaves it alone and says so, rather than taking it
// from a release that may be another app's.
func TestRolloutLatestUnreadable(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "desktop-v3.0.0", Assets: map[string][]byte{"App_x64-setup.exe": []byte("exe")}})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Notes: rollout.Join("Notes.", publisher.RolloutState(100_000)),
		Assets: map[string][]byte{"App_1.2.0_x64-setup.exe": []byte("exe")}})
	gh.Inject(githubsrctest.Fault{Match: "GET /api/v3/repos/" + fullName + "/releases/latest", Status: http.StatusInternalServerError, Times: 100})
	r, err := publisher.Rollout(t.Context(), client(t, gh), repo, "v1.2.0", publisher.RolloutChange{Share: share(t, "100")})
	check(t, err)
	if r.MadeLatest || !strings.Contains(r.NotLatest, "could not be read") || r.LatestError == "" {
		t.Errorf("GitHub's latest unreadable: report made_latest %v, not_latest %q, latest_error %q", r.MadeLatest, r.NotLatest, r.LatestError)
	}
}

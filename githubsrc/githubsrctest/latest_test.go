package githubsrctest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

// TestMakeLatest: the fake's releases/latest follows GitHub's make_latest
// ("true", "false", "legacy"; "true" by default when a draft is
// published; never a draft or a prerelease), read through Client.Latest.
func TestMakeLatest(t *testing.T) {
	gh := githubsrctest.NewServer(t)
	const full = "o/r"
	repo := githubsrc.Repo{Owner: "o", Name: "r"}
	gh.AddRepo(full, githubsrctest.RepoOptions{})
	c, err := githubsrc.New(githubsrc.Options{Token: githubsrctest.Token, APIURL: gh.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	latest := func() string {
		t.Helper()
		rel, err := c.Latest(t.Context(), repo)
		if errors.Is(err, githubsrc.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return rel.Tag
	}
	if got := latest(); got != "" {
		t.Fatalf("an empty repository's latest: %q", got)
	}
	v1 := gh.AddRelease(full, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
	draft := func(tag string) int64 { return gh.AddRelease(full, githubsrctest.ReleaseSpec{Tag: tag, Draft: true}) }
	edit := func(id int64, e githubsrc.ReleaseEdit) {
		t.Helper()
		if _, err := c.EditRelease(t.Context(), repo, id, e); err != nil {
			t.Fatal(err)
		}
	}
	v2, v3, pre := draft("v2.0.0"), draft("v3.0.0"), draft("v4.0.0-beta.1")
	steps := []struct {
		name string
		id   int64
		edit githubsrc.ReleaseEdit
		want string
	}{
		{"seeded", 0, githubsrc.ReleaseEdit{}, "v1.0.0"},
		{"published with make_latest=false", v2, githubsrc.ReleaseEdit{Draft: new(false), MakeLatest: "false"}, "v1.0.0"},
		{"published by default", v3, githubsrc.ReleaseEdit{Draft: new(false)}, "v3.0.0"},
		{"a prerelease published", pre, githubsrc.ReleaseEdit{Draft: new(false), Prerelease: new(true)}, "v3.0.0"},
		{"an older release made latest", v2, githubsrc.ReleaseEdit{MakeLatest: "true"}, "v2.0.0"},
		{"a notes edit leaves it", v3, githubsrc.ReleaseEdit{Notes: new("x")}, "v2.0.0"},
		{"legacy", v1, githubsrc.ReleaseEdit{MakeLatest: "legacy"}, "v3.0.0"},
	}
	for _, s := range steps {
		if s.id != 0 {
			edit(s.id, s.edit)
		}
		if got := latest(); got != s.want {
			t.Errorf("%s: latest %q, want %q", s.name, got, s.want)
		}
	}
	if _, err := c.EditRelease(t.Context(), repo, pre, githubsrc.ReleaseEdit{MakeLatest: "true"}); err == nil || !strings.Contains(err.Error(), "cannot be draft or prerelease") {
		t.Errorf("make_latest=true on a prerelease: %v, want GitHub's 422", err)
	}
	if got := latest(); got != "v3.0.0" {
		t.Errorf("after the refused edit: latest %q", got)
	}
}

package squirrel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/squirrel"
)

func TestPubDate(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), "2026-11-20T10:00:00Z"},
		{time.Date(2026, 11, 20, 10, 0, 0, 999_000_000, time.UTC), "2026-11-20T10:00:00Z"},
		{time.Date(2026, 11, 20, 11, 30, 5, 0, berlin), "2026-11-20T10:30:05Z"},
	} {
		got := squirrel.PubDate(tc.in)
		if got != tc.want {
			t.Errorf("PubDate(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := squirrel.ParsePubDate(got)
		if err != nil || !back.Equal(tc.in.Truncate(time.Second)) {
			t.Errorf("ParsePubDate(%q) = %v, %v", got, back, err)
		}
	}
}

func TestParsePubDate(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-20T10:00:00Z", "2026-11-20T11:00:00+01:00", "Fri Nov 20 10:00:00 +0000 2026", "Fri Nov 20 05:00:00 -0500 2026"} {
		if got, err := squirrel.ParsePubDate(s); err != nil || !got.Equal(want) {
			t.Errorf("ParsePubDate(%q) = %v, %v", s, got, err)
		}
	}
	// What Squirrel.Mac drops: electron-builder's releaseDate (milliseconds),
	// offsets without a colon, dates alone, GitHub-style spaces.
	for _, s := range []string{"2026-11-20T10:00:00.000Z", "2026-11-20T10:00:00+0100", "2026-11-20", "2026-11-20 10:00:00", "", "Fri Nov 20 10:00:00.5 +0000 2026"} {
		if _, err := squirrel.ParsePubDate(s); err == nil || !strings.Contains(err.Error(), "no fractional seconds") {
			t.Errorf("ParsePubDate(%q) = %v, want an error naming the format", s, err)
		}
	}
}

func TestMacUpdateValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		u       squirrel.MacUpdate
		wantErr string
	}{
		{squirrel.MacUpdate{URL: "https://dl.example/App-1.2.0-mac.zip", Name: "v1.2.0", PubDate: "2026-11-20T10:00:00Z"}, ""},
		{squirrel.MacUpdate{URL: "file:///tmp/App.zip"}, ""},
		{squirrel.MacUpdate{}, "no url"},
		{squirrel.MacUpdate{URL: "/dl/App.zip"}, "needs a scheme, a host and a path"},
		{squirrel.MacUpdate{URL: "https://dl.example"}, "needs a scheme, a host and a path"},
		{squirrel.MacUpdate{URL: "https://dl.example/a.zip", PubDate: "2026-11-20T10:00:00.000Z"}, "pub_date"},
	} {
		err := tc.u.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v.Validate() = %v, want %q", tc.u, err, tc.wantErr)
		}
	}
}

package squirrel_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc/squirrel"
)

const (
	sha1a = "94689FEDE03FED7AB59C24337673A27837F0C3EC"
	sha1b = "3a2eadd15dd984e4559f2b4d790ec8badaeb6a39"
)

// A RELEASES file as electron-winstaller (Squirrel's releasify) writes it:
// a full package and a delta, "\n" between lines.
const releasesText = sha1a + " DemoApp-1.2.0-full.nupkg 51000\n" + sha1b + " DemoApp-1.2.0-delta.nupkg 4200"

var (
	full  = squirrel.Entry{SHA1: sha1a, Name: "DemoApp-1.2.0-full.nupkg", Size: 51000}
	delta = squirrel.Entry{SHA1: sha1b, Name: "DemoApp-1.2.0-delta.nupkg", Size: 4200}
)

func TestParse(t *testing.T) {
	t.Parallel()
	url := squirrel.Entry{SHA1: sha1a, Name: "https://github.com/o/r/releases/download/v1.2.0/DemoApp-1.2.0-full.nupkg", Size: 51000}
	staged := full
	staged.Staged, staged.Percent = true, 10
	for _, tc := range []struct {
		name string
		text string
		want []squirrel.Entry
	}{
		{"releasify's output", releasesText, []squirrel.Entry{full, delta}},
		{"CRLF, BOM, blank lines, trailing newline", "\uFEFF" + strings.ReplaceAll(releasesText, "\n", "\r\n\r\n  \r\n") + "\r\n", []squirrel.Entry{full, delta}},
		{"tabs and runs of spaces", sha1a + "\t DemoApp-1.2.0-full.nupkg  \t51000", []squirrel.Entry{full}},
		{"absolute URL", url.SHA1 + " " + url.Name + " 51000", []squirrel.Entry{url}},
		{"staged", sha1a + " DemoApp-1.2.0-full.nupkg 51000 # 10%", []squirrel.Entry{staged}},
		{"staged, CRLF", sha1a + " DemoApp-1.2.0-full.nupkg 51000 # 10%\r\n", []squirrel.Entry{staged}},
		{"staged after another comment", sha1a + " DemoApp-1.2.0-full.nupkg 51000 # canary # 10%", []squirrel.Entry{staged}},
		{"a comment is not staging", sha1a + " DemoApp-1.2.0-full.nupkg 51000 # built by CI", []squirrel.Entry{full}},
		{"comment lines", "# generated\n" + releasesText + "\n#", []squirrel.Entry{full, delta}},
		{"empty", "", nil},
		{"only a BOM", "\uFEFF", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := squirrel.Parse([]byte(tc.text))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"nonsense", `RELEASES line 1 "nonsense": want <40-hex SHA1> <file name or URL> <size> [# NN%]`},
		{releasesText + "\n" + sha1a[:39] + " a.nupkg 1", "RELEASES line 3"},
		{sha1a + " a.nupkg", "line 1"},
		{sha1a + " a.nupkg 12 extra", "want <40-hex SHA1>"},
		{sha1a + " a.nupkg 0", "size 0"},
		{sha1a + " a.nupkg 99999999999999999999", "value out of range"},
		{sha1a + " a.nupkg -1", "want <40-hex SHA1>"},
		{sha1a + ` dir\a.nupkg 1`, "neither a file name nor an absolute http(s) URL"},
		{sha1a + " dir/a.nupkg 1", "neither a file name"},
		{sha1a + " ftp://host/a.nupkg 1", "must be http or https"},
		{sha1a + " https://host/ 1", "needs a host and a path"},
		{sha1a + " https:///a.nupkg 1", "needs a host"},
		{sha1a + " Setup.exe 1", "not a .nupkg package"},
		{sha1a + " a.nupkg 1 #10%", `does not read as a staged rollout`},
		{sha1a + " a.nupkg 1 # 10 %", `does not read as a staged rollout`},
		{sha1a + " a.nupkg 1 # 10% ", `does not read as a staged rollout`},
		{sha1a + " a.nupkg 1 # 1000%", "does not read as a staged rollout"},
		{sha1a + " a.nupkg 1 # 150%", "staged to 150%"},
		{"# 10%", "a staged rollout without a package"},
	} {
		_, err := squirrel.Parse([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		delta      bool
	}{
		{"App-1.0.0-full.nupkg", "App-1.0.0-full.nupkg", false},
		{"App-1.0.0-DELTA.nupkg", "App-1.0.0-DELTA.nupkg", true},
		{"https://dl.example/a/b/App-1.0.0-delta.nupkg?sig=x", "App-1.0.0-delta.nupkg", true},
	} {
		e := squirrel.Entry{Name: tc.name}
		if e.Filename() != tc.file || e.IsDelta() != tc.delta {
			t.Errorf("%q: Filename %q, IsDelta %v", tc.name, e.Filename(), e.IsDelta())
		}
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	staged := delta
	staged.Staged, staged.Percent = true, 25
	toProxy := func(name string) string { return "https://updates.example/app/dl/" + name }
	got, err := squirrel.Encode([]squirrel.Entry{full, staged}, toProxy)
	want := sha1a + " https://updates.example/app/dl/DemoApp-1.2.0-full.nupkg 51000\n" + sha1b + " https://updates.example/app/dl/DemoApp-1.2.0-delta.nupkg 4200 # 25%"
	if err != nil || string(got) != want {
		t.Errorf("Encode = %q, %v\nwant %q", got, err, want)
	}
	// Parse(Encode(x)) is x, names rewritten.
	back, err := squirrel.Parse(got)
	if err != nil || len(back) != 2 || back[1].Name != toProxy(delta.Name) || !back[1].Staged || back[1].Percent != 25 {
		t.Errorf("Parse(Encode) = %+v, %v", back, err)
	}
	// Without rename, what Parse read is written back as Squirrel writes it.
	if got, err := squirrel.Encode([]squirrel.Entry{full, delta}, nil); err != nil || string(got) != releasesText {
		t.Errorf("Encode(nil rename) = %q, %v", got, err)
	}

	for _, tc := range []struct {
		entries []squirrel.Entry
		rename  func(string) string
		want    string
	}{
		{nil, nil, "no entries"},
		{[]squirrel.Entry{full}, func(string) string { return "has space.nupkg" }, `RELEASES entry 1 "` + sha1a + ` has space.nupkg 51000": the name holds a space`},
		{[]squirrel.Entry{full}, func(string) string { return "/abs/path.nupkg" }, "entry 1"},
		{[]squirrel.Entry{full, {SHA1: "xyz", Name: "a.nupkg", Size: 1}}, nil, "RELEASES entry 2"},
		{[]squirrel.Entry{{SHA1: sha1a, Name: "a.nupkg", Size: 1, Staged: true, Percent: 101}}, nil, "staged to 101%"},
		{[]squirrel.Entry{{SHA1: sha1a, Name: "a.nupkg"}}, nil, "size 0"},
		{[]squirrel.Entry{full}, func(string) string { return "a.nupkg#frag" }, "entry 1"},
	} {
		if _, err := squirrel.Encode(tc.entries, tc.rename); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode(%+v) = %v, want %q", tc.entries, err, tc.want)
		}
	}
}

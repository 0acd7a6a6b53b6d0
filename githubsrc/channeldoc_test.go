package githubsrc_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

// richChannelFile has every field electron-builder and its users write
// (builder-util-runtime's UpdateInfo and WindowsUpdateInfo), in the order
// createUpdateInfo and writeUpdateInfoFiles produce them, and a comment.
const richChannelFile = `# written by electron-builder 26

version: 1.2.0
files:
  - url: DemoApp-Setup-1.2.0.exe
    sha512: 955ny03iwnYNQtLdGLZEB+PBEAOvs/AoLVuSRj1o+8tL6pnA7LZVehEkmFF5qSueMUE3oyS3Yqm/foaPqnjPQA==
    size: 50000
    blockMapSize: 1234
    isAdminRightsRequired: true
path: DemoApp-Setup-1.2.0.exe
sha512: 955ny03iwnYNQtLdGLZEB+PBEAOvs/AoLVuSRj1o+8tL6pnA7LZVehEkmFF5qSueMUE3oyS3Yqm/foaPqnjPQA==
releaseName: '1.2.0'
releaseNotes: |-
  Fixes:
  - the tray icon
packages:
  x64:
    path: demoapp-1.2.0-x64.nsis.7z
    sha512: abc==
    size: 90000
minimumSystemVersion: 10.0.22631
# rolled out by hand
stagingPercentage: 25
releaseDate: '2026-11-20T10:00:00.000Z'
`

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "electron", "v1.2.0", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseDoc(t *testing.T, text string) *githubsrc.ChannelDoc {
	t.Helper()
	d, err := githubsrc.ParseChannelDoc([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func encodeDoc(t *testing.T, d *githubsrc.ChannelDoc) string {
	t.Helper()
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestChannelDocRoundTrip: what electron-builder wrote comes back byte for
// byte, also after its files are read and written back, and the typed view
// is ParseChannelFile's.
func TestChannelDocRoundTrip(t *testing.T) {
	t.Parallel()
	texts := map[string]string{"rich": richChannelFile}
	for _, n := range []string{"latest.yml", "latest-mac.yml", "latest-linux.yml", "latest-linux-arm64.yml"} {
		texts[n] = string(readFixture(t, n))
	}
	for name, text := range texts {
		d := parseDoc(t, text)
		if got := encodeDoc(t, d); got != text {
			t.Errorf("%s: Encode changed it:\n%s\nwant\n%s", name, got, text)
		}
		d.SetFiles(d.Files())
		if got := encodeDoc(t, d); got != text {
			t.Errorf("%s: SetFiles(Files()) changed it:\n%s\nwant\n%s", name, got, text)
		}
		typed, err := githubsrc.ParseChannelFile([]byte(text))
		if err != nil || !reflect.DeepEqual(d.File(), typed) {
			t.Errorf("%s: File() = %+v, ParseChannelFile = %+v, %v", name, d.File(), typed, err)
		}
	}
}

func TestChannelDocRead(t *testing.T) {
	t.Parallel()
	d := parseDoc(t, richChannelFile)
	if got := d.Keys(); strings.Join(got, " ") != "version files path sha512 releaseName releaseNotes packages minimumSystemVersion stagingPercentage releaseDate" {
		t.Errorf("Keys = %v", got)
	}
	if notes, ok := d.ReleaseNotes(); !ok || notes != "Fixes:\n- the tray icon" {
		t.Errorf("ReleaseNotes = %q, %v", notes, ok)
	}
	if p, ok := d.StagingPercentage(); !ok || p != 25 {
		t.Errorf("StagingPercentage = %d, %v", p, ok)
	}
	if path, sha := d.Path(); path != "DemoApp-Setup-1.2.0.exe" || !strings.HasPrefix(sha, "955ny") {
		t.Errorf("Path = %q, %q", path, sha)
	}
	files := d.Files()
	if len(files) != 1 || !files[0].IsAdminRightsRequired || files[0].BlockMapSize != 1234 {
		t.Errorf("Files = %+v", files)
	}
	if n := d.Get("packages"); n == nil || len(n.Content) != 2 {
		t.Errorf("Get(packages) = %+v", n)
	}
	if d.Get("nope") != nil {
		t.Error("Get of a missing key is not nil")
	}
}

func TestChannelDocStagingPercentage(t *testing.T) {
	t.Parallel()
	// What AppUpdater.isStagingMatch makes of each value: parseInt(v, 10),
	// NaN meaning no staging.
	for _, tc := range []struct {
		value string
		want  int
		ok    bool
	}{
		{"10", 10, true}, {"'50'", 50, true}, {"50.5", 50, true}, {"0", 0, true}, {"' 7%'", 7, true},
		{"abc", 0, false}, {"true", 0, false}, {"null", 0, false}, {"[1]", 0, false},
	} {
		d := parseDoc(t, "version: 1.0.0\nstagingPercentage: "+tc.value+"\n")
		if p, ok := d.StagingPercentage(); p != tc.want || ok != tc.ok {
			t.Errorf("stagingPercentage: %s = %d, %v; want %d, %v", tc.value, p, ok, tc.want, tc.ok)
		}
	}
	if _, ok := parseDoc(t, "version: 1.0.0\n").StagingPercentage(); ok {
		t.Error("no stagingPercentage reads as one")
	}
}

// TestChannelDocEdit: each setter changes its field in place, or appends a
// new one last, and leaves everything else as it was.
func TestChannelDocEdit(t *testing.T) {
	t.Parallel()
	const base = "version: 1.2.0\nfiles:\n  - url: a.exe\n    sha512: x==\n    size: 3\n    isAdminRightsRequired: true\npath: a.exe\nsha512: x==\nreleaseNotes: old\nreleaseDate: '2026-11-20T10:00:00.000Z'\n"
	for _, tc := range []struct {
		name string
		edit func(*githubsrc.ChannelDoc) error
		want string
	}{
		{"version", func(d *githubsrc.ChannelDoc) error { d.SetVersion("1.3.0"); return nil },
			strings.Replace(base, "version: 1.2.0", "version: 1.3.0", 1)},
		{"a version YAML would read as a number stays a string", func(d *githubsrc.ChannelDoc) error { d.SetVersion("1.3"); return nil },
			strings.Replace(base, "version: 1.2.0", "version: '1.3'", 1)},
		{"staging percentage is appended", func(d *githubsrc.ChannelDoc) error { return d.SetStagingPercentage(10) },
			base + "stagingPercentage: 10\n"},
		{"notes on several lines become a block", func(d *githubsrc.ChannelDoc) error { d.SetReleaseNotes("a\nb"); return nil },
			strings.Replace(base, "releaseNotes: old\n", "releaseNotes: |-\n  a\n  b\n", 1)},
		{"release date keeps its quotes", func(d *githubsrc.ChannelDoc) error { d.SetReleaseDate("2026-11-21T00:00:00.000Z"); return nil },
			strings.Replace(base, "2026-11-20T10", "2026-11-21T00", 1)},
		{"no legacy path", func(d *githubsrc.ChannelDoc) error { d.SetPath("", ""); return nil },
			strings.Replace(base, "path: a.exe\nsha512: x==\n", "", 1)},
		{"a file changed keeps isAdminRightsRequired", func(d *githubsrc.ChannelDoc) error {
			files := d.Files()
			files[0].SHA512, files[0].Size = "y==", 4
			d.SetFiles(files)
			return nil
		}, strings.Replace(strings.Replace(base, "    sha512: x==", "    sha512: y==", 1), "size: 3", "size: 4", 1)},
		{"a file built in Go is in electron-builder's order", func(d *githubsrc.ChannelDoc) error {
			d.SetFiles(append(d.Files(), githubsrc.ChannelEntry{ChannelFileEntry: githubsrc.ChannelFileEntry{URL: "b.exe", SHA512: "z==", Size: 5, BlockMapSize: 6}}))
			return nil
		}, strings.Replace(base, "path:", "  - url: b.exe\n    sha512: z==\n    size: 5\n    blockMapSize: 6\npath:", 1)},
		{"any key", func(d *githubsrc.ChannelDoc) error { return d.Set("minimumSystemVersion", "23.1.0") },
			base + "minimumSystemVersion: 23.1.0\n"},
		{"delete", func(d *githubsrc.ChannelDoc) error { d.Delete("releaseNotes"); d.Delete("nope"); return nil },
			strings.Replace(base, "releaseNotes: old\n", "", 1)},
		{"rewrite urls", func(d *githubsrc.ChannelDoc) error {
			d.RewriteURLs(func(u string) string { return "https://dl.example/" + u })
			return nil
		}, strings.ReplaceAll(base, "a.exe", "https://dl.example/a.exe")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parseDoc(t, base)
			orig := d.Clone()
			if err := tc.edit(d); err != nil {
				t.Fatal(err)
			}
			if got := encodeDoc(t, d); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if got := encodeDoc(t, orig); got != base {
				t.Errorf("the clone changed too:\n%s", got)
			}
		})
	}
}

func TestChannelDocRewritePackages(t *testing.T) {
	t.Parallel()
	d := parseDoc(t, richChannelFile)
	d.RewriteURLs(func(u string) string { return "/dl/" + u })
	f := d.File()
	if f.Files[0].URL != "/dl/DemoApp-Setup-1.2.0.exe" || f.Path != "/dl/DemoApp-Setup-1.2.0.exe" {
		t.Errorf("files and path not rewritten: %+v", f)
	}
	if !strings.Contains(encodeDoc(t, d), "    path: /dl/demoapp-1.2.0-x64.nsis.7z\n") {
		t.Errorf("packages.x64.path not rewritten:\n%s", encodeDoc(t, d))
	}
}

func TestChannelDocErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "empty"},
		{"# only a comment\n", "empty"},
		{"- a\n- b\n", "list, not a mapping"},
		{"1.2.0\n", "scalar, not a mapping"},
		{"version: [1.0\n", "yaml:"},
		{"version: [1]\n", "cannot unmarshal"},
		{"version: 1.0.0\nfiles:\n  - url: a\n    size: big\n", "cannot unmarshal"},
	} {
		if _, err := githubsrc.ParseChannelDoc([]byte(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseChannelDoc(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
	d := parseDoc(t, "version: 1.0.0\n")
	if err := d.Set("version", []int{1}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("Set(version, [1]) = %v", err)
	}
	if err := d.SetStagingPercentage(101); err == nil {
		t.Error("SetStagingPercentage(101) accepted")
	}
	if got := encodeDoc(t, d); got != "version: 1.0.0\n" {
		t.Errorf("a refused Set changed the document: %q", got)
	}
}

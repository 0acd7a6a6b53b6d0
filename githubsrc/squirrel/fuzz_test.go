package squirrel_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc/squirrel"
)

// FuzzParse: whatever Parse accepts, Encode writes back and Parse reads
// the same, names rewritten or not; nothing panics on a hostile RELEASES.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		releasesText, "\uFEFF" + strings.ReplaceAll(releasesText, "\n", "\r\n"),
		sha1a + " DemoApp-1.2.0-full.nupkg 51000 # 10%", sha1a + " https://h/p/a.nupkg?x=1 1",
		"# comment\n\n", sha1a + " a.nupkg 1 #10%", sha1a + " a.nupkg 1 # 150%", sha1a + ` a\b.nupkg 1`, "", sha1a + " a%zz.nupkg 1", sha1a + " https://h/a%zz.nupkg 1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		entries, err := squirrel.Parse(text)
		if err != nil || len(entries) == 0 {
			return
		}
		for _, e := range entries {
			if len(e.SHA1) != 40 || e.Size <= 0 || e.Staged && (e.Percent < 0 || e.Percent > 100) || !strings.HasSuffix(strings.ToLower(e.Filename()), ".nupkg") {
				t.Fatalf("Parse(%q) gave an entry Squirrel would refuse: %+v", text, e)
			}
		}
		out, err := squirrel.Encode(entries, nil)
		if err != nil {
			t.Fatalf("Encode of what Parse(%q) read: %v", text, err)
		}
		again, err := squirrel.Parse(out)
		if err != nil || !reflect.DeepEqual(again, entries) {
			t.Fatalf("Parse(Encode(Parse(%q))) = %+v, %v\nwant %+v", text, again, err, entries)
		}
		proxied, err := squirrel.Encode(entries, func(name string) string {
			return "https://updates.example/dl/" + url.PathEscape(squirrel.Entry{Name: name}.Filename())
		})
		if err != nil {
			t.Fatalf("Encode with absolute URLs of what Parse(%q) read: %v", text, err)
		}
		if _, err := squirrel.Parse(proxied); err != nil {
			t.Fatalf("Parse of %q: %v", proxied, err)
		}
	})
}

// FuzzParseHazel: every spelling hazel takes names a valid platform and
// a format, and its Key parses back to the same target.
func FuzzParseHazel(f *testing.F) {
	for _, tc := range hazelTests {
		f.Add(tc.in)
	}
	f.Add("darwin-arm64")
	f.Add("_arm64")
	f.Fuzz(func(t *testing.T, s string) {
		for _, update := range []bool{false, true} {
			target, err := squirrel.ParseHazelDownload(s, update)
			if err != nil {
				continue
			}
			checkTarget(t, s, target)
			if again, err := squirrel.ParseHazel(target.Key); err != nil || again != target {
				t.Fatalf("ParseHazel(%q) = %+v, whose key parses to %+v, %v", s, target, again, err)
			}
		}
	})
}

// FuzzParseElectronUpdate: the same for update.electronjs.org's spellings.
func FuzzParseElectronUpdate(f *testing.F) {
	for _, tc := range electronUpdateTests {
		f.Add(tc.platform, tc.format)
	}
	f.Add("darwin_arm64", "")
	f.Add("win32-ia32", "msix")
	f.Fuzz(func(t *testing.T, platform, format string) {
		target, err := squirrel.ParseElectronUpdate(platform, format)
		if err != nil {
			return
		}
		checkTarget(t, platform, target)
		if again, err := squirrel.ParseElectronUpdateKey(target.Key); err != nil || again != target {
			t.Fatalf("ParseElectronUpdate(%q, %q) = %+v, whose key parses to %+v, %v", platform, format, target, again, err)
		}
	})
}

func checkTarget(t *testing.T, in string, target squirrel.Target) {
	t.Helper()
	p := target.Platform
	if p.OS == "" || p.Arch == "" || target.Format == "" || target.Key == "" || p.Installer != "" {
		t.Fatalf("%q parsed to an incomplete target %+v", in, target)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%q parsed to an impossible platform %+v: %v", in, p, err)
	}
	if !target.Serves(p) {
		t.Fatalf("%q: the target does not serve its own platform %+v", in, p)
	}
}

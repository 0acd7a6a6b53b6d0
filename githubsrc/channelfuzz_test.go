package githubsrc_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

// FuzzParseChannelDoc: a channel file from a release is untrusted text.
// Whatever ParseChannelDoc accepts encodes, reads back to the same typed
// view, survives its files being rewritten, merges with itself, and gives
// every client one of its own files or an error, without panicking.
func FuzzParseChannelDoc(f *testing.F) {
	for _, n := range []string{"latest.yml", "latest-mac.yml", "latest-linux.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "electron", "v1.2.0", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{richChannelFile, macX64Part, "version: 1.0.0\npath: a.exe\nsha512: x\n", "version: &v 1\nreleaseName: *v\n", "- a\n", "version: 1\nversion: 2\n"} {
		f.Add([]byte(s))
	}
	clients := []githubsrc.ElectronClient{intelMac, armMac, rosettaMac, winX64, winARM64, linuxX64, linux("deb"), linuxARM}
	f.Fuzz(func(t *testing.T, text []byte) {
		d, err := githubsrc.ParseChannelDoc(text)
		if err != nil {
			return
		}
		want := d.File()
		out, err := d.Encode()
		if err != nil {
			t.Fatalf("Encode of what ParseChannelDoc(%q) read: %v", text, err)
		}
		again, err := githubsrc.ParseChannelDoc(out)
		if err != nil || !reflect.DeepEqual(again.File(), want) {
			t.Fatalf("ParseChannelDoc(%q) = %+v, encoded as %q, which reads %+v, %v", text, want, out, again, err)
		}
		c := d.Clone()
		c.SetFiles(c.Files())
		if got := c.File(); !reflect.DeepEqual(got.Files, want.Files) && len(want.Files) > 0 {
			t.Fatalf("SetFiles(Files()) of %q: %+v, want %+v", text, got.Files, want.Files)
		}
		if merged, err := githubsrc.MergeChannelDocs("latest.yml", d, d); err == nil {
			urls := map[string]bool{}
			for _, e := range merged.File().Entries() {
				urls[e.URL] = true
			}
			for _, e := range want.Entries() {
				if !urls[e.URL] {
					t.Fatalf("merging %q with itself lost %s", text, e.URL)
				}
			}
		}
		for _, cl := range clients {
			got, err := githubsrc.PickElectronFile(want.Entries(), nil, cl)
			if err != nil {
				continue
			}
			found := false
			for _, e := range want.Entries() {
				found = found || e == got
			}
			if !found {
				t.Fatalf("PickElectronFile(%q, %+v) = %+v, not one of its files", text, cl, got)
			}
		}
	})
}

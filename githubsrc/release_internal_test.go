package githubsrc

import "testing"

// TestShareBrowserBase: a release's assets share a base only when every
// one of them is that base and its escaped name; otherwise each keeps
// its URL as given.
func TestShareBrowserBase(t *testing.T) {
	const base = "https://github.com/o/r/releases/download/v1.0.0/"
	for _, tc := range []struct {
		name   string
		assets []Asset
		shared bool
	}{
		{"all", []Asset{{Name: "a.exe", browserURL: base + "a.exe"}, {Name: "a b.sig", browserURL: base + "a%20b.sig"}}, true},
		{"one elsewhere", []Asset{{Name: "a.exe", browserURL: base + "a.exe"}, {Name: "b.sig", browserURL: "https://example.com/b.sig"}}, false},
		{"one unescaped", []Asset{{Name: "a.exe", browserURL: base + "a.exe"}, {Name: "a b.sig", browserURL: base + "a b.sig"}}, false},
		{"one without", []Asset{{Name: "a.exe", browserURL: base + "a.exe"}, {Name: "b.sig"}}, false},
		{"none", []Asset{{Name: "a.exe"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]string, len(tc.assets))
			for i, a := range tc.assets {
				want[i] = a.BrowserURL()
			}
			shareBrowserBase(tc.assets)
			for i, a := range tc.assets {
				if got := a.BrowserURL(); got != want[i] {
					t.Errorf("%s: %q, want %q", a.Name, got, want[i])
				}
				if a.based != tc.shared {
					t.Errorf("%s: shared %v, want %v", a.Name, a.based, tc.shared)
				}
			}
		})
	}
}

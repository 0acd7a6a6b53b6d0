package githubsrc

import "strings"

// AssetName returns the name GitHub gives an asset uploaded as local.
//
// GitHub "renames asset filenames that have special characters,
// non-alphanumeric characters, and leading or trailing periods" without
// documenting the rule. Observed: spaces and parentheses become ".", so
// "My App 1.0.0 Setup.exe" is stored as "My.App.1.0.0.Setup.exe"
// (cli/cli#10585, actions/upload-release-asset#57), and a leading dot is
// not kept (softprops/action-gh-release#749); "+" survives when the query
// is percent-encoded. This keeps letters, digits and "._-+@~", turns every
// other run into a single "." and fixes up leading and trailing dots.
// Plans use it to predict names; everything written afterwards (manifests,
// URLs) uses the name GitHub actually returned.
func AssetName(local string) string {
	var b strings.Builder
	b.Grow(len(local))
	dot := false
	for _, r := range local {
		keep := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-+@~", r))
		switch {
		case keep:
			b.WriteRune(r)
			dot = false
		case !dot:
			b.WriteByte('.')
			dot = true
		}
	}
	name := strings.TrimRight(b.String(), ".")
	if strings.HasPrefix(name, ".") {
		name = "default" + name
	}
	if name == "" {
		name = "default"
	}
	return name
}

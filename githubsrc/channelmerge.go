package githubsrc

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MergeChannelFiles merges channel files that several build jobs wrote
// under one name, such as the latest-mac.yml of an x64 job and of an arm64
// job (electron-builder#5592: each job's file lists only its own arch, and
// whichever is uploaded last wins). name is the channel file's name, for
// messages. See MergeChannelDocs for the rules.
func MergeChannelFiles(name string, parts ...[]byte) ([]byte, error) {
	docs := make([]*ChannelDoc, len(parts))
	for i, p := range parts {
		d, err := ParseChannelDoc(p)
		if err != nil {
			return nil, fmt.Errorf("%s part %d: %w", name, i+1, err)
		}
		docs[i] = d
	}
	d, err := MergeChannelDocs(name, docs...)
	if err != nil {
		return nil, err
	}
	return d.Encode()
}

// MergeChannelDocs merges channel files as electron-builder would have
// written them had one job built every arch
// (app-builder-lib/src/publish/updateInfoBuilder.ts, writeUpdateInfoFiles):
//
//   - every part must name the same version;
//   - files are united, a url listed twice kept once; the same url with a
//     different sha512, size, blockMapSize or isAdminRightsRequired is an
//     error naming it;
//   - files are ordered as electron-builder orders its artifacts: zips
//     first, then by arch (ia32, x64, armv7l, arm64, universal; a name
//     without an arch is x64), a part's own order kept otherwise;
//   - the legacy top-level path and sha512, where any part has them, are
//     the part's pair that comes first in that order: for macOS the x64
//     zip, as electron-builder makes the first (zip, x64) artifact's info
//     the file's;
//   - releaseDate is the latest of the parts';
//   - every other field is the first part's, in its order; a field only
//     later parts have is appended; a field two parts give different
//     values is an error naming it (jobs built with different settings
//     should not be served as one).
//
// The parts are not changed.
func MergeChannelDocs(name string, parts ...*ChannelDoc) (*ChannelDoc, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s: no channel files to merge", name)
	}
	out := parts[0].Clone()
	version := parts[0].Version()
	for i, p := range parts[1:] {
		if v := p.Version(); v != version {
			return nil, fmt.Errorf("%s: part 1 is version %q, part %d is version %q: merge only the channel files of one release", name, version, i+2, v)
		}
	}

	// Files, united.
	type seen struct {
		entry ChannelEntry
		part  int
	}
	var files []seen
	byURL := map[string]seen{}
	for i, p := range parts {
		entries := p.Files()
		if len(entries) == 0 {
			for _, e := range p.File().Entries() { // legacy: path and sha512 only
				entries = append(entries, ChannelEntry{ChannelFileEntry: e})
			}
		}
		for _, e := range entries {
			if old, dup := byURL[e.URL]; dup {
				if err := sameFile(old.entry.ChannelFileEntry, e.ChannelFileEntry); err != nil {
					return nil, fmt.Errorf("%s: %s is in part %d and part %d %v", name, e.URL, old.part+1, i+1, err)
				}
				continue
			}
			s := seen{e, i}
			byURL[e.URL] = s
			files = append(files, s)
		}
	}
	slices.SortStableFunc(files, func(a, b seen) int { return compareArtifactOrder(a.entry.URL, b.entry.URL) })
	merged := make([]ChannelEntry, len(files))
	for i, f := range files {
		merged[i] = f.entry
	}
	out.SetFiles(merged)

	// The legacy path: the pair that electron-builder's order puts first.
	var path, sha string
	for _, p := range parts {
		pp, ps := p.Path()
		if pp != "" && (path == "" || compareArtifactOrder(pp, path) < 0) {
			path, sha = pp, ps
		}
	}
	if path != "" {
		out.SetPath(path, sha)
	}

	// releaseDate: the latest.
	var latest time.Time
	latestText := ""
	for i, p := range parts {
		s := p.ReleaseDate()
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%s part %d: releaseDate %q is not an ISO 8601 date (electron-builder writes toISOString: 2006-01-02T15:04:05.000Z)", name, i+1, s)
		}
		if latestText == "" || t.After(latest) {
			latest, latestText = t, s
		}
	}
	if latestText != "" && latestText != out.ReleaseDate() {
		out.SetReleaseDate(latestText)
	}

	// Everything else: the same in every part that has it.
	fixed := map[string]bool{"version": true, "files": true, "path": true, "sha512": true, "releaseDate": true}
	for _, key := range out.Keys() {
		if fixed[key] {
			continue
		}
		first := decodeAny(lookup(out.root, key))
		for i, p := range parts[1:] {
			if n := lookup(p.root, key); n != nil && !reflect.DeepEqual(decodeAny(n), first) {
				return nil, fmt.Errorf("%s: part 1 and part %d differ in %s (%s, %s): build the jobs with the same settings, or fix one file", name, i+2, key, short(lookup(out.root, key)), short(n))
			}
		}
	}
	for i, p := range parts[1:] {
		for _, key := range p.Keys() {
			if fixed[key] || lookup(out.root, key) != nil {
				continue
			}
			n := lookup(p.root, key)
			for j, q := range parts[i+2:] {
				if m := lookup(q.root, key); m != nil && !reflect.DeepEqual(decodeAny(m), decodeAny(n)) {
					return nil, fmt.Errorf("%s: part %d and part %d differ in %s (%s, %s): build the jobs with the same settings, or fix one file", name, i+2, i+j+3, key, short(n), short(m))
				}
			}
			if err := out.Set(key, n); err != nil {
				return nil, fmt.Errorf("%s part %d: %w", name, i+2, err)
			}
		}
	}
	return out, nil
}

// sameFile reports how two entries for one url disagree, or nil.
func sameFile(a, b ChannelFileEntry) error {
	var diffs []string
	if a.SHA512 != b.SHA512 {
		diffs = append(diffs, fmt.Sprintf("sha512 %.16s… and %.16s…", a.SHA512, b.SHA512))
	}
	if a.Size != b.Size {
		diffs = append(diffs, fmt.Sprintf("size %d and %d", a.Size, b.Size))
	}
	if a.BlockMapSize != b.BlockMapSize {
		diffs = append(diffs, fmt.Sprintf("blockMapSize %d and %d", a.BlockMapSize, b.BlockMapSize))
	}
	if a.IsAdminRightsRequired != b.IsAdminRightsRequired {
		diffs = append(diffs, fmt.Sprintf("isAdminRightsRequired %v and %v", a.IsAdminRightsRequired, b.IsAdminRightsRequired))
	}
	if diffs == nil {
		return nil
	}
	return errors.New("with " + strings.Join(diffs, ", ") + ": two different files under one name; merge the channel files of one build")
}

// compareArtifactOrder orders file urls as writeUpdateInfoFiles orders
// artifacts: zips first, then by electron-builder's Arch enum (ia32, x64,
// armv7l, arm64, universal).
func compareArtifactOrder(a, b string) int {
	return cmp.Or(
		cmp.Compare(zipRank(a), zipRank(b)),
		cmp.Compare(archRank(a), archRank(b)),
	)
}

func zipRank(url string) int {
	if strings.HasSuffix(url, ".zip") {
		return 0
	}
	return 1
}

// builderArchOrder is builder-util's Arch enum order.
var builderArchOrder = map[Arch]int{I686: 0, X86_64: 1, ARMv7: 2, AArch64: 3, Universal: 4}

func archRank(url string) int {
	name := (ChannelFileEntry{URL: url}).AssetName()
	lower := strings.ToLower(name)
	if r, ok := builderArchOrder[nameArch(lower, Darwin, false)]; ok {
		return r
	}
	return builderArchOrder[X86_64]
}

func decodeAny(n *yaml.Node) any {
	var v any
	if n != nil {
		_ = n.Decode(&v)
	}
	return v
}

// short is a node's value for a message.
func short(n *yaml.Node) string {
	b, err := yaml.Marshal(n)
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

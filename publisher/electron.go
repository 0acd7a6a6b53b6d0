package publisher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/squirrel"
)

// The Electron rules, in one place. electron-updater finds an update
// through the channel files electron-builder writes (latest.yml,
// latest-mac.yml, …: githubsrc.ChannelFile) and checks each file it
// downloads by the SHA-512 written there, not by a .sig. So: a payload a
// channel file offers needs no .sig and covers its platform; the channel
// file must name only this release's assets, with their sizes and
// SHA-512s; and upload keeps the names the channel files use.
//
// Matrix jobs each write their own latest-mac.yml (an x64 job and an
// arm64 job: electron-builder#5592), so upload never puts a job's channel
// file up under the name clients ask for: it goes up as a part,
// "latest-mac.yml.part-<8 hex>" (ChannelPartName), a name no client
// requests. Verify judges the parts (and a real channel file, if
// electron-builder itself uploaded one) merged, as one file; publish
// writes that merged file, each entry's size and SHA-512 taken from the
// bytes on the release, under the real name, and keeps the parts.

// LaneElectron is the PlatformRow.Lane of an Electron platform.
const LaneElectron = "electron"

// Electron columns of the platform table, and the checks their problems
// carry where no older check name stands (CheckYML does for the channel
// file's own rules).
const (
	CheckChannel  = "channel file" // the channel file its client asks for offers it a build of its arch
	CheckFile     = "file"         // the file picked is on the release, fully uploaded
	CheckSize     = "size"         // the channel file's size is the asset's
	CheckSHA512   = "sha512"       // the channel file's SHA-512 is the bytes'
	CheckBlockmap = "blockmap"     // electron-builder's .blockmap beside it
	CheckReleases = "RELEASES"     // Squirrel.Windows' RELEASES matches its .nupkg files
)

// ElectronColumns are the columns of an Electron platform's row.
var ElectronColumns = []string{CheckChannel, CheckFile, CheckSize, CheckSHA512, CheckBlockmap}

// ColumnsOf returns the columns of a platform row's lane.
func ColumnsOf(lane string) []string {
	if lane == LaneElectron {
		return ElectronColumns
	}
	return Columns
}

// partInfix separates a channel file's name from a part's hash.
const partInfix = ".part-"

// ChannelPartName is the asset name upload gives one job's channel file
// called name: "latest-mac.yml.part-1a2b3c4d". The hash is of the name and
// of the files the channel file lists, so a job that runs again finds its
// own part (skipped when the same, a conflict without --replace when not,
// like its files), and jobs that built other files never meet.
func ChannelPartName(name string, data []byte) string {
	key := []string{name}
	if cf, err := githubsrc.ParseChannelFile(data); err == nil && len(cf.Entries()) > 0 {
		var files []string
		for _, e := range cf.Entries() {
			files = append(files, e.AssetName())
		}
		slices.Sort(files)
		key = append(key, files...)
	} else {
		key = append(key, string(data)) // unreadable: verify says so; keep it apart
	}
	sum := sha256.Sum256([]byte(strings.Join(key, "\n")))
	return name + partInfix + hex.EncodeToString(sum[:4])
}

// ChannelFileOfPart returns the channel file a part (ChannelPartName)
// belongs to.
func ChannelFileOfPart(asset string) (string, bool) {
	i := strings.LastIndex(asset, partInfix)
	if i < 0 {
		return "", false
	}
	name, h := asset[:i], asset[i+len(partInfix):]
	if len(h) != 8 || strings.Trim(h, "0123456789abcdef") != "" || !githubsrc.IsChannelFile(name) {
		return "", false
	}
	return name, true
}

// hasChannelFiles reports whether assets hold a channel file or a part.
func hasChannelFiles(assets []githubsrc.Asset) bool {
	return slices.ContainsFunc(assets, func(a githubsrc.Asset) bool {
		_, part := ChannelFileOfPart(a.Name)
		return part || githubsrc.IsChannelFile(a.Name)
	})
}

// electronFiles is what a release's channel files say.
type electronFiles struct {
	sets    []*channelSet   // by name
	offered map[string]bool // asset names the channel files offer
}

// channelSet is one channel file as clients will read it: the real one,
// the parts jobs uploaded, and all of them merged.
type channelSet struct {
	name   string
	os     githubsrc.OS
	arch   githubsrc.Arch // Linux only
	docs   []channelPart  // the real file first, then the parts by name
	merged *githubsrc.ChannelDoc
	// mergeErr says why the parts do not merge; merged is nil then.
	mergeErr error
}

// channelPart is the real channel file or one part of it.
type channelPart struct {
	asset githubsrc.Asset
	doc   *githubsrc.ChannelDoc
	err   error // it did not parse
}

// label names a part in messages.
func (s *channelSet) label(p channelPart) string {
	if p.asset.Name == s.name {
		return s.name
	}
	return s.name + " (part " + p.asset.Name + ")"
}

// set returns the channel file called name, or nil.
func (e *electronFiles) set(name string) *channelSet {
	for _, s := range e.sets {
		if s.name == name {
			return s
		}
	}
	return nil
}

// electronFiles reads the release's channel files and parts, once per
// verification: each is checked against the bytes it names, then they
// are merged with every entry's size and SHA-512 taken from the bytes on
// the release (what publish writes).
func (v *verification) electronFiles(ctx context.Context) (*electronFiles, error) {
	if v.electron != nil {
		return v.electron, nil
	}
	e := &electronFiles{offered: map[string]bool{}}
	byName := map[string]*channelSet{}
	for _, a := range v.uploadedAssets(func(a githubsrc.Asset) bool {
		_, part := ChannelFileOfPart(a.Name)
		return part || githubsrc.IsChannelFile(a.Name)
	}) {
		name := a.Name
		if n, ok := ChannelFileOfPart(a.Name); ok {
			name = n
		}
		s := byName[name]
		if s == nil {
			s = &channelSet{name: name}
			_, s.os, s.arch, _ = githubsrc.ChannelFileTarget(name)
			byName[name] = s
			e.sets = append(e.sets, s)
		}
		text, err := v.ev.Text(ctx, a)
		if err != nil {
			return nil, err
		}
		p := channelPart{asset: a}
		p.doc, p.err = githubsrc.ParseChannelDoc(text)
		if a.Name == name {
			s.docs = slices.Insert(s.docs, 0, p)
		} else {
			s.docs = append(s.docs, p)
		}
		if p.err == nil {
			for _, entry := range p.doc.File().Entries() {
				e.offered[entry.AssetName()] = true
			}
		}
	}
	slices.SortFunc(e.sets, func(a, b *channelSet) int { return strings.Compare(a.name, b.name) })
	v.electron = e
	return e, nil
}

// recomputed returns a copy of doc whose entries (and legacy path) carry
// the size and SHA-512 of the bytes on the release, where the asset is
// there and fully uploaded.
func (v *verification) recomputed(ctx context.Context, doc *githubsrc.ChannelDoc) (*githubsrc.ChannelDoc, error) {
	out := doc.Clone()
	files := out.Files()
	for i, f := range files {
		a, ok := v.byName[f.AssetName()]
		if !ok || !a.Uploaded() {
			continue
		}
		sum, err := v.ev.SHA512(ctx, a)
		if err != nil {
			return nil, err
		}
		files[i].Size, files[i].SHA512 = a.Size, sum
	}
	if files != nil {
		out.SetFiles(files)
	}
	if path, _ := out.Path(); path != "" {
		if a, ok := v.byName[(githubsrc.ChannelFileEntry{URL: path}).AssetName()]; ok && a.Uploaded() {
			sum, err := v.ev.SHA512(ctx, a)
			if err != nil {
				return nil, err
			}
			out.SetPath(path, sum)
		}
	}
	return out, nil
}

// offers reports whether a channel file offers the asset called name.
func (e *electronFiles) offers(name string) bool { return e.offered[name] }

// covers reports whether a channel file offers a payload for platform p.
func (e *electronFiles) covers(assets []githubsrc.Asset, p githubsrc.Platform) bool {
	for _, a := range assets {
		art := githubsrc.Classify(a.Name)
		if e.offered[a.Name] && art.Role == githubsrc.RolePayload && art.Platform.OS == p.OS && art.Platform.Arch == p.Arch &&
			(p.Installer == "" || art.Platform.Installer == p.Installer) {
			return true
		}
	}
	return false
}

// electronArch is the arch a file a channel file for os offers is built
// for: what its name says, else x86_64 (electron-builder leaves x64 out
// of names).
func electronArch(os githubsrc.OS, name string) githubsrc.Arch {
	if p := githubsrc.Classify(name).Platform; p.OS == os && p.Arch != "" {
		return p.Arch
	}
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "arm64") || strings.Contains(lower, "aarch64"):
		return githubsrc.AArch64
	case strings.Contains(lower, "universal") && os == githubsrc.Darwin:
		return githubsrc.Universal
	case strings.Contains(lower, "ia32"):
		return githubsrc.I686
	case strings.Contains(lower, "armv7l"):
		return githubsrc.ARMv7
	}
	return githubsrc.X86_64
}

// entryPlatform is the platform whose row a file of set s belongs to,
// or "".
func (s *channelSet) entryPlatform(asset string) string {
	if p := s.entryPlat(asset); !p.IsZero() {
		return p.Key()
	}
	return ""
}

// entryPlat is the platform (OS and arch) a file of set s is built for.
func (s *channelSet) entryPlat(asset string) githubsrc.Platform {
	if s.os == "" {
		return githubsrc.Platform{}
	}
	arch := s.arch
	if arch == "" {
		arch = electronArch(s.os, asset)
	}
	return githubsrc.Platform{OS: s.os, Arch: arch}
}

// needsBlockmap reports whether electron-builder writes a .blockmap
// beside a file a channel file of s offers: the NSIS installer (not the
// web installer's stub, whose packages carry theirs), the macOS zip
// (MacUpdater downloads only changed blocks with it) and the dmg.
func (s *channelSet) needsBlockmap(asset string) bool {
	lower := strings.ToLower(asset)
	switch s.os {
	case githubsrc.Windows:
		return strings.HasSuffix(lower, ".exe") && (s.merged == nil || s.merged.Get("packages") == nil)
	case githubsrc.Darwin:
		return strings.HasSuffix(lower, ".zip") || strings.HasSuffix(lower, ".dmg")
	}
	return false
}

// checkChannelFiles checks each channel file and part: that it names this
// release's version and only its assets, fully uploaded, with their sizes
// and SHA-512s; that the parts merge; that electron-builder's blockmaps
// are there; and, for an Electron release, that every platform required
// or evident from its files is offered a build of its own arch by the
// channel file its electron-updater asks for.
func checkChannelFiles(ctx context.Context, v *verification) error {
	e, err := v.electronFiles(ctx)
	if err != nil {
		return err
	}
	var named []string
	for _, s := range e.sets {
		for _, p := range s.docs {
			if p.err == nil {
				for _, entry := range p.doc.File().Entries() {
					named = append(named, entry.AssetName())
				}
			}
		}
	}
	if err := v.readAhead(ctx, named, true); err != nil { // the SHA-512s need the bytes
		return err
	}
	for _, s := range e.sets {
		if err := v.checkChannelSet(ctx, s); err != nil {
			return err
		}
	}
	if v.lane == LaneElectron {
		v.checkElectronPlatforms(e)
	}
	return nil
}

func (v *verification) checkChannelSet(ctx context.Context, s *channelSet) error {
	var readable []*githubsrc.ChannelDoc
	for _, p := range s.docs {
		label := s.label(p)
		bad := func(platform, col, msg, fix string) {
			v.add(Problem{Platform: platform, Check: CheckYML, Asset: s.name, Message: label + " " + msg, Fix: fix, col: col})
		}
		if p.err != nil {
			bad("", "", "is not YAML: "+p.err.Error(), "upload the file electron-builder wrote")
			continue
		}
		f := p.doc.File()
		if v.version != nil && strings.TrimPrefix(f.Version, "v") != v.version.String() {
			bad("", "", fmt.Sprintf("says version %q, the release is %s", f.Version, v.version), "upload the "+s.name+" of this build")
		}
		for _, entry := range f.Entries() {
			an := entry.AssetName()
			platform := s.entryPlatform(an)
			a, ok := v.byName[an]
			if !ok {
				bad(platform, CheckFile, fmt.Sprintf("names %s, which is not an asset of this release", entry.URL), "upload "+an)
				continue
			}
			if entry.Size != 0 && entry.Size != a.Size {
				bad(platform, CheckSize, fmt.Sprintf("says %s is %d bytes, GitHub has %d", an, entry.Size, a.Size), "upload the "+s.name+" and "+an+" of one build")
			}
			if !a.Uploaded() {
				v.add(Problem{Platform: platform, Check: CheckYML, Asset: an, col: CheckFile,
					Message: fmt.Sprintf("%s offers %s, which is not fully uploaded (state %q)", label, an, a.State), Fix: "run otapub upload again: it deletes and re-uploads it"})
				continue
			}
			got, err := v.ev.SHA512(ctx, a)
			if err != nil {
				return err
			}
			if got != entry.SHA512 {
				bad(platform, CheckSHA512, fmt.Sprintf("says %s has sha512 %.16s…, GitHub's bytes have %.16s…", an, entry.SHA512, got), "upload the "+s.name+" and "+an+" of one build")
			}
		}
		doc, err := v.recomputed(ctx, p.doc)
		if err != nil {
			return err
		}
		readable = append(readable, doc)
	}
	if len(readable) == 0 {
		return nil
	}
	s.merged, s.mergeErr = githubsrc.MergeChannelDocs(s.name, readable...)
	if s.mergeErr != nil {
		v.add(Problem{Check: CheckYML, Asset: s.name, Message: fmt.Sprintf("the %d parts of %s do not merge: %v", len(readable), s.name, s.mergeErr),
			Fix: "delete the parts (" + s.name + ".part-…) of the jobs that are stale and run their otapub upload again"})
		return nil
	}
	for _, entry := range s.merged.File().Entries() {
		an := entry.AssetName()
		if !s.needsBlockmap(an) {
			continue
		}
		if _, ok := v.byName[an+".blockmap"]; !ok {
			why := "electron-updater reads it to download only the blocks that changed"
			if strings.HasSuffix(strings.ToLower(an), ".dmg") {
				why = "no updater reads a dmg's, but its absence says the job's output was not all uploaded"
			}
			v.add(Problem{Platform: s.entryPlatform(an), Check: CheckBlockmap, Asset: an + ".blockmap", col: CheckBlockmap,
				Message: fmt.Sprintf("%s.blockmap is missing: electron-builder writes it beside %s, and %s", an, an, why),
				Fix:     "upload the " + an + ".blockmap electron-builder wrote (otapub upload TAG DIR takes it)"})
		}
	}
	return nil
}

// checkElectronPlatforms checks, for each platform that is required or
// that the release's files show (a dmg, zip, AppImage or NSIS installer,
// or a channel file's entry), that the channel file its electron-updater
// asks for is there and gives it a file of its own arch, as
// PickElectronFile picks; and that every such file is offered at all.
func (v *verification) checkElectronPlatforms(e *electronFiles) {
	targets := map[githubsrc.Platform]bool{}
	for _, p := range v.opts.Require {
		targets[githubsrc.Platform{OS: p.OS, Arch: p.Arch}] = true
	}
	for _, a := range v.assets {
		os, ok := v.electronUpdatable(a.Name, e)
		if !ok {
			continue
		}
		arch := electronArch(os, a.Name)
		if arch != githubsrc.Universal {
			targets[githubsrc.Platform{OS: os, Arch: arch}] = true
		}
		if !e.offers(a.Name) {
			v.add(Problem{Platform: githubsrc.Platform{OS: os, Arch: arch}.Key(), Check: CheckYML, Asset: a.Name, col: CheckChannel,
				Message: a.Name + " is in no channel file: electron-updater will never be offered it",
				Fix:     "upload the latest*.yml electron-builder wrote beside it (otapub upload TAG DIR takes both)"})
		}
	}
	for _, s := range e.sets {
		if s.merged == nil {
			continue
		}
		for _, entry := range s.merged.File().Entries() {
			if p := s.entryPlat(entry.AssetName()); !p.IsZero() && p.Arch != githubsrc.Universal {
				targets[p] = true
			}
		}
	}
	keys := make([]githubsrc.Platform, 0, len(targets))
	for p := range targets {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, func(a, b githubsrc.Platform) int { return strings.Compare(a.Key(), b.Key()) })
	for _, p := range keys {
		key := p.Key()
		row := v.row(key)
		row.Lane = LaneElectron
		client := githubsrc.ElectronClient{OS: p.OS, Arch: p.Arch, ARM64Mac: p.OS == githubsrc.Darwin && p.Arch == githubsrc.AArch64}
		name, err := client.ChannelFileName("latest")
		if err != nil {
			v.add(Problem{Platform: key, Check: CheckPayload, col: CheckChannel, Message: "no electron-updater runs on " + key + ": " + err.Error(),
				Fix: "require a platform electron-updater supports (darwin-x86_64, darwin-aarch64, windows-x86_64, linux-x86_64, linux-aarch64, …)"})
			continue
		}
		s := e.set(name)
		switch {
		case s == nil:
			v.add(Problem{Platform: key, Check: CheckPayload, Asset: name, col: CheckChannel,
				Message: fmt.Sprintf("no %s %s: electron-updater on %s asks for it", name, v.place(), key),
				Fix:     fmt.Sprintf("upload the %s job's output folder, with the %s electron-builder wrote (otapub upload TAG DIR)", key, name)})
			continue
		case s.merged == nil:
			row.Checks[CheckChannel] = StatusFail // named where it failed to read or merge
			continue
		}
		picked, err := githubsrc.PickElectronFile(s.merged.File().Entries(), nil, client)
		if err != nil {
			v.add(Problem{Platform: key, Check: CheckPayload, Asset: name, col: CheckChannel,
				Message: fmt.Sprintf("%s gives electron-updater on %s no file: %v", name, key, err),
				Fix:     fmt.Sprintf("upload the %s job's output folder, with its %s (otapub upload TAG DIR; publish merges every job's)", key, name)})
			continue
		}
		an := picked.AssetName()
		if arch := electronArch(p.OS, an); arch != p.Arch && arch != githubsrc.Universal {
			v.add(Problem{Platform: key, Check: CheckPayload, Asset: name, col: CheckChannel,
				Message: fmt.Sprintf("%s offers no %s build: electron-updater on %s would take %s, built for %s", name, p.Arch, key, an, arch),
				Fix:     fmt.Sprintf("upload the %s job's output folder, with its %s (otapub upload TAG DIR; publish merges every job's)", key, name)})
			continue
		}
		row.Payload = an
	}
}

// electronUpdatable says whether an asset of an Electron release is a
// file electron-updater installs (a macOS zip or dmg, an AppImage, an
// NSIS installer: one named "Setup", with a .blockmap, or offered), and
// for which OS.
func (v *verification) electronUpdatable(name string, e *electronFiles) (githubsrc.OS, bool) {
	art := githubsrc.Classify(name)
	lower := strings.ToLower(name)
	switch {
	case art.Platform.OS == githubsrc.Darwin && (strings.HasSuffix(lower, ".dmg") || art.Format == "zip" && !strings.HasSuffix(lower, ".tar.gz")):
		return githubsrc.Darwin, true
	case strings.HasSuffix(lower, ".appimage"):
		return githubsrc.Linux, true
	case strings.HasSuffix(lower, ".exe"):
		_, blockmap := v.byName[name+".blockmap"]
		return githubsrc.Windows, art.Role == githubsrc.RolePayload || blockmap || e.offers(name)
	}
	return "", false
}

// checkSquirrel checks Squirrel.Windows' RELEASES: every line names a
// .nupkg on the release, with its size and SHA-1.
func checkSquirrel(ctx context.Context, v *verification) error {
	a, ok := v.byName[squirrelReleases]
	if !ok || !a.Uploaded() {
		return nil
	}
	text, err := v.ev.Text(ctx, a)
	if err != nil {
		return err
	}
	entries, err := squirrel.Parse(text)
	if err != nil {
		v.add(Problem{Check: CheckReleases, Asset: squirrelReleases, Message: "RELEASES: " + err.Error(), Fix: "upload the RELEASES file Squirrel.Windows wrote"})
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Filename())
	}
	if err := v.readAhead(ctx, names, true); err != nil {
		return err
	}
	for i, e := range entries {
		fn := e.Filename()
		platform := githubsrc.Platform{OS: githubsrc.Windows, Arch: electronArch(githubsrc.Windows, fn)}.Key()
		bad := func(msg, fix string) {
			v.add(Problem{Platform: platform, Check: CheckReleases, Asset: fn, col: CheckChannel, Message: fmt.Sprintf("RELEASES line %d %s", i+1, msg), Fix: fix})
		}
		p, ok := v.asset(fn)
		switch {
		case !ok:
			bad("names "+fn+", which is not an asset of this release", "upload "+fn+" (the .nupkg Squirrel.Windows made beside RELEASES)")
			continue
		case !p.Uploaded():
			continue // checkAssets names it
		case p.Size != e.Size:
			bad(fmt.Sprintf("says %s is %d bytes, GitHub has %d", fn, e.Size, p.Size), "upload the RELEASES and "+fn+" of one build")
		}
		got, err := v.ev.SHA1(ctx, p)
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, e.SHA1) {
			bad(fmt.Sprintf("says %s has SHA-1 %s, GitHub's bytes have %s", fn, e.SHA1, got), "upload the RELEASES and "+fn+" of one build")
		}
	}
	return nil
}

// squirrelReleases is the name of Squirrel.Windows' feed file.
const squirrelReleases = "RELEASES"

// electronNames gives files the names the channel files among them use.
// electron-builder names its installer "App Setup 1.2.0.exe", writes
// "App-Setup-1.2.0.exe" into latest.yml and uploads it under that name;
// GitHub alone would store "App.Setup.1.2.0.exe", which electron-updater
// would not find.
func electronNames(files []File) {
	wanted := channelNamed(files)
	for i, f := range files {
		dashed := githubsrc.AssetName(strings.ReplaceAll(filepath.Base(f.Path), " ", "-"))
		if !wanted[f.Name] && (wanted[dashed] || wanted[strings.TrimSuffix(dashed, ".blockmap")]) {
			files[i].Name = dashed
			files[i].Artifact = githubsrc.Classify(dashed)
		}
	}
}

// channelNamed returns the asset names the channel files among files offer.
func channelNamed(files []File) map[string]bool {
	wanted := map[string]bool{}
	for _, f := range files {
		if !githubsrc.IsChannelFile(f.Name) {
			continue
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			continue
		}
		if cf, err := githubsrc.ParseChannelFile(data); err == nil {
			for _, e := range cf.Entries() {
				wanted[e.AssetName()] = true
			}
		}
	}
	return wanted
}

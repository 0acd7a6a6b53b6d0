package publisher

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
)

// The Electron rules, in one place. electron-updater finds an update
// through the channel files electron-builder writes (latest.yml,
// latest-mac.yml, …: githubsrc.ChannelFile) and checks each file it
// downloads by the SHA-512 written there, not by a .sig. So: a payload a
// channel file offers needs no .sig and covers its platform; the channel
// file must name only this release's assets, with their sizes and
// SHA-512s; and upload keeps the names the channel files use.

// electronFiles is what a release's channel files say.
type electronFiles struct {
	files   []channelFile
	offered map[string]bool // asset names the channel files offer
}

type channelFile struct {
	asset githubsrc.Asset
	file  githubsrc.ChannelFile
	err   error // it did not parse
}

// electronFiles reads the release's channel files, once per verification.
func (v *verification) electronFiles(ctx context.Context) (*electronFiles, error) {
	if v.electron != nil {
		return v.electron, nil
	}
	e := &electronFiles{offered: map[string]bool{}}
	for _, a := range v.uploadedAssets(func(a githubsrc.Asset) bool { return githubsrc.IsChannelFile(a.Name) }) {
		text, err := v.ev.Text(ctx, a)
		if err != nil {
			return nil, err
		}
		f, err := githubsrc.ParseChannelFile(text)
		e.files = append(e.files, channelFile{asset: a, file: f, err: err})
		if err != nil {
			continue
		}
		for _, entry := range f.Entries() {
			e.offered[entry.AssetName()] = true
		}
	}
	v.electron = e
	return e, nil
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

// checkChannelFiles checks that each channel file names this release's
// version and only its assets, with their sizes and SHA-512s.
func checkChannelFiles(ctx context.Context, v *verification) error {
	e, err := v.electronFiles(ctx)
	if err != nil {
		return err
	}
	var named []string
	for _, cf := range e.files {
		for _, entry := range cf.file.Entries() {
			named = append(named, entry.AssetName())
		}
	}
	if err := v.readAhead(ctx, named, true); err != nil { // the SHA-512s need the bytes
		return err
	}
	for _, cf := range e.files {
		name := cf.asset.Name
		bad := func(msg, fix string) {
			v.add(Problem{Check: CheckYML, Asset: name, Message: name + " " + msg, Fix: fix})
		}
		if cf.err != nil {
			bad("is not YAML: "+cf.err.Error(), "upload the file electron-builder wrote")
			continue
		}
		if v.version != nil && strings.TrimPrefix(cf.file.Version, "v") != v.version.String() {
			bad(fmt.Sprintf("says version %q, the release is %s", cf.file.Version, v.version), "upload the "+name+" of this build")
		}
		for _, entry := range cf.file.Entries() {
			an := entry.AssetName()
			a, ok := v.byName[an]
			if !ok {
				bad(fmt.Sprintf("names %s, which is not an asset of this release", entry.URL), "upload "+an)
				continue
			}
			if entry.Size != 0 && entry.Size != a.Size {
				bad(fmt.Sprintf("says %s is %d bytes, GitHub has %d", an, entry.Size, a.Size), "upload the "+name+" and "+an+" of one build")
			}
			if !a.Uploaded() {
				continue
			}
			got, err := v.ev.SHA512(ctx, a)
			if err != nil {
				return err
			}
			if got != entry.SHA512 {
				bad(fmt.Sprintf("says %s has sha512 %.16s…, GitHub's bytes have %.16s…", an, entry.SHA512, got), "upload the "+name+" and "+an+" of one build")
			}
		}
	}
	return nil
}

// electronNames gives files the names the channel files among them use.
// electron-builder names its installer "App Setup 1.2.0.exe", writes
// "App-Setup-1.2.0.exe" into latest.yml and uploads it under that name;
// GitHub alone would store "App.Setup.1.2.0.exe", which electron-updater
// would not find.
func electronNames(files []File) {
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
	for i, f := range files {
		dashed := githubsrc.AssetName(strings.ReplaceAll(filepath.Base(f.Path), " ", "-"))
		if !wanted[f.Name] && (wanted[dashed] || wanted[strings.TrimSuffix(dashed, ".blockmap")]) {
			files[i].Name = dashed
			files[i].Artifact = githubsrc.Classify(dashed)
		}
	}
}

package githubsrc

import (
	"cmp"
	"fmt"
	"strings"
)

// Payload is a Tauri or cargo-packager updater payload of a release and
// the .sig asset beside it.
type Payload struct {
	Artifact Artifact
	Asset    Asset
	Sig      Asset
}

// Payloads holds what a release offers updaters, by full platform key
// (installer included).
type Payloads struct {
	ByKey map[Platform]Payload
	// Shipped is every payload key the release has, signed or not, complete
	// or not: what its users may have installed.
	Shipped map[Platform]bool
	// Unsigned lists payloads that have no .sig, and Incomplete those not
	// fully uploaded; neither is in ByKey.
	Unsigned, Incomplete []Artifact
}

// formatPreference orders payload containers when a release has several
// for one key: raw installers first (Tauri v2; cargo-packager cannot apply
// a tar.gz AppImage), v1 archives after.
var formatPreference = map[string]int{"exe": 0, "msi": 0, "appimage": 0, "deb": 0, "rpm": 0, "tar.gz": 1, "zip": 1}

// FindPayloads pairs a release's updater payloads with their .sig assets.
// The proxy and the publisher both read releases through it, so a file is
// offered exactly when verify calls it complete.
func FindPayloads(assets []Asset) Payloads {
	p := Payloads{ByKey: map[Platform]Payload{}, Shipped: map[Platform]bool{}}
	byName := make(map[string]Asset, len(assets))
	arts := make([]Artifact, len(assets))
	for i, a := range assets {
		byName[a.Name] = a
		arts[i] = Classify(a.Name)
	}
	for _, art := range InferArch(arts) {
		if !art.ClientCompatible() {
			continue
		}
		p.Shipped[art.Platform] = true
		asset := byName[art.Name]
		sig, signed := byName[art.Name+".sig"]
		switch {
		case !asset.Uploaded() || signed && !sig.Uploaded():
			p.Incomplete = append(p.Incomplete, art)
			continue
		case !signed:
			p.Unsigned = append(p.Unsigned, art)
			continue
		}
		next := Payload{Artifact: art, Asset: asset, Sig: sig}
		if old, ok := p.ByKey[art.Platform]; ok && !preferred(next, old) {
			continue
		}
		p.ByKey[art.Platform] = next
	}
	return p
}

// preferred reports whether a should replace b for the same key.
func preferred(a, b Payload) bool {
	return cmp.Or(
		cmp.Compare(formatPreference[a.Artifact.Format], formatPreference[b.Artifact.Format]),
		cmp.Compare(len(a.Asset.Name), len(b.Asset.Name)),
		strings.Compare(a.Asset.Name, b.Asset.Name),
	) < 0
}

// UpdaterKeys returns the keys clients look up, each with its payload:
// every full key of byKey, plus the keys a client asks for without an
// installer ("{os}-{arch}") and the darwin arches a universal build
// serves. byKey holds the payloads fit to offer (the proxy drops those
// whose signature it refuses first); shipped is Payloads.Shipped.
//
// The rules are Tauri's: the bare macOS key is the .app; the bare Linux
// key is the AppImage, never a .deb or .rpm (Tauri applies those only to
// package installs, which say so with {{bundle_type}}); the bare Windows
// key is the configured installer, or the other kind when the release ships
// only that one, never a guess between two (an NSIS install fed an MSI
// installs a second copy). A universal macOS build serves aarch64 and
// x86_64 where no native build exists.
func UpdaterKeys(byKey map[Platform]Payload, shipped map[Platform]bool, windows Installer) map[Platform]Payload {
	if windows == "" {
		windows = NSIS
	}
	out := make(map[Platform]Payload, 2*len(byKey))
	for k, v := range byKey {
		out[k] = v
	}
	if u, ok := byKey[Platform{Darwin, Universal, App}]; ok {
		for _, arch := range []Arch{AArch64, X86_64} {
			if _, native := out[Platform{Darwin, arch, App}]; !native {
				out[Platform{Darwin, arch, App}] = u
			}
		}
	}
	full := make([]Platform, 0, len(out))
	for k := range out {
		full = append(full, k)
	}
	for _, k := range full {
		bare := k.Bare()
		switch k.Installer {
		case App, AppImage:
			out[bare] = out[k]
		case NSIS, MSI:
			other := MSI
			if k.Installer == MSI {
				other = NSIS
			}
			if k.Installer == windows || !shipped[Platform{Windows, k.Arch, other}] {
				if _, taken := out[bare]; !taken || k.Installer == windows {
					out[bare] = out[k]
				}
			}
		}
	}
	return out
}

// String describes a payload for messages.
func (p Payload) String() string {
	return fmt.Sprintf("%s (%s)", p.Asset.Name, p.Artifact.Platform.Key())
}

package squirrel

import (
	"fmt"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
)

// Format is the kind of file a Squirrel-style route hands out.
type Format string

// Formats.
const (
	// Zip is a Squirrel.Mac update: the zipped .app (electron-builder's
	// "-mac.zip").
	Zip Format = "zip"
	// Nupkg is a Squirrel.Windows package, which Squirrel finds through
	// RELEASES.
	Nupkg Format = "nupkg"
	// MSIX is a Windows MSIX package (update.electronjs.org's /msix/ routes).
	MSIX Format = "msix"
	// DMG, EXE, Deb, RPM and AppImage are what hazel's /download routes
	// hand out to people, and its /update routes to whatever asks.
	DMG      Format = "dmg"
	EXE      Format = "exe"
	Deb      Format = "deb"
	RPM      Format = "rpm"
	AppImage Format = "appimage"
)

// Target is what a platform spelling in a hazel or update.electronjs.org
// URL asks for: the platform a file must be built for, and its format.
type Target struct {
	// Platform has OS and Arch; Installer stays empty (Format says it).
	// Arch is X86_64 where the spelling names no arch: hazel's bare keys
	// are the files whose names do not say arm64, update.electronjs.org
	// reads a bare "darwin" or "win32" as x64.
	Platform githubsrc.Platform
	Format   Format
	// Key is the service's own name for the target, the spelling that
	// parses back to it: hazel's cache key ("darwin_arm64", "AppImage"),
	// update.electronjs.org's platform-arch ("darwin-x64", "win32-arm64"),
	// with "-msix" for its MSIX variants.
	Key string
}

// Serves reports whether a file built for p may answer t. Besides p's own
// platform, a universal macOS build serves the x64 and arm64 targets,
// as update.electronjs.org falls back to one (src/updates.ts handleUpdate)
// and as hazel's bare "darwin" key is any zip whose name lacks "arm64".
func (t Target) Serves(p githubsrc.Platform) bool {
	if p.OS != t.Platform.OS {
		return false
	}
	return p.Arch == t.Platform.Arch || p.OS == githubsrc.Darwin && p.Arch == githubsrc.Universal
}

// hazelKeys are hazel's platform keys and their aliases (vercel/hazel
// lib/aliases.ts; nupkg arrived with the TypeScript rewrite). Each key and
// alias also has an "_arm64" form. hazel matches them with case.
var hazelKeys = []struct {
	key     string
	aliases []string
	os      githubsrc.OS
	format  Format
}{
	{"darwin", []string{"mac", "macos", "osx"}, githubsrc.Darwin, Zip},
	{"exe", []string{"win32", "windows", "win"}, githubsrc.Windows, EXE},
	{"deb", []string{"debian"}, githubsrc.Linux, Deb},
	{"rpm", []string{"fedora"}, githubsrc.Linux, RPM},
	{"AppImage", []string{"appimage"}, githubsrc.Linux, AppImage},
	{"dmg", nil, githubsrc.Darwin, DMG},
	{"nupkg", nil, githubsrc.Windows, Nupkg},
}

// hazelSpellings lists every spelling hazel accepts, for messages.
var hazelSpellings = func() string {
	var all []string
	for _, k := range hazelKeys {
		all = append(all, k.key)
		all = append(all, k.aliases...)
	}
	return strings.Join(all, ", ")
}()

// ParseHazel reads the :platform of hazel's /update/:platform/:version
// route (vercel/hazel lib/aliases.ts resolvePlatform, lib/routes.ts
// update): "darwin", "mac", "macos" and "osx" are the Squirrel.Mac zip;
// "exe", "win32", "windows" and "win" the Windows .exe; "deb"/"debian",
// "rpm"/"fedora", "AppImage"/"appimage" and "dmg" those files; "nupkg" the
// Squirrel.Windows package. Each with "_arm64" asks for the arm64 build.
func ParseHazel(platform string) (Target, error) {
	name, arch := platform, githubsrc.X86_64
	if base, ok := strings.CutSuffix(platform, "_arm64"); ok {
		name, arch = base, githubsrc.AArch64
	}
	for _, k := range hazelKeys {
		if name == k.key || contains(k.aliases, name) {
			key := k.key
			if arch == githubsrc.AArch64 {
				key += "_arm64"
			}
			return Target{Platform: githubsrc.Platform{OS: k.os, Arch: arch}, Format: k.format, Key: key}, nil
		}
	}
	hint := ""
	if strings.Contains(platform, "-") {
		hint = ` (hazel writes the arch with "_": darwin_arm64; "darwin-arm64" is update.electronjs.org's spelling)`
	}
	return Target{}, fmt.Errorf("unknown hazel platform %q%s: use %s, each also with _arm64", platform, hint, hazelSpellings)
}

// ParseHazelDownload reads hazel's /download/:platform route, where update
// is its ?update=true: as ParseHazel, except that "mac" and "mac_arm64"
// without update ask for the dmg a person installs from (lib/routes.ts
// downloadPlatform; "darwin", "macos" and "osx" are not rewritten).
func ParseHazelDownload(platform string, update bool) (Target, error) {
	if !update {
		switch platform {
		case "mac":
			platform = "dmg"
		case "mac_arm64":
			platform = "dmg_arm64"
		}
	}
	return ParseHazel(platform)
}

// electronUpdateKeys are update.electronjs.org's platform-arch values
// (src/constants.ts PLATFORM_ARCH), bare "darwin" and "win32" being x64
// (src/updates.ts handle). Its macOS targets are Squirrel.Mac zips; its
// Windows targets are Squirrel.Windows packages, found through the
// …/RELEASES route.
var electronUpdateKeys = map[string]githubsrc.Platform{
	"darwin-x64":       {OS: githubsrc.Darwin, Arch: githubsrc.X86_64},
	"darwin-arm64":     {OS: githubsrc.Darwin, Arch: githubsrc.AArch64},
	"darwin-universal": {OS: githubsrc.Darwin, Arch: githubsrc.Universal},
	"win32-x64":        {OS: githubsrc.Windows, Arch: githubsrc.X86_64},
	"win32-ia32":       {OS: githubsrc.Windows, Arch: githubsrc.I686},
	"win32-arm64":      {OS: githubsrc.Windows, Arch: githubsrc.AArch64},
}

const electronUpdateSpellings = "darwin, darwin-x64, darwin-arm64, darwin-universal, win32, win32-x64, win32-ia32, win32-arm64"

// ParseElectronUpdate reads the :platform (or :platform-:arch) segment of
// update.electronjs.org's /:owner/:repo/:platform/[:format/]:version
// routes, and format, the optional format segment: "" or "squirrel" for
// Squirrel, "msix" for MSIX, which it offers for win32-x64 and win32-arm64
// only. It matches with case, as the service does.
func ParseElectronUpdate(platform, format string) (Target, error) {
	key := platform
	switch key {
	case "darwin":
		key = "darwin-x64"
	case "win32":
		key = "win32-x64"
	}
	p, ok := electronUpdateKeys[key]
	if !ok {
		hint := ""
		if strings.Contains(platform, "_") {
			hint = ` (update.electronjs.org writes the arch with "-": darwin-arm64; "darwin_arm64" is hazel's spelling)`
		}
		return Target{}, fmt.Errorf("unknown update.electronjs.org platform %q%s: use %s", platform, hint, electronUpdateSpellings)
	}
	t := Target{Platform: p, Format: Zip, Key: key}
	if p.OS == githubsrc.Windows {
		t.Format = Nupkg
	}
	switch format {
	case "", "squirrel":
	case "msix":
		if key != "win32-x64" && key != "win32-arm64" {
			return Target{}, fmt.Errorf("MSIX is not offered for %q: only for win32-x64 and win32-arm64", platform)
		}
		t.Format, t.Key = MSIX, key+"-msix"
	default:
		return Target{}, fmt.Errorf("unknown update.electronjs.org format %q: use squirrel or msix", format)
	}
	return t, nil
}

// ParseElectronUpdateKey reads a Target's Key back: a platform-arch, or
// one ending in "-msix".
func ParseElectronUpdateKey(key string) (Target, error) {
	if base, ok := strings.CutSuffix(key, "-msix"); ok {
		return ParseElectronUpdate(base, "msix")
	}
	return ParseElectronUpdate(key, "")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AgentPlatform reads the desktop platform a browser runs on, for a
// download link that needs no platform in it (hazel's /download, vercel/hazel
// lib/routes.js download, which reads only macOS or Windows from the
// User-Agent). The client hints Sec-CH-UA-Platform, Sec-CH-UA-Arch and
// Sec-CH-UA-Bitness, where the browser sends them, come first; else the
// User-Agent's tokens. The arch is x86_64 unless something says otherwise:
// a Mac's User-Agent says Intel on Apple silicon too, as Chromium's
// reduced User-Agent says "Linux x86_64" on any CPU. Phones, tablets and
// Chrome OS are an error: they install no desktop app.
func AgentPlatform(userAgent, platformHint, archHint, bitnessHint string) (githubsrc.Platform, error) {
	p := githubsrc.Platform{Arch: githubsrc.X86_64}
	switch hint := strings.Trim(platformHint, `"`); {
	case hint == "macOS":
		p.OS = githubsrc.Darwin
	case hint == "Windows":
		p.OS = githubsrc.Windows
	case hint == "Linux":
		p.OS = githubsrc.Linux
	case hint != "" && hint != "Unknown":
		return githubsrc.Platform{}, fmt.Errorf("the browser runs %s, which has no desktop download", hint)
	case anyOf(userAgent, "Android", "iPhone", "iPad", "CrOS", "Windows Phone", "IEMobile", "Tizen", "Mobile"):
		return githubsrc.Platform{}, fmt.Errorf("the browser (User-Agent %q) runs on no desktop platform", userAgent)
	case anyOf(userAgent, "Macintosh", "Mac OS X"):
		p.OS = githubsrc.Darwin
	case strings.Contains(userAgent, "Windows"):
		p.OS = githubsrc.Windows
	case anyOf(userAgent, "Linux", "X11"):
		p.OS = githubsrc.Linux
	default:
		return githubsrc.Platform{}, fmt.Errorf("no desktop platform in the User-Agent %q", userAgent)
	}
	switch arch, bits := strings.Trim(archHint, `"`), strings.Trim(bitnessHint, `"`); {
	case arch == "arm" && bits == "32":
		p.Arch = githubsrc.ARMv7
	case arch == "arm":
		p.Arch = githubsrc.AArch64
	case arch == "x86" && bits == "32":
		p.Arch = githubsrc.I686
	case arch != "":
	case anyOf(userAgent, "aarch64", "arm64", "ARM64"):
		p.Arch = githubsrc.AArch64
	case p.OS == githubsrc.Linux && anyOf(userAgent, "armv7", "armv8l", "armv6"):
		p.Arch = githubsrc.ARMv7
	case p.OS == githubsrc.Linux && strings.Contains(userAgent, "riscv64"):
		p.Arch = githubsrc.RISCV64
	case p.OS == githubsrc.Linux && anyOf(userAgent, "i686", "i386"):
		p.Arch = githubsrc.I686
	}
	return p, nil
}

// Emulated returns the arch whose builds p's OS also runs by emulation
// when none is built for p's: x86_64 on an arm64 Mac (Rosetta 2) or
// Windows on Arm. False elsewhere: Linux emulates nothing.
func Emulated(p githubsrc.Platform) (githubsrc.Arch, bool) {
	if p.Arch == githubsrc.AArch64 && (p.OS == githubsrc.Darwin || p.OS == githubsrc.Windows) {
		return githubsrc.X86_64, true
	}
	return "", false
}

func anyOf(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

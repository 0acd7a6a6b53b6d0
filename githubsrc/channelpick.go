package githubsrc

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ElectronClient is an electron-updater client as far as choosing a
// channel file and a file in it goes.
type ElectronClient struct {
	OS OS
	// Arch is the app's own architecture, Node's process.arch: an x64 app
	// under Rosetta on an Apple silicon Mac is X86_64.
	Arch Arch
	// ARM64Mac says the Mac itself is Apple silicon, which MacUpdater
	// detects (sysctl.proc_translated, uname -a) for an x64 app under
	// Rosetta too. An AArch64 Arch on Darwin implies it.
	ARM64Mac bool
	// Package is the Linux updater the app runs, from the package-type
	// file electron-builder puts in its resources: "" for the AppImage
	// updater, "deb", "rpm" or "pacman".
	Package string
}

// nodeArch is Node's process.arch spelling of an Arch.
var nodeArch = map[Arch]string{X86_64: "x64", AArch64: "arm64", I686: "ia32", ARMv7: "arm", RISCV64: "riscv64"}

// linuxPackages are the Linux updaters: the extension each wants and the
// extensions it refuses when it has none (electron-updater's
// AppImageUpdater, DebUpdater, RpmUpdater and PacmanUpdater call findFile
// with these).
var linuxPackages = map[string][]string{
	"":       {"AppImage", "rpm", "deb", "pacman"},
	"deb":    {"deb", "AppImage", "rpm", "pacman"},
	"rpm":    {"rpm", "AppImage", "deb", "pacman"},
	"pacman": {"pacman", "AppImage", "deb", "rpm"},
}

func (c ElectronClient) validate() (string, error) {
	arch, ok := nodeArch[c.Arch]
	if !ok {
		return "", fmt.Errorf("electron client arch %q: want x86_64, aarch64, i686, armv7 or riscv64", c.Arch)
	}
	switch c.OS {
	case Darwin, Windows:
		if c.Package != "" {
			return "", fmt.Errorf("electron client package %q: only Linux has package types", c.Package)
		}
	case Linux:
		if _, ok := linuxPackages[c.Package]; !ok {
			return "", fmt.Errorf("electron client package %q: want \"\" (AppImage), deb, rpm or pacman", c.Package)
		}
	default:
		return "", fmt.Errorf("electron client OS %q: want darwin, windows or linux", c.OS)
	}
	return arch, nil
}

// ChannelFileName is the name of the channel file c asks for on channel
// ("latest" unless the app set one), as Provider.getChannelFilePrefix
// builds it: "latest.yml" on Windows, "latest-mac.yml" on macOS,
// "latest-linux.yml" on x64 Linux and "latest-linux-<process.arch>.yml"
// on other Linux arches ("latest-linux-arm.yml" for armv7).
func (c ElectronClient) ChannelFileName(channel string) (string, error) {
	arch, err := c.validate()
	if err != nil {
		return "", err
	}
	if channel == "" {
		channel = "latest"
	}
	switch c.OS {
	case Darwin:
		return channel + "-mac.yml", nil
	case Linux:
		if arch == "x64" {
			return channel + "-linux.yml", nil
		}
		return channel + "-linux-" + arch + ".yml", nil
	}
	return channel + ".yml", nil
}

var channelFileRE = regexp.MustCompile(`^([a-z]+)(-mac|-linux(?:-([a-z0-9]+))?)?\.yml$`)

// ChannelFileTarget says who reads a channel file: its channel and OS, and
// for Linux the arch (electron-builder writes one file per Linux arch; one
// latest.yml or latest-mac.yml serves every Windows or macOS arch, so Arch
// is empty for them).
func ChannelFileTarget(name string) (channel string, os OS, arch Arch, err error) {
	m := channelFileRE.FindStringSubmatch(name)
	if m == nil {
		return "", "", "", fmt.Errorf("%q is not a channel file name: want <channel>.yml, <channel>-mac.yml or <channel>-linux[-<arch>].yml", name)
	}
	switch {
	case m[2] == "":
		return m[1], Windows, "", nil
	case m[2] == "-mac":
		return m[1], Darwin, "", nil
	case m[3] == "":
		return m[1], Linux, X86_64, nil
	}
	for a, node := range nodeArch {
		if node == m[3] && a != X86_64 {
			return m[1], Linux, a, nil
		}
	}
	return "", "", "", fmt.Errorf("%q: no electron-updater asks for Linux arch %q (Node's process.arch: arm64, arm, ia32, riscv64)", name, m[3])
}

// PickElectronFile returns the file of files that client c downloads, as
// electron-updater 6.8 picks it (electron-updater/src/providers/
// Provider.ts findFile, MacUpdater.ts filterFilesForArch, and the
// updaters' calls):
//
//   - macOS: on an Apple silicon Mac, the files whose url contains
//     "arm64" when there are any, else the others; on an Intel Mac, the
//     files without "arm64". Of those, a .zip (Squirrel.Mac applies only
//     zips), else the first file that is not a .dmg or .pkg.
//   - Windows: an .exe, else the first file whatever it is.
//   - Linux: the package type's extension (.AppImage, .deb, .rpm,
//     .pacman), else the first file of none of the others.
//
// Among files of the wanted extension the first whose url contains
// process.arch ("x64", "arm64", "ia32", "arm") wins, else the first.
// Extensions are matched without case on the resolved URL's path; the
// arch words on that path and on the url as written, with case, anywhere
// in them: a feed URL whose path says arm64 makes every file an arm64
// file. base is the URL the files resolve against (the folder the channel
// file was fetched from, ending in "/"); nil compares the urls as written.
//
// It fails where electron-updater fails: no files, a Mac left with none
// or with nothing but installers, a Linux updater with no file it may
// take. An NSIS web installer (a channel file with packages) also fetches
// packages[process.arch], or packages.ia32, beside the file picked
// (Provider.ts resolveFiles); a proxy serving one must serve those too.
// The GitHub provider replaces spaces in urls with "-" before resolving
// them against https://github.com/<owner>/<repo>/releases/download/<tag>/;
// pass urls so rewritten to model it.
func PickElectronFile(files []ChannelFileEntry, base *url.URL, c ElectronClient) (ChannelFileEntry, error) {
	arch, err := c.validate()
	if err != nil {
		return ChannelFileEntry{}, err
	}
	if len(files) == 0 {
		return ChannelFileEntry{}, fmt.Errorf("the channel file lists no files (ERR_UPDATER_NO_FILES_PROVIDED)")
	}
	resolved := make([]resolvedFile, len(files))
	for i, f := range files {
		resolved[i] = resolvedFile{f, resolvePath(f.URL, base)}
	}
	var (
		pick resolvedFile
		ok   bool
	)
	switch c.OS {
	case Darwin:
		resolved = filterFilesForArch(resolved, c.ARM64Mac || c.Arch == AArch64)
		if len(resolved) == 0 {
			return ChannelFileEntry{}, fmt.Errorf("no file for an Intel Mac: every file's url says arm64 (ERR_UPDATER_NO_FILES_PROVIDED)")
		}
		if pick, ok = findFile(resolved, arch, "zip", []string{"pkg", "dmg"}); !ok {
			return ChannelFileEntry{}, fmt.Errorf("no .zip for the Mac: Squirrel.Mac applies zips, not .dmg or .pkg (ERR_UPDATER_ZIP_FILE_NOT_FOUND)")
		}
	case Windows:
		pick, _ = findFile(resolved, arch, "exe", nil)
	case Linux:
		exts := linuxPackages[c.Package]
		if pick, ok = findFile(resolved, arch, exts[0], exts[1:]); !ok {
			return ChannelFileEntry{}, fmt.Errorf("no .%s, and nothing but %s files, for the %s updater", exts[0], strings.Join(exts[1:], ", "), exts[0])
		}
	}
	return pick.ChannelFileEntry, nil
}

type resolvedFile struct {
	ChannelFileEntry
	path string // the path of new URL(url, base), escaped as WHATWG URLs are
}

// resolvePath is the pathname of electron-updater's newUrlFromBase(url, base).
func resolvePath(raw string, base *url.URL) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	return u.EscapedPath()
}

// filterFilesForArch is MacUpdater.filterFilesForArch.
func filterFilesForArch(files []resolvedFile, arm64Mac bool) []resolvedFile {
	isARM64 := func(f resolvedFile) bool {
		return strings.Contains(f.path, "arm64") || strings.Contains(f.URL, "arm64")
	}
	anyARM64 := false
	for _, f := range files {
		anyARM64 = anyARM64 || isARM64(f)
	}
	var out []resolvedFile
	for _, f := range files {
		if isARM64(f) == (arm64Mac && anyARM64) {
			out = append(out, f)
		}
	}
	return out
}

// findFile is Provider.findFile; ok is false where it returns undefined.
func findFile(files []resolvedFile, arch, ext string, not []string) (resolvedFile, bool) {
	hasExt := func(f resolvedFile, ext string) bool {
		return strings.HasSuffix(strings.ToLower(f.path), "."+strings.ToLower(ext))
	}
	var first *resolvedFile
	for i, f := range files {
		if !hasExt(f, ext) {
			continue
		}
		if strings.Contains(f.path, arch) || strings.Contains(f.URL, arch) {
			return f, true
		}
		if first == nil {
			first = &files[i]
		}
	}
	if first != nil {
		return *first, true
	}
	if not == nil {
		return files[0], true
	}
	for _, f := range files {
		refused := false
		for _, n := range not {
			refused = refused || hasExt(f, n)
		}
		if !refused {
			return f, true
		}
	}
	return resolvedFile{}, false
}

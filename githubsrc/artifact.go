package githubsrc

import (
	"regexp"
	"strings"
)

// Role is what a release file is for.
type Role uint8

// Roles of release files.
const (
	// RoleOther is anything otapub does not interpret (source archives, docs).
	RoleOther Role = iota
	// RolePayload is a file an updater downloads and applies.
	RolePayload
	// RoleSignature is "<payload>.sig": base64 of a minisign signature (Tauri's format).
	RoleSignature
	// RoleInstaller installs the app but no updater applies it (.dmg, .pkg, portable .exe).
	RoleInstaller
	// RoleChecksums is a SHA-256 manifest in `sha256sum -c` format.
	RoleChecksums
	// RoleUpdaterManifest is latest.json (Tauri) or latest*.yml (electron-updater).
	RoleUpdaterManifest
	// RoleBlockmap is electron-builder's differential-download map.
	RoleBlockmap
)

var roleNames = [...]string{"other", "payload", "signature", "installer", "checksums", "updater-manifest", "blockmap"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// Artifact is what a file name says about a release file.
type Artifact struct {
	Name string
	Role Role
	// Platform is set for payloads, installers and signatures; Arch may be
	// empty when the name does not say (Tauri v1's "App.app.tar.gz").
	Platform Platform
	// Format is the container: "tar.gz", "zip", "exe", "msi", "appimage",
	// "deb", "rpm", "dmg", "pkg"; empty for non-binaries.
	Format string
	// Signs is, for a signature, the name of the file it signs.
	Signs string
	// Version is the first X.Y.Z in the name, or "".
	Version string
}

// ClientCompatible reports whether a Tauri or cargo-packager updater can
// apply this payload: macOS needs a gzip tar of the .app, so an Electron
// "-mac.zip" is a payload for Squirrel only.
func (a Artifact) ClientCompatible() bool {
	return a.Role == RolePayload && a.Platform.Installer != "" && a.Platform.Arch != ""
}

// suffixRule maps a file-name ending onto what it is. Longest endings come
// first so ".app.tar.gz" wins over ".tar.gz" and ".msi.zip" over ".zip".
type suffixRule struct {
	suffix    string
	role      Role
	os        OS
	installer Installer
	format    string
}

var suffixRules = []suffixRule{
	// Tauri v1 and v2 "v1Compatible" updater archives.
	{".appimage.tar.gz", RolePayload, Linux, AppImage, "tar.gz"},
	{".app.tar.gz", RolePayload, Darwin, App, "tar.gz"},
	{".nsis.zip", RolePayload, Windows, NSIS, "zip"},
	{".msi.zip", RolePayload, Windows, MSI, "zip"},
	// Tauri v2 and cargo-packager raw installers, which are their own updater payloads.
	{".appimage", RolePayload, Linux, AppImage, "appimage"},
	{".msi", RolePayload, Windows, MSI, "msi"},
	{".deb", RolePayload, Linux, Deb, "deb"},
	{".rpm", RolePayload, Linux, RPM, "rpm"},
	// macOS installers that no updater applies.
	{".dmg", RoleInstaller, Darwin, "", "dmg"},
	{".pkg", RoleInstaller, Darwin, "", "pkg"},
}

var (
	// versionRE finds a version core in a file name: 1.2.0 in "App_1.2.0_x64-setup.exe".
	versionRE = regexp.MustCompile(`(?:^|[^0-9.])v?(\d+\.\d+\.\d+)(?:[^0-9]|$)`)
	// electronManifestRE matches electron-updater channel files: latest.yml,
	// beta-mac.yml, latest-linux-arm64.yml.
	electronManifestRE = regexp.MustCompile(`^[a-z]+(-mac|-linux(-[a-z0-9]+)?)?\.yml$`)
	// tokenRE splits a name into words for arch and marker lookups.
	tokenRE = regexp.MustCompile(`[a-z0-9]+`)
)

// Classify says what a release file is from its name alone. Publisher and
// proxy both call it, so a file is never one thing at upload and another
// when served.
func Classify(name string) Artifact {
	a := Artifact{Name: name, Version: NameVersion(name)}
	lower := strings.ToLower(name)

	switch {
	case strings.HasSuffix(lower, ".sig"):
		target := Classify(name[:len(name)-len(".sig")])
		if target.Role != RolePayload {
			return a // a .sig of something that is not a payload: leave it alone
		}
		a.Role, a.Signs, a.Platform = RoleSignature, target.Name, target.Platform
		return a
	case lower == "latest.json" || lower == "releases" || electronManifestRE.MatchString(lower):
		a.Role = RoleUpdaterManifest
		return a
	case isChecksums(lower):
		a.Role = RoleChecksums
		return a
	case strings.HasSuffix(lower, ".blockmap"):
		a.Role = RoleBlockmap
		return a
	}

	for _, r := range suffixRules {
		if strings.HasSuffix(lower, r.suffix) {
			a.Role, a.Format = r.role, r.format
			a.Platform = Platform{OS: r.os, Arch: nameArch(lower, r.os, r.installer == App), Installer: r.installer}
			return a
		}
	}

	words := tokenRE.FindAllString(lower, -1)
	switch {
	case strings.HasSuffix(lower, ".exe"):
		a.Format = "exe"
		a.Platform = Platform{OS: Windows, Arch: nameArch(lower, Windows, false)}
		// Tauri and cargo-packager end NSIS installers in "-setup.exe";
		// electron-builder names them "App Setup 1.2.0.exe". Anything else is
		// a portable build or a bootstrapper that no updater applies.
		if hasWord(words, "setup") || hasWord(words, "installer") {
			a.Role, a.Platform.Installer = RolePayload, NSIS
		} else {
			a.Role = RoleInstaller
		}
	case strings.HasSuffix(lower, ".zip") && isMacWord(words):
		// electron-builder's Squirrel.Mac payload: "App-1.2.0-arm64-mac.zip".
		a.Role, a.Format = RolePayload, "zip"
		a.Platform = Platform{OS: Darwin, Arch: nameArch(lower, Darwin, false)}
	}
	return a
}

// isChecksums recognises checksum manifests by the names release tools give
// them: SHA256SUMS, SHA256SUMS-linux.txt, checksums.txt, app_1.0.0_checksums.txt,
// App.exe.sha256, myapp-macos-sha256.txt.
func isChecksums(lower string) bool {
	if strings.HasSuffix(lower, ".sha256") || strings.HasSuffix(lower, ".sha256sum") {
		return true
	}
	base := strings.TrimSuffix(lower, ".txt")
	for _, w := range []string{"sha256sums", "sha256sum", "sha256", "checksums", "checksum"} {
		if base == w || strings.HasPrefix(base, w+"-") || strings.HasPrefix(base, w+"_") || strings.HasPrefix(base, w+".") ||
			strings.HasSuffix(base, "-"+w) || strings.HasSuffix(base, "_"+w) || strings.HasSuffix(base, "."+w) {
			return true
		}
	}
	return false
}

func isMacWord(words []string) bool {
	return hasWord(words, "mac") || hasWord(words, "darwin") || hasWord(words, "osx") || hasWord(words, "macos")
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// nameArch finds the architecture a file name states. Arch words come after
// the product name, so the last one wins ("Armory_1.0.0_arm64.dmg" is arm64,
// not "arm"). A name without one is x86_64, electron-builder's default,
// except for a macOS .app.tar.gz (mayBeUnsaid): Tauri v1's "App.app.tar.gz"
// truly does not say, so Arch stays empty and the release's other files
// must tell (see InferArch).
func nameArch(lower string, os OS, mayBeUnsaid bool) Arch {
	// "x86_64" and "x86-64" contain separators; find them before splitting.
	last, lastAt := Arch(""), -1
	for _, s := range []string{"x86_64", "x86-64"} {
		if i := strings.LastIndex(lower, s); i > lastAt {
			last, lastAt = X86_64, i
		}
	}
	for _, loc := range tokenRE.FindAllStringIndex(lower, -1) {
		if loc[0] <= lastAt {
			continue
		}
		if a, ok := archSpellings[lower[loc[0]:loc[1]]]; ok {
			if a == Universal && os != Darwin {
				continue
			}
			last, lastAt = a, loc[0]
		}
	}
	if last == "" && !mayBeUnsaid {
		return X86_64
	}
	return last
}

// NameVersion returns the first version core (X.Y.Z) in a file name, or "".
func NameVersion(name string) string {
	m := versionRE.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	return m[1]
}

// NameHasVersion reports whether name states version (a full semver such as
// "1.2.0" or "1.2.0-beta.1") as a whole word: "App_1.2.0_x64.msi" has 1.2.0,
// "App_11.2.0_x64.msi" does not.
func NameHasVersion(name, version string) bool {
	for i := 0; ; {
		j := strings.Index(name[i:], version)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(version)
		before := start == 0 || !isVersionChar(name[start-1]) || (name[start-1] == 'v' && (start == 1 || !isAlnum(name[start-2])))
		after := end == len(name) || !isDigit(name[end]) && !(name[end] == '.' && end+1 < len(name) && isDigit(name[end+1])) &&
			!(name[end] == '-' && !strings.Contains(version, "-") && startsPrerelease(name[end+1:]))
		if before && after {
			return true
		}
		i = start + 1
	}
}

// startsPrerelease reports whether s begins with a conventional prerelease
// word, so that "App_1.2.0-beta.1" is not taken for 1.2.0 while
// "App-1.2.0-arm64.dmg" and "App-1.2.0-1.x86_64.rpm" are.
func startsPrerelease(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"alpha", "beta", "rc", "pre", "dev", "canary", "nightly", "next", "preview", "snapshot"} {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || !isAlnum(s[len(w)]) || isDigit(s[len(w)])) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool       { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isVersionChar(c byte) bool { return isDigit(c) || c == '.' || c == 'v' }

// InferArch fills in the architecture of macOS payloads whose names do not
// state one (Tauri v1's "App.app.tar.gz") when the release's other macOS
// files agree on exactly one arch, as a single-arch Tauri v1 build does
// ("App_1.1.0_x64.dmg" beside it). It returns the artifacts with Arch set
// where that is certain and leaves the rest untouched.
func InferArch(arts []Artifact) []Artifact {
	seen := map[Arch]bool{}
	for _, a := range arts {
		if a.Platform.OS == Darwin && a.Platform.Arch != "" && a.Role != RoleSignature {
			seen[a.Platform.Arch] = true
		}
	}
	if len(seen) != 1 {
		return arts
	}
	var only Arch
	for a := range seen {
		only = a
	}
	out := make([]Artifact, len(arts))
	for i, a := range arts {
		if a.Platform.OS == Darwin && a.Platform.Arch == "" {
			a.Platform.Arch = only
		}
		out[i] = a
	}
	return out
}

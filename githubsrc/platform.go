package githubsrc

import (
	"fmt"
	"strings"
)

// OS is an operating system as updater clients name it in platform keys.
type OS string

// Operating systems with desktop updaters.
const (
	Darwin  OS = "darwin"
	Linux   OS = "linux"
	Windows OS = "windows"
)

// Arch is a CPU architecture in Tauri's spelling.
type Arch string

// Architectures. Universal is a macOS fat binary that serves both darwin arches.
const (
	X86_64    Arch = "x86_64"
	AArch64   Arch = "aarch64"
	I686      Arch = "i686"
	ARMv7     Arch = "armv7"
	RISCV64   Arch = "riscv64"
	Universal Arch = "universal"
)

// Installer is how an app was installed, and so which payload kind it can apply.
// Tauri sends it as {{bundle_type}}; the empty Installer means "not said".
type Installer string

// Installers, in Tauri's {{bundle_type}} spelling.
const (
	App      Installer = "app"
	AppImage Installer = "appimage"
	Deb      Installer = "deb"
	RPM      Installer = "rpm"
	MSI      Installer = "msi"
	NSIS     Installer = "nsis"
)

// Platform identifies what an updater payload runs on: an OS, an arch and,
// optionally, the installer kind. Its Key is Tauri's platform key.
type Platform struct {
	OS        OS
	Arch      Arch
	Installer Installer
}

// Key returns the Tauri platform key: "{os}-{arch}" or "{os}-{arch}-{installer}".
func (p Platform) Key() string {
	if p.Installer == "" {
		return string(p.OS) + "-" + string(p.Arch)
	}
	return string(p.OS) + "-" + string(p.Arch) + "-" + string(p.Installer)
}

func (p Platform) String() string { return p.Key() }

// Bare returns p without its installer.
func (p Platform) Bare() Platform { return Platform{OS: p.OS, Arch: p.Arch} }

// IsZero reports whether p names no platform.
func (p Platform) IsZero() bool { return p == Platform{} }

// Client spellings of OS, arch and installer names, mapped onto the canonical ones.
// Updaters, bundlers and people spell these differently (cargo-packager says
// "macos", electron-builder "x64" and "ia32", Debian "amd64" and "armhf", WiX
// "wix"); every spelling any of them uses is accepted here and nowhere else.
var (
	osSpellings = map[string]OS{
		"darwin": Darwin, "macos": Darwin, "mac": Darwin, "osx": Darwin,
		"linux":   Linux,
		"windows": Windows, "win": Windows, "win32": Windows, "win64": Windows,
	}
	archSpellings = map[string]Arch{
		"x86_64": X86_64, "x64": X86_64, "amd64": X86_64, "x86-64": X86_64,
		"aarch64": AArch64, "arm64": AArch64,
		"i686": I686, "x86": I686, "i386": I686, "ia32": I686,
		"armv7": ARMv7, "armhf": ARMv7, "armhfp": ARMv7, "arm": ARMv7, "armv7l": ARMv7,
		"riscv64":   RISCV64,
		"universal": Universal,
	}
	installerSpellings = map[string]Installer{
		"app": App, "appimage": AppImage, "deb": Deb, "rpm": RPM,
		"msi": MSI, "wix": MSI, "nsis": NSIS,
	}
)

// ParseOS maps any known spelling of an operating system onto its OS.
func ParseOS(s string) (OS, error) {
	if os, ok := osSpellings[strings.ToLower(s)]; ok {
		return os, nil
	}
	return "", fmt.Errorf("unknown target %q: use darwin, linux or windows", s)
}

// ParseArch maps any known spelling of an architecture onto its Arch.
func ParseArch(s string) (Arch, error) {
	if a, ok := archSpellings[strings.ToLower(s)]; ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown arch %q: use x86_64, aarch64, i686, armv7 or riscv64", s)
}

// ParseInstaller maps any known spelling of an installer kind onto its
// Installer. Tauri sends "unknown" for an unbundled binary: that, like the
// empty string, means "not said" and gives "".
func ParseInstaller(s string) (Installer, error) {
	switch s = strings.ToLower(s); s {
	case "", "unknown":
		return "", nil
	}
	if i, ok := installerSpellings[s]; ok {
		return i, nil
	}
	return "", fmt.Errorf("unknown bundle type %q: use app, appimage, deb, rpm, msi or nsis", s)
}

// ParsePlatform parses a platform key such as "darwin-aarch64",
// "windows-x86_64-nsis" or a client spelling like "macos-arm64".
func ParsePlatform(key string) (Platform, error) {
	// x86_64 and x86-64 hold the separator themselves, so split carefully.
	parts := strings.Split(strings.ToLower(key), "-")
	if len(parts) >= 3 && parts[1] == "x86" && parts[2] == "64" {
		parts = append([]string{parts[0], "x86_64"}, parts[3:]...)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return Platform{}, fmt.Errorf("invalid platform key %q: want {os}-{arch} or {os}-{arch}-{installer}, like darwin-aarch64 or windows-x86_64-nsis", key)
	}
	os, err := ParseOS(parts[0])
	if err != nil {
		return Platform{}, fmt.Errorf("platform key %q: %w", key, err)
	}
	arch, err := ParseArch(parts[1])
	if err != nil {
		return Platform{}, fmt.Errorf("platform key %q: %w", key, err)
	}
	p := Platform{OS: os, Arch: arch}
	if len(parts) == 3 {
		if p.Installer, err = ParseInstaller(parts[2]); err != nil {
			return Platform{}, fmt.Errorf("platform key %q: %w", key, err)
		}
	}
	if err := p.Validate(); err != nil {
		return Platform{}, fmt.Errorf("platform key %q: %w", key, err)
	}
	return p, nil
}

// Validate rejects combinations no updater produces, such as a Windows AppImage.
func (p Platform) Validate() error {
	if p.Arch == Universal && p.OS != Darwin {
		return fmt.Errorf("universal builds exist only for darwin")
	}
	if p.Installer == "" {
		return nil
	}
	if want := installerOS[p.Installer]; want != p.OS {
		return fmt.Errorf("a %s installer is for %s, not %s", p.Installer, want, p.OS)
	}
	return nil
}

var installerOS = map[Installer]OS{
	App: Darwin, AppImage: Linux, Deb: Linux, RPM: Linux, MSI: Windows, NSIS: Windows,
}

// CargoPackagerFormat returns the "format" value cargo-packager's updater
// requires for payloads of installer i ("nsis", "wix", "app", "appimage"), or
// "" for installers it cannot apply (deb, rpm).
func CargoPackagerFormat(i Installer) string {
	switch i {
	case NSIS:
		return "nsis"
	case MSI:
		return "wix"
	case App:
		return "app"
	case AppImage:
		return "appimage"
	}
	return ""
}

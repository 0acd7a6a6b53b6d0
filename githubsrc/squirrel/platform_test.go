package squirrel_test

import (
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/squirrel"
)

var (
	macX64    = githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.X86_64}
	macARM64  = githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.AArch64}
	macUniv   = githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.Universal}
	winX64    = githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.X86_64}
	winARM64  = githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.AArch64}
	winIA32   = githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.I686}
	linuxX64  = githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.X86_64}
	linuxARM6 = githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.AArch64}
)

// hazelTests are hazel's spellings (lib/aliases.ts) and what each asks for.
var hazelTests = []struct {
	in   string
	want squirrel.Target
}{
	{"darwin", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin"}},
	{"mac", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin"}},
	{"macos", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin"}},
	{"osx", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin"}},
	{"darwin_arm64", squirrel.Target{Platform: macARM64, Format: squirrel.Zip, Key: "darwin_arm64"}},
	{"mac_arm64", squirrel.Target{Platform: macARM64, Format: squirrel.Zip, Key: "darwin_arm64"}},
	{"osx_arm64", squirrel.Target{Platform: macARM64, Format: squirrel.Zip, Key: "darwin_arm64"}},
	{"exe", squirrel.Target{Platform: winX64, Format: squirrel.EXE, Key: "exe"}},
	{"win32", squirrel.Target{Platform: winX64, Format: squirrel.EXE, Key: "exe"}},
	{"windows", squirrel.Target{Platform: winX64, Format: squirrel.EXE, Key: "exe"}},
	{"win", squirrel.Target{Platform: winX64, Format: squirrel.EXE, Key: "exe"}},
	{"exe_arm64", squirrel.Target{Platform: winARM64, Format: squirrel.EXE, Key: "exe_arm64"}},
	{"win32_arm64", squirrel.Target{Platform: winARM64, Format: squirrel.EXE, Key: "exe_arm64"}},
	{"windows_arm64", squirrel.Target{Platform: winARM64, Format: squirrel.EXE, Key: "exe_arm64"}},
	{"win_arm64", squirrel.Target{Platform: winARM64, Format: squirrel.EXE, Key: "exe_arm64"}},
	{"deb", squirrel.Target{Platform: linuxX64, Format: squirrel.Deb, Key: "deb"}},
	{"debian", squirrel.Target{Platform: linuxX64, Format: squirrel.Deb, Key: "deb"}},
	{"debian_arm64", squirrel.Target{Platform: linuxARM6, Format: squirrel.Deb, Key: "deb_arm64"}},
	{"rpm", squirrel.Target{Platform: linuxX64, Format: squirrel.RPM, Key: "rpm"}},
	{"fedora", squirrel.Target{Platform: linuxX64, Format: squirrel.RPM, Key: "rpm"}},
	{"fedora_arm64", squirrel.Target{Platform: linuxARM6, Format: squirrel.RPM, Key: "rpm_arm64"}},
	{"AppImage", squirrel.Target{Platform: linuxX64, Format: squirrel.AppImage, Key: "AppImage"}},
	{"appimage", squirrel.Target{Platform: linuxX64, Format: squirrel.AppImage, Key: "AppImage"}},
	{"appimage_arm64", squirrel.Target{Platform: linuxARM6, Format: squirrel.AppImage, Key: "AppImage_arm64"}},
	{"dmg", squirrel.Target{Platform: macX64, Format: squirrel.DMG, Key: "dmg"}},
	{"dmg_arm64", squirrel.Target{Platform: macARM64, Format: squirrel.DMG, Key: "dmg_arm64"}},
	{"nupkg", squirrel.Target{Platform: winX64, Format: squirrel.Nupkg, Key: "nupkg"}},
}

func TestParseHazel(t *testing.T) {
	t.Parallel()
	for _, tc := range hazelTests {
		got, err := squirrel.ParseHazel(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseHazel(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	// hazel matches with case and knows no "-arm64", "x64" or arch words alone.
	for _, bad := range []string{"Darwin", "APPIMAGE", "darwin-arm64", "darwin_x64", "linux", "arm64", "_arm64", "darwin_arm64_arm64", "mac_aarch64", ""} {
		_, err := squirrel.ParseHazel(bad)
		if err == nil {
			t.Errorf("ParseHazel(%q) accepted", bad)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "darwin, mac, macos, osx, exe, win32, windows, win, deb, debian, rpm, fedora, AppImage, appimage, dmg, nupkg, each also with _arm64") {
			t.Errorf("ParseHazel(%q) error does not name the spellings: %v", bad, err)
		}
	}
	if _, err := squirrel.ParseHazel("darwin-arm64"); err == nil || !strings.Contains(err.Error(), `"darwin-arm64" is update.electronjs.org's spelling`) {
		t.Errorf("ParseHazel(darwin-arm64) = %v, want a hint", err)
	}
}

func TestParseHazelDownload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		update bool
		want   string
	}{
		{"mac", false, "dmg"}, {"mac_arm64", false, "dmg_arm64"},
		{"mac", true, "darwin"}, {"mac_arm64", true, "darwin_arm64"},
		// hazel rewrites only "mac": a person asking for darwin gets the zip.
		{"darwin", false, "darwin"}, {"osx", false, "darwin"},
		{"win", false, "exe"}, {"appimage", true, "AppImage"},
	} {
		got, err := squirrel.ParseHazelDownload(tc.in, tc.update)
		if err != nil || got.Key != tc.want {
			t.Errorf("ParseHazelDownload(%q, %v) = %q, %v; want %q", tc.in, tc.update, got.Key, err, tc.want)
		}
	}
}

// electronUpdateTests are update.electronjs.org's spellings
// (src/constants.ts, src/updates.ts) and what each asks for.
var electronUpdateTests = []struct {
	platform, format string
	want             squirrel.Target
}{
	{"darwin", "", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin-x64"}},
	{"darwin-x64", "", squirrel.Target{Platform: macX64, Format: squirrel.Zip, Key: "darwin-x64"}},
	{"darwin-arm64", "", squirrel.Target{Platform: macARM64, Format: squirrel.Zip, Key: "darwin-arm64"}},
	{"darwin-universal", "", squirrel.Target{Platform: macUniv, Format: squirrel.Zip, Key: "darwin-universal"}},
	{"win32", "", squirrel.Target{Platform: winX64, Format: squirrel.Nupkg, Key: "win32-x64"}},
	{"win32-x64", "squirrel", squirrel.Target{Platform: winX64, Format: squirrel.Nupkg, Key: "win32-x64"}},
	{"win32-ia32", "", squirrel.Target{Platform: winIA32, Format: squirrel.Nupkg, Key: "win32-ia32"}},
	{"win32-arm64", "", squirrel.Target{Platform: winARM64, Format: squirrel.Nupkg, Key: "win32-arm64"}},
	{"win32-x64", "msix", squirrel.Target{Platform: winX64, Format: squirrel.MSIX, Key: "win32-x64-msix"}},
	{"win32", "msix", squirrel.Target{Platform: winX64, Format: squirrel.MSIX, Key: "win32-x64-msix"}},
	{"win32-arm64", "msix", squirrel.Target{Platform: winARM64, Format: squirrel.MSIX, Key: "win32-arm64-msix"}},
}

func TestParseElectronUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range electronUpdateTests {
		got, err := squirrel.ParseElectronUpdate(tc.platform, tc.format)
		if err != nil || got != tc.want {
			t.Errorf("ParseElectronUpdate(%q, %q) = %+v, %v; want %+v", tc.platform, tc.format, got, err, tc.want)
		}
		if again, err := squirrel.ParseElectronUpdateKey(got.Key); err != nil || again != got {
			t.Errorf("ParseElectronUpdateKey(%q) = %+v, %v", got.Key, again, err)
		}
	}
	for _, tc := range []struct{ platform, format, want string }{
		{"darwin_arm64", "", `"darwin_arm64" is hazel's spelling`},
		{"mac", "", "use darwin, darwin-x64, darwin-arm64, darwin-universal, win32, win32-x64, win32-ia32, win32-arm64"},
		{"Darwin", "", "use darwin, darwin-x64"},
		{"linux-x64", "", "use darwin"},
		{"win32-universal", "", "use darwin"},
		{"darwin-arm64", "msix", "only for win32-x64 and win32-arm64"},
		{"win32-ia32", "msix", "only for win32-x64 and win32-arm64"},
		{"win32-x64", "nsis", "use squirrel or msix"},
	} {
		if _, err := squirrel.ParseElectronUpdate(tc.platform, tc.format); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseElectronUpdate(%q, %q) = %v, want %q", tc.platform, tc.format, err, tc.want)
		}
	}
}

func TestTargetServes(t *testing.T) {
	t.Parallel()
	x64, _ := squirrel.ParseElectronUpdate("darwin-x64", "")
	univ, _ := squirrel.ParseElectronUpdate("darwin-universal", "")
	win, _ := squirrel.ParseHazel("win32_arm64")
	for _, tc := range []struct {
		t    squirrel.Target
		p    githubsrc.Platform
		want bool
	}{
		{x64, macX64, true}, {x64, macUniv, true}, {x64, macARM64, false},
		{univ, macUniv, true}, {univ, macX64, false},
		{win, winARM64, true}, {win, winX64, false}, {win, macUniv, false},
	} {
		if got := tc.t.Serves(tc.p); got != tc.want {
			t.Errorf("%s.Serves(%s) = %v", tc.t.Key, tc.p, got)
		}
	}
}

func TestEmulated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    githubsrc.Platform
		want githubsrc.Arch
	}{
		{githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.AArch64}, githubsrc.X86_64},
		{githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.AArch64}, githubsrc.X86_64},
		{githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.AArch64}, ""},
		{githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.X86_64}, ""},
	} {
		if got, ok := squirrel.Emulated(tc.p); got != tc.want || ok != (tc.want != "") {
			t.Errorf("Emulated(%v) = %q, %v; want %q", tc.p, got, ok, tc.want)
		}
	}
}

func TestAgentPlatform(t *testing.T) {
	t.Parallel()
	const (
		safariMac   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
		chromeWin   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
		firefoxLin  = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
		firefoxArm  = "Mozilla/5.0 (X11; Linux aarch64; rv:125.0) Gecko/20100101 Firefox/125.0"
		chromeAndro = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
		safariPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
		chromeOS    = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	)
	mac := githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.X86_64}
	macARM := githubsrc.Platform{OS: githubsrc.Darwin, Arch: githubsrc.AArch64}
	win := githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.X86_64}
	for _, tc := range []struct {
		name, ua, platform, arch, bitness string
		want                              githubsrc.Platform
		err                               string
	}{
		{name: "Safari on a Mac (Intel whatever the chip)", ua: safariMac, want: mac},
		{name: "Chrome on an Apple silicon Mac, with hints", ua: safariMac, platform: `"macOS"`, arch: `"arm"`, bitness: `"64"`, want: macARM},
		{name: "Chrome on Windows", ua: chromeWin, platform: `"Windows"`, want: win},
		{name: "Edge on Windows on Arm, with hints", ua: chromeWin, platform: `"Windows"`, arch: `"arm"`, bitness: `"64"`, want: githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.AArch64}},
		{name: "32-bit x86 hint", ua: chromeWin, platform: `"Windows"`, arch: `"x86"`, bitness: `"32"`, want: githubsrc.Platform{OS: githubsrc.Windows, Arch: githubsrc.I686}},
		{name: "Firefox on Linux", ua: firefoxLin, want: githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.X86_64}},
		{name: "Firefox on Linux on arm64", ua: firefoxArm, want: githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.AArch64}},
		{name: "Chrome on a Raspberry Pi", ua: "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", want: githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.ARMv7}},
		{name: "32-bit arm hints", ua: firefoxLin, platform: `"Linux"`, arch: `"arm"`, bitness: `"32"`, want: githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.ARMv7}},
		{name: "Firefox on RISC-V", ua: "Mozilla/5.0 (X11; Linux riscv64; rv:125.0) Gecko/20100101 Firefox/125.0", want: githubsrc.Platform{OS: githubsrc.Linux, Arch: githubsrc.RISCV64}},
		{name: "Windows Phone", ua: "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)", err: "runs on no desktop platform"},
		{name: "Tizen", ua: "Mozilla/5.0 (Linux; Tizen 2.3; SAMSUNG SM-Z130H) AppleWebKit/537.3 (KHTML, like Gecko) Version/2.3 Mobile Safari/537.3", err: "runs on no desktop platform"},
		{name: "Android (Linux in its User-Agent)", ua: chromeAndro, platform: `"Android"`, err: "Android, which has no desktop download"},
		{name: "Android without hints", ua: chromeAndro, err: "runs on no desktop platform"},
		{name: "iPhone (like Mac OS X)", ua: safariPhone, err: "runs on no desktop platform"},
		{name: "Chrome OS", ua: chromeOS, err: "runs on no desktop platform"},
		{name: "curl", ua: "curl/8.5.0", err: `no desktop platform in the User-Agent "curl/8.5.0"`},
		{name: "no User-Agent", err: "no desktop platform"},
	} {
		got, err := squirrel.AgentPlatform(tc.ua, tc.platform, tc.arch, tc.bitness)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, %v; want an error containing %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

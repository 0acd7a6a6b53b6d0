package githubsrc_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

var (
	intelMac   = githubsrc.ElectronClient{OS: githubsrc.Darwin, Arch: githubsrc.X86_64}
	armMac     = githubsrc.ElectronClient{OS: githubsrc.Darwin, Arch: githubsrc.AArch64}
	rosettaMac = githubsrc.ElectronClient{OS: githubsrc.Darwin, Arch: githubsrc.X86_64, ARM64Mac: true}
	winX64     = githubsrc.ElectronClient{OS: githubsrc.Windows, Arch: githubsrc.X86_64}
	winARM64   = githubsrc.ElectronClient{OS: githubsrc.Windows, Arch: githubsrc.AArch64}
	winIA32    = githubsrc.ElectronClient{OS: githubsrc.Windows, Arch: githubsrc.I686}
	linuxX64   = githubsrc.ElectronClient{OS: githubsrc.Linux, Arch: githubsrc.X86_64}
	linuxARM   = githubsrc.ElectronClient{OS: githubsrc.Linux, Arch: githubsrc.ARMv7}
)

func linux(pkg string) githubsrc.ElectronClient {
	return githubsrc.ElectronClient{OS: githubsrc.Linux, Arch: githubsrc.X86_64, Package: pkg}
}

var (
	fixtureMac   = []string{"DemoApp-1.2.0-mac.zip", "DemoApp-1.2.0-arm64-mac.zip", "DemoApp-1.2.0.dmg", "DemoApp-1.2.0-arm64.dmg"}
	linuxAll     = []string{"App-1.0.0.AppImage", "app_1.0.0_amd64.deb", "app-1.0.0.x86_64.rpm", "app-1.0.0.pacman"}
	windowsArchs = []string{"App-Setup-1.0.0-ia32.exe", "App-Setup-1.0.0-x64.exe", "App-Setup-1.0.0-arm64.exe"}
)

// pickTests is which file electron-updater downloads, by client. Each row
// without Rosetta also runs against the real client (TestPickElectronFileClient).
var pickTests = []struct {
	name    string
	files   []string
	feed    string // the feed folder's path; "/feed/" when empty
	client  githubsrc.ElectronClient
	want    string
	wantErr string
}{
	{"intel mac takes the x64 zip", fixtureMac, "", intelMac, "DemoApp-1.2.0-mac.zip", ""},
	{"apple silicon takes the arm64 zip", fixtureMac, "", armMac, "DemoApp-1.2.0-arm64-mac.zip", ""},
	{"an x64 app under rosetta takes the arm64 zip", fixtureMac, "", rosettaMac, "DemoApp-1.2.0-arm64-mac.zip", ""},
	{"apple silicon falls back to the x64 zip", []string{"App-1.0.0-mac.zip", "App-1.0.0.dmg"}, "", armMac, "App-1.0.0-mac.zip", ""},
	{"universal serves both: intel", []string{"App-1.0.0-universal-mac.zip", "App-1.0.0-universal.dmg"}, "", intelMac, "App-1.0.0-universal-mac.zip", ""},
	{"universal serves both: apple silicon", []string{"App-1.0.0-universal-mac.zip"}, "", armMac, "App-1.0.0-universal-mac.zip", ""},
	{"a zip after the dmg", []string{"App-1.0.0.dmg", "App-1.0.0-mac.zip"}, "", intelMac, "App-1.0.0-mac.zip", ""},
	{"intel mac with only arm64 files", []string{"App-1.0.0-arm64-mac.zip"}, "", intelMac, "", "every file's url says arm64"},
	{"a feed path saying arm64 hides every file from intel macs", fixtureMac, "/arm64/", intelMac, "", "every file's url says arm64"},
	{"mac with only a dmg", []string{"App-1.0.0.dmg", "App-1.0.0.pkg"}, "", intelMac, "", "ERR_UPDATER_ZIP_FILE_NOT_FOUND"},
	{"mac without a zip takes anything but a dmg", []string{"App-1.0.0.dmg", "App-1.0.0.app.tar.gz"}, "", intelMac, "App-1.0.0.app.tar.gz", ""},
	{"mac zip extension in any case", []string{"App-1.0.0-mac.ZIP"}, "", intelMac, "App-1.0.0-mac.ZIP", ""},
	{"windows: the fixture's installer", []string{"DemoApp-Setup-1.2.0.exe"}, "", winX64, "DemoApp-Setup-1.2.0.exe", ""},
	{"windows x64 by arch word", windowsArchs, "", winX64, "App-Setup-1.0.0-x64.exe", ""},
	{"windows arm64 by arch word", windowsArchs, "", winARM64, "App-Setup-1.0.0-arm64.exe", ""},
	{"windows ia32 by arch word", windowsArchs, "", winIA32, "App-Setup-1.0.0-ia32.exe", ""},
	{"windows arm64 without its own takes the first exe", []string{"App Setup 1.0.0.exe", "App-1.0.0-x64.exe"}, "", winARM64, "App Setup 1.0.0.exe", ""},
	{"windows without an exe takes the first file", []string{"App-1.0.0.zip", "App-1.0.0.msi"}, "", winX64, "App-1.0.0.zip", ""},
	{"linux AppImage", linuxAll, "", linuxX64, "App-1.0.0.AppImage", ""},
	{"linux deb", linuxAll, "", linux("deb"), "app_1.0.0_amd64.deb", ""},
	{"linux rpm", linuxAll, "", linux("rpm"), "app-1.0.0.x86_64.rpm", ""},
	{"linux pacman", linuxAll, "", linux("pacman"), "app-1.0.0.pacman", ""},
	{"linux AppImage in lower case", []string{"app.appimage"}, "", linuxX64, "app.appimage", ""},
	{"deb updater with only an AppImage", []string{"App-1.0.0.AppImage"}, "", linux("deb"), "", "no .deb"},
	{"deb updater takes an unknown file", []string{"App-1.0.0.AppImage", "App-1.0.0.snap"}, "", linux("deb"), "App-1.0.0.snap", ""},
	{"armv7 (process.arch arm) matches arm64 names too", []string{"App-1.0.0-armv7l.AppImage", "App-1.0.0-arm64.AppImage"}, "", linuxARM, "App-1.0.0-armv7l.AppImage", ""},
	{"armv7 takes an arm64 file listed first", []string{"App-1.0.0-arm64.AppImage", "App-1.0.0-armv7l.AppImage"}, "", linuxARM, "App-1.0.0-arm64.AppImage", ""},
	{"absolute urls", []string{"https://dl.example/v1/App-1.0.0-mac.zip", "https://dl.example/v1/App-1.0.0-arm64-mac.zip"}, "", armMac, "https://dl.example/v1/App-1.0.0-arm64-mac.zip", ""},
	{"no files", nil, "", winX64, "", "ERR_UPDATER_NO_FILES_PROVIDED"},
}

func TestPickElectronFile(t *testing.T) {
	t.Parallel()
	for i, tc := range pickTests {
		base := mustURL(t, "https://updates.example"+feedPath(i, tc.feed))
		got, err := githubsrc.PickElectronFile(entries(tc.files), base, tc.client)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: PickElectronFile = %q, %v; want error %q", tc.name, got.URL, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.URL != tc.want {
			t.Errorf("%s: PickElectronFile = %q, %v; want %q", tc.name, got.URL, err, tc.want)
		}
	}
	// Without a base the urls are compared as written.
	if got, err := githubsrc.PickElectronFile(entries(fixtureMac), nil, armMac); err != nil || got.URL != "DemoApp-1.2.0-arm64-mac.zip" {
		t.Errorf("no base: %q, %v", got.URL, err)
	}
	for _, c := range []githubsrc.ElectronClient{
		{OS: githubsrc.Darwin, Arch: githubsrc.Universal},
		{OS: "beos", Arch: githubsrc.X86_64},
		{OS: githubsrc.Windows, Arch: githubsrc.X86_64, Package: "deb"},
		{OS: githubsrc.Linux, Arch: githubsrc.X86_64, Package: "snap"},
	} {
		if _, err := githubsrc.PickElectronFile(entries(fixtureMac), nil, c); err == nil {
			t.Errorf("PickElectronFile accepted client %+v", c)
		}
	}
}

// TestPickElectronFileClient runs pickTests through the real
// electron-updater (githubsrctest.ElectronUpdater): its findFile and
// filterFilesForArch, over a generic provider feed. Rosetta rows are left
// out: the harness cannot fake the sysctl MacUpdater runs.
func TestPickElectronFileClient(t *testing.T) {
	githubsrctest.RequireElectronUpdater(t)
	mux := http.NewServeMux()
	var checks []githubsrctest.ElectronCheck
	node := map[githubsrc.Arch]string{githubsrc.X86_64: "x64", githubsrc.AArch64: "arm64", githubsrc.I686: "ia32", githubsrc.ARMv7: "arm"}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for i, tc := range pickTests {
		if tc.client.ARM64Mac || len(tc.files) == 0 {
			continue
		}
		name, err := tc.client.ChannelFileName("")
		if err != nil {
			t.Fatal(err)
		}
		var yml strings.Builder
		yml.WriteString("version: 1.0.0\nfiles:\n")
		for _, f := range tc.files {
			fmt.Fprintf(&yml, "  - url: %s\n    sha512: eA==\n    size: 1\n", f)
		}
		body := yml.String()
		p := feedPath(i, tc.feed)
		mux.HandleFunc(p+name, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
		platform := map[githubsrc.OS]string{githubsrc.Darwin: "darwin", githubsrc.Windows: "win32", githubsrc.Linux: "linux"}[tc.client.OS]
		checks = append(checks, githubsrctest.ElectronCheck{Name: tc.name, FeedURL: srv.URL + p, Platform: platform, Arch: node[tc.client.Arch], PackageType: tc.client.Package})
	}
	got := githubsrctest.ElectronUpdater(t, checks...)
	t.Logf("electron-updater picked for %d of %d rows", len(got), len(pickTests))
	for i, tc := range pickTests {
		r, ran := got[tc.name]
		if !ran {
			continue
		}
		if tc.wantErr != "" {
			if r.Error == "" {
				t.Errorf("%s: electron-updater picked %q; PickElectronFile fails", tc.name, r.Picked)
			}
			continue
		}
		want := mustURL(t, srv.URL+feedPath(i, tc.feed)).ResolveReference(mustURL(t, tc.want)).String()
		if r.Error != "" || r.Picked != want {
			t.Errorf("%s: electron-updater picked %q (error %q); PickElectronFile %q", tc.name, r.Picked, r.Error, want)
		}
	}
}

func TestChannelFileNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		client  githubsrc.ElectronClient
		channel string
		want    string
	}{
		{winX64, "", "latest.yml"}, {winARM64, "beta", "beta.yml"},
		{intelMac, "", "latest-mac.yml"}, {armMac, "beta", "beta-mac.yml"},
		{linuxX64, "", "latest-linux.yml"}, {linux("deb"), "", "latest-linux.yml"},
		{githubsrc.ElectronClient{OS: githubsrc.Linux, Arch: githubsrc.AArch64}, "", "latest-linux-arm64.yml"},
		{linuxARM, "alpha", "alpha-linux-arm.yml"},
		{githubsrc.ElectronClient{OS: githubsrc.Linux, Arch: githubsrc.I686}, "", "latest-linux-ia32.yml"},
	} {
		got, err := tc.client.ChannelFileName(tc.channel)
		if err != nil || got != tc.want {
			t.Errorf("%+v.ChannelFileName(%q) = %q, %v; want %q", tc.client, tc.channel, got, err, tc.want)
			continue
		}
		channel, os, arch, err := githubsrc.ChannelFileTarget(got)
		wantArch := githubsrc.Arch("")
		if tc.client.OS == githubsrc.Linux {
			wantArch = tc.client.Arch
		}
		if err != nil || channel != strings.TrimSuffix(strings.Split(got, "-")[0], ".yml") || os != tc.client.OS || arch != wantArch {
			t.Errorf("ChannelFileTarget(%q) = %q, %q, %q, %v", got, channel, os, arch, err)
		}
	}
	for _, bad := range []string{"latest.json", "latest-linux-sparc.yml", "Latest.yml", "latest-win.yml", "-mac.yml"} {
		if _, _, _, err := githubsrc.ChannelFileTarget(bad); err == nil {
			t.Errorf("ChannelFileTarget(%q) accepted", bad)
		}
	}
}

func feedPath(i int, feed string) string {
	if feed == "" {
		feed = "/feed/"
	}
	return fmt.Sprintf("%sr%d/", feed, i)
}

func entries(urls []string) []githubsrc.ChannelFileEntry {
	out := make([]githubsrc.ChannelFileEntry, len(urls))
	for i, u := range urls {
		out[i] = githubsrc.ChannelFileEntry{URL: u, SHA512: "eA==", Size: 1}
	}
	return out
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

package githubsrc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	p := func(os OS, arch Arch, inst Installer) Platform { return Platform{os, arch, inst} }
	tests := []struct {
		name     string
		role     Role
		platform Platform
		format   string
		version  string
	}{
		// Tauri v2 as tauri-action uploads it (testdata/fixtures/tauri-v2).
		{"DemoApp_1.2.0_x64-setup.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.2.0"},
		{"DemoApp_1.2.0_arm64-setup.exe", RolePayload, p(Windows, AArch64, NSIS), "exe", "1.2.0"},
		{"DemoApp_1.2.0_x64_en-US.msi", RolePayload, p(Windows, X86_64, MSI), "msi", "1.2.0"},
		{"DemoApp_1.2.0_amd64.AppImage", RolePayload, p(Linux, X86_64, AppImage), "appimage", "1.2.0"},
		{"DemoApp_1.2.0_amd64.deb", RolePayload, p(Linux, X86_64, Deb), "deb", "1.2.0"},
		{"DemoApp-1.2.0-1.x86_64.rpm", RolePayload, p(Linux, X86_64, RPM), "rpm", "1.2.0"},
		{"DemoApp_aarch64.app.tar.gz", RolePayload, p(Darwin, AArch64, App), "tar.gz", ""},
		{"DemoApp_x64.app.tar.gz", RolePayload, p(Darwin, X86_64, App), "tar.gz", ""},
		{"DemoApp_1.2.0_aarch64.dmg", RoleInstaller, p(Darwin, AArch64, ""), "dmg", "1.2.0"},
		{"DemoApp_1.2.0_x64.dmg", RoleInstaller, p(Darwin, X86_64, ""), "dmg", "1.2.0"},
		{"latest.json", RoleUpdaterManifest, Platform{}, "", ""},
		{"DemoApp_1.2.0_x64-setup.exe.sig", RoleSignature, p(Windows, X86_64, NSIS), "", "1.2.0"},
		{"DemoApp_aarch64.app.tar.gz.sig", RoleSignature, p(Darwin, AArch64, App), "", ""},
		// Tauri v1 / v1Compatible archives.
		{"DemoApp.app.tar.gz", RolePayload, p(Darwin, "", App), "tar.gz", ""},
		{"DemoApp_1.1.0_amd64.AppImage.tar.gz", RolePayload, p(Linux, X86_64, AppImage), "tar.gz", "1.1.0"},
		{"DemoApp_1.1.0_x64-setup.nsis.zip", RolePayload, p(Windows, X86_64, NSIS), "zip", "1.1.0"},
		{"DemoApp_1.1.0_x64_en-US.msi.zip", RolePayload, p(Windows, X86_64, MSI), "zip", "1.1.0"},
		{"DemoApp_1.1.0_x64_en-US.msi.zip.sig", RoleSignature, p(Windows, X86_64, MSI), "", "1.1.0"},
		// electron-builder.
		{"DemoApp Setup 1.2.0.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.2.0"},
		{"DemoApp-Setup-1.2.0.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.2.0"},
		{"DemoApp Setup 1.2.0.exe.blockmap", RoleBlockmap, Platform{}, "", "1.2.0"},
		{"DemoApp-1.2.0-mac.zip", RolePayload, p(Darwin, X86_64, ""), "zip", "1.2.0"},
		{"DemoApp-1.2.0-arm64-mac.zip", RolePayload, p(Darwin, AArch64, ""), "zip", "1.2.0"},
		{"DemoApp-1.2.0-universal-mac.zip", RolePayload, p(Darwin, Universal, ""), "zip", "1.2.0"},
		{"DemoApp-1.2.0.dmg", RoleInstaller, p(Darwin, X86_64, ""), "dmg", "1.2.0"},
		{"DemoApp-1.2.0-arm64.dmg", RoleInstaller, p(Darwin, AArch64, ""), "dmg", "1.2.0"},
		{"DemoApp-1.2.0.AppImage", RolePayload, p(Linux, X86_64, AppImage), "appimage", "1.2.0"},
		{"DemoApp-1.2.0-arm64.AppImage", RolePayload, p(Linux, AArch64, AppImage), "appimage", "1.2.0"},
		{"DemoApp-1.2.0-armv7l.AppImage", RolePayload, p(Linux, ARMv7, AppImage), "appimage", "1.2.0"},
		{"demoapp_1.2.0_armv7l.deb", RolePayload, p(Linux, ARMv7, Deb), "deb", "1.2.0"},
		{"DemoApp 1.2.0.exe", RoleInstaller, p(Windows, X86_64, ""), "exe", "1.2.0"},
		{"latest.yml", RoleUpdaterManifest, Platform{}, "", ""},
		{"latest-mac.yml", RoleUpdaterManifest, Platform{}, "", ""},
		{"latest-linux.yml", RoleUpdaterManifest, Platform{}, "", ""},
		{"latest-linux-arm64.yml", RoleUpdaterManifest, Platform{}, "", ""},
		{"beta-mac.yml", RoleUpdaterManifest, Platform{}, "", ""},
		{"RELEASES", RoleUpdaterManifest, Platform{}, "", ""},
		// cargo-packager.
		{"app_0.1.0_x86_64.AppImage", RolePayload, p(Linux, X86_64, AppImage), "appimage", "0.1.0"},
		{"app_0.1.0_x64-setup.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "0.1.0"},
		{"app_0.1.0_x64_en-US.msi", RolePayload, p(Windows, X86_64, MSI), "msi", "0.1.0"},
		{"app_0.1.0_aarch64.dmg", RoleInstaller, p(Darwin, AArch64, ""), "dmg", "0.1.0"},
		// Universal macOS, arm64 Windows, rpm and deb arch spellings.
		{"DemoApp_universal.app.tar.gz", RolePayload, p(Darwin, Universal, App), "tar.gz", ""},
		{"DemoApp_1.2.0_universal.dmg", RoleInstaller, p(Darwin, Universal, ""), "dmg", "1.2.0"},
		{"DemoApp_1.2.0_arm64_en-US.msi", RolePayload, p(Windows, AArch64, MSI), "msi", "1.2.0"},
		{"DemoApp_1.2.0_x86-setup.exe", RolePayload, p(Windows, I686, NSIS), "exe", "1.2.0"},
		{"DemoApp-1.2.0-1.aarch64.rpm", RolePayload, p(Linux, AArch64, RPM), "rpm", "1.2.0"},
		{"DemoApp-1.2.0-1.armhfp.rpm", RolePayload, p(Linux, ARMv7, RPM), "rpm", "1.2.0"},
		{"DemoApp-1.2.0-1.i386.rpm", RolePayload, p(Linux, I686, RPM), "rpm", "1.2.0"},
		{"DemoApp_1.2.0_armhf.deb", RolePayload, p(Linux, ARMv7, Deb), "deb", "1.2.0"},
		{"DemoApp_1.2.0_riscv64.AppImage", RolePayload, p(Linux, RISCV64, AppImage), "appimage", "1.2.0"},
		// The product name holds an arch-like word: the last arch word wins.
		{"Armory_1.0.0_x64-setup.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.0.0"},
		{"Arm_1.0.0_aarch64.AppImage", RolePayload, p(Linux, AArch64, AppImage), "appimage", "1.0.0"},
		// Spaces and GitHub's renaming.
		{"My App 1.0.0 Setup.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.0.0"},
		{"My.App_1.0.0_x64-setup.exe", RolePayload, p(Windows, X86_64, NSIS), "exe", "1.0.0"},
		// Checksums and everything else.
		{"SHA256SUMS", RoleChecksums, Platform{}, "", ""},
		{"SHA256SUMS-v1.2.0.txt", RoleChecksums, Platform{}, "", "1.2.0"},
		{"sha256sums-3f2a91c0.txt", RoleChecksums, Platform{}, "", ""},
		{"checksums.txt", RoleChecksums, Platform{}, "", ""},
		{"app_1.0.0_checksums.txt", RoleChecksums, Platform{}, "", "1.0.0"},
		{"DemoApp_1.2.0_x64-setup.exe.sha256", RoleChecksums, Platform{}, "", "1.2.0"},
		{"myapp-macos-sha256.txt", RoleChecksums, Platform{}, "", ""},
		{"myapp_0.1.5_windows_sha256.txt", RoleChecksums, Platform{}, "", "0.1.5"},
		{"sha256sums.txt", RoleChecksums, Platform{}, "", ""},
		{"App.AppImage.sha256sum", RoleChecksums, Platform{}, "", ""},
		{"DemoApp_1.2.0_x64.dmg.sig", RoleOther, Platform{}, "", "1.2.0"},
		{"source.tar.gz", RoleOther, Platform{}, "", ""},
		{"notes.zip", RoleOther, Platform{}, "", ""},
		{"README.md", RoleOther, Platform{}, "", ""},
		{"", RoleOther, Platform{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.name)
			if got.Role != tt.role || got.Platform != tt.platform || got.Format != tt.format || got.Version != tt.version {
				t.Errorf("Classify(%q) = role %v, platform %q, format %q, version %q; want %v, %q, %q, %q",
					tt.name, got.Role, got.Platform, got.Format, got.Version, tt.role, tt.platform, tt.format, tt.version)
			}
			if got.Role == RoleSignature && got.Signs != tt.name[:len(tt.name)-4] {
				t.Errorf("Classify(%q).Signs = %q", tt.name, got.Signs)
			}
		})
	}
}

// TestClassifyFixtures checks that every file the real tools made is
// classified as something, and that every .sig pairs with a payload.
func TestClassifyFixtures(t *testing.T) {
	t.Parallel()
	want := map[string]Role{}
	err := filepath.WalkDir("../testdata/fixtures", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dir := filepath.Base(filepath.Dir(filepath.Dir(path)))
		if dir != "tauri-v2" && dir != "tauri-v1" && dir != "electron" {
			return nil
		}
		a := Classify(d.Name())
		want[d.Name()] = a.Role
		if a.Role == RoleOther {
			t.Errorf("%s: classified as other", path)
		}
		if a.Role == RoleSignature {
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), a.Signs)); err != nil {
				t.Errorf("%s signs %q, which is not beside it", path, a.Signs)
			}
		}
		if (a.Role == RolePayload || a.Role == RoleInstaller) && a.Platform.OS == "" {
			t.Errorf("%s: %v without an OS", path, a.Role)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 30 {
		t.Fatalf("read %d fixture files; testdata/fixtures is incomplete", len(want))
	}
}

func TestClientCompatible(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"DemoApp_x64.app.tar.gz":          true,
		"DemoApp.app.tar.gz":              false, // arch unknown until InferArch
		"DemoApp-1.2.0-mac.zip":           false, // Squirrel.Mac only
		"DemoApp_1.2.0_x64-setup.exe":     true,
		"DemoApp_1.2.0_x64.dmg":           false,
		"DemoApp_1.2.0_amd64.deb":         true,
		"DemoApp_1.2.0_amd64.deb.sig":     false,
		"DemoApp_1.1.0_x64_en-US.msi.zip": true,
	} {
		if got := Classify(name).ClientCompatible(); got != want {
			t.Errorf("Classify(%q).ClientCompatible() = %v, want %v", name, got, want)
		}
	}
}

func TestInferArch(t *testing.T) {
	t.Parallel()
	classify := func(names ...string) []Artifact {
		var out []Artifact
		for _, n := range names {
			out = append(out, Classify(n))
		}
		return out
	}
	tests := []struct {
		name  string
		files []string
		want  Arch
	}{
		{"one dmg tells", []string{"DemoApp.app.tar.gz", "DemoApp_1.1.0_x64.dmg"}, X86_64},
		{"arm dmg tells", []string{"DemoApp.app.tar.gz", "DemoApp_1.1.0_aarch64.dmg"}, AArch64},
		{"two arches: unsure", []string{"DemoApp.app.tar.gz", "DemoApp_1.1.0_aarch64.dmg", "DemoApp_1.1.0_x64.dmg"}, ""},
		{"nothing tells", []string{"DemoApp.app.tar.gz", "DemoApp_1.1.0_amd64.AppImage"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InferArch(classify(tt.files...))
			if got[0].Platform.Arch != tt.want {
				t.Errorf("InferArch(%v)[0].Arch = %q, want %q", tt.files, got[0].Platform.Arch, tt.want)
			}
		})
	}
}

func TestNameHasVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, version string
		want          bool
	}{
		{"DemoApp_1.2.0_x64-setup.exe", "1.2.0", true},
		{"DemoApp-1.2.0-1.x86_64.rpm", "1.2.0", true},
		{"DemoApp-1.2.0-arm64.dmg", "1.2.0", true},
		{"DemoApp Setup 1.2.0.exe", "1.2.0", true},
		{"DemoApp_v1.2.0_x64.msi", "1.2.0", true},
		{"DemoApp_1.2.0-beta.1_x64-setup.exe", "1.2.0-beta.1", true},
		{"DemoApp_1.2.0-beta.1_x64-setup.exe", "1.2.0", false},
		{"DemoApp_1.2.0-beta.10_x64-setup.exe", "1.2.0-beta.1", false},
		{"DemoApp_11.2.0_x64.msi", "1.2.0", false},
		{"DemoApp_1.2.00_x64.msi", "1.2.0", false},
		{"DemoApp_1.2.0.1_x64.msi", "1.2.0", false},
		{"DemoApp_1.1.0_x64.msi", "1.2.0", false},
		{"DemoApp_x64.app.tar.gz", "1.2.0", false},
	}
	for _, tt := range tests {
		if got := NameHasVersion(tt.name, tt.version); got != tt.want {
			t.Errorf("NameHasVersion(%q, %q) = %v, want %v", tt.name, tt.version, got, tt.want)
		}
	}
}

package githubsrc

import (
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"darwin-aarch64", "darwin-aarch64", ""},
		{"darwin-aarch64-app", "darwin-aarch64-app", ""},
		{"macos-arm64", "darwin-aarch64", ""},
		{"darwin-universal", "darwin-universal", ""},
		{"windows-x86_64", "windows-x86_64", ""},
		{"windows-x86_64-nsis", "windows-x86_64-nsis", ""},
		{"windows-x64-wix", "windows-x86_64-msi", ""},
		{"win32-ia32", "windows-i686", ""},
		{"linux-amd64-appimage", "linux-x86_64-appimage", ""},
		{"linux-armhf-deb", "linux-armv7-deb", ""},
		{"linux-x86-64-rpm", "linux-x86_64-rpm", ""},
		{"linux-riscv64", "linux-riscv64", ""},
		{"Linux-X86_64", "linux-x86_64", ""},
		{"linux-x86_64-unknown", "linux-x86_64", ""},
		{"darwin", "", "want {os}-{arch}"},
		{"", "", "want {os}-{arch}"},
		{"freebsd-x86_64", "", "unknown target"},
		{"linux-sparc", "", "unknown arch"},
		{"linux-x86_64-snap", "", "unknown bundle type"},
		{"windows-x86_64-appimage", "", "appimage installer is for linux"},
		{"linux-universal", "", "universal builds exist only for darwin"},
		{"linux-x86_64-deb-extra", "", "want {os}-{arch}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePlatform(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePlatform(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Key() != tt.want {
				t.Fatalf("ParsePlatform(%q) = %q, %v; want %q", tt.in, got.Key(), err, tt.want)
			}
		})
	}
}

func TestCargoPackagerFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[Installer]string{NSIS: "nsis", MSI: "wix", App: "app", AppImage: "appimage", Deb: "", RPM: "", "": ""} {
		if got := CargoPackagerFormat(in); got != want {
			t.Errorf("CargoPackagerFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag, prefix, want, wantErr string
	}{
		{"v1.2.0", "", "1.2.0", ""},
		{"1.2.0", "", "1.2.0", ""},
		{"v1.3.0-beta.1", "", "1.3.0-beta.1", ""},
		{"v1.2.0+build.7", "", "1.2.0+build.7", ""},
		{"desktop-v1.2.0", "desktop-", "1.2.0", ""},
		{"app/v2.0.0", "app/", "2.0.0", ""},
		{"desktop-v1.2.0", "", "", "set the tag prefix"},
		{"v1.2.0", "desktop-", "", "does not start with the tag prefix"},
		{"v1.2", "", "", "does not name a semver version"},
		{"V1.2.0", "", "", "does not name a semver version"},
		{"v01.2.0", "", "", "does not name a semver version"},
		{"nightly", "", "", "does not name a semver version"},
	}
	for _, tt := range tests {
		t.Run(tt.tag+"|"+tt.prefix, func(t *testing.T) {
			v, err := ParseTag(tt.tag, tt.prefix)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTag(%q, %q) = %v, %v; want error containing %q", tt.tag, tt.prefix, v, err, tt.wantErr)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Fatalf("ParseTag(%q, %q) = %v, %v; want %s", tt.tag, tt.prefix, v, err, tt.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"1.2.0": true, "v1.2.0": true, "1.8.0+1": true, "1.0.0-rc.1": true,
		"1.2": false, "latest": false, "": false, "1.2.3.4": false, " 1.2.3": false,
	} {
		if _, err := ParseVersion(in); (err == nil) != ok {
			t.Errorf("ParseVersion(%q) error = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestParseRepo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"owner/name":                 "owner/name",
		"tauri-apps/tauri":           "tauri-apps/tauri",
		"https://github.com/o/r":     "o/r",
		"https://github.com/o/r.git": "o/r",
		" my.org/my_repo ":           "my.org/my_repo",
		"owner":                      "",
		"owner/name/extra":           "",
		"":                           "",
		"own er/name":                "",
		"owner/..":                   "",
	} {
		got, err := ParseRepo(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseRepo(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("ParseRepo(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

func TestAssetName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"DemoApp_1.2.0_x64-setup.exe": "DemoApp_1.2.0_x64-setup.exe",
		"My App 1.0.0 Setup.exe":      "My.App.1.0.0.Setup.exe",
		"App (1).exe":                 "App.1.exe",
		"app+lto-1.0.tar.gz":          "app+lto-1.0.tar.gz",
		".env":                        "default.env",
		"trailing.":                   "trailing",
		"Démo.exe":                    "D.mo.exe",
		"a  b":                        "a.b",
		"":                            "default",
	} {
		if got := AssetName(in); got != want {
			t.Errorf("AssetName(%q) = %q, want %q", in, got, want)
		}
	}
}

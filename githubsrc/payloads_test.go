package githubsrc

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func assets(names ...string) []Asset {
	var out []Asset
	for i, n := range names {
		state := "uploaded"
		if strings.HasPrefix(n, "!") {
			n, state = n[1:], "starter"
		}
		out = append(out, Asset{ID: int64(i + 1), Name: n, State: state})
	}
	return out
}

func TestUpdaterKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		assets  []Asset
		windows Installer
		want    map[string]string // key -> payload name
	}{
		{
			name:   "tauri v2 windows, nsis default",
			assets: assets("A_1.0.0_x64-setup.exe", "A_1.0.0_x64-setup.exe.sig", "A_1.0.0_x64_en-US.msi", "A_1.0.0_x64_en-US.msi.sig"),
			want:   map[string]string{"windows-x86_64": "A_1.0.0_x64-setup.exe", "windows-x86_64-nsis": "A_1.0.0_x64-setup.exe", "windows-x86_64-msi": "A_1.0.0_x64_en-US.msi"},
		},
		{
			name: "msi configured", windows: MSI,
			assets: assets("A_1.0.0_x64-setup.exe", "A_1.0.0_x64-setup.exe.sig", "A_1.0.0_x64_en-US.msi", "A_1.0.0_x64_en-US.msi.sig"),
			want:   map[string]string{"windows-x86_64": "A_1.0.0_x64_en-US.msi", "windows-x86_64-nsis": "A_1.0.0_x64-setup.exe", "windows-x86_64-msi": "A_1.0.0_x64_en-US.msi"},
		},
		{
			name:   "only an msi",
			assets: assets("A_1.0.0_x64_en-US.msi", "A_1.0.0_x64_en-US.msi.sig"),
			want:   map[string]string{"windows-x86_64": "A_1.0.0_x64_en-US.msi", "windows-x86_64-msi": "A_1.0.0_x64_en-US.msi"},
		},
		{
			name:   "nsis shipped but unsigned: no bare key",
			assets: assets("A_1.0.0_x64-setup.exe", "A_1.0.0_x64_en-US.msi", "A_1.0.0_x64_en-US.msi.sig"),
			want:   map[string]string{"windows-x86_64-msi": "A_1.0.0_x64_en-US.msi"},
		},
		{
			name:   "nsis mid-upload: no bare key",
			assets: assets("!A_1.0.0_x64-setup.exe", "A_1.0.0_x64-setup.exe.sig", "A_1.0.0_x64_en-US.msi", "A_1.0.0_x64_en-US.msi.sig"),
			want:   map[string]string{"windows-x86_64-msi": "A_1.0.0_x64_en-US.msi"},
		},
		{
			name:   "linux: bare is the appimage, never the deb",
			assets: assets("A_1.0.0_amd64.deb", "A_1.0.0_amd64.deb.sig", "A-1.0.0-1.x86_64.rpm", "A-1.0.0-1.x86_64.rpm.sig"),
			want:   map[string]string{"linux-x86_64-deb": "A_1.0.0_amd64.deb", "linux-x86_64-rpm": "A-1.0.0-1.x86_64.rpm"},
		},
		{
			name:   "universal fills both darwin arches",
			assets: assets("A_universal.app.tar.gz", "A_universal.app.tar.gz.sig"),
			want: map[string]string{"darwin-universal-app": "A_universal.app.tar.gz", "darwin-universal": "A_universal.app.tar.gz",
				"darwin-aarch64-app": "A_universal.app.tar.gz", "darwin-aarch64": "A_universal.app.tar.gz",
				"darwin-x86_64-app": "A_universal.app.tar.gz", "darwin-x86_64": "A_universal.app.tar.gz"},
		},
		{
			name:   "raw installer preferred over the v1 archive",
			assets: assets("A_1.0.0_amd64.AppImage.tar.gz", "A_1.0.0_amd64.AppImage.tar.gz.sig", "A_1.0.0_amd64.AppImage", "A_1.0.0_amd64.AppImage.sig"),
			want:   map[string]string{"linux-x86_64": "A_1.0.0_amd64.AppImage", "linux-x86_64-appimage": "A_1.0.0_amd64.AppImage"},
		},
		{
			name:   "tauri v1 mac arch from the dmg",
			assets: assets("A.app.tar.gz", "A.app.tar.gz.sig", "A_1.0.0_aarch64.dmg"),
			want:   map[string]string{"darwin-aarch64": "A.app.tar.gz", "darwin-aarch64-app": "A.app.tar.gz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := FindPayloads(tt.assets)
			got := map[string]string{}
			for k, v := range UpdaterKeys(p.ByKey, p.Shipped, tt.windows) {
				got[k.Key()] = v.Asset.Name
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("keys:\n got %v\nwant %v", sorted(got), sorted(tt.want))
			}
		})
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

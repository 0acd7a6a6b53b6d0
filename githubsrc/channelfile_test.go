package githubsrc_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

func TestParseChannelFile(t *testing.T) {
	t.Parallel()
	mac, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "electron", "v1.2.0", "latest-mac.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		version string
		entries []githubsrc.ChannelFileEntry
		wantErr string
	}{
		{"electron-builder's latest-mac.yml", string(mac), "1.2.0", []githubsrc.ChannelFileEntry{
			{URL: "DemoApp-1.2.0-mac.zip", SHA512: "8RzFTBZ0ctWRTWsqS2EveGVbrnYC5w5ymaHOkZYZ5BEpVirwzTq6LjwhnCimuh855vOSi3l2/s+2WkyEP58JVg==", Size: 51000},
			{URL: "DemoApp-1.2.0-arm64-mac.zip", SHA512: "kifyBGf8HT0e7P7FP2rvRHxJUlofBnDYJB/mkYVEfFYIuHeDDy94y3RpuAb4Wp06c7ZtoYve9c82YgSap8NK6g==", Size: 51500},
			{URL: "DemoApp-1.2.0.dmg", SHA512: "2qmwQbKazAa57MfRQDGxICC4Qg4YpgkM1Ll7/ZfHkizpzMuf9r9KEvWy3OQDFmBogONr0CUUQp2FHMlui2z/9Q==", Size: 52000},
			{URL: "DemoApp-1.2.0-arm64.dmg", SHA512: "AXESDJyBJF2aw/DpFWWkVK9fITrw+JF8bWWOAIzO3pEg0bCTKNVV+swJ9ghuk/1lNGQhdWskx8ZnqCe/kVw0nQ==", Size: 52500},
		}, ""},
		{"old style: path and sha512 only", "version: 0.9.0\npath: App Setup 0.9.0.exe\nsha512: abc==\n", "0.9.0",
			[]githubsrc.ChannelFileEntry{{URL: "App Setup 0.9.0.exe", SHA512: "abc=="}}, ""},
		{"blockMapSize kept", "version: 1.0.0\nfiles:\n  - url: a.exe\n    sha512: x\n    size: 3\n    blockMapSize: 7\n", "1.0.0",
			[]githubsrc.ChannelFileEntry{{URL: "a.exe", SHA512: "x", Size: 3, BlockMapSize: 7}}, ""},
		{"not YAML", "version: [1.0\n", "", nil, "yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := githubsrc.ParseChannelFile([]byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseChannelFile = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Version != tt.version || !reflect.DeepEqual(f.Entries(), tt.entries) {
				t.Errorf("ParseChannelFile = %s %+v\nwant %s %+v", f.Version, f.Entries(), tt.version, tt.entries)
			}
			// What Encode writes reads back the same.
			b, err := f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			again, err := githubsrc.ParseChannelFile(b)
			if err != nil || !reflect.DeepEqual(again, f) {
				t.Errorf("round trip: %+v, %v\nwant %+v", again, err, f)
			}
		})
	}
}

func TestChannelFileEntryAssetName(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"DemoApp-1.2.0-mac.zip":   "DemoApp-1.2.0-mac.zip",
		"DemoApp Setup 1.2.0.exe": "DemoApp.Setup.1.2.0.exe",
		"https://github.com/o/r/releases/download/v1.2.0/App-1.2.0.AppImage": "App-1.2.0.AppImage",
		"https://example.com/dl/App%20Setup.exe?x=1":                         "App.Setup.exe",
	} {
		if got := (githubsrc.ChannelFileEntry{URL: url}).AssetName(); got != want {
			t.Errorf("AssetName(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestIsChannelFile(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"latest.yml": true, "latest-mac.yml": true, "beta-linux-arm64.yml": true,
		"latest.json": false, "latest.yaml": false, "latest.yml.blockmap": false,
	} {
		if got := githubsrc.IsChannelFile(name); got != want {
			t.Errorf("IsChannelFile(%q) = %v, want %v", name, got, want)
		}
	}
}

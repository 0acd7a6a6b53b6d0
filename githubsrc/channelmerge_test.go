package githubsrc_test

import (
	"strings"
	"testing"

	"github.com/otapub/ota-action/githubsrc"
)

// The latest-mac.yml that an x64 job and an arm64 job of the fixture's
// build write on their own (electron-builder#5592), each with the files
// of its arch, its own legacy path, and the time it finished.
const (
	macX64Part = `version: 1.2.0
files:
  - url: DemoApp-1.2.0-mac.zip
    sha512: 8RzFTBZ0ctWRTWsqS2EveGVbrnYC5w5ymaHOkZYZ5BEpVirwzTq6LjwhnCimuh855vOSi3l2/s+2WkyEP58JVg==
    size: 51000
  - url: DemoApp-1.2.0.dmg
    sha512: 2qmwQbKazAa57MfRQDGxICC4Qg4YpgkM1Ll7/ZfHkizpzMuf9r9KEvWy3OQDFmBogONr0CUUQp2FHMlui2z/9Q==
    size: 52000
path: DemoApp-1.2.0-mac.zip
sha512: 8RzFTBZ0ctWRTWsqS2EveGVbrnYC5w5ymaHOkZYZ5BEpVirwzTq6LjwhnCimuh855vOSi3l2/s+2WkyEP58JVg==
releaseDate: '2026-11-20T09:58:00.000Z'
`
	macARM64Part = `version: 1.2.0
files:
  - url: DemoApp-1.2.0-arm64-mac.zip
    sha512: kifyBGf8HT0e7P7FP2rvRHxJUlofBnDYJB/mkYVEfFYIuHeDDy94y3RpuAb4Wp06c7ZtoYve9c82YgSap8NK6g==
    size: 51500
  - url: DemoApp-1.2.0-arm64.dmg
    sha512: AXESDJyBJF2aw/DpFWWkVK9fITrw+JF8bWWOAIzO3pEg0bCTKNVV+swJ9ghuk/1lNGQhdWskx8ZnqCe/kVw0nQ==
    size: 52500
path: DemoApp-1.2.0-arm64-mac.zip
sha512: kifyBGf8HT0e7P7FP2rvRHxJUlofBnDYJB/mkYVEfFYIuHeDDy94y3RpuAb4Wp06c7ZtoYve9c82YgSap8NK6g==
releaseDate: '2026-11-20T10:00:00.000Z'
`
)

// TestMergeChannelFilesMac: the two jobs' files merge into the file
// electron-builder writes when one job builds both arches, the fixture's
// latest-mac.yml, whichever job's comes first.
func TestMergeChannelFilesMac(t *testing.T) {
	t.Parallel()
	want := string(readFixture(t, "latest-mac.yml"))
	for _, order := range [][]string{{macX64Part, macARM64Part}, {macARM64Part, macX64Part}} {
		got, err := githubsrc.MergeChannelFiles("latest-mac.yml", []byte(order[0]), []byte(order[1]))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("merged:\n%s\nwant the fixture:\n%s", got, want)
		}
	}
	// Merging is idempotent: the whole file with a part of it is the whole file.
	got, err := githubsrc.MergeChannelFiles("latest-mac.yml", []byte(want), []byte(macARM64Part))
	if err != nil || string(got) != want {
		t.Errorf("merging a part into the whole: %v\n%s", err, got)
	}
}

func TestMergeChannelFiles(t *testing.T) {
	t.Parallel()
	const win = "version: 1.2.0\nfiles:\n  - url: App-Setup-1.2.0-arm64.exe\n    sha512: b==\n    size: 2\n    isAdminRightsRequired: true\npath: App-Setup-1.2.0-arm64.exe\nsha512: b==\nreleaseName: Autumn\nreleaseDate: '2026-11-20T10:00:00.000Z'\n"
	const winX64 = "version: 1.2.0\nfiles:\n  - url: App-Setup-1.2.0-x64.exe\n    sha512: a==\n    size: 1\n    isAdminRightsRequired: true\npath: App-Setup-1.2.0-x64.exe\nsha512: a==\nreleaseName: Autumn\nstagingPercentage: 20\nreleaseDate: '2026-11-20T09:00:00.000Z'\n"
	for _, tc := range []struct {
		name    string
		parts   []string
		want    string
		wantErr string
	}{
		{"one part is itself", []string{macX64Part}, macX64Part, ""},
		{"windows arches, unknown fields kept, a field one part has appended",
			[]string{win, winX64},
			"version: 1.2.0\nfiles:\n  - url: App-Setup-1.2.0-x64.exe\n    sha512: a==\n    size: 1\n    isAdminRightsRequired: true\n  - url: App-Setup-1.2.0-arm64.exe\n    sha512: b==\n    size: 2\n    isAdminRightsRequired: true\npath: App-Setup-1.2.0-x64.exe\nsha512: a==\nreleaseName: Autumn\nreleaseDate: '2026-11-20T10:00:00.000Z'\nstagingPercentage: 20\n", ""},
		{"no legacy path anywhere, none made",
			[]string{"version: 1.0.0\nfiles:\n  - url: a-arm64.AppImage\n    sha512: x\n", "version: 1.0.0\nfiles:\n  - url: a.AppImage\n    sha512: Yw==\n"},
			"version: 1.0.0\nfiles:\n  - url: a.AppImage\n    sha512: Yw==\n  - url: a-arm64.AppImage\n    sha512: x\n", ""},
		{"a legacy path a later part has goes after files",
			[]string{"version: 1.0.0\nfiles:\n  - url: a-arm64-mac.zip\n    sha512: x\nreleaseDate: '2026-01-01T00:00:00.000Z'\n", "version: 1.0.0\nfiles:\n  - url: a-mac.zip\n    sha512: Yw==\npath: a-mac.zip\nsha512: Yw==\n"},
			"version: 1.0.0\nfiles:\n  - url: a-mac.zip\n    sha512: Yw==\n  - url: a-arm64-mac.zip\n    sha512: x\npath: a-mac.zip\nsha512: Yw==\nreleaseDate: '2026-01-01T00:00:00.000Z'\n", ""},
		{"a legacy part (path only) joins as a file",
			[]string{"version: 1.0.0\npath: a.exe\nsha512: x\n", "version: 1.0.0\nfiles:\n  - url: a-arm64.exe\n    sha512: Yw==\n"},
			"version: 1.0.0\npath: a.exe\nsha512: x\nfiles:\n  - url: a.exe\n    sha512: x\n  - url: a-arm64.exe\n    sha512: Yw==\n", ""},
		{"versions differ", []string{macX64Part, strings.Replace(macARM64Part, "1.2.0\n", "1.3.0\n", 1)}, "",
			`latest-mac.yml: part 1 is version "1.2.0", part 2 is version "1.3.0"`},
		{"one url, two files", []string{macX64Part, strings.Replace(macX64Part, "size: 51000", "size: 51001", 1)}, "",
			"latest-mac.yml: DemoApp-1.2.0-mac.zip is in part 1 and part 2 with size 51000 and 51001"},
		{"one url, two hashes", []string{macX64Part, strings.Replace(macX64Part, "8RzFTBZ0", "AAAAAAAA", 1)}, "",
			"DemoApp-1.2.0-mac.zip is in part 1 and part 2 with sha512 8RzFTBZ0ctWRTWsq… and AAAAAAAActWRTWsq…"},
		{"fields differ", []string{win, strings.Replace(winX64, "Autumn", "Winter", 1)}, "",
			`part 1 and part 2 differ in releaseName ("Autumn", "Winter")`},
		{"a field only later parts have, differing", []string{macX64Part, macARM64Part + "stagingPercentage: 10\n", macARM64Part + "stagingPercentage: 20\n"}, "",
			"part 2 and part 3 differ in stagingPercentage"},
		{"bad date", []string{macX64Part, strings.Replace(macARM64Part, "2026-11-20T10:00:00.000Z", "yesterday", 1)}, "",
			`latest-mac.yml part 2: releaseDate "yesterday" is not an ISO 8601 date`},
		{"not YAML", []string{macX64Part, "version: [\n"}, "", "latest-mac.yml part 2: yaml:"},
		{"nothing", nil, "", "latest-mac.yml: no channel files to merge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := make([][]byte, len(tc.parts))
			for i, p := range tc.parts {
				parts[i] = []byte(p)
			}
			got, err := githubsrc.MergeChannelFiles("latest-mac.yml", parts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("merged:\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestMergeChannelDocsLeavesParts: the parts are inputs, not scratch space.
func TestMergeChannelDocsLeavesParts(t *testing.T) {
	t.Parallel()
	a, b := parseDoc(t, macX64Part), parseDoc(t, macARM64Part)
	if _, err := githubsrc.MergeChannelDocs("latest-mac.yml", a, b); err != nil {
		t.Fatal(err)
	}
	if encodeDoc(t, a) != macX64Part || encodeDoc(t, b) != macARM64Part {
		t.Error("MergeChannelDocs changed a part")
	}
}

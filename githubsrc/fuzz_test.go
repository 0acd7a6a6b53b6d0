package githubsrc

import (
	"strings"
	"testing"
)

var fuzzNames = []string{
	"DemoApp_1.2.0_x64-setup.exe", "DemoApp_1.2.0_x64-setup.exe.sig", "DemoApp_1.2.0_x64_en-US.msi",
	"DemoApp_1.1.0_x64_en-US.msi.zip", "DemoApp.app.tar.gz", "DemoApp_universal.app.tar.gz",
	"DemoApp-1.2.0-1.x86_64.rpm", "DemoApp Setup 1.2.0.exe", "DemoApp-1.2.0-arm64-mac.zip",
	"latest-linux-arm64.yml", "SHA256SUMS", "x86-64.sig.sig", ".sig", "-", "x86_64", "a.x86-64.deb",
}

func FuzzClassify(f *testing.F) {
	for _, n := range fuzzNames {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		a := Classify(name)
		if a.Name != name {
			t.Fatalf("Classify(%q).Name = %q", name, a.Name)
		}
		switch a.Role {
		case RoleSignature:
			if a.Signs+".sig" != name || Classify(a.Signs).Role != RolePayload {
				t.Fatalf("Classify(%q): signature of %q, which is not a payload", name, a.Signs)
			}
		case RolePayload, RoleInstaller:
			if a.Platform.OS == "" {
				t.Fatalf("Classify(%q): %v without an OS", name, a.Role)
			}
		}
		if a.Platform.Arch != "" {
			if err := a.Platform.Validate(); err != nil {
				t.Fatalf("Classify(%q) gave an impossible platform %q: %v", name, a.Platform, err)
			}
			if p, err := ParsePlatform(a.Platform.Key()); err != nil || p != a.Platform {
				t.Fatalf("Classify(%q).Platform %q does not round-trip: %v, %v", name, a.Platform, p, err)
			}
		}
		if a.Version != "" && !strings.Contains(name, a.Version) {
			t.Fatalf("Classify(%q).Version = %q, not in the name", name, a.Version)
		}
		_ = NameHasVersion(name, "1.2.0")
	})
}

func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"darwin-aarch64", "windows-x86_64-nsis", "macos-arm64", "linux-x86-64-rpm", "linux-x86_64-unknown", "a-b-c-d", "--", "win32-x86"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, err := ParsePlatform(key)
		if err != nil {
			return
		}
		again, err := ParsePlatform(p.Key())
		if err != nil || again != p {
			t.Fatalf("ParsePlatform(%q) = %q, which parses to %q, %v", key, p.Key(), again.Key(), err)
		}
	})
}

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"v1.2.0", "1.2.0", "v1.3.0-beta.1+build", "desktop-v1.2.0", "v1.2", "v01.2.3", "vv1.2.3"} {
		f.Add(s, "")
		f.Add(s, "desktop-")
	}
	f.Fuzz(func(t *testing.T, tag, prefix string) {
		v, err := ParseTag(tag, prefix)
		if err != nil {
			return
		}
		// What ParseTag accepts prints back as strict semver that parses again.
		again, err := ParseVersion(v.String())
		if err != nil || !again.Equal(v) || again.Original() != v.String() {
			t.Fatalf("ParseTag(%q, %q) = %s, which does not parse back: %v", tag, prefix, v, err)
		}
		if !strings.HasPrefix(tag, prefix) {
			t.Fatalf("ParseTag(%q, %q) accepted a tag without the prefix", tag, prefix)
		}
	})
}

func FuzzAssetName(f *testing.F) {
	for _, n := range append(fuzzNames, "My App 1.0.0 Setup.exe", ".env", "é", "a..b") {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := AssetName(name)
		if got == "" || strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") || strings.Contains(got, "..") {
			t.Fatalf("AssetName(%q) = %q: not a name GitHub keeps", name, got)
		}
		if again := AssetName(got); again != got {
			t.Fatalf("AssetName is not stable: %q -> %q -> %q", name, got, again)
		}
	})
}

package ota

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func valid() Metadata {
	return Metadata{Format: FormatVersion, Sequence: 5, Version: "1.0.0-ota.5", MinBinaryVersion: "1.0.0",
		Archive: "dist.tar.gz", BundleSize: 1234}
}

func TestMetadata(t *testing.T) {
	round, err := ParseMetadata(valid().Encode())
	if err != nil || round.Sequence != 5 || round.Archive != "dist.tar.gz" {
		t.Fatalf("round trip: %+v, %v", round, err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Metadata)
		want   string
	}{
		{"no sequence", func(m *Metadata) { m.Sequence = 0 }, "sequence is missing or 0"},
		{"min binary not semver", func(m *Metadata) { m.MinBinaryVersion = "1.2" }, "min_binary_version"},
		{"min binary missing", func(m *Metadata) { m.MinBinaryVersion = "" }, "min_binary_version: no version"},
		{"bad channel", func(m *Metadata) { m.Channel = "beta channel" }, `channel "beta channel"`},
		{"bad limit", func(m *Metadata) { m.Platforms = []string{"beos"} }, `platform limit "beos"`},
		{"bad limit arch", func(m *Metadata) { m.Platforms = []string{"macos-ppc"} }, `arch "ppc"`},
		{"archive kind", func(m *Metadata) { m.Archive = "dist.rar" }, `archive "dist.rar"`},
		{"size", func(m *Metadata) { m.BundleSize = 0 }, "bundle_size 0"},
		{"format", func(m *Metadata) { m.Format = 2 }, "upgrade otapub"},
		{"no version", func(m *Metadata) { m.Version = "" }, "version is empty"},
	} {
		m := valid()
		tc.change(&m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
		if _, err := ParseMetadata(m.Encode()); err == nil || !strings.Contains(err.Error(), MetadataName) {
			t.Errorf("%s: ParseMetadata %v, want the error to name %s", tc.name, err, MetadataName)
		}
	}
	if _, err := ParseMetadata([]byte(`{"otapub_bundle":1,"sequence":1,"surprise":true}`)); err == nil || !strings.Contains(err.Error(), "surprise") {
		t.Errorf("an unknown field: %v, want it named", err)
	}
}

func TestTargetsAndLimits(t *testing.T) {
	for _, tc := range []struct{ platform, arch, want string }{
		{"macos", "aarch64", "macos-aarch64"},
		{"darwin", "arm64", "macos-aarch64"},
		{"Windows", "x64", "windows-x86_64"},
		{"linux", "x86", "linux-x86"},
		{"android", "arm", "android-arm"},
		{"ios", "aarch64", "ios-aarch64"},
	} {
		got, err := ParseTarget(tc.platform, tc.arch)
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseTarget(%q, %q) = %v, %v; want %s", tc.platform, tc.arch, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{{"beos", "x86_64"}, {"macos", "ppc"}, {"", ""}} {
		if _, err := ParseTarget(bad[0], bad[1]); err == nil {
			t.Errorf("ParseTarget(%q, %q) accepted", bad[0], bad[1])
		}
	}
	got, err := NormalizeLimits([]string{"darwin-arm64", "windows", "macos-aarch64", "linux-amd64"})
	if err != nil || strings.Join(got, ",") != "linux-x86_64,macos-aarch64,windows" {
		t.Errorf("NormalizeLimits = %v, %v", got, err)
	}
}

func TestPick(t *testing.T) {
	cand := func(seq uint64, min, channel string, limits ...string) Candidate {
		m := valid()
		m.Sequence, m.MinBinaryVersion, m.Channel, m.Platforms = seq, min, channel, limits
		c, err := NewCandidate(m)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Highest sequence first, as Pick wants.
	cands := []Candidate{
		cand(9, "1.0.0", "beta"),
		cand(8, "3.0.0", ""),
		cand(7, "2.0.0", "", "macos"),
		cand(6, "2.0.0", ""),
		cand(5, "1.0.0", "production"),
	}
	mac, win := Target{"macos", "aarch64"}, Target{"windows", "x86_64"}
	for _, tc := range []struct {
		name    string
		current uint64
		binary  string
		target  Target
		channel string
		want    uint64 // 0: none
	}{
		{"binary below every minimum", 0, "0.9.0", mac, DefaultChannel, 0},
		{"binary equal to a minimum", 0, "1.0.0", mac, DefaultChannel, 5},
		{"binary between minimums", 0, "1.2.0", win, DefaultChannel, 5},
		{"binary above: platform limit applies", 0, "2.1.0", mac, DefaultChannel, 7},
		{"binary above, other platform", 0, "2.1.0", win, DefaultChannel, 6},
		{"a newer binary takes the newest", 0, "3.0.0", win, DefaultChannel, 8},
		{"up to date", 8, "3.0.0", win, DefaultChannel, 0},
		{"already past the only fit", 6, "2.1.0", win, DefaultChannel, 0},
		{"beta channel sees only beta", 0, "1.0.0", win, "beta", 9},
		{"prerelease binary is below its release", 0, "1.0.0-rc.1", win, DefaultChannel, 0},
		{"unknown channel", 0, "9.0.0", win, "nightly", 0},
	} {
		chk := Check{Current: tc.current, Binary: semver.MustParse(tc.binary), Target: tc.target, Channel: tc.channel}
		i := Pick(cands, chk)
		got := uint64(0)
		if i >= 0 {
			got = cands[i].Sequence
		}
		if got != tc.want {
			t.Errorf("%s: picked sequence %d, want %d", tc.name, got, tc.want)
		}
	}
	chk := Check{Binary: semver.MustParse("1.0.0"), Target: win, Channel: DefaultChannel}
	if n := testing.AllocsPerRun(100, func() { Pick(cands, chk) }); n != 0 {
		t.Errorf("Pick allocates %v times; a check must not allocate", n)
	}
}

type file struct {
	name string
	typ  byte
}

func tarGz(t *testing.T, files ...file) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: 0o644}
		if f.typ == tar.TypeReg {
			h.Size = 4
		}
		if f.typ == tar.TypeSymlink {
			h.Linkname = "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.typ == tar.TypeReg {
			tw.Write([]byte("<hi>"))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func zipOf(t *testing.T, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("<hi>"))
	}
	zw.Close()
	return buf.Bytes()
}

func TestCheckArchive(t *testing.T) {
	reg := func(n string) file { return file{n, tar.TypeReg} }
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" for ok
	}{
		{"dist.tar.gz", tarGz(t, reg("index.html"), reg("assets/app.js")), ""},
		{"dist.tar.gz", tarGz(t, file{"./", tar.TypeDir}, reg("./index.html")), ""},
		{"dist.tgz", tarGz(t, reg("dist/index.html")), "no index.html at the archive's root"},
		{"dist.tar.gz", tarGz(t, reg("index.html"), reg("../evil.js")), "outside the bundle's folder"},
		{"dist.tar.gz", tarGz(t, reg("index.html"), reg("/etc/cron.d/x")), "outside the bundle's folder"},
		{"dist.tar.gz", tarGz(t, file{"index.html", tar.TypeSymlink}), "not a regular file"},
		{"dist.tar.gz", []byte("not gzip"), "read gzip"},
		{"dist.zip", zipOf(t, "index.html", "assets/app.js"), ""},
		{"dist.zip", zipOf(t, "build/index.html"), "no index.html"},
		{"dist.zip", zipOf(t, "index.html", `..\evil.js`), "outside the bundle's folder"},
		{"dist.zip", []byte("PK not really"), "read zip"},
		{"dist.rar", []byte("x"), "not a .tar.gz or .zip"},
	} {
		err := CheckArchive(tc.name, bytes.NewReader(tc.data), int64(len(tc.data)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v", tc.name, tc.data[:min(len(tc.data), 8)], err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	data := tarGz(t, reg("dist/index.html"))
	if err := CheckArchive("x.tar.gz", bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrNoIndex) {
		t.Errorf("a nested index.html: %v, want ErrNoIndex", err)
	}
}

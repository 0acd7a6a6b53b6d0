// Package ota is the vocabulary of frontend hot-swap bundles published as
// GitHub releases, for the sequence-based contract of tauri-plugin-hotswap
// (docs/server-contract.md): the metadata asset that makes a release a
// bundle, the client's platform and arch spellings, and the archive rules
// the client enforces. It does no I/O beyond reading what it is handed.
//
// A bundle is one release carrying three assets: the archive (.tar.gz or
// .zip of the frontend, index.html at its root), the archive's minisign
// .sig, and MetadataName. The metadata asset, not the tag, is what marks a
// release as a bundle, so any tag works; `ota-42` or `v1.4.0-ota.42` read
// well.
package ota

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
)

// MetadataName is the asset that makes a release a hot-swap bundle.
const MetadataName = "ota-bundle.json"

// DefaultChannel is the channel of a bundle published without one, and of
// a check that sends none (the plugin omits channel unless the app set one;
// the contract's examples call the default "production").
const DefaultChannel = "production"

// FormatVersion is the metadata format this package writes and reads.
const FormatVersion = 1

// Metadata is the content of MetadataName.
type Metadata struct {
	Format int `json:"otapub_bundle"`
	// Sequence orders bundles across every channel: the only thing the
	// client compares.
	Sequence uint64 `json:"sequence"`
	// Version is shown to users, never compared.
	Version string `json:"version"`
	// MinBinaryVersion is the oldest native app version the bundle runs on.
	MinBinaryVersion string `json:"min_binary_version"`
	Channel          string `json:"channel"`
	// Mandatory is advisory: the plugin passes it to the app.
	Mandatory bool `json:"mandatory"`
	// Platforms limits the bundle to these targets ("macos",
	// "windows-x86_64"); empty means every target.
	Platforms []string `json:"platforms,omitempty"`
	// Archive names the archive asset; its signature is Archive + ".sig".
	Archive    string `json:"archive"`
	BundleSize int64  `json:"bundle_size"`
}

// ParseMetadata reads and validates a metadata asset.
func ParseMetadata(b []byte) (Metadata, error) {
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Metadata{}, fmt.Errorf("%s: %w", MetadataName, err)
	}
	if err := m.Validate(); err != nil {
		return Metadata{}, fmt.Errorf("%s: %w", MetadataName, err)
	}
	return m, nil
}

// Validate checks what the client and the server rely on.
func (m Metadata) Validate() error {
	var errs []error
	if m.Format != FormatVersion {
		errs = append(errs, fmt.Errorf("otapub_bundle is %d, this otapub reads %d: upgrade otapub", m.Format, FormatVersion))
	}
	if m.Sequence == 0 {
		errs = append(errs, errors.New("sequence is missing or 0: bundles start at 1 (an app that never swapped reports 0)"))
	}
	if m.Version == "" {
		errs = append(errs, errors.New("version is empty: it is what the app shows"))
	}
	if _, err := ParseBinaryVersion(m.MinBinaryVersion); err != nil {
		errs = append(errs, fmt.Errorf("min_binary_version: %w", err))
	}
	if err := ValidateChannel(m.Channel); err != nil {
		errs = append(errs, err)
	}
	for _, p := range m.Platforms {
		if _, err := ParseLimit(p); err != nil {
			errs = append(errs, err)
		}
	}
	if _, ok := ArchiveFormat(m.Archive); !ok {
		errs = append(errs, fmt.Errorf("archive %q: want a .tar.gz or .zip asset name", m.Archive))
	}
	if m.BundleSize <= 0 {
		errs = append(errs, fmt.Errorf("bundle_size %d: want the archive's size in bytes", m.BundleSize))
	}
	return errors.Join(errs...)
}

// Encode writes the metadata as published: indented, newline-terminated.
func (m Metadata) Encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ") // a struct of plain fields always encodes
	return append(b, '\n')
}

// ParseBinaryVersion reads a native binary version: strict semver, as the
// plugin compares it.
func ParseBinaryVersion(s string) (*semver.Version, error) {
	if s == "" {
		return nil, errors.New("no version: want the native app version, like 1.2.0")
	}
	return githubsrc.ParseVersion(s)
}

// ValidateChannel accepts "" (the default channel) and names of letters,
// digits, '-', '_' and '.'.
func ValidateChannel(c string) error {
	if len(c) > 64 {
		return fmt.Errorf("channel %q is longer than 64 characters", c)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("channel %q: use letters, digits, '-', '_' and '.'", c)
		}
	}
	return nil
}

// ChannelOf is the channel a bundle or check is in: c, or DefaultChannel.
func ChannelOf(c string) string {
	if c == "" {
		return DefaultChannel
	}
	return c
}

// Target is what a check runs on, in the plugin's spelling: OS one of
// macos, windows, linux, android, ios; Arch one of x86_64, aarch64, x86,
// arm.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "-" + t.Arch }

var osNames = map[string]string{
	"macos": "macos", "darwin": "macos", "mac": "macos", "osx": "macos",
	"windows": "windows", "win": "windows", "win32": "windows",
	"linux": "linux", "android": "android", "ios": "ios",
}

var archNames = map[string]string{
	"x86_64": "x86_64", "x64": "x86_64", "amd64": "x86_64",
	"aarch64": "aarch64", "arm64": "aarch64",
	"x86": "x86", "i686": "x86", "i386": "x86", "ia32": "x86",
	"arm": "arm", "armv7": "arm", "armhf": "arm",
}

// ParseTarget reads a check's platform and arch query values.
func ParseTarget(platform, arch string) (Target, error) {
	os, ok := osNames[strings.ToLower(platform)]
	if !ok {
		return Target{}, fmt.Errorf("platform %q: want macos, windows, linux, android or ios", platform)
	}
	a, ok := archNames[strings.ToLower(arch)]
	if !ok {
		return Target{}, fmt.Errorf("arch %q: want x86_64, aarch64, x86 or arm", arch)
	}
	return Target{OS: os, Arch: a}, nil
}

// Limit is one entry of a bundle's platform limits: an OS, and an arch
// or "" for every arch.
type Limit struct{ OS, Arch string }

func (l Limit) String() string {
	if l.Arch == "" {
		return l.OS
	}
	return l.OS + "-" + l.Arch
}

// ParseLimit reads "macos" or "macos-aarch64" (client and Tauri spellings
// both: "darwin-arm64" is macos-aarch64).
func ParseLimit(s string) (Limit, error) {
	osPart, archPart, hasArch := strings.Cut(strings.ToLower(s), "-")
	os, ok := osNames[osPart]
	if !ok {
		return Limit{}, fmt.Errorf("platform limit %q: want an OS (macos, windows, linux, android, ios), optionally with -ARCH (macos-aarch64)", s)
	}
	if !hasArch {
		return Limit{OS: os}, nil
	}
	a, ok := archNames[archPart]
	if !ok {
		return Limit{}, fmt.Errorf("platform limit %q: arch %q is not x86_64, aarch64, x86 or arm", s, archPart)
	}
	return Limit{OS: os, Arch: a}, nil
}

// NormalizeLimits parses, de-duplicates and sorts platform limits, so the
// metadata always spells them one way.
func NormalizeLimits(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		l, err := ParseLimit(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ArchiveFormat says whether name is an archive the plugin extracts:
// "tar.gz" or "zip".
func ArchiveFormat(name string) (string, bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz"):
		return "tar.gz", true
	case strings.HasSuffix(lower, ".zip"):
		return "zip", true
	}
	return "", false
}

// ErrNoIndex is wrapped by CheckArchive when index.html is not at the root.
var ErrNoIndex = errors.New("no index.html at the archive's root")

// CheckArchive reads the archive named name (size bytes from r) and checks
// that index.html is a file at its root, and that no entry would land
// outside the folder it is extracted to.
func CheckArchive(name string, r io.ReaderAt, size int64) error {
	format, ok := ArchiveFormat(name)
	if !ok {
		return fmt.Errorf("%s: not a .tar.gz or .zip", name)
	}
	var entries []entry
	var err error
	if format == "zip" {
		entries, err = zipEntries(r, size)
	} else {
		entries, err = tarEntries(io.NewSectionReader(r, 0, size))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	index := false
	for _, e := range entries {
		clean := path.Clean(strings.TrimPrefix(e.name, "./"))
		if path.IsAbs(e.name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(e.name, `\`) {
			return fmt.Errorf("%s: entry %q would be extracted outside the bundle's folder", name, e.name)
		}
		if clean == "index.html" && !e.regular {
			return fmt.Errorf("%s: index.html at the root is not a regular file", name)
		}
		index = index || clean == "index.html"
	}
	if !index {
		return fmt.Errorf("%s: %w (archive the frontend's dist folder from inside it: tar -czf bundle.tar.gz -C dist .)", name, ErrNoIndex)
	}
	return nil
}

// entry is an archive member other than a folder.
type entry struct {
	name    string
	regular bool
}

func zipEntries(r io.ReaderAt, size int64) ([]entry, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("read zip: %w", err)
	}
	var out []entry
	for _, f := range zr.File {
		if !f.Mode().IsDir() {
			out = append(out, entry{name: f.Name, regular: f.Mode().IsRegular()})
		}
	}
	return out, nil
}

// tarEntries reads a gzipped tar's headers, streaming.
func tarEntries(r io.Reader) ([]entry, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read gzip: %w", err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		if h.Typeflag != tar.TypeDir {
			out = append(out, entry{name: h.Name, regular: h.Typeflag == tar.TypeReg})
		}
	}
}

// Candidate is what choosing a bundle needs to know of it, parsed once
// when a release list is read.
type Candidate struct {
	Sequence  uint64
	MinBinary *semver.Version
	Channel   string // ChannelOf'd
	Limits    []Limit
}

// NewCandidate parses a valid bundle's metadata for Pick.
func NewCandidate(m Metadata) (Candidate, error) {
	min, err := ParseBinaryVersion(m.MinBinaryVersion)
	if err != nil {
		return Candidate{}, err
	}
	c := Candidate{Sequence: m.Sequence, MinBinary: min, Channel: ChannelOf(m.Channel)}
	for _, s := range m.Platforms {
		l, err := ParseLimit(s)
		if err != nil {
			return Candidate{}, err
		}
		c.Limits = append(c.Limits, l)
	}
	return c, nil
}

// Check is an app's question: it runs bundle Current (0 before its first
// swap) on native Binary, on Target, in Channel (ChannelOf'd).
type Check struct {
	Current uint64
	Binary  *semver.Version
	Target  Target
	Channel string
}

// Pick returns the index of the bundle to offer: the highest sequence
// above the app's, in its channel, allowed on its target, whose minimum
// binary version the app has; -1 when there is none. cands must be sorted
// by Sequence, highest first.
func Pick(cands []Candidate, chk Check) int {
	for i := range cands {
		c := &cands[i]
		if c.Sequence <= chk.Current {
			return -1
		}
		if c.Channel == chk.Channel && c.allows(chk.Target) && !chk.Binary.LessThan(c.MinBinary) {
			return i
		}
	}
	return -1
}

func (c *Candidate) allows(t Target) bool {
	if len(c.Limits) == 0 {
		return true
	}
	for _, l := range c.Limits {
		if l.OS == t.OS && (l.Arch == "" || l.Arch == t.Arch) {
			return true
		}
	}
	return false
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"aead.dev/minisign"
	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/publisher"
)

// bundleConfig holds upload's flags for a frontend hot-swap bundle
// (`otapub upload TAG BUNDLE --ota-sequence N ...`).
type bundleConfig struct {
	sequence                            uint64
	minBinary, channel, version, maxStr string
	mandatory, allowLower               bool
}

// bundleFlagNames are the flags that make sense only with --ota-sequence.
var bundleFlagNames = []string{"min-binary-version", "mandatory", "channel", "platform", "ota-version", "max-bundle-size", "allow-lower-sequence"}

func (b *bundleConfig) flags() []cli.Flag {
	return []cli.Flag{
		&cli.Uint64Flag{Name: "ota-sequence", Usage: "upload a frontend hot-swap bundle with this `sequence` (1, 2, …: global across channels, the only thing apps compare); TAG then names the bundle's own release and PATH is its .tar.gz or .zip", Destination: &b.sequence},
		&cli.StringFlag{Name: "min-binary-version", Usage: "the oldest native app `version` (semver) the bundle runs on; required with --ota-sequence", Destination: &b.minBinary},
		&cli.BoolFlag{Name: "mandatory", Usage: "mark the bundle mandatory (advisory: the app decides)", Destination: &b.mandatory},
		&cli.StringFlag{Name: "channel", Usage: "the bundle's `channel` (default: " + ota.DefaultChannel + ")", Destination: &b.channel},
		&cli.StringSliceFlag{Name: "platform", Usage: "limit the bundle to these `targets`, comma-separated or repeated: macos, windows-x86_64, linux-aarch64 (default: every target)"},
		&cli.StringFlag{Name: "ota-version", Usage: "the `version` the app shows for the bundle, never compared (default: the tag, without the v of a version tag)", Destination: &b.version},
		&cli.StringFlag{Name: "max-bundle-size", Usage: "refuse an archive larger than `SIZE`: bytes, or with KB, MB, GB, KiB, MiB or GiB", Destination: &b.maxStr},
		&cli.BoolFlag{Name: "allow-lower-sequence", Usage: "accept a sequence not above the highest published bundle's", Destination: &b.allowLower},
	}
}

// bundleUpload is a bundle upload as the flags describe it.
type bundleUpload struct {
	archive string
	opts    publisher.BundleOptions
	seq     publisher.SequenceOptions
}

// parse returns the bundle the flags describe, nil for a native upload, or
// a usage error.
func (b *bundleConfig) parse(c *cli.Context, paths []string) (*bundleUpload, error) {
	if !c.IsSet("ota-sequence") {
		for _, n := range bundleFlagNames {
			if c.IsSet(n) {
				return nil, usageError{fmt.Errorf("--%s describes a hot-swap bundle: pass --ota-sequence N too", n)}
			}
		}
		return nil, nil
	}
	if b.sequence == 0 {
		return nil, usageError{errors.New("--ota-sequence 0: bundles start at 1 (an app that never swapped reports 0)")}
	}
	if len(paths) != 1 {
		return nil, usageError{fmt.Errorf("a hot-swap bundle is one archive: otapub upload TAG BUNDLE.tar.gz --ota-sequence %d (got %d paths)", b.sequence, len(paths))}
	}
	if b.minBinary == "" {
		return nil, usageError{errors.New("--min-binary-version is required with --ota-sequence: the oldest native app version the bundle runs on, such as 2.0.0")}
	}
	if _, err := ota.ParseBinaryVersion(b.minBinary); err != nil {
		return nil, usageError{fmt.Errorf("--min-binary-version %q: %w", b.minBinary, err)}
	}
	if err := ota.ValidateChannel(b.channel); err != nil {
		return nil, usageError{fmt.Errorf("--channel: %w", err)}
	}
	var platforms []string
	for _, v := range c.StringSlice("platform") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				platforms = append(platforms, p)
			}
		}
	}
	if _, err := ota.NormalizeLimits(platforms); err != nil {
		return nil, usageError{fmt.Errorf("--platform: %w", err)}
	}
	var maxSize int64
	if b.maxStr != "" {
		n, err := parseSize(b.maxStr)
		if err != nil {
			return nil, usageError{fmt.Errorf("--max-bundle-size: %w", err)}
		}
		maxSize = n
	}
	return &bundleUpload{
		archive: paths[0],
		opts: publisher.BundleOptions{Sequence: b.sequence, Version: b.version, MinBinaryVersion: b.minBinary, Channel: b.channel,
			Mandatory: b.mandatory, Platforms: platforms, MaxBundleSize: maxSize},
		seq: publisher.SequenceOptions{AllowLower: b.allowLower},
	}, nil
}

// plan checks the bundle locally: the archive, its .sig (with pub, the
// signature too) and the flags.
func (u *bundleUpload) plan(ctx context.Context, out *reporter, tag string, pub *minisign.PublicKey) (publisher.BundlePlan, error) {
	p, err := publisher.NewBundlePlan(ctx, tag, u.archive, u.opts)
	if err != nil {
		return p, err
	}
	m := p.Metadata
	limits := "every target"
	if len(m.Platforms) > 0 {
		limits = strings.Join(m.Platforms, ", ")
	}
	out.printf("bundle %s: sequence %d, version %s, channel %s, min binary %s, %s; %d bytes, index.html at its root\n",
		m.Archive, m.Sequence, m.Version, m.Channel, m.MinBinaryVersion, limits, m.BundleSize)
	if pub != nil {
		if err := p.CheckSignature(ctx, *pub); err != nil {
			return p, err
		}
		out.printf("the signature verifies against the public key\n")
	}
	return p, nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// parseSize reads a size: bytes, or a number with a unit (50MB, 64MiB).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f <= 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q: want a positive size in bytes, or with KB, MB, GB, KiB, MiB or GiB (50MB, 64MiB)", s)
	}
	return int64(f * float64(mult)), nil
}

package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"aead.dev/minisign"
	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
)

// A frontend hot-swap bundle is one release carrying three assets: the
// archive, its .sig and ota.MetadataName, which otapub writes from the
// upload's flags. The metadata asset, not the tag, makes the release a
// bundle (see githubsrc/ota). A bundle release is judged by the bundle
// checks only (bundle_verify.go); the native checks leave it alone.

// BundleOptions describe the bundle an upload publishes: the fields of
// its metadata that do not come from the archive.
type BundleOptions struct {
	Sequence uint64
	// Version is what the app shows; default the tag (without the v of
	// a version tag: v1.4.0-ota.6 shows as 1.4.0-ota.6).
	Version          string
	MinBinaryVersion string
	Channel          string // "" is ota.DefaultChannel
	Mandatory        bool
	Platforms        []string // limits, any spelling ParseLimit reads
	// MaxBundleSize refuses a larger archive; 0 means no limit.
	MaxBundleSize int64
}

// BundlePlan is what a bundle upload puts on the draft for its tag:
// Files are the archive, its .sig and the metadata (in memory).
type BundlePlan struct {
	Plan
	Metadata ota.Metadata
	Archive  File
	Sig      File
}

// NewBundlePlan checks a bundle archive and its .sig (archive + ".sig",
// beside it, as otapub sign writes it) and makes the plan that uploads
// them with the metadata. The tag need not be a version: a bundle's plan
// skips NewPlan's version checks, which are the native lane's.
func NewBundlePlan(ctx context.Context, tag, archive string, opts BundleOptions) (BundlePlan, error) {
	if strings.TrimSpace(tag) == "" || strings.ContainsAny(tag, " \t\n") {
		return BundlePlan{}, fmt.Errorf("tag %q: want a tag without spaces, such as ota-6 or v1.4.0-ota.6", tag)
	}
	info, err := os.Stat(archive)
	if err != nil {
		return BundlePlan{}, fmt.Errorf("bundle %s: %w", archive, err)
	}
	name := githubsrc.AssetName(filepath.Base(archive))
	switch _, ok := ota.ArchiveFormat(name); {
	case info.IsDir():
		return BundlePlan{}, fmt.Errorf("bundle %s is a folder: archive it from inside (tar -czf dist.tar.gz -C dist .) and sign the archive", archive)
	case !ok:
		return BundlePlan{}, fmt.Errorf("bundle %s: the hot-swap plugin extracts .tar.gz or .zip archives: archive the frontend as one", archive)
	case nativeName(name) != "":
		return BundlePlan{}, fmt.Errorf("bundle %s is named like %s: an update server could offer it to the native updaters; name it like dist.tar.gz or frontend-6.zip", archive, nativeName(name))
	case info.Size() == 0:
		return BundlePlan{}, fmt.Errorf("bundle %s is empty", archive)
	case info.Size() > githubsrc.MaxAssetSize:
		return BundlePlan{}, fmt.Errorf("bundle %s is %d bytes: GitHub takes at most 2 GiB per asset", archive, info.Size())
	case opts.MaxBundleSize > 0 && info.Size() > opts.MaxBundleSize:
		return BundlePlan{}, fmt.Errorf("bundle %s is %d bytes, over --max-bundle-size %d: make the frontend smaller, or raise the limit if the app's max_bundle_size allows it", archive, info.Size(), opts.MaxBundleSize)
	}
	sigInfo, err := os.Stat(archive + ".sig")
	if err != nil {
		return BundlePlan{}, fmt.Errorf("bundle %s has no signature %s.sig beside it: sign it with otapub sign %s (the app refuses unsigned bundles)", archive, archive, archive)
	}
	if err := checkArchiveFile(archive, name, info.Size()); err != nil {
		return BundlePlan{}, err
	}
	version := opts.Version
	if version == "" {
		version = tag
		if len(tag) > 1 && tag[0] == 'v' && tag[1] >= '0' && tag[1] <= '9' {
			version = tag[1:] // v1.4.0-ota.6 shows as 1.4.0-ota.6
		}
	}
	limits, err := ota.NormalizeLimits(opts.Platforms)
	if err != nil {
		return BundlePlan{}, err
	}
	m := ota.Metadata{
		Format: ota.FormatVersion, Sequence: opts.Sequence, Version: version, MinBinaryVersion: opts.MinBinaryVersion,
		Channel: ota.ChannelOf(opts.Channel), Mandatory: opts.Mandatory, Platforms: limits, Archive: name, BundleSize: info.Size(),
	}
	if err := m.Validate(); err != nil {
		return BundlePlan{}, fmt.Errorf("bundle %s: %w", archive, err)
	}
	files := []File{
		{Path: archive, Name: name, Size: info.Size(), Artifact: githubsrc.Classify(name)},
		{Path: archive + ".sig", Name: name + ".sig", Size: sigInfo.Size(), Artifact: githubsrc.Classify(name + ".sig")},
	}
	if err := Hash(ctx, files, 2); err != nil {
		return BundlePlan{}, err
	}
	meta := memFile(ota.MetadataName, m.Encode())
	return BundlePlan{
		Plan:     Plan{Tag: tag, Files: []File{files[0], files[1], meta}},
		Metadata: m, Archive: files[0], Sig: files[1],
	}, nil
}

func checkArchiveFile(path, name string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return ota.CheckArchive(name, f, size)
}

// CheckSignature verifies the bundle's .sig against the archive and pub
// before anything is uploaded.
func (b BundlePlan) CheckSignature(ctx context.Context, pub minisign.PublicKey) error {
	if err := checkOne(ctx, b.Archive, b.Sig, pub, ""); err != nil {
		return fmt.Errorf("the signature of %s does not verify against the public key; nothing was uploaded: %w", b.Archive.Path, err)
	}
	return nil
}

// BundleReleases is what the sequence checks read: every release of the
// repository, drafts included, and the bytes of their metadata assets.
// *githubsrc.Client has it.
type BundleReleases interface {
	ListReleases(ctx context.Context, repo githubsrc.Repo, prev *githubsrc.Listing) (*githubsrc.Listing, error)
	OpenAsset(ctx context.Context, repo githubsrc.Repo, assetID int64) (io.ReadCloser, error)
}

// BundleRelease is a release that carries ota.MetadataName.
type BundleRelease struct {
	Release githubsrc.Release
	// Sequence is the metadata's sequence, 0 when it could not be read.
	Sequence uint64
	// Err says why the metadata is not valid, or could not be read (an
	// upload still in progress); nil when it is.
	Err error
}

// maxMetadata bounds a metadata asset read.
const maxMetadata = 1 << 20

// ScanBundles lists every release of repo and reads the metadata of those
// that carry ota.MetadataName: sequences are global, across channels,
// drafts included.
func ScanBundles(ctx context.Context, gh BundleReleases, repo githubsrc.Repo) ([]BundleRelease, error) {
	listing, err := gh.ListReleases(ctx, repo, nil)
	if err != nil {
		return nil, err
	}
	return readBundles(ctx, gh, repo, listing.Releases)
}

// readBundles reads the metadata of the releases that carry ota.MetadataName.
func readBundles(ctx context.Context, gh BundleReleases, repo githubsrc.Repo, releases []githubsrc.Release) ([]BundleRelease, error) {
	var out []BundleRelease
	var metas []githubsrc.Asset
	for _, r := range releases {
		for _, a := range r.Assets {
			if a.Name == ota.MetadataName {
				out = append(out, BundleRelease{Release: r})
				metas = append(metas, a)
			}
		}
	}
	var g errgroup.Group
	g.SetLimit(4)
	var mu sync.Mutex
	for i, a := range metas {
		if !a.Uploaded() {
			out[i].Err = fmt.Errorf("%s is stuck in state %q", a.Name, a.State)
			continue
		}
		g.Go(func() error {
			seq, err := readSequence(ctx, gh, repo, a)
			mu.Lock()
			out[i].Sequence, out[i].Err = seq, err
			mu.Unlock()
			if err != nil && !errors.Is(err, githubsrc.ErrNotFound) && !errors.Is(err, errBadMetadata) {
				return err // could not ask: the caller must not guess
			}
			return nil // deleted since the listing, or broken: it holds what it says
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// errBadMetadata marks a metadata asset that was read but is not valid.
var errBadMetadata = errors.New("invalid bundle metadata")

// readSequence reads a metadata asset's sequence. Invalid metadata still
// yields its sequence when it has one, so a broken bundle keeps its number.
func readSequence(ctx context.Context, gh BundleReleases, repo githubsrc.Repo, a githubsrc.Asset) (uint64, error) {
	rc, err := gh.OpenAsset(ctx, repo, a.ID)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMetadata))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", a.Name, err)
	}
	m, err := ota.ParseMetadata(b)
	if err == nil {
		return m.Sequence, nil
	}
	var loose struct {
		Sequence uint64 `json:"sequence"`
	}
	_ = json.Unmarshal(b, &loose)
	return loose.Sequence, fmt.Errorf("%w: %w", errBadMetadata, err)
}

// SequenceOptions relax CheckSequence.
type SequenceOptions struct {
	// AllowLower accepts a sequence not above the highest published one
	// (a bundle for an older binary, published after a newer one).
	AllowLower bool
}

// CheckSequence refuses a sequence that another release (any tag but
// tag; draft or published; any channel) already uses, and, unless
// opts.AllowLower, one not above the highest published bundle's: clients
// only ever move to a higher sequence.
func CheckSequence(bundles []BundleRelease, tag string, seq uint64, opts SequenceOptions) error {
	var used []string
	var highest uint64
	highestTag := ""
	for _, b := range bundles {
		if b.Release.Tag == tag {
			continue // this bundle's own draft or release: a re-run
		}
		if b.Sequence == seq {
			state := "published"
			if b.Release.Draft {
				state = "draft"
			}
			used = append(used, fmt.Sprintf("%s (%s)", b.Release.Tag, state))
		}
		if !b.Release.Draft && b.Sequence > highest {
			highest, highestTag = b.Sequence, b.Release.Tag
		}
	}
	if len(used) > 0 {
		slices.Sort(used)
		return fmt.Errorf("sequence %d is already used by %s: sequences are global across channels; use --ota-sequence %d, or delete that release if it was a mistake",
			seq, strings.Join(used, ", "), maxSeq(bundles)+1)
	}
	if seq <= highest && !opts.AllowLower {
		return fmt.Errorf("sequence %d is not above %d, the highest published bundle's (%s): apps that have it would never take this one; use --ota-sequence %d, or pass --allow-lower-sequence if this bundle is for apps that cannot run %s",
			seq, highest, highestTag, highest+1, highestTag)
	}
	return nil
}

func maxSeq(bundles []BundleRelease) uint64 {
	var m uint64
	for _, b := range bundles {
		m = max(m, b.Sequence)
	}
	return m
}

// nativeName says what native release file name looks like ("a Tauri
// updater payload for darwin-aarch64"), or "" when it looks like none.
func nativeName(name string) string {
	art := githubsrc.Classify(name)
	switch art.Role {
	case githubsrc.RoleOther:
		return ""
	case githubsrc.RolePayload:
		return "an updater payload for " + art.Platform.Key()
	}
	return "a native release file (" + art.Role.String() + ")"
}

// isBundle reports whether assets make a release a hot-swap bundle.
func isBundle(assets []githubsrc.Asset) bool {
	for _, a := range assets {
		if a.Name == ota.MetadataName {
			return true
		}
	}
	return false
}

// BundleStore is what a bundle upload needs: the draft and its assets,
// and every release of the repository for the sequence checks.
type BundleStore interface {
	Releases
	BundleReleases
}

// UploadBundle checks plan's sequence against every bundle of the
// repository (CheckSequence) and then uploads its three files with
// Upload, which keeps all of upload's guarantees: one draft however many
// jobs, re-runs skip what landed, repair what broke, and refuse to change
// what differs without --replace. Nothing is uploaded when a check fails.
func UploadBundle(ctx context.Context, gh BundleStore, plan BundlePlan, seq SequenceOptions, opts UploadOptions) (UploadReport, error) {
	refused := UploadReport{DryRun: opts.DryRun}
	listing, err := gh.ListReleases(ctx, opts.Repo, nil)
	if err != nil {
		return refused, err
	}
	if err := checkOwnRelease(listing.Releases, plan); err != nil {
		return refused, fmt.Errorf("%w; nothing was uploaded", err)
	}
	bundles, err := readBundles(ctx, gh, opts.Repo, listing.Releases)
	if err != nil {
		return refused, err
	}
	if err := CheckSequence(bundles, plan.Tag, plan.Metadata.Sequence, seq); err != nil {
		return refused, fmt.Errorf("%w; nothing was uploaded", err)
	}
	return Upload(ctx, gh, plan.Plan, opts)
}

// checkOwnRelease refuses to turn a release that holds other files (a
// native release) into a bundle: a bundle needs a release of its own.
// What an interrupted run of this upload left (some of its files, a run
// manifest, a replacement's temporary asset) is no obstacle.
func checkOwnRelease(releases []githubsrc.Release, plan BundlePlan) error {
	mine := map[string]bool{}
	for _, f := range plan.Files {
		mine[f.Name] = true
	}
	var others []string
	for _, r := range releases {
		if r.Tag != plan.Tag || isBundle(r.Assets) {
			continue
		}
		for _, a := range r.Assets {
			if !mine[a.Name] && !strings.HasPrefix(a.Name, tmpPrefix) && githubsrc.Classify(a.Name).Role != githubsrc.RoleChecksums {
				others = append(others, a.Name)
			}
		}
	}
	if len(others) > 0 {
		slices.Sort(others)
		return fmt.Errorf("release %s already holds other files (%s): a bundle needs a release of its own; give it another tag, such as ota-%d",
			plan.Tag, strings.Join(others, ", "), plan.Metadata.Sequence)
	}
	return nil
}

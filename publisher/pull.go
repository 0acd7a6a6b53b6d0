package publisher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"aead.dev/minisign"
	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// PullOptions configure Pull.
type PullOptions struct {
	Repo githubsrc.Repo
	Tag  string
	// Dir receives the release's assets and its ReleaseMetadataFile; it is
	// created when missing.
	Dir string
	// PubKey, when set, checks every updater payload's signature before
	// the payload gets its real name.
	PubKey *minisign.PublicKey
	// Concurrency is how many assets download at once (default 4).
	Concurrency int
	Progress    Progress
	Log         *slog.Logger
}

// ReleaseReader is what Pull needs from a release store; *githubsrc.Client
// has it.
type ReleaseReader interface {
	ReleasesByTag(ctx context.Context, repo githubsrc.Repo, tag string) ([]githubsrc.Release, error)
	Assets(ctx context.Context, repo githubsrc.Repo, releaseID int64) ([]githubsrc.Asset, error)
	OpenAsset(ctx context.Context, repo githubsrc.Repo, assetID int64) (io.ReadCloser, error)
}

// ReleaseMetadataFile is the file in a release's folder that `serve --dir`
// reads the release's name, notes, date and prerelease flag from.
const ReleaseMetadataFile = "release.json"

// ReleaseMetadata is the content of ReleaseMetadataFile.
type ReleaseMetadata struct {
	Name        string    `json:"name"`
	Notes       string    `json:"notes"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	Prerelease  bool      `json:"prerelease"`
	Draft       bool      `json:"draft,omitempty"`
}

// partialSuffix marks a file Pull is still writing or checking. The name
// starts with a dot as well, so `serve --dir` and upload's folder walk
// never take it for an asset.
const partialSuffix = ".otapub-partial"

// PullReport says what Pull did.
type PullReport struct {
	Repo      string       `json:"repo"`
	Tag       string       `json:"tag"`
	ReleaseID int64        `json:"release_id"`
	Draft     bool         `json:"draft"`
	Dir       string       `json:"dir"`
	Files     []PulledFile `json:"files"`
	Problems  []Problem    `json:"problems"`
	// Bytes were downloaded; files already in Dir with the right bytes
	// cost none.
	Bytes      int64 `json:"bytes_downloaded"`
	Signatures int   `json:"signatures_checked"`
}

// PulledFile is one asset's outcome.
type PulledFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Action Action `json:"action"`
	// CheckedBy lists what vouched for the bytes: "github-digest", a
	// manifest's name, "signature".
	CheckedBy []string `json:"checked_by,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Pull actions.
const (
	ActionDownload Action = "download" // fetched, checked and renamed into place
	ActionKeep     Action = "keep"     // already in Dir with the checked bytes
)

// Pull downloads the release for opts.Tag into opts.Dir. Each asset is
// written under a temporary name, checked against GitHub's digest, every
// line of the release's checksum manifests that names it and, with
// opts.PubKey, its signature, and only then renamed: Dir never holds a
// wrong or partial file under a real name. A file already in Dir whose
// bytes pass the same checks is kept, so a re-run after an interruption
// downloads only what is missing. It returns *IncompleteError naming each
// asset that could not be pulled or failed a check.
func Pull(ctx context.Context, gh ReleaseReader, opts PullOptions) (PullReport, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Progress == nil {
		opts.Progress = nopProgress{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	rep := PullReport{Repo: opts.Repo.String(), Tag: opts.Tag, Dir: opts.Dir}
	rel, err := pullRelease(ctx, gh, opts)
	if err != nil {
		return rep, err
	}
	rep.ReleaseID, rep.Draft = rel.ID, rel.Draft
	assets, err := gh.Assets(ctx, opts.Repo, rel.ID)
	if err != nil {
		return rep, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return rep, fmt.Errorf("pull %s: create %s: %w", opts.Tag, opts.Dir, err)
	}
	p := &puller{gh: gh, opts: opts, rep: &rep}
	p.removePartials()
	p.plan(assets)

	// Manifests and signatures first: small, read whole, and what the
	// payloads are checked against. They are checked themselves (digest,
	// and any manifest that lists them) before they are written.
	var small, large []githubsrc.Asset
	for _, a := range p.assets {
		if p.isText(a) {
			small = append(small, a)
		} else {
			large = append(large, a)
		}
	}
	p.each(ctx, small, p.readText)
	p.parseManifests()
	p.each(ctx, small, p.pullOne)
	p.each(ctx, large, p.pullOne)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if err := p.writeMetadata(rel); err != nil {
		return rep, err
	}
	slices.SortFunc(rep.Files, func(a, b PulledFile) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Asset, b.Asset) })
	if len(rep.Problems) > 0 {
		return rep, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: rep.Problems}
	}
	return rep, nil
}

// pullRelease picks the published release for the tag, else its one draft.
func pullRelease(ctx context.Context, gh ReleaseReader, opts PullOptions) (githubsrc.Release, error) {
	rels, err := gh.ReleasesByTag(ctx, opts.Repo, opts.Tag)
	if err != nil {
		return githubsrc.Release{}, err
	}
	var drafts []githubsrc.Release
	for _, r := range rels {
		if !r.Draft {
			return r, nil
		}
		drafts = append(drafts, r)
	}
	switch len(drafts) {
	case 0:
		return githubsrc.Release{}, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: []Problem{{
			Check: CheckRelease, Message: fmt.Sprintf("no release or draft for tag %s in %s", opts.Tag, opts.Repo),
			Fix: "check the tag and --repo (drafts are visible only with a token that has push access)"}}}
	case 1:
		return drafts[0], nil
	}
	ids := make([]string, len(drafts))
	for i, d := range drafts {
		ids[i] = fmt.Sprint(d.ID)
	}
	return githubsrc.Release{}, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: []Problem{{
		Check: CheckRelease, Message: fmt.Sprintf("%d drafts share tag %s (IDs %s)", len(drafts), opts.Tag, strings.Join(ids, ", ")),
		Fix: "delete the extra drafts, or run otapub upload again to merge them"}}}
}

type puller struct {
	gh   ReleaseReader
	opts PullOptions

	assets   []githubsrc.Asset
	payloads map[string]githubsrc.Payload // by payload name, with --pubkey

	mu      sync.Mutex
	rep     *PullReport
	texts   map[string][]byte
	covers  map[string][]manifestClaim // by asset name
	problem map[string]bool            // assets with a problem already
}

// manifestClaim is one manifest line's word on a file.
type manifestClaim struct {
	manifest string
	line     int
	sha256   string
}

// removePartials deletes what an interrupted run left under temporary names.
func (p *puller) removePartials() {
	leftovers, _ := filepath.Glob(filepath.Join(p.opts.Dir, ".*"+partialSuffix))
	for _, f := range leftovers {
		if err := os.Remove(f); err == nil {
			p.opts.Log.Debug("removed a partial file of an earlier pull", "file", f)
		}
	}
}

// plan keeps the assets that can be pulled and names the others.
func (p *puller) plan(assets []githubsrc.Asset) {
	p.texts, p.covers, p.problem = map[string][]byte{}, map[string][]manifestClaim{}, map[string]bool{}
	for _, a := range assets {
		switch {
		case !safeName(a.Name):
			p.fail(a.Name, CheckUploaded, fmt.Sprintf("asset name %q cannot be a file name", a.Name), "rename or delete the asset on the release")
		case a.Name == ReleaseMetadataFile:
			p.fail(a.Name, CheckUploaded, "the release has an asset named "+ReleaseMetadataFile+", the name pull writes the release's metadata to",
				"rename or delete that asset on the release")
		case !a.Uploaded():
			p.fail(a.Name, CheckUploaded, fmt.Sprintf("%s is not fully uploaded (state %q)", a.Name, a.State),
				"run otapub upload again to repair it, then pull again")
		default:
			p.assets = append(p.assets, a)
		}
	}
	if p.opts.PubKey != nil {
		p.payloads = map[string]githubsrc.Payload{}
		for _, pl := range githubsrc.FindPayloads(p.assets).ByKey {
			p.payloads[pl.Asset.Name] = pl
		}
	}
}

// safeName reports whether name is a plain file name: no folders, no
// "..", nothing pull's temporary names could collide with.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name &&
		!strings.ContainsAny(name, `/\`) && !strings.HasSuffix(name, partialSuffix)
}

func (p *puller) isText(a githubsrc.Asset) bool {
	if strings.HasSuffix(a.Name, ".sig") && a.Size <= maxText {
		return true
	}
	return githubsrc.Classify(a.Name).Role == githubsrc.RoleChecksums && a.Size <= maxText
}

func (p *puller) each(ctx context.Context, assets []githubsrc.Asset, f func(context.Context, githubsrc.Asset)) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, a := range assets {
		g.Go(func() error {
			if ctx.Err() == nil {
				f(ctx, a)
			}
			return nil
		})
	}
	_ = g.Wait()
}

func (p *puller) fail(name, check, msg, fix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problem[name] = true
	p.rep.Problems = append(p.rep.Problems, Problem{Check: check, Asset: name, Message: msg, Fix: fix})
}

// readText reads a manifest or .sig into memory.
func (p *puller) readText(ctx context.Context, a githubsrc.Asset) {
	rc, err := p.gh.OpenAsset(ctx, p.opts.Repo, a.ID)
	if err != nil {
		p.fail(a.Name, CheckUploaded, fmt.Sprintf("download %s: %v", a.Name, err), "run otapub pull again")
		return
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxText+1))
	if err == nil && int64(len(b)) != a.Size {
		err = fmt.Errorf("got %d bytes, the release lists %d", len(b), a.Size)
	}
	if err != nil {
		p.fail(a.Name, CheckUploaded, fmt.Sprintf("download %s: %v", a.Name, err), "run otapub pull again")
		return
	}
	p.mu.Lock()
	p.texts[a.Name] = b
	p.rep.Bytes += int64(len(b))
	p.mu.Unlock()
}

// parseManifests turns every checksum manifest into claims about files.
// A line naming a file the release does not have is a problem: the
// manifest promises something the release cannot give.
func (p *puller) parseManifests() {
	names := map[string]bool{}
	for _, a := range p.assets {
		names[a.Name] = true
	}
	for _, a := range p.assets {
		if githubsrc.Classify(a.Name).Role != githubsrc.RoleChecksums {
			continue
		}
		text, ok := p.texts[a.Name]
		if !ok {
			continue // not read: already a problem
		}
		lines, err := ParseManifest(text)
		if err != nil {
			p.fail(a.Name, CheckManifest, fmt.Sprintf("%s: %v", a.Name, err), "fix or delete the manifest on the release")
			continue
		}
		for _, l := range lines {
			name := githubsrc.AssetName(l.Name)
			if !names[name] {
				p.fail(a.Name, CheckManifest, fmt.Sprintf("%s line %d names %s, which is not on the release", a.Name, l.Line, l.Name),
					"upload "+l.Name+", or remove its line from "+a.Name)
				continue
			}
			p.covers[name] = append(p.covers[name], manifestClaim{manifest: a.Name, line: l.Line, sha256: l.SHA256})
		}
	}
}

// pullOne brings one asset into Dir, or keeps the copy already there.
func (p *puller) pullOne(ctx context.Context, a githubsrc.Asset) {
	final := filepath.Join(p.opts.Dir, a.Name)
	res := PulledFile{Name: a.Name, Size: a.Size}
	p.opts.Progress.Start(a.Name, a.Size)
	err := p.keep(final, a, &res)
	if err != nil {
		err = p.download(ctx, final, a, &res)
	}
	if err != nil {
		res.Error = err.Error()
	}
	p.opts.Progress.Finish(a.Name, res.Action, err)
	p.mu.Lock()
	p.rep.Files = append(p.rep.Files, res)
	p.mu.Unlock()
}

// errAbsent says a file is not in Dir yet (or not with the right size).
var errAbsent = errors.New("not in the folder")

// keep checks a file already in Dir; nil means it stays as it is.
func (p *puller) keep(final string, a githubsrc.Asset, res *PulledFile) error {
	fi, err := os.Lstat(final)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != a.Size {
		return errAbsent
	}
	f, err := os.Open(final)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, checked, err := p.check(f, a)
	if err != nil {
		p.opts.Log.Info("downloading again: the copy in the folder differs", "file", final, "err", err)
		return err
	}
	res.SHA256, res.CheckedBy, res.Action = sum, checked, ActionKeep
	return nil
}

// download writes a into a temporary file, checks it and renames it.
func (p *puller) download(ctx context.Context, final string, a githubsrc.Asset, res *PulledFile) (err error) {
	res.Action = ActionDownload
	tmp := filepath.Join(p.opts.Dir, "."+a.Name+partialSuffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return p.failed(a, CheckUploaded, fmt.Errorf("create %s: %w", tmp, err), "check that the folder is writable")
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(tmp)
		}
	}()
	var n int64
	if text, ok := p.texts[a.Name]; ok {
		n, err = io.Copy(f, bytes.NewReader(text))
	} else {
		n, err = p.fetch(ctx, f, a)
	}
	if err != nil {
		return p.failed(a, CheckUploaded, fmt.Errorf("download %s: %w", a.Name, err), "run otapub pull again: what is complete is kept")
	}
	if n != a.Size {
		return p.failed(a, CheckUploaded, fmt.Errorf("%s: got %d bytes, the release lists %d", a.Name, n, a.Size), "run otapub pull again")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return p.failed(a, CheckUploaded, err, "")
	}
	sum, checked, err := p.check(f, a)
	if err != nil {
		check, fix := checkOf(err), "the release's bytes are not what its digest and manifests say: upload the file again (otapub upload --replace), then pull again"
		if check == CheckSignature {
			fix = "check --pubkey, or sign the payload with the app's key and upload it again with --replace"
		}
		return p.failed(a, check, err, fix)
	}
	if err := f.Sync(); err != nil {
		return p.failed(a, CheckUploaded, fmt.Errorf("write %s: %w", tmp, err), "check the disk")
	}
	if err := os.Rename(tmp, final); err != nil {
		return p.failed(a, CheckUploaded, fmt.Errorf("rename %s: %w", tmp, err), "check the folder")
	}
	res.SHA256, res.CheckedBy = sum, checked
	return nil
}

func (p *puller) failed(a githubsrc.Asset, check string, err error, fix string) error {
	p.fail(a.Name, check, err.Error(), fix)
	return err
}

// checkOf names the check a failed check belongs to.
func checkOf(err error) string {
	if errors.Is(err, taurisig.ErrMalformed) || errors.Is(err, taurisig.ErrWrongKey) || errors.Is(err, taurisig.ErrMismatch) {
		return CheckSignature
	}
	return CheckManifest
}

// fetch streams a's bytes into w, telling Progress as they come.
func (p *puller) fetch(ctx context.Context, w io.Writer, a githubsrc.Asset) (int64, error) {
	rc, err := p.gh.OpenAsset(ctx, p.opts.Repo, a.ID)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(w, &advanceReader{r: io.LimitReader(rc, a.Size+1), name: a.Name, progress: p.opts.Progress})
	p.mu.Lock()
	p.rep.Bytes += n
	p.mu.Unlock()
	return n, err
}

// check reads f once and holds its bytes against everything that vouches
// for them. It returns the SHA-256 and what was checked.
func (p *puller) check(f io.ReadSeeker, a githubsrc.Asset) (string, []string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	var checked []string
	if want := a.SHA256(); want != "" {
		if sum != want {
			return sum, nil, fmt.Errorf("%s has SHA-256 %s, GitHub's digest says %s", a.Name, sum, want)
		}
		checked = append(checked, "github-digest")
	}
	for _, c := range p.covers[a.Name] {
		if sum != c.sha256 {
			return sum, nil, fmt.Errorf("%s has SHA-256 %s, %s line %d says %s", a.Name, sum, c.manifest, c.line, c.sha256)
		}
		checked = append(checked, c.manifest)
	}
	if pl, ok := p.payloads[a.Name]; ok {
		sig, ok := p.texts[pl.Sig.Name]
		if !ok {
			return sum, nil, fmt.Errorf("%s: its signature %s could not be read", a.Name, pl.Sig.Name)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return sum, nil, err
		}
		if _, err := taurisig.Verify(*p.opts.PubKey, f, sig); err != nil {
			return sum, nil, fmt.Errorf("%s: signature %s: %w", a.Name, pl.Sig.Name, err)
		}
		p.mu.Lock()
		p.rep.Signatures++
		p.mu.Unlock()
		checked = append(checked, "signature")
	}
	return sum, checked, nil
}

// writeMetadata writes ReleaseMetadataFile, so `serve --dir` serves the
// folder as this release.
func (p *puller) writeMetadata(rel githubsrc.Release) error {
	m := ReleaseMetadata{Name: rel.Name, Notes: rel.Notes, PublishedAt: rel.PublishedAt.UTC(), Prerelease: rel.Prerelease, Draft: rel.Draft}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	final := filepath.Join(p.opts.Dir, ReleaseMetadataFile)
	tmp := filepath.Join(p.opts.Dir, "."+ReleaseMetadataFile+partialSuffix)
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("pull %s: write %s: %w", p.opts.Tag, tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("pull %s: write %s: %w", p.opts.Tag, final, err)
	}
	return nil
}

// advanceReader tells Progress how far a download got.
type advanceReader struct {
	r        io.Reader
	name     string
	progress Progress
}

func (a *advanceReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.progress.Advance(a.name, int64(n))
	}
	return n, err
}

package publisher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc"
)

// UploadOptions configure Upload.
type UploadOptions struct {
	Repo githubsrc.Repo
	// Target is the commit the tag will point at when the draft is
	// published (GITHUB_SHA in Actions); used when the draft is created.
	Target     string
	Name       string // release title for a new draft; default the tag
	Notes      string
	Prerelease bool
	// Concurrency is how many files upload at once (default 4).
	Concurrency int
	// Replace lets an asset whose bytes differ from the local file be
	// replaced (atomically: the new one is uploaded first).
	Replace bool
	// AllowPublished lets files go onto a release that is already public.
	AllowPublished bool
	// StallTimeout aborts and retries an upload that sends nothing for this
	// long (default 60s). Retries follow the client's githubsrc.Retry, as
	// every other GitHub call does.
	StallTimeout time.Duration
	// StallClock is the clock StallTimeout is measured on; nil means
	// time.Now. Tests pass a fake one (githubsrc.AssetUpload.StallClock).
	StallClock func() time.Time
	// SettleDelay bounds how long, after creating a draft, upload waits
	// for GitHub to list it before deciding whether another job's older
	// draft wins (otapub upload uses 2s). The look comes after the uploads, and a
	// listing that already shows the new draft settles it at once.
	SettleDelay time.Duration
	// DryRun decides everything and changes nothing.
	DryRun   bool
	Progress Progress
	Log      *slog.Logger
}

// Progress hears about each file's upload.
type Progress interface {
	Start(name string, size int64)
	Advance(name string, n int64)
	Finish(name string, action Action, err error)
}

// Action is what Upload does with a file.
type Action string

// Actions.
const (
	ActionUpload  Action = "upload"  // not on the release yet
	ActionSkip    Action = "skip"    // already there, same size and digest
	ActionReplace Action = "replace" // there with other bytes, and --replace given
	ActionRepair  Action = "repair"  // there but not fully uploaded: deleted and uploaded
)

// FileResult is what happened to one file.
type FileResult struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Action   Action `json:"action"`
	Attempts int    `json:"attempts,omitempty"`
	Error    string `json:"error,omitempty"`
}

// UploadReport says what Upload did.
type UploadReport struct {
	Release  githubsrc.Release `json:"-"`
	Created  bool              `json:"created"`
	Manifest string            `json:"manifest"`
	Files    []FileResult      `json:"files"`
	DryRun   bool              `json:"dry_run,omitempty"`
}

// Count returns how many files got action a.
func (r UploadReport) Count(a Action) int {
	n := 0
	for _, f := range r.Files {
		if f.Action == a && f.Error == "" {
			n++
		}
	}
	return n
}

func (o *UploadOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = defaultStall
	}
	if o.SettleDelay < 0 {
		o.SettleDelay = 0
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// defaultStall is how long an upload may send nothing before it is retried.
const defaultStall = time.Minute

type nopProgress struct{}

func (nopProgress) Start(string, int64)          {}
func (nopProgress) Advance(string, int64)        {}
func (nopProgress) Finish(string, Action, error) {}

// tmpPrefix marks the temporary asset of an atomic replacement.
const tmpPrefix = "otapub-tmp-"

type uploader struct {
	gh   Releases
	opts UploadOptions
	tag  string

	createdAt time.Time // when this run created its draft
}

// Upload puts plan's files on the draft release for plan.Tag, creating the
// draft if needed, plus a manifest of them (RunManifestName). It is safe to
// run again: files already there with the same size and digest are
// skipped, broken leftovers of interrupted uploads are repaired, and
// several jobs uploading to one tag at once converge on one draft.
func Upload(ctx context.Context, gh Releases, plan Plan, opts UploadOptions) (UploadReport, error) {
	opts.defaults()
	u := &uploader{gh: gh, opts: opts, tag: plan.Tag}
	files := slices.Clone(plan.Files)
	names := make([]string, len(files))
	var lines []ManifestLine
	for i, f := range files {
		if f.SHA256 == "" {
			return UploadReport{}, fmt.Errorf("upload %s: not hashed (call Hash first)", f.Name)
		}
		names[i] = f.Name
		lines = append(lines, ManifestLine{SHA256: f.SHA256, Name: f.Name})
	}
	manifest := memFile(RunManifestName(names), FormatManifest(lines))
	report := UploadReport{Manifest: manifest.Name, DryRun: opts.DryRun}

	rel, created, err := u.draft(ctx)
	if err != nil {
		return report, err
	}
	report.Release, report.Created = rel, created
	all := append(files, manifest)
	report.Files, err = u.send(ctx, rel, all)
	if err != nil || opts.DryRun || !created {
		return report, err
	}
	// Jobs that created drafts at the same moment converge on the lowest
	// ID; the look for older drafts comes after the uploads, so GitHub has
	// had that long to list them.
	winner, err := u.converge(ctx, rel)
	if err != nil || winner.ID == rel.ID {
		return report, err
	}
	opts.Log.Info("another job created a draft first; moving this run's files to it", "tag", plan.Tag, "ours", rel.ID, "theirs", winner.ID)
	report.Release, report.Created = winner, false
	if report.Files, err = u.send(ctx, winner, all); err != nil {
		return report, err
	}
	if err := u.gh.DeleteRelease(ctx, opts.Repo, rel.ID); err != nil {
		opts.Log.Warn("could not delete this run's duplicate draft: delete it on GitHub (verify refuses two drafts)", "id", rel.ID, "err", err)
	}
	return report, nil
}

// send puts files on rel: it decides what each needs, cleans up broken
// leftovers and uploads, --concurrency at a time.
func (u *uploader) send(ctx context.Context, rel githubsrc.Release, all []File) ([]FileResult, error) {
	opts := u.opts
	// The listing that found the release embeds its assets; a page's worth
	// may be cut short, so then list them. Even a short list is safe: an
	// upload that meets a name already taken reads the asset back.
	assets := rel.Assets
	var err error
	if rel.ID != 0 && len(assets) >= 100 {
		if assets, err = u.gh.Assets(ctx, opts.Repo, rel.ID); err != nil {
			return nil, err
		}
	}
	decisions, err := u.decide(ctx, all, assets)
	results := make([]FileResult, len(decisions))
	for i, d := range decisions {
		results[i] = FileResult{Name: d.file.Name, Size: d.file.Size, SHA256: d.file.SHA256, Action: d.action}
	}
	if err != nil || opts.DryRun {
		return results, err
	}
	if err := u.cleanup(ctx, decisions, assets); err != nil {
		return results, err
	}

	// The manifest depends only on the local files, so it goes up with them
	// (if a file fails, verify finds it missing and a re-run sends it), and,
	// a few KiB, beside the --concurrency files rather than in their place.
	var g errgroup.Group
	g.SetLimit(opts.Concurrency)
	var side sync.WaitGroup
	for i, d := range decisions {
		if d.action == ActionSkip {
			opts.Progress.Finish(d.file.Name, d.action, nil)
			continue
		}
		upload := func() {
			attempts, err := u.apply(ctx, rel, d)
			results[i].Attempts = attempts
			if err != nil {
				results[i].Error = err.Error()
			}
			opts.Progress.Finish(d.file.Name, d.action, err)
		}
		if d.file.data != nil {
			side.Go(upload)
			continue
		}
		g.Go(func() error { upload(); return nil })
	}
	_ = g.Wait()
	side.Wait()
	var failed []string
	for _, r := range results {
		if r.Error != "" {
			failed = append(failed, r.Name+": "+r.Error)
		}
	}
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("upload to %s@%s interrupted: run the same command again to finish: %w", opts.Repo, u.tag, err)
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("upload to %s@%s: %d of %d files failed (run the same command again; what landed is kept):\n  %s",
			opts.Repo, u.tag, len(failed), len(decisions), strings.Join(failed, "\n  "))
	}
	return results, nil
}

// memFile is an in-memory file, such as the run's manifest.
func memFile(name string, data []byte) File {
	sum := sha256.Sum256(data)
	return File{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Artifact: githubsrc.Classify(name), data: data}
}

func (f File) open() (io.ReadCloser, error) {
	if f.data != nil {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.Path)
}

// draft finds the release to upload to, creating a draft when there is
// none. Several jobs may create drafts for one tag at the same moment; all
// converge on the draft with the lowest ID (the first created): Upload
// moves a run's files from a draft that lost (converge) and deletes it.
func (u *uploader) draft(ctx context.Context) (githubsrc.Release, bool, error) {
	repo, tag := u.opts.Repo, u.tag
	rels, err := u.gh.ReleasesByTag(ctx, repo, tag)
	if err != nil {
		return githubsrc.Release{}, false, err
	}
	for _, r := range rels {
		if r.Draft {
			continue
		}
		switch {
		case r.Immutable:
			return r, false, fmt.Errorf("release %s of %s is published and immutable: its assets can no longer change; release a new version", tag, repo)
		case !u.opts.AllowPublished:
			return r, false, fmt.Errorf("release %s of %s is already published: uploading would change a public release; pass --allow-published if that is what you want", tag, repo)
		}
		return r, false, nil
	}
	if d, ok := firstDraft(rels); ok {
		return d, false, nil
	}
	if u.opts.DryRun {
		return githubsrc.Release{Tag: tag, Draft: true}, true, nil
	}
	name := u.opts.Name
	if name == "" {
		name = tag
	}
	created, err := u.gh.CreateDraft(ctx, repo, githubsrc.NewRelease{Tag: tag, Target: u.opts.Target, Name: name, Notes: u.opts.Notes, Prerelease: u.opts.Prerelease})
	if err != nil {
		// The request may have landed before the failure: look again rather
		// than create a second draft.
		if again, lerr := u.gh.ReleasesByTag(ctx, repo, tag); lerr == nil {
			if d, ok := firstDraft(again); ok {
				return d, false, nil
			}
		}
		return githubsrc.Release{}, false, err
	}
	u.opts.Log.Info("created draft", "repo", repo.String(), "tag", tag, "id", created.ID, "target", u.opts.Target)
	u.createdAt = time.Now()
	return created, true, nil
}

// converge returns the draft every job must end on: the lowest-ID draft
// for the tag. It trusts a listing once that listing shows this run's own
// draft: GitHub numbers releases in the order it creates them, so a
// listing that has caught up with ours has every older draft too. Until
// then (GitHub may list a new draft late) it looks again, for at most
// SettleDelay from our draft's creation. The uploads ran in between, so
// the first look usually settles it. A failed look keeps ours (verify
// refuses two drafts, and a re-run converges).
func (u *uploader) converge(ctx context.Context, ours githubsrc.Release) (githubsrc.Release, error) {
	for {
		again, err := u.gh.ReleasesByTag(ctx, u.opts.Repo, u.tag)
		if err != nil {
			u.opts.Log.Warn("could not look for other jobs' drafts", "tag", u.tag, "err", err)
			return ours, nil
		}
		listed := slices.ContainsFunc(again, func(r githubsrc.Release) bool { return r.ID == ours.ID })
		if left := u.opts.SettleDelay - time.Since(u.createdAt); listed || left <= 0 {
			if winner, ok := firstDraft(again); ok && winner.ID < ours.ID {
				return winner, nil
			}
			return ours, nil
		}
		if err := githubsrc.Sleep(ctx, min(settlePoll, u.opts.SettleDelay-time.Since(u.createdAt))); err != nil {
			return ours, err
		}
	}
}

// settlePoll is how often converge looks again while GitHub does not list
// this run's new draft yet.
const settlePoll = 250 * time.Millisecond

// firstDraft returns the draft with the lowest ID.
func firstDraft(rels []githubsrc.Release) (githubsrc.Release, bool) {
	var best githubsrc.Release
	for _, r := range rels {
		if r.Draft && (best.ID == 0 || r.ID < best.ID) {
			best = r
		}
	}
	return best, best.ID != 0
}

// decision is what to do with one file.
type decision struct {
	file     File
	action   Action
	existing githubsrc.Asset // for skip, replace, repair
}

// decide compares files with the assets already on the release. A file
// whose asset has other bytes is a conflict unless --replace; conflicts
// fail the whole upload before anything is sent.
func (u *uploader) decide(ctx context.Context, files []File, assets []githubsrc.Asset) ([]decision, error) {
	byName := map[string]githubsrc.Asset{}
	for _, a := range assets {
		byName[a.Name] = a
	}
	var out []decision
	var conflicts []string
	for _, f := range files {
		a, ok := byName[f.Name]
		d := decision{file: f, action: ActionUpload, existing: a}
		switch {
		case !ok:
		case !a.Uploaded():
			d.action = ActionRepair
		default:
			same, err := u.gh.HasBytes(ctx, u.opts.Repo, a, f.Size, f.SHA256)
			if err != nil {
				return nil, err
			}
			switch {
			case same:
				d.action = ActionSkip
			case u.opts.Replace:
				d.action = ActionReplace
			default:
				conflicts = append(conflicts, fmt.Sprintf("%s: the release has %s (%d bytes, %s), the local file differs (%d bytes, sha256:%.12s…)",
					f.Name, a.Name, a.Size, shortDigest(a.Digest), f.Size, f.SHA256))
			}
		}
		out = append(out, d)
	}
	if len(conflicts) > 0 {
		return out, fmt.Errorf("%d files differ from the assets already on %s@%s; nothing was uploaded. Pass --replace to replace them:\n  %s",
			len(conflicts), u.opts.Repo, u.tag, strings.Join(conflicts, "\n  "))
	}
	return out, nil
}

func shortDigest(d string) string {
	if d == "" {
		return "no digest"
	}
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}

// cleanup deletes what interrupted runs left behind for this run's files:
// assets stuck mid-upload, and temporary assets of replacements that are
// not reusable.
func (u *uploader) cleanup(ctx context.Context, ds []decision, assets []githubsrc.Asset) error {
	mine := map[string]bool{}
	for _, d := range ds {
		mine[d.file.Name] = true
		if d.action == ActionRepair {
			if err := u.gh.DeleteAsset(ctx, u.opts.Repo, d.existing.ID); err != nil {
				return err
			}
		}
	}
	for _, a := range assets {
		if rest, ok := strings.CutPrefix(a.Name, tmpPrefix); ok && len(rest) > 13 && mine[rest[13:]] && !a.Uploaded() {
			if err := u.gh.DeleteAsset(ctx, u.opts.Repo, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply uploads one file (or replaces its asset) and returns the attempts it took.
func (u *uploader) apply(ctx context.Context, rel githubsrc.Release, d decision) (int, error) {
	w := putOptions{stall: u.opts.StallTimeout, stallClock: u.opts.StallClock, progress: u.opts.Progress}
	if d.action != ActionReplace {
		_, n, err := putAsset(ctx, u.gh, u.opts.Repo, rel, d.file, d.file.Name, w)
		return n, err
	}
	// Atomic replacement: the new bytes go up under a temporary name first,
	// so a failure leaves the old asset in place (gh --clobber loses it).
	tmp := tmpPrefix + d.file.SHA256[:12] + "-" + d.file.Name
	a, n, err := putAsset(ctx, u.gh, u.opts.Repo, rel, d.file, tmp, w)
	if err != nil {
		return n, err
	}
	if err := u.gh.DeleteAsset(ctx, u.opts.Repo, d.existing.ID); err != nil {
		return n, fmt.Errorf("replace %s: delete the old asset: %w (the new bytes wait as %s; run again)", d.file.Name, err, tmp)
	}
	if _, err := u.gh.RenameAsset(ctx, u.opts.Repo, a.ID, d.file.Name); err != nil {
		return n, fmt.Errorf("replace %s: rename %s into place: %w (run again)", d.file.Name, tmp, err)
	}
	return n, nil
}

// putOptions shape putAsset.
type putOptions struct {
	stall      time.Duration    // 0: no stall detection
	stallClock func() time.Time // nil: time.Now
	progress   Progress         // nil: nobody listens
}

// putAsset puts f on rel as name: githubsrc's PutAsset, under the client's
// one retry policy, with f reopened for each attempt and progress
// reported. Upload and publish both write through it.
func putAsset(ctx context.Context, gh Releases, repo githubsrc.Repo, rel githubsrc.Release, f File, name string, o putOptions) (githubsrc.Asset, int, error) {
	progress := o.progress
	if progress == nil {
		progress = nopProgress{}
	}
	return gh.PutAsset(ctx, repo, rel, githubsrc.AssetUpload{
		Name: name, Size: f.Size, SHA256: f.SHA256, StallTimeout: o.stall, StallClock: o.stallClock,
		Open: func() (io.ReadCloser, error) {
			rc, err := f.open()
			if err != nil {
				return nil, err
			}
			progress.Start(f.Name, f.Size)
			return progressReader{ReadCloser: rc, name: f.Name, progress: progress}, nil
		},
	})
}

// progressReader tells progress about the bytes read.
type progressReader struct {
	io.ReadCloser
	name     string
	progress Progress
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.progress.Advance(p.name, int64(n))
	}
	return n, err
}

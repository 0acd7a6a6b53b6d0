package publisher

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"aead.dev/minisign"
	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Repo      githubsrc.Repo
	Tag       string
	TagPrefix string
	// Require lists platforms that must have a signed updater payload.
	Require []githubsrc.Platform
	// PubKey, when set, checks every payload's signature against the bytes
	// on GitHub (each payload downloaded once, Concurrency at a time).
	PubKey      *minisign.PublicKey
	Concurrency int

	local       bool                                           // the files are a local folder's (VerifyDir)
	scanBundles func(context.Context) ([]BundleRelease, error) // set by Verify (bundle_verify.go)
}

// VerifyReport says what Verify found.
type VerifyReport struct {
	Repo string `json:"repo"`
	// Dir is the folder VerifyDir checked, or "" for a release on GitHub.
	Dir        string        `json:"dir,omitempty"`
	Tag        string        `json:"tag"`
	ReleaseID  int64         `json:"release_id"`
	ReleaseURL string        `json:"release_url"`
	Draft      bool          `json:"draft"`
	Complete   bool          `json:"complete"`
	Platforms  []PlatformRow `json:"platforms"`
	Problems   []Problem     `json:"problems"`
	// PayloadBytes were downloaded to check signatures or hash files GitHub
	// has no digest for; MetadataBytes are manifests, .sig files and
	// updater manifests.
	PayloadBytes  int64 `json:"payload_bytes_downloaded"`
	MetadataBytes int64 `json:"metadata_bytes_downloaded"`
	Signatures    int   `json:"signatures_checked"`

	release  githubsrc.Release
	assets   []githubsrc.Asset
	ev       *evidence      // what verify read, for publish to reuse
	electron *electronFiles // the channel files, merged, for publish to write
}

// maxText bounds a manifest, .sig or updater manifest read.
const maxText = 4 << 20

// Verify checks the draft (or published release) for opts.Tag. It returns
// *IncompleteError when the release lacks something or has something
// wrong, and other errors when it could not check.
func Verify(ctx context.Context, gh Releases, opts VerifyOptions) (VerifyReport, error) {
	rep := VerifyReport{Repo: opts.Repo.String(), Tag: opts.Tag}
	opts = withBundleScan(opts, gh)
	rels, err := gh.ReleasesByTag(ctx, opts.Repo, opts.Tag)
	if err != nil {
		return rep, err
	}
	var drafts []githubsrc.Release
	for _, r := range rels {
		if r.Draft {
			drafts = append(drafts, r)
		}
	}
	rel, ok := firstDraft(rels)
	if !ok {
		for _, r := range rels {
			rel, ok = r, true
		}
	}
	if !ok {
		rep.Problems = []Problem{{Check: CheckRelease, Message: fmt.Sprintf("no draft or release for tag %s in %s", opts.Tag, opts.Repo),
			Fix: "run otapub upload " + opts.Tag + " first (drafts are visible only with a token that has push access)"}}
		return rep, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: rep.Problems}
	}
	return verifyRelease(ctx, opts, rel, drafts, githubFiles{gh: gh, repo: opts.Repo, release: rel.ID})
}

// verifyRelease runs the checks over rel, whose files it reads through
// files; drafts are all drafts that share its tag.
func verifyRelease(ctx context.Context, opts VerifyOptions, rel githubsrc.Release, drafts []githubsrc.Release, files ReleaseFiles) (VerifyReport, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	rep := VerifyReport{Repo: opts.Repo.String(), Tag: opts.Tag, ReleaseID: rel.ID, ReleaseURL: rel.HTMLURL, Draft: rel.Draft}
	assets, err := files.List(ctx)
	if err != nil {
		return rep, err
	}
	v := newVerification(opts, rel, drafts, assets)
	v.ev = newEvidence(files, v.found, opts.PubKey, v.versionString(), opts.Concurrency)
	rep.release, rep.assets, rep.ev = rel, assets, v.ev
	rep.Platforms, rep.Problems, err = v.run(ctx)
	rep.electron = v.electron
	rep.PayloadBytes, rep.MetadataBytes, rep.Signatures = v.ev.payloadBytes.Load(), v.ev.metadataBytes.Load(), int(v.ev.signatures.Load())
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) > 0 {
		return rep, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: rep.Problems}
	}
	rep.Complete = true
	return rep, nil
}

// ReleaseFiles is what verify reads a release through: the list of its
// assets and the bytes of each. Over GitHub that is the API (githubFiles);
// a local folder can list and open its files just as well. Where an Asset
// has no Digest (a folder, GitHub Enterprise Server) the evidence reader
// hashes the bytes.
type ReleaseFiles interface {
	List(ctx context.Context) ([]githubsrc.Asset, error)
	Open(ctx context.Context, a githubsrc.Asset) (io.ReadCloser, error)
}

// githubFiles reads the assets of one GitHub release.
type githubFiles struct {
	gh      Releases
	repo    githubsrc.Repo
	release int64
}

func (g githubFiles) List(ctx context.Context) ([]githubsrc.Asset, error) {
	return g.gh.Assets(ctx, g.repo, g.release)
}

func (g githubFiles) Open(ctx context.Context, a githubsrc.Asset) (io.ReadCloser, error) {
	return g.gh.OpenAsset(ctx, g.repo, a.ID)
}

// evidence reads a release's files for the checks, on demand: each file at
// most once however many checks ask (a small file whole as text; a large
// one streamed once for its SHA-256, its SHA-512 and, with a public key,
// its signature), and counts what that cost. It is safe for concurrent use.
type evidence struct {
	files   ReleaseFiles
	pub     *minisign.PublicKey
	sigs    map[int64]githubsrc.Asset // of each signed payload, by the payload's ID
	version string                    // what signatures must be bound to, if anything
	workers int

	mu    sync.Mutex
	texts map[int64]*memo[[]byte]
	scans map[int64]*memo[scan]

	payloadBytes, metadataBytes, signatures atomic.Int64
}

// memo holds one value computed once.
type memo[T any] struct {
	once sync.Once
	v    T
	err  error
}

// scan is what one pass over an asset's bytes found.
type scan struct {
	sha256, sha512 string
	sha1           string // hex, for Squirrel.Windows' RELEASES
	sig            error  // the signature's verdict, when one was checked
	sigChecked     bool
}

// newEvidence reads files; with pub, every pass over a payload of
// payloads also checks its signature, bound to version.
func newEvidence(files ReleaseFiles, payloads githubsrc.Payloads, pub *minisign.PublicKey, version string, workers int) *evidence {
	e := &evidence{files: files, pub: pub, version: version, workers: max(workers, 1),
		sigs: map[int64]githubsrc.Asset{}, texts: map[int64]*memo[[]byte]{}, scans: map[int64]*memo[scan]{}}
	for _, p := range payloads.ByKey {
		e.sigs[p.Asset.ID] = p.Sig
	}
	return e
}

// memoFor returns the memo for key in m, making it on first use.
func memoFor[T any](e *evidence, m map[int64]*memo[T], key int64) *memo[T] {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m[key] == nil {
		m[key] = &memo[T]{}
	}
	return m[key]
}

// Text returns a small asset whole: a manifest, a .sig, latest.json.
func (e *evidence) Text(ctx context.Context, a githubsrc.Asset) ([]byte, error) {
	m := memoFor(e, e.texts, a.ID)
	m.once.Do(func() {
		m.v, m.err = e.readText(ctx, a)
		e.metadataBytes.Add(int64(len(m.v)))
	})
	return m.v, m.err
}

func (e *evidence) readText(ctx context.Context, a githubsrc.Asset) ([]byte, error) {
	rc, err := e.files.Open(ctx, a)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxText+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", a.Name, err)
	}
	if len(b) > maxText {
		return nil, fmt.Errorf("read %s: over %d MiB, too large for a manifest", a.Name, maxText>>20)
	}
	return b, nil
}

// SHA256 returns an asset's SHA-256 (hex): its digest, or, where the
// source has none, the hash of its bytes.
func (e *evidence) SHA256(ctx context.Context, a githubsrc.Asset) (string, error) {
	if d := a.SHA256(); d != "" {
		return d, nil
	}
	s, err := e.scan(ctx, a)
	return s.sha256, err
}

// SHA512 returns the base64 SHA-512 of an asset's bytes, as
// electron-updater's channel files carry it.
func (e *evidence) SHA512(ctx context.Context, a githubsrc.Asset) (string, error) {
	s, err := e.scan(ctx, a)
	return s.sha512, err
}

// SHA1 returns the hex SHA-1 of an asset's bytes, as Squirrel.Windows'
// RELEASES carries it.
func (e *evidence) SHA1(ctx context.Context, a githubsrc.Asset) (string, error) {
	s, err := e.scan(ctx, a)
	return s.sha1, err
}

// Signature checks a signed payload's bytes against its .sig and the
// public key, and that the signature is not bound to another version. It
// returns the verdict (nil: good), and an error when it could not check.
func (e *evidence) Signature(ctx context.Context, payload githubsrc.Asset) (verdict, err error) {
	s, err := e.scan(ctx, payload)
	if err == nil && !s.sigChecked {
		err = fmt.Errorf("check the signature of %s: no public key, or no .sig", payload.Name)
	}
	return s.sig, err
}

// scan streams an asset once, hashing it both ways and, with a public
// key, checking the signature of a signed payload in the same pass.
func (e *evidence) scan(ctx context.Context, a githubsrc.Asset) (scan, error) {
	m := memoFor(e, e.scans, a.ID)
	m.once.Do(func() { m.v, m.err = e.read(ctx, a) })
	return m.v, m.err
}

func (e *evidence) read(ctx context.Context, a githubsrc.Asset) (scan, error) {
	var sigText []byte
	if sig, ok := e.sigs[a.ID]; ok && e.pub != nil {
		var err error
		if sigText, err = e.Text(ctx, sig); err != nil {
			return scan{}, err
		}
	}
	rc, err := e.files.Open(ctx, a)
	if err != nil {
		return scan{}, err
	}
	defer rc.Close()
	counted := &countingReader{r: rc}
	h256, h512, h1 := sha256.New(), sha512.New(), sha1.New()
	r := io.TeeReader(counted, io.MultiWriter(h256, h512, h1))
	var s scan
	if sigText != nil {
		s.sigChecked = true
		var signed taurisig.Signature
		signed, s.sig = taurisig.Verify(*e.pub, r, sigText)
		if s.sig == nil {
			if bound, bad := signed.VersionMismatch(e.version); bad {
				s.sig = fmt.Errorf("%w: the signature is bound to version %s, and newer Tauri updaters refuse it for %s", errVersionBound, bound, e.version)
			}
		}
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // the rest, whatever Verify left
		return scan{}, fmt.Errorf("read %s: %w", a.Name, err)
	}
	e.payloadBytes.Add(counted.n)
	if counted.err != nil {
		return scan{}, fmt.Errorf("read %s: %w", a.Name, counted.err)
	}
	if s.sigChecked {
		e.signatures.Add(1)
	}
	s.sha256 = hex.EncodeToString(h256.Sum(nil))
	s.sha512 = base64.StdEncoding.EncodeToString(h512.Sum(nil))
	s.sha1 = hex.EncodeToString(h1.Sum(nil))
	return s, nil
}

// each calls f for every asset, e.workers at a time.
func (e *evidence) each(ctx context.Context, assets []githubsrc.Asset, f func(context.Context, githubsrc.Asset) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(e.workers)
	for _, a := range assets {
		g.Go(func() error { return f(ctx, a) })
	}
	return g.Wait()
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

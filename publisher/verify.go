package publisher

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
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
}

// VerifyReport says what Verify found.
type VerifyReport struct {
	Repo       string        `json:"repo"`
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

	release githubsrc.Release
	assets  []githubsrc.Asset
	texts   map[string][]byte
}

// maxText bounds a manifest, .sig or updater manifest read.
const maxText = 4 << 20

// Verify checks the draft (or published release) for opts.Tag. It returns
// *IncompleteError when the release lacks something or has something
// wrong, and other errors when it could not check.
func Verify(ctx context.Context, gh Releases, opts VerifyOptions) (VerifyReport, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	rep := VerifyReport{Repo: opts.Repo.String(), Tag: opts.Tag}
	rels, err := gh.ReleasesByTag(ctx, opts.Repo, opts.Tag)
	if err != nil {
		return rep, err
	}
	var ev Evidence
	for _, r := range rels {
		if r.Draft {
			ev.Drafts = append(ev.Drafts, r)
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
	rep.ReleaseID, rep.ReleaseURL, rep.Draft = rel.ID, rel.HTMLURL, rel.Draft
	ev.Release = rel
	if ev.Assets, err = gh.Assets(ctx, opts.Repo, rel.ID); err != nil {
		return rep, err
	}
	g := gatherer{gh: gh, opts: opts, ev: &ev, rep: &rep}
	if err := g.gather(ctx); err != nil {
		return rep, err
	}
	rep.release, rep.assets, rep.texts = rel, ev.Assets, ev.Texts
	rep.Platforms, rep.Problems = Check(ev, CheckOptions{TagPrefix: opts.TagPrefix, Require: opts.Require, PubKeyChecked: opts.PubKey != nil})
	if len(rep.Problems) > 0 {
		return rep, &IncompleteError{Repo: opts.Repo, Tag: opts.Tag, Problems: rep.Problems}
	}
	rep.Complete = true
	return rep, nil
}

type gatherer struct {
	gh   Releases
	opts VerifyOptions
	ev   *Evidence
	rep  *VerifyReport
	mu   sync.Mutex
}

// gather reads what Check needs: small text assets always; payload bytes
// only to check signatures (with a key), to hash files GitHub has no
// digest for, and to check latest*.yml SHA-512s. Each asset is read once.
func (g *gatherer) gather(ctx context.Context) error {
	ev := g.ev
	ev.Texts, ev.SHA256, ev.SHA512 = map[string][]byte{}, map[int64]string{}, map[int64]string{}
	found := githubsrc.FindPayloads(ev.Assets)
	hasLatest := false
	var texts []githubsrc.Asset
	for _, a := range ev.Assets {
		if !a.Uploaded() {
			continue
		}
		role := githubsrc.Classify(a.Name).Role
		if a.Name == "latest.json" {
			hasLatest = true
		}
		if role == githubsrc.RoleChecksums || role == githubsrc.RoleUpdaterManifest {
			texts = append(texts, a)
		}
	}
	for _, p := range found.ByKey {
		if g.opts.PubKey != nil || hasLatest {
			texts = append(texts, p.Sig)
		}
	}
	if err := g.each(ctx, dedupe(texts), func(ctx context.Context, a githubsrc.Asset) error {
		b, err := g.read(ctx, a)
		g.mu.Lock()
		defer g.mu.Unlock()
		ev.Texts[a.Name] = b
		g.rep.MetadataBytes += int64(len(b))
		return err
	}); err != nil {
		return err
	}

	// What to stream: payloads to verify, files to hash.
	needs := map[int64]*scanNeed{}
	need := func(a githubsrc.Asset) *scanNeed {
		if needs[a.ID] == nil {
			needs[a.ID] = &scanNeed{asset: a}
		}
		return needs[a.ID]
	}
	if g.opts.PubKey != nil {
		ev.Signatures = map[string]error{}
		for _, p := range found.ByKey {
			n := need(p.Asset)
			n.sig = ev.Texts[p.Sig.Name]
		}
	}
	byName := map[string]githubsrc.Asset{}
	for _, a := range ev.Assets {
		byName[a.Name] = a
	}
	for name, text := range ev.Texts {
		switch {
		case githubsrc.Classify(name).Role == githubsrc.RoleChecksums:
			lines, _ := ParseManifest(text)
			for _, l := range lines {
				if a, ok := byName[l.Name]; ok && a.Uploaded() && a.SHA256() == "" {
					need(a).sha256 = true
				}
			}
		case isYML(name):
			info, _ := parseYML(text)
			for _, f := range info.Files {
				if a, ok := byName[ymlAssetName(f.URL)]; ok && a.Uploaded() {
					need(a).sha512 = true
				}
			}
		}
	}
	var list []githubsrc.Asset
	for _, n := range needs {
		list = append(list, n.asset)
	}
	return g.each(ctx, list, func(ctx context.Context, a githubsrc.Asset) error { return g.scan(ctx, needs[a.ID]) })
}

type scanNeed struct {
	asset          githubsrc.Asset
	sig            []byte // check this signature when set
	sha256, sha512 bool
}

// scan streams one asset once, hashing and verifying as needed.
func (g *gatherer) scan(ctx context.Context, n *scanNeed) error {
	rc, err := g.gh.OpenAsset(ctx, g.opts.Repo, n.asset.ID)
	if err != nil {
		return err
	}
	defer rc.Close()
	counted := &countingReader{r: rc}
	var hashes []io.Writer
	var h256, h512 hash.Hash
	if n.sha256 {
		h256 = sha256.New()
		hashes = append(hashes, h256)
	}
	if n.sha512 {
		h512 = sha512.New()
		hashes = append(hashes, h512)
	}
	var r io.Reader = counted
	if len(hashes) > 0 {
		r = io.TeeReader(counted, io.MultiWriter(hashes...))
	}
	var verr error
	if n.sig != nil {
		var s taurisig.Signature
		s, verr = taurisig.Verify(*g.opts.PubKey, r, n.sig)
		if verr == nil {
			if signed, bad := s.VersionMismatch(g.versionString()); bad {
				verr = fmt.Errorf("%w: the signature is bound to version %s, and newer Tauri updaters refuse it for %s", errVersionBound, signed, g.versionString())
			}
		}
	} else if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("read %s: %w", n.asset.Name, err)
	}
	if counted.err != nil {
		return fmt.Errorf("read %s: %w", n.asset.Name, counted.err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rep.PayloadBytes += counted.n.Load()
	if h256 != nil {
		g.ev.SHA256[n.asset.ID] = hex.EncodeToString(h256.Sum(nil))
	}
	if h512 != nil {
		g.ev.SHA512[n.asset.ID] = base64.StdEncoding.EncodeToString(h512.Sum(nil))
	}
	if n.sig != nil {
		g.ev.Signatures[n.asset.Name] = verr
		g.rep.Signatures++
	}
	return nil
}

func (g *gatherer) versionString() string {
	v, err := githubsrc.ParseTag(g.opts.Tag, g.opts.TagPrefix)
	if err != nil {
		return g.opts.Tag
	}
	return v.String()
}

func (g *gatherer) read(ctx context.Context, a githubsrc.Asset) ([]byte, error) {
	rc, err := g.gh.OpenAsset(ctx, g.opts.Repo, a.ID)
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

func (g *gatherer) each(ctx context.Context, assets []githubsrc.Asset, f func(context.Context, githubsrc.Asset) error) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.opts.Concurrency)
	for _, a := range assets {
		eg.Go(func() error { return f(ctx, a) })
	}
	return eg.Wait()
}

func dedupe(assets []githubsrc.Asset) []githubsrc.Asset {
	seen := map[int64]bool{}
	var out []githubsrc.Asset
	for _, a := range assets {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	return out
}

type countingReader struct {
	r   io.Reader
	n   atomic.Int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

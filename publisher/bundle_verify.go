package publisher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// CheckBundle is the check of a hot-swap bundle release (one that
// carries ota.MetadataName); its problems carry it, and the platform
// table has one row of that name for the bundle.
const CheckBundle = "ota-bundle"

// otaLane is what verify knows of a bundle release. A release is in one
// lane: a bundle is judged by checkBundle alone, never by the native
// checks (no payload is required of it, its tag need not be a version),
// and a native release never by checkBundle.
type otaLane struct {
	native githubsrc.Payloads // native updater payloads the release carries anyway
	meta   *ota.Metadata      // set by checkBundle once read and valid
}

// laneOf puts a release that carries ota.MetadataName in the bundle lane:
// the native checks then find no payloads and require no platform.
func (v *verification) laneOf() {
	if !isBundle(v.assets) {
		return
	}
	v.ota = &otaLane{native: v.found}
	v.found = githubsrc.Payloads{}
	v.opts.Require = nil
}

// withBundleScan lets verify look for other releases using a bundle's
// sequence, when gh can list releases (a local folder cannot).
func withBundleScan(opts VerifyOptions, gh Releases) VerifyOptions {
	if l, ok := gh.(BundleReleases); ok && opts.scanBundles == nil {
		repo := opts.Repo
		opts.scanBundles = func(ctx context.Context) ([]BundleRelease, error) { return ScanBundles(ctx, l, repo) }
	}
	return opts
}

// checkBundle checks a bundle release: valid metadata; the archive and
// its .sig present (checkAssets says whether fully uploaded); the size
// the metadata claims; index.html at the archive's root; with --pubkey,
// the signature against the archive's bytes (streamed once, through the
// evidence reader); no other release using the sequence; no native
// updater payload or updater manifest (latest.json, latest*.yml).
func checkBundle(ctx context.Context, v *verification) error {
	if v.ota == nil {
		return nil
	}
	row := v.row(CheckBundle)
	for _, col := range Columns {
		row.Checks[col] = StatusSkipped
	}
	fail := func(col string, p Problem) {
		p.Check = CheckBundle
		v.add(p)
		row.Checks[col] = StatusFail
	}
	metaAsset := v.byName[ota.MetadataName]
	if !metaAsset.Uploaded() {
		row.Checks[CheckUploaded] = StatusFail // checkAssets names it
		return nil
	}
	text, err := v.ev.Text(ctx, metaAsset)
	if err != nil {
		return err
	}
	m, err := ota.ParseMetadata(text)
	if err != nil {
		fail(CheckManifest, Problem{Asset: ota.MetadataName, Message: err.Error(),
			Fix: "upload the bundle again with otapub upload TAG BUNDLE --ota-sequence N --min-binary-version V --replace: otapub writes " + ota.MetadataName})
		return nil
	}
	v.ota.meta = &m
	row.Payload = m.Archive
	row.Checks[CheckManifest] = StatusOK
	if what := nativeName(m.Archive); what != "" {
		fail(CheckPayload, Problem{Asset: m.Archive, Message: fmt.Sprintf("the archive %s is named like %s: an update server could offer it to the native updaters", m.Archive, what),
			Fix: "upload the bundle again under a name like dist.tar.gz, and delete this one"})
	}
	for _, p := range v.ota.native.ByKey {
		if p.Asset.Name == m.Archive {
			continue // named above
		}
		fail(CheckPayload, Problem{Asset: p.Asset.Name,
			Message: p.Asset.Name + " is a native updater payload on a hot-swap bundle release: updaters are never offered a bundle release's payloads",
			Fix:     "delete it here and publish it on its own release"})
	}
	for _, a := range v.assets {
		if githubsrc.Classify(a.Name).Role == githubsrc.RoleUpdaterManifest {
			fail(CheckPayload, Problem{Asset: a.Name, Message: "a hot-swap bundle release carries " + a.Name + ": native updaters must not be pointed at a bundle",
				Fix: "delete " + a.Name + " from this release"})
		}
	}
	if err := checkSequenceUnique(ctx, v, m); err != nil {
		return err
	}

	archive, hasArchive := v.byName[m.Archive]
	sig, hasSig := v.byName[m.Archive+".sig"]
	if !hasArchive {
		row.Checks[CheckPayload] = StatusMissing
		v.add(Problem{Check: CheckBundle, Asset: m.Archive, Message: fmt.Sprintf("%s names the archive %s, which is not on the release", ota.MetadataName, m.Archive),
			Fix: "run the otapub upload that made this bundle again: it uploads what is missing"})
	}
	if !hasSig {
		row.Checks[CheckSig] = StatusMissing
		v.add(Problem{Check: CheckBundle, Asset: m.Archive + ".sig", Message: m.Archive + " has no .sig beside it: the app refuses an unsigned bundle",
			Fix: "sign it with otapub sign " + m.Archive + " and run the otapub upload again"})
	}
	if !hasArchive || !hasSig {
		return nil
	}
	row.Checks[CheckPayload], row.Checks[CheckSig] = StatusOK, StatusOK
	if !archive.Uploaded() || !sig.Uploaded() {
		row.Checks[CheckUploaded] = StatusFail // checkAssets names them
		return nil
	}
	row.Checks[CheckUploaded] = StatusOK
	if archive.Size != m.BundleSize {
		fail(CheckUploaded, Problem{Asset: m.Archive, Message: fmt.Sprintf("%s is %d bytes, but %s says bundle_size %d", m.Archive, archive.Size, ota.MetadataName, m.BundleSize),
			Fix: "upload the archive and its metadata together again with otapub upload --replace"})
	}
	sigText, err := v.ev.Text(ctx, sig)
	if err != nil {
		return err
	}
	res, err := v.ev.Bundle(ctx, archive, sigText)
	if err != nil {
		return err
	}
	if res.archive != nil {
		fail(CheckPayload, Problem{Asset: m.Archive, Message: res.archive.Error(),
			Fix: "archive the frontend's dist folder from inside it (tar -czf bundle.tar.gz -C dist .), sign it and upload it with --replace"})
	}
	switch {
	case res.sigChecked && res.sig != nil:
		fail(CheckSignature, Problem{Asset: m.Archive, Message: m.Archive + ": " + res.sig.Error(), Fix: bundleSigFix(res.sig, m.Archive)})
	case res.sigChecked:
		row.Checks[CheckSignature] = StatusOK
	default:
		if _, perr := taurisig.ParseSignature(sigText); perr != nil {
			fail(CheckSig, Problem{Asset: sig.Name, Message: sig.Name + ": " + perr.Error(), Fix: bundleSigFix(perr, m.Archive)})
		}
	}
	return nil
}

func bundleSigFix(err error, archive string) string {
	switch {
	case errors.Is(err, taurisig.ErrWrongKey):
		return "sign with the key whose public half the app ships, or pass that key with --pubkey"
	case errors.Is(err, taurisig.ErrMismatch):
		return "upload the archive that was signed, or sign this one (otapub sign " + archive + ") and upload with --replace"
	}
	return "sign " + archive + " again with otapub sign and upload the .sig with --replace"
}

// checkSequenceUnique reports the other releases (any other tag, draft or
// published, any channel) whose bundles use m's sequence.
func checkSequenceUnique(ctx context.Context, v *verification, m ota.Metadata) error {
	if v.opts.scanBundles == nil {
		return nil // a source that cannot list releases has no others
	}
	bundles, err := v.opts.scanBundles(ctx)
	if err != nil {
		return err
	}
	var others []string
	var highest uint64
	for _, b := range bundles {
		highest = max(highest, b.Sequence)
		if b.Release.Tag != v.release.Tag && b.Sequence == m.Sequence {
			others = append(others, b.Release.Tag)
		}
	}
	if len(others) > 0 {
		v.add(Problem{Check: CheckBundle, Asset: ota.MetadataName,
			Message: fmt.Sprintf("sequence %d is also used by %s: apps would take either bundle for the other", m.Sequence, strings.Join(others, ", ")),
			Fix:     fmt.Sprintf("delete the release that should not have it, or upload this bundle again with --ota-sequence %d --replace", highest+1)})
	}
	return nil
}

// bundleScan is what one pass over a bundle's archive found.
type bundleScan struct {
	sig        error // the signature's verdict, when checked
	sigChecked bool
	archive    error // ota.CheckArchive's verdict
}

// maxBundleMemory is how much of an archive Bundle holds in memory to
// check its entries (a zip needs random access); past it, a temp file.
const maxBundleMemory = 256 << 20

// Bundle streams a bundle's archive once: its SHA-256 and SHA-512 (kept
// for later SHA256/SHA512 calls), its signature against sigText when the
// evidence has a public key, and ota.CheckArchive over a copy. It returns
// an error only when it could not read.
func (e *evidence) Bundle(ctx context.Context, a githubsrc.Asset, sigText []byte) (bundleScan, error) {
	rc, err := e.files.Open(ctx, a)
	if err != nil {
		return bundleScan{}, err
	}
	defer rc.Close()
	sp := &spool{limit: maxBundleMemory}
	defer sp.Close()
	counted := &countingReader{r: rc}
	h256, h512 := sha256.New(), sha512.New()
	r := io.TeeReader(counted, io.MultiWriter(h256, h512, sp))
	var out bundleScan
	if e.pub != nil {
		out.sigChecked = true
		_, out.sig = taurisig.Verify(*e.pub, r, sigText)
	}
	_, err = io.Copy(io.Discard, r) // the rest, whatever Verify left
	e.payloadBytes.Add(counted.n)
	if counted.err != nil {
		err = counted.err
	}
	if err != nil {
		return bundleScan{}, fmt.Errorf("read %s: %w", a.Name, err)
	}
	if out.sigChecked {
		e.signatures.Add(1)
	}
	s := scan{sha256: hex.EncodeToString(h256.Sum(nil)), sha512: base64.StdEncoding.EncodeToString(h512.Sum(nil)), sig: out.sig, sigChecked: out.sigChecked}
	m := memoFor(e, e.scans, a.ID)
	m.once.Do(func() { m.v = s })
	out.archive = ota.CheckArchive(a.Name, sp.readerAt(), counted.n)
	return out, nil
}

// spool holds bytes written to it in memory up to limit, then in a
// temporary file.
type spool struct {
	limit int
	buf   []byte
	f     *os.File
}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && len(s.buf)+len(p) > s.limit {
		f, err := os.CreateTemp("", "otapub-bundle-*")
		if err != nil {
			return 0, err
		}
		s.f = f
		if _, err := f.Write(s.buf); err != nil {
			return 0, err
		}
		s.buf = nil
	}
	if s.f != nil {
		return s.f.Write(p)
	}
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *spool) readerAt() io.ReaderAt {
	if s.f != nil {
		return s.f
	}
	return bytes.NewReader(s.buf)
}

func (s *spool) Close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

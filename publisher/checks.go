package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// Problem is one thing a release lacks or has wrong, with its fix.
type Problem struct {
	Platform string `json:"platform,omitempty"` // platform key, or "" for the release as a whole
	Check    string `json:"check"`
	Asset    string `json:"asset,omitempty"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`

	col string // the table column it fails, when not Check (an Electron row's)
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Platform != "" {
		b.WriteString(p.Platform + ": ")
	}
	b.WriteString(p.Message)
	if p.Fix != "" {
		b.WriteString(" (fix: " + p.Fix + ")")
	}
	return b.String()
}

// IncompleteError is returned when a release is not complete or not right.
type IncompleteError struct {
	Repo     githubsrc.Repo
	Tag      string
	Dir      string // set when the files are a local folder's (VerifyDir)
	Problems []Problem
}

func (e *IncompleteError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  - " + p.String()
	}
	what := fmt.Sprintf("release %s of %s is", e.Tag, e.Repo)
	if e.Dir != "" {
		what = fmt.Sprintf("the files in %s for %s are", e.Dir, e.Tag)
	}
	return fmt.Sprintf("%s not ready: %d problems:\n%s", what, len(e.Problems), strings.Join(lines, "\n"))
}

// ExitStatus is the command's exit status for an incomplete release.
func (e *IncompleteError) ExitStatus() int { return 1 }

// Checks in the platform table, in column order.
const (
	CheckPayload   = "payload"
	CheckSig       = ".sig"
	CheckUploaded  = "uploaded"
	CheckManifest  = "manifest"
	CheckSignature = "signature"
	CheckVersion   = "version"
	CheckRelease   = "release"
	CheckLatest    = "latest.json"
	CheckYML       = "latest.yml"
)

// Columns of the platform table.
var Columns = []string{CheckPayload, CheckSig, CheckUploaded, CheckManifest, CheckSignature}

// Status values in the platform table.
const (
	StatusOK      = "ok"
	StatusFail    = "FAIL"
	StatusMissing = "missing"
	StatusSkipped = "-"
)

// PlatformRow is one row of the platform table.
type PlatformRow struct {
	Key string `json:"platform"`
	// Lane is LaneElectron for a platform electron-updater updates, whose
	// columns are ElectronColumns; "" for Tauri's (Columns).
	Lane    string            `json:"lane,omitempty"`
	Payload string            `json:"payload,omitempty"`
	Checks  map[string]string `json:"checks"`
}

// check is one of verify's checks. It reads what it needs through v.ev,
// which fetches each file at most once however many checks ask, and
// reports with v.add. An error means it could not check (exit status 3).
type check func(ctx context.Context, v *verification) error

// checks are verify's checks, in the order their problems are reported;
// later ones may use what earlier ones found (v.version). A new check is a
// function and a row here; the evidence it needs it asks v.ev for. The
// name is the Check* its problems mostly carry.
var checks = []struct {
	name string
	run  check
}{
	{CheckRelease, checkRelease},      // one draft has the tag, which names a version
	{CheckUploaded, checkAssets},      // assets complete, non-empty, of this version
	{CheckBundle, checkBundle},        // a hot-swap bundle's own rules (bundle_verify.go)
	{CheckPayload, checkPayloads},     // required platforms signed; no payload without .sig
	{CheckManifest, checkManifests},   // manifest lines match the bytes; payloads listed
	{CheckSignature, checkSignatures}, // with --pubkey, every .sig verifies
	{CheckLatest, checkLatestJSON},    // latest.json points at this release, with its .sig texts
	{CheckYML, checkChannelFiles},     // latest*.yml match the bytes they name; Electron platforms offered (electron.go)
	{CheckReleases, checkSquirrel},    // RELEASES matches its .nupkg files (electron.go)
}

// verification is one run of the checks over a release.
type verification struct {
	opts    VerifyOptions
	release githubsrc.Release
	drafts  []githubsrc.Release // all drafts with the tag
	assets  []githubsrc.Asset
	byName  map[string]githubsrc.Asset
	found   githubsrc.Payloads
	ev      *evidence
	version *semver.Version // set by checkRelease
	// lane is LaneElectron for a release with channel files and no
	// signed Tauri payload: judged by the Electron rules alone.
	lane string

	problems []Problem
	rows     map[string]*PlatformRow
	electron *electronFiles // read on first use (electron.go)
	ota      *otaLane       // set when the release is a hot-swap bundle (bundle_verify.go)
}

func newVerification(opts VerifyOptions, rel githubsrc.Release, drafts []githubsrc.Release, assets []githubsrc.Asset) *verification {
	v := &verification{opts: opts, release: rel, drafts: drafts, assets: assets, byName: map[string]githubsrc.Asset{},
		found: githubsrc.FindPayloads(assets), rows: map[string]*PlatformRow{}}
	for _, a := range assets {
		v.byName[a.Name] = a
	}
	v.laneOf()
	if v.ota == nil && len(v.found.ByKey) == 0 && hasChannelFiles(assets) {
		v.lane = LaneElectron
	}
	return v
}

// run runs every check and returns the platform table and the problems.
func (v *verification) run(ctx context.Context) ([]PlatformRow, []Problem, error) {
	for _, c := range checks {
		if err := c.run(ctx, v); err != nil {
			return nil, nil, err
		}
	}
	return v.table(), v.problems, nil
}

func (v *verification) add(p Problem) {
	v.problems = append(v.problems, p)
	if p.Platform != "" {
		col := p.Check
		if col == CheckVersion {
			col = CheckSignature
		}
		// An Electron problem marks an Electron row's column; on a row
		// Tauri's checks made (a release of both lanes) the problem is
		// listed, and the Tauri columns keep their meaning.
		if r := v.row(p.Platform); p.col != "" && (r.Lane == LaneElectron || len(r.Checks) == 0) {
			col = p.col
			r.Lane = LaneElectron
		}
		v.row(p.Platform).Checks[col] = StatusFail
		if p.Check == CheckPayload {
			v.row(p.Platform).Checks[col] = StatusMissing
		}
	}
}

func (v *verification) row(key string) *PlatformRow {
	r := v.rows[key]
	if r == nil {
		r = &PlatformRow{Key: key, Checks: map[string]string{}}
		v.rows[key] = r
	}
	return r
}

// table returns the platform rows, sorted by key.
func (v *verification) table() []PlatformRow {
	out := make([]PlatformRow, 0, len(v.rows))
	for _, r := range v.rows {
		for _, col := range ColumnsOf(r.Lane) {
			if _, ok := r.Checks[col]; !ok {
				r.Checks[col] = v.electronDefault(*r, col)
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b PlatformRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// electronDefault is the status of a cell no check set: "-" on a Tauri
// row and where an Electron row has no channel file to judge, or no
// blockmap to need; "ok" otherwise.
func (v *verification) electronDefault(r PlatformRow, col string) string {
	if r.Lane != LaneElectron {
		return StatusSkipped
	}
	if c := r.Checks[CheckChannel]; c == StatusFail || c == StatusMissing || r.Payload == "" {
		return StatusSkipped
	}
	if col == CheckBlockmap {
		lower := strings.ToLower(r.Payload)
		if !strings.HasSuffix(lower, ".exe") && !strings.HasSuffix(lower, ".zip") && !strings.HasSuffix(lower, ".dmg") {
			return StatusSkipped
		}
	}
	return StatusOK
}

// platformOf returns the key of a payload or its .sig, or "". An
// Electron release's rows are its electron checks'.
func (v *verification) platformOf(name string) string {
	if v.lane == LaneElectron {
		return ""
	}
	return platformOf(name)
}

// platformOf returns the key of a payload or its .sig, or "".
func platformOf(name string) string {
	art := githubsrc.Classify(name)
	if (art.Role == githubsrc.RolePayload || art.Role == githubsrc.RoleSignature) && art.Platform.Arch != "" && art.Platform.Installer != "" {
		return art.Platform.Key()
	}
	return ""
}

// uploadedAssets returns the complete assets for which keep is true, by name.
func (v *verification) uploadedAssets(keep func(githubsrc.Asset) bool) []githubsrc.Asset {
	var out []githubsrc.Asset
	for _, a := range v.assets {
		if a.Uploaded() && keep(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b githubsrc.Asset) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func checkRelease(_ context.Context, v *verification) error {
	rel := v.release
	if len(v.drafts) > 1 {
		ids := make([]string, len(v.drafts))
		for i, d := range v.drafts {
			ids[i] = strconv.FormatInt(d.ID, 10)
		}
		v.add(Problem{Check: CheckRelease, Message: fmt.Sprintf("%d drafts share the tag %s (IDs %s)", len(v.drafts), rel.Tag, strings.Join(ids, ", ")),
			Fix: "delete the extra drafts on GitHub, keeping the one with the files (otapub uploads to the lowest ID)"})
	}
	if v.ota != nil {
		return nil // a bundle's tag need not name a version
	}
	ver, err := rel.Version(v.opts.TagPrefix)
	if err != nil {
		v.add(Problem{Check: CheckRelease, Message: err.Error(), Fix: "tag releases with a semver version, such as v1.2.0 (or set --tag-prefix)"})
		return nil
	}
	v.version = ver
	return nil
}

func checkAssets(_ context.Context, v *verification) error {
	for _, a := range v.assets {
		switch {
		case strings.HasPrefix(a.Name, tmpPrefix):
			v.add(Problem{Check: CheckUploaded, Asset: a.Name, Message: a.Name + " is left over from an interrupted replacement",
				Fix: "run the otapub upload --replace that made it again, or delete it"})
		case !a.Uploaded():
			v.add(Problem{Platform: v.platformOf(a.Name), Check: CheckUploaded, Asset: a.Name, Message: fmt.Sprintf("%s is stuck in state %q: the upload was interrupted", a.Name, a.State),
				Fix: "run otapub upload again: it deletes and re-uploads it"})
		case a.Size <= 0:
			v.add(Problem{Platform: v.platformOf(a.Name), Check: CheckUploaded, Asset: a.Name, Message: a.Name + " is empty", Fix: "upload the real file with otapub upload --replace"})
		}
		if v.version != nil {
			art := githubsrc.Classify(a.Name)
			if art.Version != "" && art.Role != githubsrc.RoleChecksums && !githubsrc.NameHasVersion(a.Name, v.version.String()) {
				v.add(Problem{Platform: v.platformOf(a.Name), Check: CheckVersion, Asset: a.Name,
					Message: fmt.Sprintf("%s names version %s, but the release is %s", a.Name, art.Version, v.version),
					Fix:     "delete it and upload the build of " + v.version.String()})
			}
		}
	}
	return nil
}

func checkPayloads(ctx context.Context, v *verification) error {
	electron, err := v.electronFiles(ctx)
	if err != nil {
		return err
	}
	if v.lane == LaneElectron {
		return nil // no .sig, no Tauri key: checkChannelFiles judges it
	}
	for _, art := range v.found.Unsigned {
		if electron.offers(art.Name) {
			continue // electron-updater checks it by the SHA-512 in latest*.yml
		}
		v.add(Problem{Platform: art.Platform.Key(), Check: CheckSig, Asset: art.Name, Message: art.Name + " has no .sig beside it: updaters will never be offered it",
			Fix: "sign it (otapub sign, or tauri signer sign) and upload " + art.Name + ".sig"})
	}
	keys := githubsrc.UpdaterKeys(v.found.ByKey, v.found.Shipped, githubsrc.NSIS)
	for key, p := range v.found.ByKey {
		r := v.row(key.Key())
		r.Payload = p.Asset.Name
		for _, col := range Columns {
			if _, set := r.Checks[col]; !set {
				r.Checks[col] = StatusOK
			}
		}
		if v.opts.PubKey == nil {
			r.Checks[CheckSignature] = StatusSkipped
		}
	}
	for _, p := range v.opts.Require {
		if _, ok := keys[p]; ok {
			continue
		}
		if electron.covers(v.assets, p) {
			v.row(p.Key()).Checks[CheckPayload] = StatusOK
			continue
		}
		v.add(Problem{Platform: p.Key(), Check: CheckPayload, Message: "no signed updater payload for " + p.Key(),
			Fix: "upload the build for " + p.Key() + " and its .sig (did its CI job fail?)"})
	}
	return nil
}

func checkManifests(ctx context.Context, v *verification) error {
	type line struct {
		manifest string
		ManifestLine
	}
	var lines []line
	var listed []string
	for _, m := range v.uploadedAssets(isManifest) {
		text, err := v.ev.Text(ctx, m)
		if err != nil {
			return err
		}
		parsed, err := ParseManifest(text)
		if err != nil {
			v.add(Problem{Check: CheckManifest, Asset: m.Name, Message: m.Name + ": " + err.Error(), Fix: "replace it with a `sha256sum` manifest"})
			continue
		}
		for _, l := range parsed {
			lines = append(lines, line{m.Name, l})
			listed = append(listed, l.Name)
		}
	}
	if err := v.readAhead(ctx, listed, false); err != nil { // digests GitHub lacks
		return err
	}
	covered := map[string]bool{}
	for _, l := range lines {
		target, ok := v.asset(l.Name)
		if !ok {
			v.add(Problem{Check: CheckManifest, Asset: l.manifest, Message: fmt.Sprintf("%s line %d lists %s, which is not %s", l.manifest, l.Line, l.Name, v.place()),
				Fix: "upload " + l.Name + ", or remove its line from " + l.manifest})
			continue
		}
		covered[target.Name] = true
		if !target.Uploaded() {
			continue // checkAssets names it
		}
		got, err := v.ev.SHA256(ctx, target)
		if err != nil {
			return err
		}
		if got != l.SHA256 {
			v.add(Problem{Platform: v.platformOf(target.Name), Check: CheckManifest, Asset: target.Name,
				Message: fmt.Sprintf("%s has sha256 %.12s… %s, but %s line %d says %.12s…", target.Name, got, v.place(), l.manifest, l.Line, l.SHA256),
				Fix:     "upload the right file with otapub upload --replace (it rewrites the manifest), or fix the manifest"})
		}
	}
	if v.opts.local && len(v.uploadedAssets(isManifest)) == 0 {
		return nil // a build folder before upload: upload writes the manifest
	}
	fix := "upload it with otapub upload, which writes a manifest of what it uploads"
	if v.opts.local {
		fix = "add its line to the folder's manifest (sha256sum FILE >> MANIFEST), or leave it out of the folder"
	}
	for _, p := range v.found.ByKey {
		for _, name := range []string{p.Asset.Name, p.Sig.Name} {
			if !covered[name] {
				v.add(Problem{Platform: p.Artifact.Platform.Key(), Check: CheckManifest, Asset: name, Message: name + " is in no checksum manifest", Fix: fix})
				covered[name] = true
			}
		}
	}
	return nil
}

// readAhead reads the bytes of the complete assets called names, several
// at once, so that the SHA256 and SHA512 calls of a check that follow find
// them read; for SHA-256 only, assets with a digest are not read.
func (v *verification) readAhead(ctx context.Context, names []string, sha512 bool) error {
	var read []githubsrc.Asset
	for _, name := range names {
		if a, ok := v.asset(name); ok && a.Uploaded() && (sha512 || a.SHA256() == "") {
			read = append(read, a)
		}
	}
	return v.ev.each(ctx, read, func(ctx context.Context, a githubsrc.Asset) error {
		_, err := v.ev.SHA512(ctx, a) // one pass: both hashes
		return err
	})
}

// asset finds the asset a manifest line names: by the name as written, or
// by the name GitHub gives that file ("My App.exe" is "My.App.exe").
func (v *verification) asset(name string) (githubsrc.Asset, bool) {
	if a, ok := v.byName[name]; ok {
		return a, true
	}
	a, ok := v.byName[githubsrc.AssetName(name)]
	return a, ok
}

// place says where the files are, for messages.
func (v *verification) place() string {
	if v.opts.local {
		return "in the folder"
	}
	return "on the release"
}

func isManifest(a githubsrc.Asset) bool {
	return githubsrc.Classify(a.Name).Role == githubsrc.RoleChecksums
}

func checkSignatures(ctx context.Context, v *verification) error {
	if v.opts.PubKey == nil {
		return nil
	}
	var payloads []githubsrc.Asset
	for _, p := range v.found.ByKey {
		payloads = append(payloads, p.Asset)
	}
	results := make(map[int64]error, len(payloads))
	var mu sync.Mutex
	if err := v.ev.each(ctx, payloads, func(ctx context.Context, a githubsrc.Asset) error {
		bad, err := v.ev.Signature(ctx, a)
		mu.Lock()
		results[a.ID] = bad
		mu.Unlock()
		return err
	}); err != nil {
		return err
	}
	for key, p := range v.found.ByKey {
		err := results[p.Asset.ID]
		if err == nil {
			continue
		}
		fix := "sign " + p.Asset.Name + " again and upload the .sig (otapub upload --replace)"
		switch {
		case errors.Is(err, taurisig.ErrWrongKey):
			fix = "sign with the key whose public half the app ships, or pass that key with --pubkey"
		case errors.Is(err, taurisig.ErrMismatch):
			fix = "upload the file that was signed, or sign this one (otapub upload --replace)"
		case errors.Is(err, errVersionBound):
			fix = fmt.Sprintf("sign it again with --app-version %s", v.version)
		}
		v.add(Problem{Platform: key.Key(), Check: CheckSignature, Asset: p.Asset.Name, Message: p.Asset.Name + ": " + err.Error(), Fix: fix})
	}
	return nil
}

// versionString is the release's version as signatures name it.
func (v *verification) versionString() string {
	if v.version != nil {
		return v.version.String()
	}
	if ver, err := githubsrc.ParseTag(v.opts.Tag, v.opts.TagPrefix); err == nil {
		return ver.String()
	}
	return v.opts.Tag
}

// errVersionBound marks a signature whose trusted comment names another version.
var errVersionBound = errors.New("signature bound to another version")

func checkLatestJSON(ctx context.Context, v *verification) error {
	a, ok := v.byName[LatestJSON]
	if !ok || !a.Uploaded() {
		return nil
	}
	text, err := v.ev.Text(ctx, a)
	if err != nil {
		return err
	}
	var m struct {
		Version   string `json:"version"`
		Platforms map[string]struct {
			URL       string `json:"url"`
			Signature string `json:"signature"`
		} `json:"platforms"`
	}
	bad := func(msg string) {
		v.add(Problem{Check: CheckLatest, Asset: LatestJSON, Message: "latest.json " + msg, Fix: "delete it: otapub publish writes latest.json from the release's assets"})
	}
	if err := json.Unmarshal(text, &m); err != nil {
		bad("is not JSON: " + err.Error())
		return nil
	}
	if v.version != nil && strings.TrimPrefix(m.Version, "v") != v.version.String() {
		bad(fmt.Sprintf("says version %q, the release is %s", m.Version, v.version))
	}
	sigs := map[string]githubsrc.Asset{} // of the signed payloads
	for _, p := range v.found.ByKey {
		sigs[p.Sig.Name] = p.Sig
	}
	for _, key := range slices.Sorted(maps.Keys(m.Platforms)) {
		e := m.Platforms[key]
		name := urlAssetName(e.URL)
		a, ok := v.byName[name]
		if !ok || !v.urlOfRelease(e.URL, a) {
			bad(fmt.Sprintf("%s points at %s, which is not an asset of this release", key, e.URL))
			continue
		}
		sigAsset, ok := sigs[name+".sig"]
		if !ok {
			continue
		}
		sig, err := v.ev.Text(ctx, sigAsset)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(sig)) != strings.TrimSpace(e.Signature) {
			bad(fmt.Sprintf("%s carries a signature that is not %s.sig", key, name))
		}
	}
	return nil
}

// urlOfRelease reports whether u is a download URL of asset a of this release.
func (v *verification) urlOfRelease(u string, a githubsrc.Asset) bool {
	if strings.Contains(u, "/releases/assets/") {
		return strings.HasSuffix(u, "/releases/assets/"+strconv.FormatInt(a.ID, 10))
	}
	tag := url.PathEscape(v.release.Tag)
	return strings.Contains(u, "/download/"+tag+"/") || strings.Contains(u, "/download/untagged-") || u == a.BrowserURL()
}

func urlAssetName(u string) string {
	if p, err := url.Parse(u); err == nil {
		return path.Base(p.Path)
	}
	return path.Base(u)
}

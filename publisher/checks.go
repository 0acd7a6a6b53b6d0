package publisher

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"

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
	Problems []Problem
}

func (e *IncompleteError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  - " + p.String()
	}
	return fmt.Sprintf("release %s of %s is not ready: %d problems:\n%s", e.Tag, e.Repo, len(e.Problems), strings.Join(lines, "\n"))
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
	Key     string            `json:"platform"`
	Payload string            `json:"payload,omitempty"`
	Checks  map[string]string `json:"checks"`
}

// Evidence is everything Check looks at, gathered by Verify.
type Evidence struct {
	Release githubsrc.Release
	Assets  []githubsrc.Asset
	// Drafts are all drafts with the release's tag (more than one is a problem).
	Drafts []githubsrc.Release
	// Texts holds the contents of small assets that were read: checksum
	// manifests, latest.json, latest*.yml and, when signatures were
	// checked or latest.json is present, the .sig files.
	Texts map[string][]byte
	// SHA256 holds hashes computed by download for assets GitHub gave no digest.
	SHA256 map[int64]string
	// SHA512 holds base64 SHA-512s computed for files latest*.yml names.
	SHA512 map[int64]string
	// Signatures holds, per payload name, the result of checking its .sig
	// against the public key; nil when no key was given.
	Signatures map[string]error
}

// CheckOptions shape Check.
type CheckOptions struct {
	TagPrefix string
	// Require lists platforms that must have a signed updater payload.
	Require []githubsrc.Platform
	// PubKeyChecked says signatures were verified (the column is filled).
	PubKeyChecked bool
}

// Check reports what the release in ev lacks or has wrong. It does no I/O.
func Check(ev Evidence, opts CheckOptions) ([]PlatformRow, []Problem) {
	c := checker{ev: ev, opts: opts, rows: map[string]*PlatformRow{}}
	c.release()
	c.assets()
	found := githubsrc.FindPayloads(ev.Assets)
	electron := c.electronFiles()
	c.payloads(found, electron)
	c.manifests(found)
	c.signatures(found)
	c.latestJSON()
	c.yml()
	return c.table(), c.problems
}

type checker struct {
	ev       Evidence
	opts     CheckOptions
	version  *semver.Version
	problems []Problem
	rows     map[string]*PlatformRow
}

func (c *checker) add(p Problem) {
	c.problems = append(c.problems, p)
	if p.Platform != "" {
		col := p.Check
		if col == CheckVersion {
			col = CheckSignature
		}
		c.row(p.Platform).Checks[col] = StatusFail
		if p.Check == CheckPayload {
			c.row(p.Platform).Checks[col] = StatusMissing
		}
	}
}

func (c *checker) row(key string) *PlatformRow {
	r := c.rows[key]
	if r == nil {
		r = &PlatformRow{Key: key, Checks: map[string]string{}}
		c.rows[key] = r
	}
	return r
}

func (c *checker) byName() map[string]githubsrc.Asset {
	m := make(map[string]githubsrc.Asset, len(c.ev.Assets))
	for _, a := range c.ev.Assets {
		m[a.Name] = a
	}
	return m
}

func (c *checker) release() {
	rel := c.ev.Release
	if len(c.ev.Drafts) > 1 {
		ids := make([]string, len(c.ev.Drafts))
		for i, d := range c.ev.Drafts {
			ids[i] = strconv.FormatInt(d.ID, 10)
		}
		c.add(Problem{Check: CheckRelease, Message: fmt.Sprintf("%d drafts share the tag %s (IDs %s)", len(c.ev.Drafts), rel.Tag, strings.Join(ids, ", ")),
			Fix: "delete the extra drafts on GitHub, keeping the one with the files (otapub uploads to the lowest ID)"})
	}
	v, err := rel.Version(c.opts.TagPrefix)
	if err != nil {
		c.add(Problem{Check: CheckRelease, Message: err.Error(), Fix: "tag releases with a semver version, such as v1.2.0 (or set --tag-prefix)"})
		return
	}
	c.version = v
}

func (c *checker) assets() {
	for _, a := range c.ev.Assets {
		switch {
		case strings.HasPrefix(a.Name, tmpPrefix):
			c.add(Problem{Check: CheckUploaded, Asset: a.Name, Message: a.Name + " is left over from an interrupted replacement",
				Fix: "run the otapub upload --replace that made it again, or delete it"})
		case !a.Uploaded():
			c.add(Problem{Platform: c.platformOf(a.Name), Check: CheckUploaded, Asset: a.Name, Message: fmt.Sprintf("%s is stuck in state %q: the upload was interrupted", a.Name, a.State),
				Fix: "run otapub upload again: it deletes and re-uploads it"})
		case a.Size <= 0:
			c.add(Problem{Platform: c.platformOf(a.Name), Check: CheckUploaded, Asset: a.Name, Message: a.Name + " is empty", Fix: "upload the real file with otapub upload --replace"})
		}
		if c.version != nil {
			art := githubsrc.Classify(a.Name)
			if art.Version != "" && art.Role != githubsrc.RoleChecksums && !githubsrc.NameHasVersion(a.Name, c.version.String()) {
				c.add(Problem{Platform: c.platformOf(a.Name), Check: CheckVersion, Asset: a.Name,
					Message: fmt.Sprintf("%s names version %s, but the release is %s", a.Name, art.Version, c.version),
					Fix:     "delete it and upload the build of " + c.version.String()})
			}
		}
	}
}

// platformOf returns the key of a payload or its .sig, or "".
func (c *checker) platformOf(name string) string {
	art := githubsrc.Classify(name)
	if (art.Role == githubsrc.RolePayload || art.Role == githubsrc.RoleSignature) && art.Platform.Arch != "" && art.Platform.Installer != "" {
		return art.Platform.Key()
	}
	return ""
}

// electronFiles returns the asset names latest*.yml files refer to:
// electron-updater checks those by SHA-512, not by a .sig.
func (c *checker) electronFiles() map[string]bool {
	out := map[string]bool{}
	for name, text := range c.ev.Texts {
		if !isYML(name) {
			continue
		}
		info, err := parseYML(text)
		if err != nil {
			continue
		}
		for _, f := range info.Files {
			out[ymlAssetName(f.URL)] = true
		}
	}
	return out
}

func (c *checker) payloads(found githubsrc.Payloads, electron map[string]bool) {
	for _, art := range found.Unsigned {
		if electron[art.Name] {
			continue
		}
		c.add(Problem{Platform: art.Platform.Key(), Check: CheckSig, Asset: art.Name, Message: art.Name + " has no .sig beside it: updaters will never be offered it",
			Fix: "sign it (otapub sign, or tauri signer sign) and upload " + art.Name + ".sig"})
	}
	keys := githubsrc.UpdaterKeys(found.ByKey, found.Shipped, githubsrc.NSIS)
	for key, p := range found.ByKey {
		r := c.row(key.Key())
		r.Payload = p.Asset.Name
		for _, col := range Columns {
			if _, set := r.Checks[col]; !set {
				r.Checks[col] = StatusOK
			}
		}
		if !c.opts.PubKeyChecked {
			r.Checks[CheckSignature] = StatusSkipped
		}
	}
	for _, p := range c.opts.Require {
		if _, ok := keys[p]; ok {
			continue
		}
		if electronCovers(c.ev.Assets, electron, p) {
			c.row(p.Key()).Checks[CheckPayload] = StatusOK
			continue
		}
		c.add(Problem{Platform: p.Key(), Check: CheckPayload, Message: "no signed updater payload for " + p.Key(),
			Fix: "upload the build for " + p.Key() + " and its .sig (did its CI job fail?)"})
	}
}

// electronCovers reports whether an electron payload for p is listed in a latest*.yml.
func electronCovers(assets []githubsrc.Asset, electron map[string]bool, p githubsrc.Platform) bool {
	for _, a := range assets {
		art := githubsrc.Classify(a.Name)
		if electron[a.Name] && art.Role == githubsrc.RolePayload && art.Platform.OS == p.OS && art.Platform.Arch == p.Arch &&
			(p.Installer == "" || art.Platform.Installer == p.Installer) {
			return true
		}
	}
	return false
}

func (c *checker) manifests(found githubsrc.Payloads) {
	assets := c.byName()
	covered := map[string]bool{}
	for _, a := range c.ev.Assets {
		if githubsrc.Classify(a.Name).Role != githubsrc.RoleChecksums || !a.Uploaded() {
			continue
		}
		text, ok := c.ev.Texts[a.Name]
		if !ok {
			continue
		}
		lines, err := ParseManifest(text)
		if err != nil {
			c.add(Problem{Check: CheckManifest, Asset: a.Name, Message: a.Name + ": " + err.Error(), Fix: "replace it with a `sha256sum` manifest"})
			continue
		}
		for _, l := range lines {
			target, ok := assets[l.Name]
			if !ok {
				c.add(Problem{Check: CheckManifest, Asset: a.Name, Message: fmt.Sprintf("%s lists %s, which is not on the release", a.Name, l.Name),
					Fix: "upload " + l.Name + ", or remove the manifest"})
				continue
			}
			covered[l.Name] = true
			got := target.SHA256()
			if got == "" {
				got = c.ev.SHA256[target.ID]
			}
			if got != "" && got != l.SHA256 {
				c.add(Problem{Platform: c.platformOf(l.Name), Check: CheckManifest, Asset: l.Name,
					Message: fmt.Sprintf("%s has sha256 %.12s… on GitHub, but %s says %.12s…", l.Name, got, a.Name, l.SHA256),
					Fix:     "upload the right file with otapub upload --replace (it rewrites the manifest)"})
			}
		}
	}
	for _, p := range found.ByKey {
		for _, name := range []string{p.Asset.Name, p.Sig.Name} {
			if !covered[name] {
				c.add(Problem{Platform: p.Artifact.Platform.Key(), Check: CheckManifest, Asset: name, Message: name + " is in no checksum manifest",
					Fix: "upload it with otapub upload, which writes a manifest of what it uploads"})
				covered[name] = true
			}
		}
	}
}

func (c *checker) signatures(found githubsrc.Payloads) {
	if c.ev.Signatures == nil {
		return
	}
	for key, p := range found.ByKey {
		err := c.ev.Signatures[p.Asset.Name]
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
			fix = fmt.Sprintf("sign it again with --app-version %s", c.version)
		}
		c.add(Problem{Platform: key.Key(), Check: CheckSignature, Asset: p.Asset.Name, Message: p.Asset.Name + ": " + err.Error(), Fix: fix})
	}
}

// errVersionBound marks a signature whose trusted comment names another version.
var errVersionBound = errors.New("signature bound to another version")

func (c *checker) latestJSON() {
	text, ok := c.ev.Texts["latest.json"]
	if !ok {
		return
	}
	var m struct {
		Version   string `json:"version"`
		Platforms map[string]struct {
			URL       string `json:"url"`
			Signature string `json:"signature"`
		} `json:"platforms"`
	}
	bad := func(msg string) {
		c.add(Problem{Check: CheckLatest, Asset: "latest.json", Message: "latest.json " + msg, Fix: "delete it: otapub publish writes latest.json from the release's assets"})
	}
	if err := json.Unmarshal(text, &m); err != nil {
		bad("is not JSON: " + err.Error())
		return
	}
	if c.version != nil && strings.TrimPrefix(m.Version, "v") != c.version.String() {
		bad(fmt.Sprintf("says version %q, the release is %s", m.Version, c.version))
	}
	assets := c.byName()
	for _, key := range slices.Sorted(maps.Keys(m.Platforms)) {
		e := m.Platforms[key]
		name := urlAssetName(e.URL)
		a, ok := assets[name]
		if !ok || !c.urlOfRelease(e.URL, a) {
			bad(fmt.Sprintf("%s points at %s, which is not an asset of this release", key, e.URL))
			continue
		}
		if sig, ok := c.ev.Texts[name+".sig"]; ok && strings.TrimSpace(string(sig)) != strings.TrimSpace(e.Signature) {
			bad(fmt.Sprintf("%s carries a signature that is not %s.sig", key, name))
		}
	}
}

// urlOfRelease reports whether u is a download URL of asset a of this release.
func (c *checker) urlOfRelease(u string, a githubsrc.Asset) bool {
	if strings.Contains(u, "/releases/assets/") {
		return strings.HasSuffix(u, "/releases/assets/"+strconv.FormatInt(a.ID, 10))
	}
	tag := url.PathEscape(c.ev.Release.Tag)
	return strings.Contains(u, "/download/"+tag+"/") || strings.Contains(u, "/download/untagged-") || u == a.BrowserURL
}

func urlAssetName(u string) string {
	if p, err := url.Parse(u); err == nil {
		return path.Base(p.Path)
	}
	return path.Base(u)
}

// ymlInfo is the part of an electron-updater channel file otapub checks.
type ymlInfo struct {
	Version string `yaml:"version"`
	Files   []struct {
		URL    string `yaml:"url"`
		SHA512 string `yaml:"sha512"`
		Size   int64  `yaml:"size"`
	} `yaml:"files"`
	Path   string `yaml:"path"`
	SHA512 string `yaml:"sha512"`
}

func isYML(name string) bool {
	return strings.HasSuffix(name, ".yml") && githubsrc.Classify(name).Role == githubsrc.RoleUpdaterManifest
}

func parseYML(text []byte) (ymlInfo, error) {
	var info ymlInfo
	err := yaml.Unmarshal(text, &info)
	if len(info.Files) == 0 && info.Path != "" {
		info.Files = append(info.Files, struct {
			URL    string `yaml:"url"`
			SHA512 string `yaml:"sha512"`
			Size   int64  `yaml:"size"`
		}{URL: info.Path, SHA512: info.SHA512})
	}
	return info, err
}

// ymlAssetName maps a latest*.yml url onto an asset name: relative names
// resolve next to the yml; GitHub stores spaces as dots.
func ymlAssetName(u string) string {
	return githubsrc.AssetName(urlAssetName(u))
}

func (c *checker) yml() {
	assets := c.byName()
	for _, name := range slices.Sorted(maps.Keys(c.ev.Texts)) {
		if !isYML(name) {
			continue
		}
		bad := func(msg, fix string) {
			c.add(Problem{Check: CheckYML, Asset: name, Message: name + " " + msg, Fix: fix})
		}
		info, err := parseYML(c.ev.Texts[name])
		if err != nil {
			bad("is not YAML: "+err.Error(), "upload the file electron-builder wrote")
			continue
		}
		if c.version != nil && strings.TrimPrefix(info.Version, "v") != c.version.String() {
			bad(fmt.Sprintf("says version %q, the release is %s", info.Version, c.version), "upload the "+name+" of this build")
		}
		for _, f := range info.Files {
			an := ymlAssetName(f.URL)
			a, ok := assets[an]
			if !ok {
				bad(fmt.Sprintf("names %s, which is not an asset of this release", f.URL), "upload "+an)
				continue
			}
			if f.Size != 0 && f.Size != a.Size {
				bad(fmt.Sprintf("says %s is %d bytes, GitHub has %d", an, f.Size, a.Size), "upload the "+name+" and "+an+" of one build")
			}
			if got, ok := c.ev.SHA512[a.ID]; ok && got != f.SHA512 {
				bad(fmt.Sprintf("says %s has sha512 %.16s…, GitHub's bytes have %.16s…", an, f.SHA512, got), "upload the "+name+" and "+an+" of one build")
			}
		}
	}
}

// table returns the platform rows, sorted by key.
func (c *checker) table() []PlatformRow {
	out := make([]PlatformRow, 0, len(c.rows))
	for _, r := range c.rows {
		for _, col := range Columns {
			if _, ok := r.Checks[col]; !ok {
				r.Checks[col] = StatusSkipped
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b PlatformRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

package proxy

// The Squirrel feed: Electron's built-in autoUpdater (Squirrel.Mac and
// Squirrel.Windows), update-electron-app, and download links for websites,
// in the route shapes of the two servers such apps point at today
// (research/client-protocols.md §6, peers.md §2.1 and §2.3):
//
//   - vercel/hazel (lib/routes.js): GET /update/{platform}/{version} with
//     hazel's platform spellings (squirrel.ParseHazel), GET
//     /update/{platform}/{version}/RELEASES, and GET /download/{platform}
//     (squirrel.ParseHazelDownload, ?update=true);
//   - update.electronjs.org (src/updates.ts): GET
//     /{owner}/{repo}/{platform}[-{arch}]/{version} and …/{version}/RELEASES,
//     at the server's root (update-electron-app builds
//     ${host}/${owner}/${repo}/${platform}-${arch}/${version}), answered only
//     for the repositories this server serves (Server.servedRepo): never an
//     open proxy. The 4-segment shape is the Tauri check's
//     /{target}/{arch}/{bundle}/{version}, so the check handler and
//     matchCheck hand it here when its first two segments name a served
//     repository (fastpath.go);
//   - GET /download/latest/{platform} (verify's platform keys, ?format=):
//     a 302 to the newest release's installer, Tauri's and Electron's alike.
//
// A Squirrel.Mac check answers 204 when nothing newer is published (Squirrel
// installs whatever it is given, even the version it runs) and otherwise
// {url, name, notes, pub_date}: url at this server's /download/ route, the
// release's .zip for the arch (a universal one where there is none), notes
// without the rollout line, pub_date without fractional seconds
// (squirrel.PubDate). Unlike hazel it never offers an older version; like
// update.electronjs.org it skips prereleases. Answers are encoded once per
// snapshot, per (OS, arch, format): a check is a parse-cache lookup, a map
// lookup and a version comparison.

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/githubsrc/squirrel"
)

// squirrelFeed answers Squirrel.Mac, Squirrel.Windows and download links.
type squirrelFeed struct{}

func (squirrelFeed) routes() []route {
	return []route{
		{pattern: "GET /update/{platform}/{version}", name: "squirrel", hint: "/update/{platform}/{current_version}", plain: (*Server).serveHazelPlain, h: (*Server).handleHazelUpdate},
		{pattern: "GET /update/{platform}/{version}/RELEASES", name: "releases", hint: "/update/win32/{current_version}/RELEASES", h: (*Server).handleHazelReleases},
		// update.electronjs.org's check shape is served by the check
		// handler (see handleCheck); its RELEASES shape is a route of the
		// server, not of an app: the repository names the app.
		{pattern: "GET /{owner}/{repo}/{platform}/{version}/RELEASES", name: "releases", server: true, hint: "/{owner}/{repo}/{platform}-{arch}/{current_version}[/RELEASES]", h: (*Server).handleElectronReleases},
		{pattern: "GET /download/latest/{platform}", name: "download-latest", hint: "/download/latest/{platform}", h: (*Server).handleDownloadLatest},
		{pattern: "GET /download/{platform}", name: "download-latest", h: (*Server).handleHazelDownload},
		{pattern: "GET /download", name: "download-latest", h: (*Server).handleAgentDownload},
	}
}

// squirrelKey is what a Squirrel-style route asks for: a file of one
// format built for one OS and arch. format is githubsrc.Classify's Format
// ("zip", "dmg", "pkg", "exe", "msi", "appimage", "deb", "rpm"), or
// "nupkg"; squirrel.Format spells the same values.
type squirrelKey struct {
	os     githubsrc.OS
	arch   githubsrc.Arch
	format string
}

func keyOf(t squirrel.Target) squirrelKey {
	return squirrelKey{t.Platform.OS, t.Platform.Arch, string(t.Format)}
}

// squirrelTables are the feed's answers in one snapshot.
type squirrelTables struct {
	// opts are the options the snapshot was built with (Direct is off
	// for a repository found private): answers are encoded with them.
	opts SnapshotOptions
	// files are, per key, the candidate files newest first, each with its
	// Squirrel.Mac answer encoded: the newest release's, and older ones'
	// down to the first release rolled out to every device
	// (githubsrc/rollout). offer is the one place that chooses among them.
	files map[squirrelKey][]*squirrelFile
	// releases is Squirrel.Windows' RELEASES, its packages at /download/,
	// of the newest release with a servable one, and older ones' down to
	// the first release rolled out to every device, as files; empty when
	// none has one.
	releases []*squirrelText
}

// squirrelFile is one release's file for a key.
type squirrelFile struct {
	v          *semver.Version
	tag, asset string
	rollout    rollout.State
	label      string             // the version as metrics label it
	rel        *githubsrc.Release // in the Index
	// body is the Squirrel.Mac answer, encoded on its first request: most
	// apps' files are never asked for by Squirrel.Mac (a Tauri app's are
	// only linked by /download/latest/), and a body per key and release
	// would cost every app.
	once   sync.Once
	body   []byte
	length []string
}

// encoded returns the Squirrel.Mac JSON {url, name, notes, pub_date} and
// its Content-Length.
func (f *squirrelFile) encoded(opts SnapshotOptions) ([]byte, []string) {
	f.once.Do(func() {
		f.body = encode(f.update(opts))
		f.length = []string{strconv.Itoa(len(f.body))}
	})
	return f.body, f.length
}

// squirrelText is a pre-encoded text answer of one release.
type squirrelText struct {
	body    []byte
	length  []string
	tag     string
	v       *semver.Version
	rollout rollout.State
}

func (f *squirrelFile) stage() (rollout.State, string) { return f.rollout, f.tag }
func (t *squirrelText) stage() (rollout.State, string) { return t.rollout, t.tag }

// forDevice returns the candidate (newest first) device d gets, and
// whether a rollout decided it: the newest whose rollout takes d in, or
// nil. d is asked for only when the newest is in a rollout.
func forDevice[T interface {
	comparable
	staged
}](cands []T, d func() Device) (T, bool) {
	var none T
	if len(cands) == 0 {
		return none, false
	}
	if st, _ := cands[0].stage(); st.Full() {
		return cands[0], false
	}
	return offerFor(cands[0], cands[1:], d()), true
}

// settled returns the candidate a new install gets (/download/latest/):
// the newest release every device gets, else the newest one not halted.
func settled(cands []*squirrelFile) *squirrelFile {
	for _, c := range cands {
		if c.rollout.Full() {
			return c
		}
	}
	for _, c := range cands {
		if !c.rollout.Halted {
			return c
		}
	}
	return nil
}

// squirrelReleases are the releases the feed answers with, newest first:
// not hot-swap bundles, a semver tag, and not prereleases (hazel serves
// either stable or prerelease releases, update.electronjs.org skips
// prereleases; Squirrel has no channels).
func squirrelReleases(ix *Index, opts SnapshotOptions) []electronRelease {
	rels := slices.Clone(electronReleases(ix, opts))
	return slices.DeleteFunc(rels, func(er electronRelease) bool { return er.rel.Prerelease || er.v.Prerelease() != "" })
}

// releasesName is Squirrel.Windows' index of packages.
const releasesName = "RELEASES"

// texts asks for the newest release's RELEASES, and for an older one's only
// once the newer one read cannot be served or is in a staged rollout.
func (squirrelFeed) texts(ix *Index, opts SnapshotOptions, dst []githubsrc.Asset) []githubsrc.Asset {
	for _, er := range squirrelReleases(ix, opts) {
		a, ok := er.rel.Asset(releasesName)
		if !ok || !a.Uploaded() {
			continue
		}
		if _, read := ix.Text(a); !read {
			return append(dst, a)
		}
		if _, why := encodeReleases(ix, opts, er, a); why == "" && ix.Rollout(er.rel.ID).Full() {
			break
		}
	}
	return dst
}

// build files, per key, the newest release's file and its Squirrel.Mac
// answer, and encodes the newest servable RELEASES.
func (squirrelFeed) build(ix *Index, opts SnapshotOptions, snap *Snapshot) {
	t := &snap.squirrel
	t.opts, t.files = opts, map[squirrelKey][]*squirrelFile{}
	answering := func(er electronRelease) {
		if !slices.Contains(ix.answering, er.rel.ID) {
			ix.answering = append(ix.answering, er.rel.ID)
		}
	}
	// Per key, the candidates run from the newest release down to the
	// first one rolled out to every device: a device outside a newer
	// release's staged rollout is answered by an older candidate.
	full := map[squirrelKey]bool{}
	rels := squirrelReleases(ix, opts)
	for _, er := range rels {
		st, label := ix.Rollout(er.rel.ID), er.v.String()
		valid, checked := ix.squirrelValid(er.rel), true
		for k, a := range ix.squirrelFiles(er.rel) {
			if full[k] {
				checked = false
				continue
			}
			f, err := newSquirrelFile(opts, er, a, label, valid)
			if err != nil {
				checked = false
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("release %s: %s: %v", er.rel.Tag, a.Name, err))
				continue
			}
			f.rollout = st
			t.files[k] = append(t.files[k], f)
			full[k] = st.Full()
			answering(er)
		}
		ix.squirrelChecked(er.rel, checked)
	}
	for _, er := range rels {
		a, ok := er.rel.Asset(releasesName)
		if !ok || !a.Uploaded() {
			continue
		}
		body, why := encodeReleases(ix, opts, er, a)
		if why != "" {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %s", releasesName, er.rel.Tag, why))
			continue
		}
		st := ix.Rollout(er.rel.ID)
		t.releases = append(t.releases, &squirrelText{body: body, length: []string{strconv.Itoa(len(body))}, tag: er.rel.Tag, v: er.v, rollout: st})
		answering(er)
		if st.Full() {
			break
		}
	}
}

// releaseFiles finds, per key, the file of r that answers it: one built
// for the key's arch before a universal macOS one (which serves both
// arches, as update.electronjs.org falls back to it), and an installer an
// updater also applies (electron-builder's "App Setup 1.2.0.exe") before
// one it does not (a portable .exe).
func releaseFiles(r *githubsrc.Release) map[squirrelKey]githubsrc.Asset {
	type ranked struct {
		a    githubsrc.Asset
		rank int
	}
	found := map[squirrelKey]ranked{}
	offer := func(k squirrelKey, a githubsrc.Asset, rank int) {
		if cur, ok := found[k]; !ok || rank > cur.rank {
			found[k] = ranked{a, rank}
		}
	}
	for _, a := range r.Assets {
		if !a.Uploaded() {
			continue
		}
		k, payload, ok := fileKey(a.Name)
		if !ok {
			continue
		}
		rank := 2
		if payload {
			rank++
		}
		offer(k, a, rank)
		if k.os == githubsrc.Darwin && k.arch == githubsrc.Universal {
			for _, arch := range []githubsrc.Arch{githubsrc.X86_64, githubsrc.AArch64} {
				offer(squirrelKey{k.os, arch, k.format}, a, rank-2)
			}
		}
	}
	out := make(map[squirrelKey]githubsrc.Asset, len(found))
	for k, f := range found {
		out[k] = f.a
	}
	return out
}

// fileKey says which key a release file answers, by its name: an
// installer or updater file a person or Squirrel takes (not a Tauri
// updater archive, a blockmap or a signature), and whether an updater
// applies it too.
func fileKey(name string) (squirrelKey, bool, bool) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".nupkg") {
		if strings.HasSuffix(lower, "-delta.nupkg") {
			return squirrelKey{}, false, false // RELEASES lists deltas; a person never wants one
		}
		arch := githubsrc.X86_64
		switch {
		case strings.Contains(lower, "arm64"):
			arch = githubsrc.AArch64
		case strings.Contains(lower, "ia32"):
			arch = githubsrc.I686
		}
		return squirrelKey{githubsrc.Windows, arch, string(squirrel.Nupkg)}, true, true
	}
	art := githubsrc.Classify(name)
	switch art.Format {
	case "dmg", "pkg", "exe", "msi", "appimage", "deb", "rpm":
	case "zip":
		if art.Platform.OS != githubsrc.Darwin {
			return squirrelKey{}, false, false // Tauri v1's .nsis.zip and .msi.zip are updater archives
		}
	default:
		return squirrelKey{}, false, false
	}
	if art.Platform.Arch == "" {
		return squirrelKey{}, false, false
	}
	return squirrelKey{art.Platform.OS, art.Platform.Arch, art.Format}, art.Role == githubsrc.RolePayload, true
}

// newSquirrelFile encodes file a of er as Squirrel.Mac's answer.
// label is er's version as metrics label it, made once per release.
// valid says the last build from the same listing found every file of
// er fit (Index.squirrelValid): the answer is not checked again.
func newSquirrelFile(opts SnapshotOptions, er electronRelease, a githubsrc.Asset, label string, valid bool) (*squirrelFile, error) {
	f := &squirrelFile{v: er.v, rel: er.rel, tag: er.rel.Tag, asset: a.Name, label: label}
	if valid {
		return f, nil
	}
	if err := f.update(opts).Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// update is f's Squirrel.Mac answer.
func (f *squirrelFile) update(opts SnapshotOptions) squirrel.MacUpdate {
	a, _ := f.rel.Asset(f.asset)
	// The Index gave the notes without the rollout line.
	u := squirrel.MacUpdate{URL: DownloadURL(opts, f.tag, a), Name: cmp.Or(f.rel.Name, f.tag), Notes: f.rel.Notes}
	if !f.rel.PublishedAt.IsZero() {
		u.PubDate = squirrel.PubDate(f.rel.PublishedAt)
	}
	return u
}

// encodeReleases reads RELEASES asset a of er and points every package it
// names at /download/ (update.electronjs.org and hazel rewrite only the
// first; a delta then resolves against them), or says why it cannot be
// served: unread, unreadable, or naming a package not on the release.
func encodeReleases(ix *Index, opts SnapshotOptions, er electronRelease, a githubsrc.Asset) ([]byte, string) {
	text, ok := ix.Text(a)
	if !ok {
		return nil, "not read"
	}
	entries, err := squirrel.Parse(text)
	if err != nil {
		return nil, err.Error()
	}
	var missing []string
	body, err := squirrel.Encode(entries, func(name string) string {
		if strings.Contains(name, "://") {
			return name // already absolute: Squirrel fetches it as written
		}
		for _, n := range []string{name, githubsrc.AssetName(name)} {
			if pkg, ok := er.rel.Asset(n); ok && pkg.Uploaded() {
				return DownloadURL(opts, er.rel.Tag, pkg)
			}
		}
		missing = append(missing, name)
		return name
	})
	switch {
	case err != nil:
		return nil, err.Error()
	case len(missing) > 0:
		return nil, fmt.Sprintf("%s not fully uploaded on the release", listOf(missing))
	}
	return body, ""
}

// platformList names the keys of files as /download/latest/ spells them,
// with their formats: "darwin-aarch64 (dmg, zip), windows-x86_64 (exe)".
func platformList(files map[squirrelKey][]*squirrelFile) string {
	byPlatform := map[string][]string{}
	for k := range files {
		p := githubsrc.Platform{OS: k.os, Arch: k.arch}.Key()
		byPlatform[p] = append(byPlatform[p], k.format)
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(byPlatform)) {
		formats := byPlatform[p]
		slices.Sort(formats)
		out = append(out, p+" ("+strings.Join(formats, ", ")+")")
	}
	return strings.Join(out, ", ")
}

// --- Squirrel.Mac (and hazel's other /update/ platforms) ---

// handleHazelUpdate serves GET /update/{platform}/{version} the mux routed.
func (s *Server) handleHazelUpdate(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	k, err := s.squirrelTarget(false, r.PathValue("platform"))
	s.serveSquirrel(w, r, a, k, err, r.PathValue("version"))
}

// serveHazelPlain serves /update/{platform}/{version} from the fast path
// (matchPlain), which hands over the last segment: the platform is the
// one before it.
func (s *Server) serveHazelPlain(w http.ResponseWriter, r *http.Request, a *app, version string) {
	p := r.URL.Path[:len(r.URL.Path)-len(version)-1]
	k, err := s.squirrelTarget(false, p[strings.LastIndexByte(p, '/')+1:])
	s.serveSquirrel(w, r, a, k, err, version)
}

// serveSquirrel answers a Squirrel.Mac check for k, the platform as
// squirrelTarget read it (err when it could not): 204 when nothing newer
// is published, 200 with the encoded answer, 400 for a platform or
// version it cannot read.
func (s *Server) serveSquirrel(w http.ResponseWriter, r *http.Request, a *app, k squirrelKey, err error, version string) {
	if err != nil {
		a.adoption.check(githubsrc.Platform{}, Stable, outcomeBad, "", false)
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	cur, err := s.currentVersion(version)
	if err != nil {
		a.adoption.check(githubsrc.Platform{OS: k.os, Arch: k.arch}, Stable, outcomeBad, "", false)
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	w.Header()["Cache-Control"] = s.checkCacheControl
	cands := snap.squirrel.files[k]
	f, perDevice := forDevice(cands, func() Device { return s.device(r, a) })
	p, heldBack := githubsrc.Platform{OS: k.os, Arch: k.arch}, false
	if perDevice {
		w.Header()["Cache-Control"] = s.deviceCacheControl
		heldBack = f != cands[0] && cands[0].v.GreaterThan(cur)
	}
	offered := f != nil && f.v.GreaterThan(cur)
	a.adoption.check(p, Stable, outcomeOf(offered, heldBack), version, snap.index.knownVersion(version))
	if !offered {
		w.WriteHeader(http.StatusNoContent) // Squirrel.Mac: no update
		return
	}
	a.adoption.offer(f.label, p)
	body, length := f.encoded(snap.squirrel.opts)
	writeBody(w, r, body, length)
}

// currentVersion reads the version a client runs, through the parse cache.
func (s *Server) currentVersion(v string) (*semver.Version, error) {
	cur, err := s.versions.get(v, func() (*semver.Version, error) { return githubsrc.ParseVersion(v) })
	if err != nil {
		return nil, fmt.Errorf("current version: %w", err)
	}
	return cur, nil
}

// squirrelTarget reads a platform spelling through the parse caches:
// update.electronjs.org's for its own routes (electron), else hazel's or,
// failing that, update.electronjs.org's.
func (s *Server) squirrelTarget(electron bool, platform string) (squirrelKey, error) {
	if electron {
		return s.electronTargets.get(platform, func() (squirrelKey, error) {
			t, err := squirrel.ParseElectronUpdate(platform, "")
			return keyOf(t), err
		})
	}
	return s.hazelTargets.get(platform, func() (squirrelKey, error) {
		t, err := squirrel.ParseHazel(platform)
		if err != nil {
			// update.electronjs.org's spellings (darwin-arm64) too: an app
			// moving between the two keeps working.
			if et, eerr := squirrel.ParseElectronUpdate(platform, ""); eerr == nil {
				return keyOf(et), nil
			}
		}
		return keyOf(t), err
	})
}

// --- update.electronjs.org's repositories ---

// maxRepoKey bounds an owner/repo a lookup lowers on the stack; GitHub's
// own limits (39 + 100) are well under it.
const maxRepoKey = 256

// servedRepo finds the app update.electronjs.org's /{owner}/{repo}/…
// names, without allocating: the app whose repository is owner/repo
// (case ignored, as GitHub ignores it), or a --dir app whose name is repo
// (its slug, or for a lone --dir app the folder's base name; a folder has
// no owner). Nil for any other repository: this server is never a proxy
// for repositories it was not configured to serve.
func (s *Server) servedRepo(owner, repo string) *app {
	if len(owner)+1+len(repo) > maxRepoKey || len(s.electronRepos)+len(s.electronNames) == 0 {
		return nil
	}
	var buf [maxRepoKey]byte
	n := copy(buf[:], owner)
	buf[n] = '/'
	n++
	n += copy(buf[n:], repo)
	for i := range n {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	if a := s.electronRepos[string(buf[:n])]; a != nil {
		return a
	}
	return s.electronNames[string(buf[len(owner)+1:n])]
}

// initServedRepos notes, for servedRepo, each app's repository, or a
// --dir app's name. Of several apps of one repository (tag prefixes in a
// monorepo) the first by slug answers.
func (s *Server) initServedRepos() {
	s.electronRepos, s.electronNames = map[string]*app{}, map[string]*app{}
	for _, ac := range s.cfg.Apps {
		a := s.apps[ac.Slug]
		m, key := s.electronRepos, strings.ToLower(ac.Repo)
		if ac.Repo == "" {
			if ac.Dir == "" {
				continue
			}
			m, key = s.electronNames, strings.ToLower(cmp.Or(ac.Slug, filepath.Base(filepath.Clean(ac.Dir))))
		}
		if _, taken := m[key]; !taken {
			m[key] = a
		}
	}
}

// electronApp returns the app a four-segment path names when it is
// update.electronjs.org's /{owner}/{repo}/{platform}/{version}: the
// repository is served, and either {platform} is update.electronjs.org's
// or the path cannot be a check of this server's (with several apps,
// {owner} is no app's slug; with one, no target). Otherwise nil: a --dir
// app named like a target (macos) never takes another app's checks
// (/desktop/macos/aarch64/1.0.0).
//
// It returns {platform} as squirrelTarget reads it too, for serveSquirrel.
func (s *Server) electronApp(seg [4]string) (*app, squirrelKey, error) {
	a := s.servedRepo(seg[0], seg[1])
	if a == nil {
		return nil, squirrelKey{}, nil
	}
	k, err := s.squirrelTarget(true, seg[2])
	if err == nil {
		return a, k, nil
	}
	if s.single == nil {
		if s.apps[seg[0]] != nil {
			return nil, squirrelKey{}, nil
		}
	} else if _, oserr := githubsrc.ParseOS(seg[0]); oserr == nil {
		return nil, squirrelKey{}, nil
	}
	return a, k, err // the 400 names update.electronjs.org's platforms
}

// electronCheck reports whether a check's segments are update.electronjs.org's
// /{owner}/{repo}/{platform}/{version} for a served repository, and serves it.
func (s *Server) electronCheck(w http.ResponseWriter, r *http.Request, seg [4]string) bool {
	a, k, err := s.electronApp(seg)
	if a == nil {
		return false
	}
	s.serveSquirrel(w, r, a, k, err, seg[3])
	return true
}

// --- Squirrel.Windows ---

// ownReleases returns the RELEASES of the release a device runs, when the
// feed has it. Squirrel.Windows installs the newest full release RELEASES
// lists even when it is older than the one running (Squirrel.Windows,
// UpdateManager.CheckForUpdates.cs, determineUpdateInfo: "local version is
// greater than remote version" still applies latestFullRelease), so a
// device whose answer would be older (it runs a release since halted, or a
// rollout's bucket moved with its address) is given its own, which tells
// it there is nothing to do.
func ownReleases(cands []*squirrelText, cur *semver.Version) *squirrelText {
	for _, c := range cands {
		if c.v.Equal(cur) {
			return c
		}
	}
	return nil
}

// textType is the Content-Type of RELEASES.
var textType = []string{"text/plain; charset=utf-8"}

func (s *Server) handleHazelReleases(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveReleases(w, r, a, r.PathValue("platform"), r.PathValue("version"), http.StatusNoContent)
}

func (s *Server) handleElectronReleases(w http.ResponseWriter, r *http.Request) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	a := s.servedRepo(owner, repo)
	if a == nil {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("%s/%s is not a repository this server serves: the /{owner}/{repo}/… routes answer only for its configured repositories", owner, repo))
		return
	}
	s.serveReleases(w, r, a, r.PathValue("platform"), r.PathValue("version"), http.StatusNotFound)
}

// serveReleases answers Squirrel.Windows' …/RELEASES?id=&localVersion=&arch=:
// the newest RELEASES with absolute package URLs, whatever the version
// (Squirrel compares itself); the query is never read, so it costs GitHub
// nothing. none is the status when no release has one: hazel answers 204,
// update.electronjs.org 404.
func (s *Server) serveReleases(w http.ResponseWriter, r *http.Request, a *app, platform, version string, none int) {
	if !isWindows(platform) {
		s.writeError(w, r, http.StatusBadRequest, fmt.Sprintf("platform %q: RELEASES is Squirrel.Windows': use win32, win32-x64, win32-ia32 or win32-arm64", platform))
		return
	}
	cur, err := s.currentVersion(version)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	ans, perDevice := forDevice(snap.squirrel.releases, func() Device { return s.device(r, a) })
	if perDevice {
		w.Header()["Cache-Control"] = s.deviceCacheControl
	}
	if older := ans != nil && ans.v.LessThan(cur); older || ans == nil {
		if own := ownReleases(snap.squirrel.releases, cur); own != nil {
			ans = own
		} else if older {
			if none != http.StatusNoContent {
				s.writeError(w, r, none, fmt.Sprintf("the newest RELEASES this device gets (%s) is older than the %s it runs, and Squirrel.Windows would go back to it: none is served", ans.v, cur))
				return
			}
			ans = nil
		}
	}
	if ans == nil { // none, or every one held back from this device by a rollout
		if none == http.StatusNoContent {
			if !perDevice {
				w.Header()["Cache-Control"] = s.checkCacheControl
			}
			w.WriteHeader(none)
			return
		}
		if perDevice {
			s.writeError(w, r, none, "no release with a RELEASES file is rolled out to this device yet")
			return
		}
		s.writeError(w, r, none, "no published release has a RELEASES file whose packages are all uploaded: publish electron-builder's squirrel target (RELEASES and its .nupkg)")
		return
	}
	if !perDevice {
		w.Header()["Cache-Control"] = s.checkCacheControl
	}
	writeTyped(w, r, textType, ans.body, ans.length)
}

// isWindows reports whether platform is a Windows spelling of hazel's
// (win32, windows, win, exe, nupkg, each with _arm64) or
// update.electronjs.org's (win32, win32-x64, win32-ia32, win32-arm64).
func isWindows(platform string) bool {
	if t, err := squirrel.ParseHazel(platform); err == nil {
		return t.Platform.OS == githubsrc.Windows
	}
	t, err := squirrel.ParseElectronUpdate(platform, "")
	return err == nil && t.Platform.OS == githubsrc.Windows
}

// --- download links for websites ---

// downloadFormats are the ?format= values /download/latest/ takes.
var downloadFormats = []string{"dmg", "zip", "pkg", "exe", "msi", "appimage", "deb", "rpm", "nupkg"}

// defaultFormats are what a person downloads for an OS, in order of
// preference when a release has several.
var defaultFormats = map[githubsrc.OS][]string{
	githubsrc.Darwin:  {"dmg", "pkg", "zip"},
	githubsrc.Windows: {"exe", "msi"},
	githubsrc.Linux:   {"appimage", "deb", "rpm"},
}

// installerFormat is the file format of an installer a platform key names
// (windows-x86_64-msi).
var installerFormat = map[githubsrc.Installer]string{
	githubsrc.NSIS: "exe", githubsrc.MSI: "msi", githubsrc.AppImage: "appimage", githubsrc.Deb: "deb", githubsrc.RPM: "rpm",
}

// handleDownloadLatest answers GET /download/latest/{platform}[?format=]: a
// redirect to the newest release's installer for a platform key
// (darwin-aarch64, windows-x86_64, linux-x86_64-deb, …).
func (s *Server) handleDownloadLatest(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	platform := r.PathValue("platform")
	p, err := githubsrc.ParsePlatform(platform)
	if err != nil {
		s.downloadNotFound(w, r, a, fmt.Sprintf("platform %q: %v", platform, err))
		return
	}
	formats := defaultFormats[p.OS]
	if f, ok := installerFormat[p.Installer]; ok {
		formats = []string{f}
	}
	formats, ok := s.formatQuery(w, r, formats)
	if !ok {
		return
	}
	s.serveLatest(w, r, a, p.OS, p.Arch, formats, platform)
}

// formatQuery returns the ?format= a download link asks for, else
// formats; it answers 400 and reports false for a format it cannot serve.
func (s *Server) formatQuery(w http.ResponseWriter, r *http.Request, formats []string) ([]string, bool) {
	f := strings.ToLower(r.URL.Query().Get("format"))
	if f == "" {
		return formats, true
	}
	if !slices.Contains(downloadFormats, f) {
		s.writeError(w, r, http.StatusBadRequest, fmt.Sprintf("format %q: use %s", f, strings.Join(downloadFormats, ", ")))
		return nil, false
	}
	return []string{f}, true
}

// handleHazelDownload answers hazel's GET /download/{platform}[?update=true]:
// as /download/latest/, in hazel's spellings ("mac" is the .dmg unless
// ?update=true asks for the zip).
func (s *Server) handleHazelDownload(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	platform := r.PathValue("platform")
	t, err := squirrel.ParseHazelDownload(platform, r.URL.Query().Get("update") == "true")
	if err != nil {
		s.downloadNotFound(w, r, a, err.Error())
		return
	}
	s.serveLatest(w, r, a, t.Platform.OS, t.Platform.Arch, []string{string(t.Format)}, platform)
}

// agentVary names the headers handleAgentDownload reads.
var agentVary = []string{"User-Agent, Sec-CH-UA-Platform, Sec-CH-UA-Arch, Sec-CH-UA-Bitness"}

// archHints are the client hints /download asks browsers for, and
// criticalHints the one worth a retry.
var archHints, criticalHints = []string{"Sec-CH-UA-Arch, Sec-CH-UA-Bitness"}, []string{"Sec-CH-UA-Arch"}

// handleAgentDownload answers hazel's GET /download[?update=true]: as
// /download/latest/{platform}[?format=] for the platform the browser runs
// on (squirrel.AgentPlatform), for a website's one download button.
func (s *Server) handleAgentDownload(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	w.Header()["Vary"] = agentVary
	// Chromium's User-Agent names no arch (it says x86_64 on any Linux, Intel
	// on any Mac); ask for the hints that do, which it sends on the next
	// request, or at once by retrying this one (Critical-CH).
	w.Header()["Accept-Ch"] = archHints
	w.Header()["Critical-Ch"] = criticalHints
	p, err := squirrel.AgentPlatform(r.Header.Get("User-Agent"), r.Header.Get("Sec-CH-UA-Platform"), r.Header.Get("Sec-CH-UA-Arch"), r.Header.Get("Sec-CH-UA-Bitness"))
	if err != nil {
		s.downloadNotFound(w, r, a, err.Error()+": link /download/latest/{platform} for one platform")
		return
	}
	formats := defaultFormats[p.OS]
	if p.OS == githubsrc.Darwin && r.URL.Query().Get("update") != "" {
		formats = []string{"zip"} // hazel: any ?update= asks for the Squirrel.Mac zip
	}
	formats, ok := s.formatQuery(w, r, formats)
	if !ok {
		return
	}
	archs := []githubsrc.Arch{p.Arch}
	if emulated, ok := squirrel.Emulated(p); ok {
		archs = append(archs, emulated) // an x64 build where there is no arm64 one
	}
	s.serveLatestOf(w, r, a, p.OS, archs, formats, p.Key())
}

// serveLatest redirects to the newest release's file for os and arch in
// one of formats (the first format on a tie), as /download/ does: a signed
// URL for a private repository, the file itself for a folder.
func (s *Server) serveLatest(w http.ResponseWriter, r *http.Request, a *app, os githubsrc.OS, arch githubsrc.Arch, formats []string, asked string) {
	s.serveLatestOf(w, r, a, os, []githubsrc.Arch{arch}, formats, asked)
}

// serveLatestOf is serveLatest for the first of archs that has a file.
func (s *Server) serveLatestOf(w http.ResponseWriter, r *http.Request, a *app, os githubsrc.OS, archs []githubsrc.Arch, formats []string, asked string) {
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	var best *squirrelFile
	for _, arch := range archs {
		for _, f := range formats {
			if c := settled(snap.squirrel.files[squirrelKey{os, arch, f}]); c != nil && (best == nil || c.v.GreaterThan(best.v)) {
				best = c
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		s.downloadNotFound(w, r, a, fmt.Sprintf("no published release has a %s file for %s", strings.Join(formats, " or "), asked))
		return
	}
	s.serveAsset(w, r, a, snap, best.tag, best.asset)
}

// downloadNotFound answers 404 naming the platforms the releases have.
func (s *Server) downloadNotFound(w http.ResponseWriter, r *http.Request, a *app, why string) {
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	have := platformList(snap.squirrel.files) // made for the 404 alone: most snapshots never answer one
	if have == "" {
		have = "none"
	}
	s.writeError(w, r, http.StatusNotFound, why+"; platforms with a download: "+have)
}

package proxy

// The electron-updater generic provider feed: GET /electron/{file}
// (research/client-protocols.md §5). An app built with electron-builder's
// publish: {provider: generic, url: <this server>/electron} asks for
// <url>/<channel file>?noCache=… (latest.yml, latest-mac.yml,
// latest-linux[-<arch>].yml, beta*.yml), resolves every url in it against
// the channel file's own URL, and downloads the file it picks (and its
// .blockmap) from there. So:
//
//   - a channel file name answers that file of the newest published release
//     (semver) that has a complete one (every file it lists uploaded), its
//     urls rewritten to names this route serves; a beta*.yml (any channel
//     other than latest) is never older than the newest latest*.yml of the
//     same OS and arch: when that is newer, it answers with that;
//   - any other name is a file (or the .blockmap of a file) a served
//     channel file lists: a redirect to its asset, as /download answers.
//
// Answers are encoded once per snapshot; the query (?noCache=) is never read.

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
)

// electronFeed answers electron-updater's generic provider.
type electronFeed struct{}

func (electronFeed) routes() []route {
	return []route{
		{pattern: "GET /electron/{file}", name: "electron", hint: "/electron/{file}", plain: (*Server).serveElectron, h: (*Server).handleElectron},
	}
}

// electronTables are the feed's answers in one snapshot: each channel file
// name's encoded body, and where each file name a served channel file
// lists (and its .blockmap) downloads from.
type electronTables struct {
	channels map[string]otaAnswer
	files    map[string]electronFile
	// staged are the channel files whose release is in a staged rollout:
	// channels holds them with stagingPercentage, for electron-updater to
	// bucket itself; a request naming its device (--device-header) is
	// bucketed here instead (see serveElectron).
	staged map[string]stagedChannel
}

// stagedChannel is a channel file in a staged rollout, for devices that
// name themselves: inside, the file without stagingPercentage; outside,
// the newest older release's that every device gets.
type stagedChannel struct {
	rollout rollout.State
	tag     string
	inside  otaAnswer
	outside otaAnswer
}

// electronFile is an asset a served channel file lists.
type electronFile struct {
	tag, asset string
}

// electronRelease is a release that may answer: not a hot-swap bundle, with
// a semver tag.
type electronRelease struct {
	rel *githubsrc.Release
	v   *semver.Version
}

// electronReleases lists ix's releases the feed looks at, newest first,
// worked out once per snapshot (the Electron and Squirrel feeds ask for
// it in every round): callers must not change it.
func electronReleases(ix *Index, opts SnapshotOptions) []electronRelease {
	if ix.electron != nil {
		return ix.electron
	}
	out := []electronRelease{}
	for i := range ix.Releases {
		r := &ix.Releases[i]
		if isBundle(r) || (ix.only != nil && !slices.Contains(ix.only, r.ID)) {
			continue
		}
		v, err := ix.version(r, opts)
		if err != nil {
			continue
		}
		out = append(out, electronRelease{r, v})
	}
	slices.SortStableFunc(out, func(a, b electronRelease) int { return b.v.Compare(a.v) })
	ix.electron = out
	return out
}

// channelNames lists the channel file names any of rels carries, sorted.
func channelNames(rels []electronRelease) []string {
	var names []string
	for _, er := range rels {
		for _, a := range er.rel.Assets {
			if a.Uploaded() && githubsrc.IsChannelFile(a.Name) && !slices.Contains(names, a.Name) {
				names = append(names, a.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// texts asks, per channel file name, for the newest release's file, and
// for the next older one's only once the newer one read is not servable
// or is in a rollout that leaves devices out (a halted one is not read).
func (electronFeed) texts(ix *Index, opts SnapshotOptions, dst []githubsrc.Asset) []githubsrc.Asset {
	rels := electronReleases(ix, opts)
	for _, name := range channelNames(rels) {
		for _, er := range rels {
			a, ok := er.rel.Asset(name)
			st := ix.Rollout(er.rel.ID)
			if !ok || !a.Uploaded() || !er.mayServe(name) || st.Set && st.Halted {
				continue
			}
			if _, read := ix.Text(a); !read {
				dst = append(dst, a)
				break
			}
			if _, why := readChannelFile(ix, er, a); why == "" && st.Full() {
				break
			}
		}
	}
	return dst
}

// mayServe says whether er may answer channel file name: a latest*.yml
// of a release GitHub marks prerelease never reaches stable apps, as
// neither the Tauri feed's stable channel nor electron-updater's own
// GitHub provider (it reads releases/latest) would offer it.
func (er electronRelease) mayServe(name string) bool {
	ch, _, _, err := githubsrc.ChannelFileTarget(name)
	return err != nil || ch != "latest" || !er.rel.Prerelease
}

// servable is a channel file fit to serve: its release, and its document
// with each file's asset.
type servable struct {
	er    electronRelease
	doc   *githubsrc.ChannelDoc
	files map[string]string // url as written -> asset name on the release
	// rollout is the release's staged rollout; when it leaves devices out,
	// fallback is the newest older servable file every device gets.
	rollout  rollout.State
	fallback *servable
}

// readChannelFile reads channel file a of er, or says why it cannot be
// served: unread, unreadable, or listing a file not (fully) on the release.
func readChannelFile(ix *Index, er electronRelease, a githubsrc.Asset) (servable, string) {
	text, ok := ix.Text(a)
	if !ok {
		return servable{}, "not read"
	}
	doc, err := githubsrc.ParseChannelDoc(text)
	if err != nil {
		return servable{}, err.Error()
	}
	s := servable{er: er, doc: doc, files: map[string]string{}}
	var missing []string
	doc.RewriteURLs(func(u string) string {
		if name, ok := releaseFile(er.rel, u); ok {
			s.files[u] = name
		} else if !slices.Contains(missing, u) { // path repeats the first file
			missing = append(missing, u)
		}
		return u
	})
	if len(s.files) == 0 && len(missing) == 0 {
		return servable{}, "it lists no files"
	}
	if len(missing) > 0 {
		return servable{}, fmt.Sprintf("%s not fully uploaded on the release", listOf(missing))
	}
	return s, ""
}

// releaseFile finds the uploaded asset of r a channel file's url names: as
// written, as GitHub renames it (spaces become dots), or, since
// electron-builder writes spaces as dashes ("My-App-Setup-1.2.0.exe" for
// "My App Setup 1.2.0.exe"), with the dashes back as spaces, as a local
// folder keeps them, or as GitHub renamed those.
func releaseFile(r *githubsrc.Release, u string) (string, bool) {
	base := u
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		base = p.Path
	}
	base = path.Base(base)
	spaced := strings.ReplaceAll(base, "-", " ")
	for _, name := range []string{base, githubsrc.AssetName(base), spaced, githubsrc.AssetName(spaced)} {
		if a, ok := r.Asset(name); ok && a.Uploaded() {
			return name, true
		}
	}
	return "", false
}

// build picks, per channel file name, the newest servable file, makes the
// beta files never older than the stable ones, rewrites their urls to names
// /electron/ serves and encodes each once.
func (electronFeed) build(ix *Index, opts SnapshotOptions, snap *Snapshot) {
	rels := electronReleases(ix, opts)
	picked := map[string]servable{}
	for _, name := range channelNames(rels) {
		var head *servable
		for _, er := range rels {
			a, ok := er.rel.Asset(name)
			if !ok || !a.Uploaded() || !er.mayServe(name) {
				continue
			}
			st := ix.Rollout(er.rel.ID)
			if st.Set && st.Halted {
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: its rollout is halted", name, er.rel.Tag))
				continue
			}
			s, why := readChannelFile(ix, er, a)
			if why != "" {
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %s", name, er.rel.Tag, why))
				continue
			}
			s.rollout = st
			if head == nil {
				head = &s
				if !st.Full() {
					continue // and find what devices outside it get
				}
			} else if !st.Full() {
				continue // an older rollout: devices outside the newest get a release every device gets
			} else {
				head.fallback = &s
			}
			break
		}
		if head != nil {
			picked[name] = *head
		}
	}
	// A beta user is never left behind: <channel><suffix> answers the
	// newer of itself and latest<suffix>, and is answered even when no
	// release has one.
	serve := map[string]servable{}
	var channels []string
	for name, s := range picked {
		serve[name] = s
		if ch, _, _, err := githubsrc.ChannelFileTarget(name); err == nil && ch != "latest" && !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	for name, stable := range picked {
		ch, _, _, err := githubsrc.ChannelFileTarget(name)
		if err != nil || ch != "latest" {
			continue
		}
		suffix := strings.TrimPrefix(name, "latest")
		for _, c := range channels {
			if pre, ok := picked[c+suffix]; !ok || pre.er.v.LessThan(stable.er.v) {
				serve[c+suffix] = stable
			}
		}
	}
	// A staged beta's devices outside it get the newer of its own fallback
	// and the stable file every device gets: never left behind stable.
	for name, sv := range serve {
		ch, _, _, err := githubsrc.ChannelFileTarget(name)
		if err != nil || ch == "latest" || sv.rollout.Full() {
			continue
		}
		stable, ok := picked["latest"+strings.TrimPrefix(name, ch)]
		if !ok {
			continue
		}
		everyone := &stable
		if !stable.rollout.Full() {
			everyone = stable.fallback
		}
		if everyone != nil && (sv.fallback == nil || sv.fallback.er.v.LessThan(everyone.er.v)) {
			sv.fallback = everyone
			serve[name] = sv
		}
	}
	// Every release a picked file comes from answers, served or not (a
	// beta older than stable is served as stable's): a rebuild after
	// eviction looks at those only, and must still see its channel files.
	for _, sv := range picked {
		for f := &sv; f != nil; f = f.fallback {
			if !slices.Contains(ix.answering, f.er.rel.ID) {
				ix.answering = append(ix.answering, f.er.rel.ID)
			}
		}
	}
	t := &snap.electron
	t.channels, t.files = map[string]otaAnswer{}, map[string]electronFile{}
	names := make([]string, 0, len(serve))
	for name := range serve {
		names = append(names, name)
	}
	// Newest first, so that of two releases listing one file name the
	// newer's gets the short name.
	slices.SortFunc(names, func(a, b string) int {
		if c := serve[b].er.v.Compare(serve[a].er.v); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, name := range names {
		s := serve[name]
		ans, err := t.encode(ix, opts, s, -1)
		if err != nil {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %v", name, s.er.rel.Tag, err))
			continue
		}
		if s.rollout.Full() {
			t.channels[name] = ans
			continue
		}
		// electron-updater reads an integer percentage (parseInt) and
		// offers the update when its stagingUserId's bucket is below it.
		staged, err := t.encode(ix, opts, s, int(s.rollout.Share/(rollout.Scale/100)))
		if err != nil {
			snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %v", name, s.er.rel.Tag, err))
			continue
		}
		t.channels[name] = staged
		sc := stagedChannel{rollout: s.rollout, tag: s.er.rel.Tag, inside: ans}
		// Outside: the newest older file every device gets, or, with none,
		// this one at 0%: electron-updater then offers it to nobody.
		outside, next := s, 0
		if s.fallback != nil {
			outside, next = *s.fallback, -1
		}
		if out, err := t.encode(ix, opts, outside, next); err == nil {
			sc.outside = out
		}
		if t.staged == nil {
			t.staged = map[string]stagedChannel{}
		}
		t.staged[name] = sc
	}
}

// encode makes s's channel file as served: its urls rewritten to names
// /electron/ serves and, when staging is not negative, stagingPercentage
// set to it.
func (t *electronTables) encode(ix *Index, opts SnapshotOptions, s servable, staging int) (otaAnswer, error) {
	doc := s.doc.Clone()
	doc.RewriteURLs(func(u string) string { return t.fileURL(opts, s, u) })
	if staging >= 0 {
		if err := doc.SetStagingPercentage(staging); err != nil {
			return otaAnswer{}, err
		}
	}
	body, err := doc.Encode()
	if err != nil {
		return otaAnswer{}, err
	}
	if !slices.Contains(ix.answering, s.er.rel.ID) {
		ix.answering = append(ix.answering, s.er.rel.ID)
	}
	return otaAnswer{body: body, length: []string{strconv.Itoa(len(body))}}, nil
}

// fileURL is the url a served channel file gives the file it lists as u:
// its name, relative, which /electron/ then serves, with its .blockmap
// when the release has one. A name another release's file already took
// gets the file's absolute /download URL instead.
func (t *electronTables) fileURL(opts SnapshotOptions, s servable, u string) string {
	asset := s.files[u]
	f := electronFile{s.er.rel.Tag, asset}
	name := path.Base(u)
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		name = path.Base(p.Path)
	}
	if name == "." || name == "/" || strings.HasPrefix(name, "..") || githubsrc.IsChannelFile(name) {
		name = asset
	}
	if got, ok := t.files[name]; ok && got != f {
		a, _ := s.er.rel.Asset(asset)
		return DownloadURL(opts, s.er.rel.Tag, a)
	}
	t.files[name] = f
	if asset != name {
		if _, ok := t.files[asset]; !ok {
			t.files[asset] = f
		}
	}
	if bm, ok := releaseFile(s.er.rel, asset+".blockmap"); ok {
		for _, n := range []string{name + ".blockmap", asset + ".blockmap"} {
			if _, ok := t.files[n]; !ok {
				t.files[n] = electronFile{s.er.rel.Tag, bm}
			}
		}
	}
	return url.PathEscape(name)
}

// handleElectron serves what the mux routed (escaped paths and the like).
func (s *Server) handleElectron(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveElectron(w, r, a, r.PathValue("file"))
}

// yamlType is the Content-Type of a channel file.
var yamlType = []string{"text/yaml; charset=utf-8"}

// serveElectron answers GET /electron/{file}: a channel file, a redirect
// to a file one lists, or 404.
func (s *Server) serveElectron(w http.ResponseWriter, r *http.Request, a *app, file string) {
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	t := &snap.electron
	if ans, ok := t.channels[file]; ok {
		h := w.Header()
		h["Cache-Control"] = s.checkCacheControl
		sc, staged := t.staged[file]
		if staged {
			// The answer depends on whether the request names its device.
			h["Vary"] = s.varyDevice
		}
		if staged && len(r.Header[s.deviceHeader]) > 0 {
			h["Cache-Control"] = s.deviceCacheControl
			if d := s.device(r, a); sc.rollout.Includes(d.App, sc.tag, d.ID) {
				ans = sc.inside
			} else {
				ans = sc.outside
			}
		}
		writeTyped(w, r, yamlType, ans.body, ans.length)
		return
	}
	if f, ok := t.files[file]; ok {
		s.serveDownload(w, r, a, f.tag, f.asset)
		return
	}
	if githubsrc.IsChannelFile(file) {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no published release has a complete %s", file))
		return
	}
	s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("%q is neither a channel file nor a file one lists", file))
}

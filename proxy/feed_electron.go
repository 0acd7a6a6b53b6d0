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
//   - while that release is in a staged rollout, a request naming its
//     device gets the newest release's file whose rollout takes it in (of
//     the beta's and the stable ones, for a beta*.yml), as the other feeds
//     decide (offerFor); others get the newest file with stagingPercentage,
//     save that a beta*.yml whose newest file is a staged stable release
//     gives them the newest beta when it is newer than the stable release
//     every device gets (see betaChannel);
//   - any other name is a file (or the .blockmap of a file) a served
//     channel file lists: a redirect to its asset, as /download answers.
//
// Answers are encoded once per snapshot; the query (?noCache=) is never read.

import (
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
	// staged are the channel files whose newest release is in a staged
	// rollout: channels holds what devices that do not name themselves
	// get (with stagingPercentage, for electron-updater to bucket itself);
	// a request naming its device (--device-header) is bucketed here
	// instead (see serveElectron).
	staged map[string]stagedChannel
}

// stagedChannel is a channel file in a staged rollout, for devices that
// name themselves: chain is the newest release's file, then the older ones
// whose rollouts take in devices the newer leave out, down to the first
// every device gets, each without stagingPercentage; offerFor picks. none
// is for a device no file of chain takes in: the newest at 0%, which
// electron-updater offers to nobody.
type stagedChannel struct {
	chain []*electronAnswer
	none  otaAnswer
}

// electronAnswer is a channel file as served to a device its release's
// rollout takes in.
type electronAnswer struct {
	otaAnswer
	rollout rollout.State
	tag     string
}

func (a *electronAnswer) stage() (rollout.State, string) { return a.rollout, a.tag }

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
	name  string // the channel file's asset name
	doc   *githubsrc.ChannelDoc
	files map[string]string // url as written -> asset name on the release
	// rollout is the release's staged rollout.
	rollout rollout.State
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
	s := servable{er: er, name: a.Name, doc: doc, files: map[string]string{}}
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

// electronChannel is what one channel file name answers: the chain of
// files stagedChannel describes, and which of them devices that do not
// name themselves get.
type electronChannel struct {
	chain  []servable
	public int
}

// build picks, per channel file name, the newest servable file and, while
// that one is in a staged rollout, the older ones devices outside it get,
// down to the first every device gets (the chain the other feeds keep for
// offerFor); makes the beta files never older than the stable ones;
// rewrites their urls to names /electron/ serves and encodes each once.
func (electronFeed) build(ix *Index, opts SnapshotOptions, snap *Snapshot) {
	rels := electronReleases(ix, opts)
	chains := map[string][]servable{}
	for _, name := range channelNames(rels) {
		var chain []servable
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
			chain = append(chain, s)
			if st.Full() {
				break
			}
		}
		if len(chain) > 0 {
			chains[name] = chain
		}
	}
	// Every release a chain holds answers, served or not (a beta older
	// than stable is served as stable's): a rebuild after eviction looks
	// at those only, and must still see its channel files.
	for _, chain := range chains {
		for _, s := range chain {
			if !slices.Contains(ix.answering, s.er.rel.ID) {
				ix.answering = append(ix.answering, s.er.rel.ID)
			}
		}
	}
	// A beta user is never left behind: <channel><suffix> answers from its
	// own files and latest<suffix>'s together, and is answered even when no
	// release has one.
	var channels []string
	for name := range chains {
		if ch, _, _, err := githubsrc.ChannelFileTarget(name); err == nil && ch != "latest" && !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	serve := map[string]electronChannel{}
	for name, chain := range chains {
		ch, _, _, err := githubsrc.ChannelFileTarget(name)
		switch {
		case err != nil:
			serve[name] = electronChannel{chain: chain}
		case ch != "latest":
			serve[name] = betaChannel(chain, chains["latest"+strings.TrimPrefix(name, ch)])
		default:
			serve[name] = electronChannel{chain: chain}
			suffix := strings.TrimPrefix(name, "latest")
			for _, c := range channels {
				if _, ok := chains[c+suffix]; !ok {
					serve[c+suffix] = electronChannel{chain: chain}
				}
			}
		}
	}
	t := &snap.electron
	t.channels, t.files = map[string]otaAnswer{}, map[string]electronFile{}
	// Each file is encoded once, for every name that serves it; newest
	// first, so that of two releases listing one file name the newer's
	// gets the short name.
	type encoding struct {
		id      int64
		name    string
		staging int
	}
	encoded := map[encoding]*electronAnswer{}
	encode := func(s servable, staging int) (*electronAnswer, error) {
		k := encoding{s.er.rel.ID, s.name, staging}
		if a, ok := encoded[k]; ok {
			return a, nil
		}
		ans, err := t.encode(ix, opts, s, staging)
		if err != nil {
			return nil, err
		}
		a := &electronAnswer{ans, s.rollout, s.er.rel.Tag}
		encoded[k] = a
		return a, nil
	}
	names := make([]string, 0, len(serve))
	for name := range serve {
		names = append(names, name)
	}
	slices.Sort(names)
	var all []servable
	for _, name := range names {
		all = append(all, serve[name].chain...)
	}
	slices.SortStableFunc(all, func(a, b servable) int { return b.er.v.Compare(a.er.v) })
	for _, s := range all {
		encode(s, -1) // an error is reported below, for each name serving s
	}
names:
	for _, name := range names {
		c := serve[name]
		answers := make([]*electronAnswer, len(c.chain))
		for i, s := range c.chain {
			a, err := encode(s, -1)
			if err != nil {
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %v", name, s.er.rel.Tag, err))
				continue names
			}
			answers[i] = a
		}
		head := c.chain[0]
		if head.rollout.Full() {
			t.channels[name] = answers[0].otaAnswer
			continue
		}
		// electron-updater reads an integer percentage (parseInt) and
		// offers the update when its stagingUserId's bucket is below it.
		public := answers[c.public]
		if p := c.chain[c.public]; !p.rollout.Full() {
			staged, err := encode(p, int(p.rollout.Share/(rollout.Scale/100)))
			if err != nil {
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %v", name, p.er.rel.Tag, err))
				continue
			}
			public = staged
		}
		sc := stagedChannel{chain: answers}
		if !c.chain[len(c.chain)-1].rollout.Full() {
			none, err := encode(head, 0)
			if err != nil {
				snap.Withheld = append(snap.Withheld, fmt.Sprintf("%s of %s: %v", name, head.er.rel.Tag, err))
				continue
			}
			sc.none = none.otaAnswer
		}
		t.channels[name] = public.otaAnswer
		if t.staged == nil {
			t.staged = map[string]stagedChannel{}
		}
		t.staged[name] = sc
	}
}

// betaChannel is what a beta channel file (any channel but latest)
// answers, from own, its own chain, and stable, latest's of the same OS and
// arch: the two merged, newest first (on a tie, the beta's own), down to
// the first file every device gets, so that a named device gets the newer
// of what each would give it, as the Tauri feed's beta channel takes stable
// releases in. Devices that do not name themselves get the newest file,
// unless that is a staged stable release above a beta newer than the
// stable release every device gets: they get that beta, or the share
// stagingPercentage leaves out would never see the published beta.
func betaChannel(own, stable []servable) electronChannel {
	var c electronChannel
	beta := -1 // where own[0] is in c.chain
	for i, j := 0, 0; i < len(own) || j < len(stable); {
		var next servable
		if j == len(stable) || i < len(own) && !own[i].er.v.LessThan(stable[j].er.v) {
			if j < len(stable) && own[i].er.v.Equal(stable[j].er.v) {
				j++
			}
			if i == 0 {
				beta = len(c.chain)
			}
			next, i = own[i], i+1
		} else {
			next, j = stable[j], j+1
		}
		c.chain = append(c.chain, next)
		if next.rollout.Full() {
			break
		}
	}
	if beta > 0 {
		if everyone := stable[len(stable)-1]; !everyone.rollout.Full() || everyone.er.v.LessThan(own[0].er.v) {
			c.public = beta
		}
	}
	return c
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
			if o := offerFor(sc.chain[0], sc.chain[1:], s.device(r, a)); o != nil {
				ans = o.otaAnswer
			} else {
				ans = sc.none
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

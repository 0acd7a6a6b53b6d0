package proxy

import (
	"net/http"
	"strings"
)

// The check route is nearly all of the traffic, and the mux costs it a
// walk and allocations. matchCheck recognises the two check patterns of
// the route table itself, without allocating, and leaves every other path
// to the mux: it claims a path only when the mux would route it to the
// check handler too. TestFastPathAgreesWithTheMux holds the two equal for
// paths of every route, those of later feeds included.
//
// ServeMux prefers the more specific of two patterns that match, so a
// route such as /update/{platform}/{version} takes /update/darwin/1.0.0
// from /{target}/{arch}/{version}. The fast path mirrors that: it leaves
// alone any path that another GET pattern of the table matches (see
// matchesOther). A later route that overlaps the check without being more
// specific, such as update.electronjs.org's /{owner}/{repo}/{platform}/{version}
// against /{target}/{arch}/{bundle}/{version}, cannot be registered beside it
// (the mux panics); such a feed claims its paths inside the check handler
// instead, before parsing: matchCheck and handleCheck hand a 4-segment path
// whose first two segments name a served repository (Server.servedRepo) to
// the Squirrel feed.

// maxCheckSegments is the most segments a check path has: /{app} and
// /{target}/{arch}/{bundle}/{version}.
const maxCheckSegments = 5

// otherPattern is a GET pattern other than the checks, split for matchesOther.
type otherPattern struct {
	seg      []string // literal segments; "" for a {wildcard}
	rest     bool     // ends in {name...} or a slash: any remainder matches
	download bool     // the download route, which matchDownload serves
	// plain is the route's, when matchPlain serves it; metrics count it.
	plain   func(s *Server, w http.ResponseWriter, r *http.Request, a *app, last string)
	metrics *routeMetrics
}

// initFastPath notes, for matchesOther, the segments of every pattern a
// GET may reach other than the checks.
func (s *Server) initFastPath() {
	for _, rt := range s.table {
		if rt.check || rt.method() != "" && rt.method() != http.MethodGet && rt.method() != http.MethodHead {
			continue
		}
		o := otherPattern{download: rt.download, plain: rt.plain}
		if rt.plain != nil {
			o.metrics = s.metrics.route(rt.name)
		}
		for i, p := range strings.Split(strings.TrimPrefix(s.fullPath(rt), s.cfg.BasePath+"/"), "/") {
			if strings.HasSuffix(p, "...}") || p == "" && i > 0 {
				o.rest = true
				break
			}
			if strings.HasPrefix(p, "{") {
				p = ""
			}
			o.seg = append(o.seg, p)
		}
		s.otherGETs = append(s.otherGETs, o)
	}
}

// matchesOther reports whether a GET pattern other than the checks (and,
// with orDownload false, other than the download route) matches the path
// split into seg: the same number of segments (or more, for a subtree) and
// every literal segment equal.
func (s *Server) matchesOther(seg []string, orDownload bool) bool {
	for _, o := range s.otherGETs {
		if o.download && !orDownload {
			continue
		}
		if len(seg) == len(o.seg) || o.rest && len(seg) >= len(o.seg) {
			if literalsMatch(o.seg, seg) {
				return true
			}
		}
	}
	return false
}

func literalsMatch(pat, seg []string) bool {
	for i, p := range pat {
		if p != "" && p != seg[i] {
			return false
		}
	}
	return true
}

// matchCheck recognises a check URL of the plain shape without allocating:
// clean segments, no escapes, no path another route takes. Anything else
// goes to the mux, which routes checks to the same serveCheck.
func (s *Server) matchCheck(r *http.Request) (*app, checkRequest, bool) {
	var buf [maxCheckSegments]string
	p, seg, ok := s.plainPath(r, &buf)
	if !ok || s.matchesOther(seg, true) {
		return nil, checkRequest{}, false
	}
	if len(seg) == 4 {
		if a, k, err := s.electronApp([4]string(seg)); a != nil {
			// update.electronjs.org's /{owner}/{repo}/{platform}/{version}
			// (feed_squirrel.go), which the mux too routes to a check.
			return a, checkRequest{electron: true, squirrel: k, squirrelErr: err, version: seg[3]}, true
		}
	}
	a := s.single
	if a == nil {
		if len(seg) < 4 {
			return nil, checkRequest{}, false
		}
		if a = s.apps[seg[0]]; a == nil {
			return nil, checkRequest{}, false
		}
		p, seg = p[len(seg[0])+1:], seg[1:]
	}
	if len(seg) < 3 || len(seg) > 4 {
		return nil, checkRequest{}, false
	}
	version := seg[len(seg)-1]
	c := checkRequest{target: seg[0], arch: seg[1], version: version, platform: p[:len(p)-len(version)-1]}
	if len(seg) == 4 {
		c.bundle = seg[2]
	}
	return a, c, true
}

// plainPath splits a GET or HEAD path under --base-path into its
// segments, without allocating, when it has the plain shape both fast
// paths serve: no escapes, clean segments, at most len(buf) of them.
func (s *Server) plainPath(r *http.Request, buf *[maxCheckSegments]string) (string, []string, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.RawPath != "" {
		return "", nil, false
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		return "", nil, false
	}
	n := 0
	for rest := p; ; {
		i := strings.IndexByte(rest, '/')
		if n == len(buf) || i < 0 && rest == "" {
			return "", nil, false // too many segments, or a trailing slash
		}
		part := rest
		if i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		}
		if part == "" || part == "." || part == ".." {
			return "", nil, false
		}
		buf[n] = part
		n++
		if i < 0 {
			break
		}
	}
	return p, buf[:n], true
}

// matchDownload recognises /download/{tag}/{asset} (under /{app} with
// several apps) of the plain shape, without allocating, and leaves any
// path another route takes to the mux, as matchCheck does.
func (s *Server) matchDownload(r *http.Request) (a *app, tag, name string, ok bool) {
	var buf [maxCheckSegments]string
	_, seg, ok := s.plainPath(r, &buf)
	if !ok || s.matchesOther(seg, false) {
		return nil, "", "", false
	}
	a = s.single
	if a == nil {
		if len(seg) != 4 {
			return nil, "", "", false
		}
		if a = s.apps[seg[0]]; a == nil {
			return nil, "", "", false
		}
		seg = seg[1:]
	}
	if len(seg) != 3 || seg[0] != "download" {
		return nil, "", "", false
	}
	return a, seg[1], seg[2], true
}

// matchPlain recognises a path of the plain shape that exactly one GET
// pattern of the table other than the checks matches, that pattern's
// route serving it without the mux (route.plain: /ota/{sequence}), and
// the app it is for. A path a check pattern also matches stays with
// matchCheck's rules: the mux prefers the pattern with literals, as
// matchesOther makes the check fast path defer to it. An app that does
// not exist, or any doubt, goes to the mux.
func (s *Server) matchPlain(r *http.Request) (*otherPattern, *app, string, bool) {
	var buf [maxCheckSegments]string
	_, seg, ok := s.plainPath(r, &buf)
	if !ok {
		return nil, nil, "", false
	}
	var found *otherPattern
	for i := range s.otherGETs {
		o := &s.otherGETs[i]
		if len(seg) == len(o.seg) && literalsMatch(o.seg, seg) || o.rest && len(seg) >= len(o.seg) && literalsMatch(o.seg, seg) {
			if found != nil || o.plain == nil {
				return nil, nil, "", false
			}
			found = o
		}
	}
	if found == nil {
		return nil, nil, "", false
	}
	a := s.single
	if a == nil {
		if a = s.apps[seg[0]]; a == nil {
			return nil, nil, "", false
		}
	}
	return found, a, seg[len(seg)-1], true
}

package proxy

import (
	"net/http"
	"slices"
	"strings"

	"github.com/otapub/ota-action/githubsrc"
)

// route is one entry of the route table: the only statement of what the
// server answers. The mux is built from it, and so are the reserved slugs,
// the "no such route" hint and the check fast path's list of paths to
// leave alone.
type route struct {
	// pattern is "METHOD /path" as http.ServeMux reads it, relative to the
	// app: with several apps an app route lives under /{app}, and
	// everything under --base-path.
	pattern string
	// name labels the route's metrics and access lines.
	name string
	// server marks a route of the server rather than of each app
	// (/healthz, /metrics, /webhook): never under /{app}.
	server bool
	// hint is how the "no such route" answer names the route; "" leaves it out.
	hint string
	// check marks the Tauri check shapes, which matchCheck also serves
	// without the mux (see fastpath.go).
	check bool
	// download marks /download/{tag}/{asset}, which matchDownload also
	// serves without the mux.
	download bool
	// plain, when set, serves the route without the mux for paths of the
	// plain shape that only this pattern matches (matchPlain, fastpath.go),
	// given the app and the path's last segment.
	plain func(s *Server, w http.ResponseWriter, r *http.Request, a *app, last string)
	h     func(s *Server, w http.ResponseWriter, r *http.Request)
}

// feed is one client family: it reads the small texts it needs from an
// app's releases, builds its answer tables into each snapshot from the
// feed-agnostic Index, and registers its routes. feed_tauri.go is the
// first; doc.go says how to add another.
type feed interface {
	// texts appends to dst the assets of ix whose contents the feed's
	// answers need (a payload's .sig; later channel files, RELEASES,
	// bundle metadata), given those ix holds (Index.Text). The refresh
	// fetches what it lists and asks again until it lists nothing new, so
	// a feed asks only for what it answers with, and for more only once
	// what it read says it must (a bad .sig: the older release's). Texts
	// are small and immutable per asset ID.
	texts(ix *Index, opts SnapshotOptions, dst []githubsrc.Asset) []githubsrc.Asset
	// build makes the feed's answer tables from ix and keeps them in snap.
	build(ix *Index, opts SnapshotOptions, snap *Snapshot)
	// routes lists the feed's routes (app routes).
	routes() []route
}

// feeds are the client families every server answers.
var feeds = []feed{tauriFeed{}, otaFeed{}, electronFeed{}, squirrelFeed{}}

// routeTable is every route of a server with the given feeds: theirs,
// then those every feed shares, then the server's own.
func routeTable(feeds []feed) []route {
	var t []route
	for _, f := range feeds {
		t = append(t, f.routes()...)
	}
	return append(t,
		route{pattern: "GET /download/{tag}/{asset}", name: "download", hint: "/download/{tag}/{asset}", download: true, h: (*Server).handleDownload},
		route{pattern: "GET /healthz", name: "healthz", server: true, hint: "/healthz", h: (*Server).handleHealth},
		route{pattern: "GET /metrics", name: "metrics", server: true, hint: "/metrics", h: (*Server).handleMetrics},
		route{pattern: "POST /webhook", name: "webhook", server: true, h: (*Server).handleWebhook},
	)
}

// ReservedSlugs are the names an app's slug cannot take: the first path
// segment of every route that is not a wildcard.
func ReservedSlugs() []string { return reservedSlugs(routeTable(feeds)) }

func reservedSlugs(table []route) []string {
	var out []string
	for _, rt := range table {
		first, _, _ := strings.Cut(strings.TrimPrefix(rt.path(), "/"), "/")
		if first != "" && !strings.HasPrefix(first, "{") && !slices.Contains(out, first) {
			out = append(out, first)
		}
	}
	return out
}

// path is the route's path without its method.
func (rt route) path() string {
	_, p, ok := strings.Cut(rt.pattern, " ")
	if !ok {
		return rt.pattern
	}
	return p
}

// method is the route's method ("" for any).
func (rt route) method() string {
	m, _, ok := strings.Cut(rt.pattern, " ")
	if !ok {
		return ""
	}
	return m
}

// fullPath is where the route lives on this server.
func (s *Server) fullPath(rt route) string {
	if !rt.server && s.single == nil {
		return s.cfg.BasePath + "/{app}" + rt.path()
	}
	return s.cfg.BasePath + rt.path()
}

// routes builds the mux from the route table, with a JSON 404 for every
// GET it does not know.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	s.checkMetrics, s.unknownMetrics, s.downloadMetrics = s.metrics.route("check"), s.metrics.route("unknown"), s.metrics.route("download")
	s.squirrelMetrics = s.metrics.route("squirrel")
	for _, rt := range s.table {
		method := rt.method()
		if method != "" {
			method += " "
		}
		h := rt.h
		mux.Handle(method+s.fullPath(rt), s.instrument(rt.name, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) }))
	}
	mux.Handle("GET "+s.cfg.BasePath+"/", s.instrument("unknown", s.handleUnknown))
	var hints []string
	for _, rt := range s.table {
		if rt.hint != "" {
			hints = append(hints, rt.hint)
		}
	}
	s.unknownHint = "no such route: see the README for " + s.cfg.BasePath + listOf(hints)
	return mux
}

// listOf joins words as prose: "a, b and c".
func listOf(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func (s *Server) handleUnknown(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusNotFound, s.unknownHint)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header()["Content-Type"] = jsonType
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.promHandler.ServeHTTP(w, r)
}

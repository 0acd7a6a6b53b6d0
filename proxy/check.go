package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
)

// checkRequest is what a check URL says: /{target}/{arch}[/{bundle}]/{version}.
type checkRequest struct {
	target, arch, bundle, version string
	// platform is "{target}/{arch}[/{bundle}]" as the path spells it, when
	// matchCheck saw it whole: the key of the parsed-platform cache.
	platform string
}

// handleCheck serves checks the mux routed: paths with escaped characters
// or other unusual shapes that matchCheck leaves to it.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveCheck(w, r, a, checkRequest{target: r.PathValue("target"), arch: r.PathValue("arch"), bundle: r.PathValue("bundle"), version: r.PathValue("version")})
}

// matchCheck recognises a check URL of the plain shape without allocating:
// clean segments, no escapes. Anything else goes to the mux, which routes
// it to the same serveCheck.
func (s *Server) matchCheck(r *http.Request) (*app, checkRequest, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.RawPath != "" {
		return nil, checkRequest{}, false
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		return nil, checkRequest{}, false
	}
	a := s.single
	if a == nil {
		slug, rest, ok := strings.Cut(p, "/")
		if a = s.apps[slug]; !ok || a == nil {
			return nil, checkRequest{}, false
		}
		p = rest
	}
	whole := p
	var seg [4]string
	n := 0
	for {
		i := strings.IndexByte(p, '/')
		if n == len(seg) || i < 0 && p == "" {
			return nil, checkRequest{}, false // too many segments, or a trailing slash
		}
		part := p
		if i >= 0 {
			part, p = p[:i], p[i+1:]
		}
		if part == "" || part == "." || part == ".." {
			return nil, checkRequest{}, false
		}
		seg[n] = part
		n++
		if i < 0 {
			break
		}
	}
	if n < 3 || seg[0] == "download" {
		return nil, checkRequest{}, false
	}
	c := checkRequest{target: seg[0], arch: seg[1], version: seg[n-1], platform: whole[:len(whole)-len(seg[n-1])-1]}
	if n == 4 {
		c.bundle = seg[2]
	}
	return a, c, true
}

// serveCheck answers a check: 204 when up to date, 200 with the
// pre-encoded answer when newer, 400 for what it cannot read.
func (s *Server) serveCheck(w http.ResponseWriter, r *http.Request, a *app, c checkRequest) {
	p, ch, cur, err := s.parseCheck(r, c)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap, _, err := s.current(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header()["Cache-Control"] = s.checkCacheControl
	ans := snap.Answer(ch, p)
	if ans == nil || !ans.Version.GreaterThan(cur) {
		w.WriteHeader(http.StatusNoContent) // Tauri and cargo-packager: up to date
		return
	}
	writeBody(w, r, ans.Body, ans.length)
}

// parseCheck reads platform, channel and current version from a check.
func (s *Server) parseCheck(r *http.Request, c checkRequest) (githubsrc.Platform, Channel, *semver.Version, error) {
	q := r.URL.RawQuery
	bundle, key := c.bundle, c.platform
	if bundle == "" && q != "" {
		bundle = queryValue(q, "bundle_type")
		if bundle == "" {
			bundle = queryValue(q, "bundle")
		}
		if bundle != "" {
			key = "" // not in the path: parse without the cache
		}
	}
	p, err := s.platforms.get(key, func() (githubsrc.Platform, error) { return parsePlatform(c.target, c.arch, bundle) })
	if err != nil {
		return p, 0, nil, err
	}
	var ch Channel
	if q != "" {
		if ch, err = ParseChannel(queryValue(q, "channel")); err != nil {
			return p, 0, nil, err
		}
	}
	v, err := s.versions.get(c.version, func() (*semver.Version, error) { return githubsrc.ParseVersion(c.version) })
	if err != nil {
		return p, 0, nil, fmt.Errorf("current version: %w", err)
	}
	return p, ch, v, nil
}

// queryValue returns the first value of key in a raw query, decoding it
// only when it is escaped.
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				return u
			}
		}
		return v
	}
	return ""
}

// parseCache remembers what a parser made of the strings clients send: an
// app's users send a handful of versions and platforms, and parsing one
// costs more than the rest of a check. Readers load an immutable map; a
// writer copies it. It keeps at most maxCached successes, so junk cannot
// grow it, and no failures.
type parseCache[V any] struct {
	m  atomic.Pointer[map[string]V]
	mu sync.Mutex
}

const maxCached = 1024

// get returns the value for key, from the cache or from parse. An empty
// key is parsed and not kept.
func (c *parseCache[V]) get(key string, parse func() (V, error)) (V, error) {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[key]; ok { // never holds the empty key
			return v, nil
		}
	}
	v, err := parse()
	if err != nil || key == "" {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil && len(*old) >= maxCached {
		return v, nil
	}
	next := make(map[string]V, 1+lenOf(old))
	if old != nil {
		for k, x := range *old {
			next[k] = x
		}
	}
	next[strings.Clone(key)] = v
	c.m.Store(&next)
	return v, nil
}

func lenOf[V any](m *map[string]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

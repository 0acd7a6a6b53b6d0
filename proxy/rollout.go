package proxy

// Staged rollouts (githubsrc/rollout): a release whose notes carry a
// rollout line is offered only to the devices its percentage takes in; the
// others get the newest older release whose rollout takes them in, down to
// the first release every device gets. Each feed keeps, beside its newest
// answer, those older ones (only when the newest is in a rollout: without
// one a check costs nothing more), and asks offerFor which a device gets.

import (
	"net"
	"net/http"
	"strings"

	"github.com/otapub/ota-action/githubsrc/rollout"
)

// Device is who a staged rollout decides for: the app, named the same on
// every replica (its repository, or its folder's name), and the device.
type Device struct{ App, ID string }

// staged is an answer of some feed in a release that may be in a rollout.
type staged interface {
	stage() (rollout.State, string) // the release's rollout and its tag
}

func (a *Answer) stage() (rollout.State, string)   { return a.rollout, a.Tag }
func (m *manifest) stage() (rollout.State, string) { return m.rollout, m.tag }

// offerFor returns what d gets of newest and, when newest's rollout leaves
// d out, of the older answers (newest first): the first whose rollout takes
// d in, or the zero T. It does not allocate.
func offerFor[T staged](newest T, older []T, d Device) T {
	if st, tag := newest.stage(); st.Includes(d.App, tag, d.ID) {
		return newest
	}
	for _, o := range older {
		if st, tag := o.stage(); st.Includes(d.App, tag, d.ID) {
			return o
		}
	}
	var none T
	return none
}

// rolloutName is the app's name in device buckets: the same on every
// replica whatever its slug, so replicas agree.
func (ac AppConfig) rolloutName() string {
	switch {
	case ac.Repo != "":
		return strings.ToLower(ac.Repo)
	case ac.Dir != "":
		return "dir:" + filepathBase(ac.Dir)
	}
	return ac.Slug
}

// metricsName is the app's label in adoption metrics: its slug, else its
// repository or folder.
func (ac AppConfig) metricsName() string {
	if ac.Slug != "" {
		return ac.Slug
	}
	return ac.rolloutName()
}

// filepathBase is filepath.Base for the slash-separated and OS paths a
// --dir takes, without importing the OS's rules into the bucket.
func filepathBase(p string) string {
	p = strings.TrimRight(strings.ReplaceAll(p, "\\", "/"), "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// device returns who r comes from, for app a: the --device-header value,
// else the client's address (with --trust-proxy-headers, the first one
// X-Forwarded-For or Forwarded names). It does not allocate.
func (s *Server) device(r *http.Request, a *app) Device {
	d := Device{App: a.rolloutKey}
	if v := r.Header[s.deviceHeader]; len(v) > 0 && v[0] != "" {
		d.ID = v[0]
		return d
	}
	if s.cfg.TrustProxyHeaders {
		if ip := forwardedFor(r.Header); ip != "" {
			d.ID = ip
			return d
		}
	}
	d.ID = r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		d.ID = host
	}
	return d
}

// forwardedFor returns the client address a load balancer wrote: the
// first of X-Forwarded-For, else the first for= of Forwarded (RFC 7239),
// without quotes, brackets or port. A client can write these itself,
// which is why they are read only with --trust-proxy-headers; at worst it
// picks its own bucket.
func forwardedFor(h http.Header) string {
	if v := h["X-Forwarded-For"]; len(v) > 0 {
		first, _, _ := strings.Cut(v[0], ",")
		if ip := strings.TrimSpace(first); ip != "" {
			return ip
		}
	}
	v := h["Forwarded"]
	if len(v) == 0 {
		return ""
	}
	elem, _, _ := strings.Cut(v[0], ",")
	for elem != "" {
		var pair string
		pair, elem, _ = strings.Cut(elem, ";")
		k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if !strings.EqualFold(k, "for") {
			continue
		}
		val = strings.Trim(val, `"`)
		if strings.HasPrefix(val, "[") { // "[2001:db8::1]:4711"
			if end := strings.IndexByte(val, ']'); end > 0 {
				return val[1:end]
			}
		}
		if host, _, err := net.SplitHostPort(val); err == nil {
			return host
		}
		return val
	}
	return ""
}

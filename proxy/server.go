package proxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/otapub/ota-action/githubsrc"
)

// Server answers update checks for one or more apps.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	single  *app            // the app served at the root, if any
	apps    map[string]*app // by slug
	byRepo  map[string][]*app
	// electronRepos and electronNames are the apps update.electronjs.org's
	// routes reach, by lower-case owner/repo and by --dir name (servedRepo).
	electronRepos, electronNames map[string]*app
	lruMu                        sync.Mutex               // guards making room in cached, and apps' touchedAt
	cached                       *lru.Cache[string, *app] // apps whose snapshots are held, by recency
	dls                          *lru.Cache[downloadKey, cachedDownload]
	base                         context.Context
	stop                         context.CancelFunc
	bgMu                         sync.Mutex
	closed                       bool
	bg                           sync.WaitGroup // running refreshes
	async                        sync.WaitGroup // refreshes started in the background, for tests to wait on
	mux                          *http.ServeMux
	feeds                        []feed
	prefix                       string // BasePath + "/"

	table       []route // the route table: see routes.go
	otherGETs   []otherPattern
	unknownHint string
	promHandler http.Handler

	checkCacheControl  []string
	deviceCacheControl []string
	deviceHeader       string   // Config.DeviceHeader, in canonical form
	varyDevice         []string // Vary: deviceHeader
	checkMetrics       *routeMetrics
	downloadMetrics    *routeMetrics
	squirrelMetrics    *routeMetrics
	unknownMetrics     *routeMetrics
	versions           parseCache[*semver.Version]
	platforms          parseCache[githubsrc.Platform]
	hazelTargets       parseCache[squirrelKey]
	electronTargets    parseCache[squirrelKey]
}

type downloadKey struct {
	app *app
	id  int64
}

type cachedDownload struct {
	d     Download
	until time.Time
}

// serverRetry is how the server retries GitHub: briefly, and never waiting
// out a rate limit (it serves the cached snapshot instead).
var serverRetry = githubsrc.Retry{Attempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 2 * time.Second}

// New builds a Server. It makes no network call: apps are read on their
// first request (or by Warm).
func New(cfg Config, log *slog.Logger) (*Server, error) { return newServer(cfg, log, feeds) }

// newServer builds a Server that answers the given feeds.
func newServer(cfg Config, log *slog.Logger, feeds []feed) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics(), apps: map[string]*app{}, byRepo: map[string][]*app{}}
	s.base, s.stop = context.WithCancel(context.Background())
	var err error
	if s.cached, err = lru.NewWithEvict(cfg.MaxCachedApps, func(_ string, a *app) { a.evict(); s.metrics.evictions.Inc() }); err != nil {
		return nil, err
	}
	if s.dls, err = lru.New[downloadKey, cachedDownload](4096); err != nil {
		return nil, err
	}
	s.feeds, s.table = feeds, routeTable(feeds)
	reserved := reservedSlugs(s.table)
	single := len(cfg.Apps) == 1 && cfg.Apps[0].Slug == ""
	clients := map[[2]string]*githubsrc.Client{}
	for _, ac := range cfg.Apps {
		opts, err := ac.check(single, reserved)
		if err != nil {
			return nil, err
		}
		a := &app{AppConfig: ac, opts: opts, rolloutKey: ac.rolloutName()}
		a.adoption = s.metrics.adoption(ac.metricsName())
		a.opts.DownloadBase = cfg.PublicURL + cfg.BasePath + a.prefix() + "/download/"
		if a.Source == nil {
			if a.Source, err = s.source(ac, clients); err != nil {
				return nil, err
			}
		}
		if _, dup := s.apps[ac.Slug]; dup {
			return nil, fmt.Errorf("app %s is configured twice", ac.Slug)
		}
		s.apps[ac.Slug] = a
		if single {
			s.single = a
		}
		if ac.Repo != "" {
			key := strings.ToLower(ac.Repo)
			s.byRepo[key] = append(s.byRepo[key], a)
		}
	}
	s.checkCacheControl = []string{fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d",
		int(cfg.CacheTTL.Seconds()), int(min(cfg.MaxStale, time.Hour).Seconds()))}
	// An answer that depends on the device (a staged rollout) must not be
	// kept by a shared cache and handed to other devices.
	s.deviceCacheControl = []string{fmt.Sprintf("private, max-age=%d", int(cfg.CacheTTL.Seconds()))}
	s.deviceHeader = textproto.CanonicalMIMEHeaderKey(cfg.DeviceHeader)
	s.varyDevice = []string{s.deviceHeader}
	s.prefix = cfg.BasePath + "/"
	s.promHandler = promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	s.mux = s.routes()
	s.initFastPath()
	s.initServedRepos()
	return s, nil
}

// source builds the Source for an app, sharing one client per token so that
// apps behind one token share its rate-limit knowledge.
func (s *Server) source(ac AppConfig, clients map[[2]string]*githubsrc.Client) (Source, error) {
	if ac.Dir != "" {
		return NewDirSource(ac.Dir, s.log)
	}
	repo, _ := githubsrc.ParseRepo(ac.Repo)
	token, apiURL := cmp.Or(ac.Token, s.cfg.Token), cmp.Or(ac.APIURL, s.cfg.APIURL)
	key := [2]string{token, apiURL}
	c := clients[key]
	if c == nil {
		var err error
		c, err = githubsrc.New(githubsrc.Options{
			Token: token, APIURL: apiURL, Retry: serverRetry, Logger: s.log, Now: s.cfg.Now,
			Observe: s.metrics.observe(cmp.Or(ac.Slug, "default")),
		})
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", ac.Slug, err)
		}
		clients[key] = c
	}
	if ac.Private && c.Anonymous() {
		return nil, fmt.Errorf("app %s: a private repository needs a token: pass --token or set token_env", cmp.Or(ac.Slug, ac.Repo))
	}
	return &GitHubSource{Client: c, Repo: repo, Private: ac.Private, Now: s.cfg.Now}, nil
}

func (a *app) prefix() string {
	if a.Slug == "" {
		return ""
	}
	return "/" + a.Slug
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP answers the check and download routes itself when the path
// has their plain shape (the hot paths: no mux walk, no allocation), and
// hands everything else to the mux, which routeTable (routes.go) builds.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) > maxPath {
		rec, start := s.begin(w)
		s.writeError(rec, r, http.StatusRequestURITooLong, "path too long")
		s.end(rec, r, s.unknownMetrics, start)
		return
	}
	if a, c, ok := s.matchCheck(r); ok {
		rec, start := s.begin(w)
		if c.electron {
			s.serveSquirrel(rec, r, a, c.squirrel, c.squirrelErr, c.version)
			s.end(rec, r, s.squirrelMetrics, start)
			return
		}
		s.serveCheck(rec, r, a, c)
		s.end(rec, r, s.checkMetrics, start)
		return
	}
	if a, tag, name, ok := s.matchDownload(r); ok {
		rec, start := s.begin(w)
		s.serveDownload(rec, r, a, tag, name)
		s.end(rec, r, s.downloadMetrics, start)
		return
	}
	if o, a, last, ok := s.matchPlain(r); ok {
		rec, start := s.begin(w)
		o.plain(s, rec, r, a, last)
		s.end(rec, r, o.metrics, start)
		return
	}
	if s.cfg.BasePath != "" && r.URL.Path != s.cfg.BasePath && !strings.HasPrefix(r.URL.Path, s.prefix) {
		// Outside --base-path: the mux has no pattern there, and would
		// answer in plain text.
		rec, start := s.begin(w)
		s.handleUnknown(rec, r)
		s.end(rec, r, s.unknownMetrics, start)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Warm reads the apps' releases in the background, warmConcurrency apps
// at a time in slug order, so that the first update checks do not wait
// for GitHub and start-up does not send GitHub every app's listing at
// once. It reads at most --max-cached-apps apps (more would evict each
// other); a check for an app not read yet reads it at once, as without
// Warm.
func (s *Server) Warm() {
	apps := slices.SortedFunc(maps.Values(s.apps), func(a, b *app) int { return strings.Compare(a.Slug, b.Slug) })
	apps = apps[:min(len(apps), s.cfg.MaxCachedApps)]
	var next atomic.Int64
	for range min(warmConcurrency, len(apps)) {
		s.async.Add(1)
		go func() {
			defer s.async.Done()
			for i := next.Add(1) - 1; i < int64(len(apps)) && s.base.Err() == nil; i = next.Add(1) - 1 {
				if a := apps[i]; a.snap.Load() == nil {
					_ = s.refreshNow(a) // joins a refresh a check started
				}
			}
		}()
	}
}

// warmConcurrency is how many apps Warm reads at once: GitHub asks
// integrators not to send it many concurrent requests, and a few at a
// time is also what keeps start-up's memory to that of a few refreshes.
const warmConcurrency = 8

// Close cancels running refreshes, waits for them to end and starts no more.
func (s *Server) Close() {
	s.bgMu.Lock()
	s.closed = true
	s.bgMu.Unlock()
	s.stop()
	s.bg.Wait()
}

// appOf finds the app a request is for, answering 404 when there is none.
func (s *Server) appOf(w http.ResponseWriter, r *http.Request) *app {
	if s.single != nil {
		return s.single
	}
	if a := s.apps[r.PathValue("app")]; a != nil {
		return a
	}
	s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no app %q on this server", r.PathValue("app")))
	return nil
}

// fail answers for an error from a source: 404 for a repository or asset
// that does not exist, else 503 with Retry-After (GitHub down, rate
// limited, first read still running). Never a 200 with a wrong answer;
// Tauri moves on to its next endpoint.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, retry := http.StatusServiceUnavailable, int(minBackoff.Seconds())
	var rl *githubsrc.RateLimitError
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client left
	case errors.Is(err, githubsrc.ErrNotFound):
		status, retry = http.StatusNotFound, 0
	case errors.Is(err, errTooStale):
		retry = 60
	case errors.As(err, &rl):
		retry = max(1, int(rl.Reset.Sub(s.cfg.Now()).Seconds()))
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
	msg := err.Error()
	if status == http.StatusServiceUnavailable && !errors.Is(err, errColdTimeout) {
		msg = "the release source cannot be read: " + msg
	}
	s.writeError(w, r, status, msg)
}

var jsonType = []string{"application/json"}

// writeBody writes a pre-encoded JSON body (only its length for HEAD).
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, length []string) {
	writeTyped(w, r, jsonType, body, length)
}

// writeTyped writes a pre-encoded body of Content-Type ctype (only its
// length for HEAD).
func writeTyped(w http.ResponseWriter, r *http.Request, ctype []string, body []byte, length []string) {
	h := w.Header()
	h["Content-Type"] = ctype
	if r.Method == http.MethodHead {
		h["Content-Length"] = length
		w.WriteHeader(http.StatusOK)
		return
	}
	// net/http states the length of a body that fits its 2 KiB buffer
	// itself, without the header map's sort and copy (1k instructions a
	// check); larger bodies would go chunked without ours.
	if len(body) > autoLengthMax {
		h["Content-Length"] = length
	}
	_, _ = w.Write(body)
}

// autoLengthMax is the largest body net/http gives a Content-Length
// unasked (its bufferBeforeChunkingSize, less one to be safe).
const autoLengthMax = 2047

// writeError answers with a JSON error, which Tauri treats as "try the next endpoint".
func (s *Server) writeError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(encode(map[string]string{"error": msg}))
}

// --- middleware ---

// maxPath bounds request paths; real ones are under 200 bytes.
const maxPath = 1024

// recorder notes the status of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// instrument counts, times and logs every request of a route, one line each.
func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	m := s.metrics.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, start := s.begin(w)
		h(rec, r)
		s.end(rec, r, m, start)
	})
}

// begin starts observing a request.
func (s *Server) begin(w http.ResponseWriter) (*recorder, time.Time) {
	rec := recorders.Get().(*recorder)
	*rec = recorder{ResponseWriter: w}
	return rec, time.Now()
}

// end counts, times and logs a request.
func (s *Server) end(rec *recorder, r *http.Request, m *routeMetrics, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	// One monotonic reading, not a full time.Now (two clock reads): the
	// wall time of the end is the start's plus the duration.
	dur := time.Since(start)
	now := start.Add(dur)
	rm := m.status(status)
	rm.count.Inc()
	rm.latency.Observe(dur.Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	// The handler directly, with the time already taken and no caller
	// lookup: one access line costs half of what Logger.LogAttrs does.
	if h := s.log.Handler(); h.Enabled(r.Context(), level) {
		line := slog.NewRecord(now, level, "request", 0)
		line.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
			slog.Int64("bytes", rec.bytes), slog.Duration("dur", dur))
		if rec.err != nil {
			line.AddAttrs(slog.String("err", rec.err.Error()))
		}
		_ = h.Handle(r.Context(), line)
	}
	rec.ResponseWriter = nil
	recorders.Put(rec)
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// in-flight requests finish (for up to grace), new ones are refused.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler: s,
		// Equal read timeouts cost one deadline per request instead of two;
		// bodies here are small (webhooks, at most 1 MiB).
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.base },
	}
	ln = coarseListener{ln, deadlineSlack(min(s.cfg.ReadTimeout, s.cfg.WriteTimeout, s.cfg.IdleTimeout))}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

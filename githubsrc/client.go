package githubsrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v66/github"
	"golang.org/x/oauth2"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com/"

// Options configure a Client.
type Options struct {
	// Token authenticates requests. Empty means anonymous: 60 requests an
	// hour, no drafts, no private repositories.
	Token string
	// APIURL is the REST API root: "" for github.com, "https://HOST/api/v3/"
	// for GitHub Enterprise Server (a bare "https://HOST" gets /api/v3/ added),
	// or a fake's URL in tests. GitHub Actions passes it as GITHUB_API_URL.
	APIURL string
	// Transport carries every request; nil means a clone of
	// http.DefaultTransport with bounded dial and header timeouts.
	Transport http.RoundTripper
	Retry     Retry
	// MaxReleasePages bounds how many pages of 100 releases one listing
	// reads; 0 means 10 (1,000 releases).
	MaxReleasePages int
	Logger          *slog.Logger
	// Observe, when set, is told about every response from GitHub: for metrics.
	Observe func(Observation)
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

// Observation describes one request to GitHub, for metrics.
type Observation struct {
	Op       string
	Status   int // 0 when no response arrived
	Duration time.Duration
	Err      error
	// RateRemaining is x-ratelimit-remaining from the answer, or -1.
	RateRemaining int
}

// Client reads and writes GitHub Releases.
type Client struct {
	gh         *github.Client
	api        *http.Client // authenticated: what gh was built with
	noRedirect *http.Client // authenticated; stops at redirects to read Location
	plain      *http.Client // no credentials: for signed storage URLs
	anonymous  bool
	retry      Retry
	maxPages   int
	log        *slog.Logger
	observe    func(Observation)
	now        func() time.Time

	rateRemaining, rateLimit, rateReset atomic.Int64
	gate                                rateGate
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	base := opts.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 10 * time.Second
		t.ResponseHeaderTimeout = 2 * time.Minute
		t.MaxIdleConnsPerHost = 16
		base = t
	}
	auth := base
	if opts.Token != "" {
		auth = &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: opts.Token}), Base: base}
	}
	api := &http.Client{Transport: auth}
	gh := github.NewClient(api)
	gh.UserAgent = "otapub"
	if apiURL := strings.TrimSpace(opts.APIURL); apiURL != "" && strings.TrimRight(apiURL, "/")+"/" != DefaultAPIURL {
		u, err := url.Parse(apiURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("invalid GitHub API URL %q: want https://api.github.com/ or https://HOST/api/v3/", apiURL)
		}
		upload := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3") + "/api/uploads/"
		if gh, err = gh.WithEnterpriseURLs(apiURL, u.Scheme+"://"+u.Host+upload); err != nil {
			return nil, fmt.Errorf("GitHub API URL %q: %w", apiURL, err)
		}
	}
	c := &Client{
		gh:  gh,
		api: api,
		noRedirect: &http.Client{Transport: auth, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		plain:     &http.Client{Transport: base},
		anonymous: opts.Token == "",
		retry:     opts.Retry.withDefaults(),
		maxPages:  opts.MaxReleasePages,
		log:       opts.Logger,
		observe:   opts.Observe,
		now:       opts.Now,
	}
	if c.maxPages <= 0 {
		c.maxPages = 10
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.rateRemaining.Store(-1)
	return c, nil
}

// APIURL returns the REST API root the client talks to.
func (c *Client) APIURL() string { return c.gh.BaseURL.String() }

// Anonymous reports whether the client has no token.
func (c *Client) Anonymous() bool { return c.anonymous }

// RateLimit returns the primary rate limit as of GitHub's last answer;
// remaining is -1 before any answer.
func (c *Client) RateLimit() (remaining, limit int, reset time.Time) {
	return int(c.rateRemaining.Load()), int(c.rateLimit.Load()), time.Unix(c.rateReset.Load(), 0)
}

// do sends the request that build makes, decoding a 2xx body into v, and
// retries transient failures per c.retry. build is called once per attempt
// so that bodies can be sent again. idempotent says whether a request that
// may have reached GitHub may be repeated; a write that is not is retried
// only when it certainly did not take effect (rate limits, failed dials).
func (c *Client) do(ctx context.Context, op string, idempotent bool, build func() (*http.Request, error), v any) (*github.Response, error) {
	var resp *github.Response
	_, err := c.retrying(ctx, op, idempotent, func(int) (bool, error) {
		req, err := build()
		if err != nil {
			return true, fmt.Errorf("%s: %w", op, err)
		}
		resp, err = c.call(ctx, op, req, v)
		if resp != nil && resp.StatusCode == http.StatusNotModified {
			return true, err // the caller asked for this; not a failure
		}
		return false, err
	})
	return resp, err
}

// call makes one API request and decodes a 2xx JSON body into v. Its
// errors are classified (see classify).
func (c *Client) call(ctx context.Context, op string, req *http.Request, v any) (*github.Response, error) {
	hr, err := c.exchange(ctx, op, c.api, req)
	if err != nil {
		return nil, c.classify(op, nil, err)
	}
	defer drain(hr.Body)
	resp := &github.Response{Response: hr, NextPage: nextPage(hr.Header)}
	if err := github.CheckResponse(hr); err != nil {
		return resp, c.classify(op, resp, err)
	}
	if v != nil {
		if err := json.NewDecoder(hr.Body).Decode(v); err != nil && err != io.EOF {
			return resp, fmt.Errorf("%s: read GitHub's answer: %w", op, err)
		}
	}
	return resp, nil
}

// exchange sends one API request with hc and notes the answer. While a
// rate limit is known to last it fails at once with *RateLimitError
// instead, without asking GitHub (go-github's client would do the same, but
// on its own clock; this one runs on c.now, which tests move).
func (c *Client) exchange(ctx context.Context, op string, hc *http.Client, req *http.Request) (*http.Response, error) {
	if rl := c.gate.refuse(op, c.now()); rl != nil {
		o := Observation{Op: op, Status: http.StatusForbidden, Err: rl, RateRemaining: -1}
		if !rl.Secondary {
			o.RateRemaining = 0
		}
		if c.observe != nil {
			c.observe(o)
		}
		return nil, rl
	}
	start := time.Now()
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil && ctx.Err() != nil {
		err = ctx.Err() // more telling than the transport's words
	}
	c.note(op, resp, err, time.Since(start))
	return resp, err
}

// retrying calls try until it succeeds, says stop, or c.retry gives up,
// waiting between attempts; it returns the attempts made. try returns
// errors already classified.
func (c *Client) retrying(ctx context.Context, op string, idempotent bool, try func(attempt int) (stop bool, err error)) (int, error) {
	for attempt := 1; ; attempt++ {
		stop, err := try(attempt)
		if err == nil || stop || ctx.Err() != nil {
			return attempt, err
		}
		wait, ok := c.backoff(err, attempt, idempotent)
		if !ok {
			return attempt, err
		}
		c.log.WarnContext(ctx, "github request failed, retrying", "op", op, "attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
		if err := c.retry.Sleep(ctx, wait); err != nil {
			return attempt, fmt.Errorf("%s: %w", op, err)
		}
	}
}

// backoff says how long to wait before attempt+1, or false to give up.
func (c *Client) backoff(err error, attempt int, idempotent bool) (time.Duration, bool) {
	retry, notApplied := transient(err)
	if !retry || !idempotent && !notApplied || attempt >= c.retry.Attempts {
		return 0, false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		wait := rl.Wait(c.now())
		if wait > c.retry.MaxRateLimitWait {
			return 0, false
		}
		return max(wait, c.retry.BaseDelay), true
	}
	return c.retry.Backoff(attempt), true
}

// note records an answer's rate limit and tells c.observe about it.
func (c *Client) note(op string, resp *http.Response, err error, d time.Duration) {
	o := Observation{Op: op, Duration: d, Err: err, RateRemaining: -1}
	if resp != nil {
		o.Status = resp.StatusCode
		if rate, ok := parseRate(resp.Header); ok {
			o.RateRemaining = rate.Remaining
			c.rateRemaining.Store(int64(rate.Remaining))
			c.rateLimit.Store(int64(rate.Limit))
			c.rateReset.Store(rate.Reset.Unix())
			if rate.Remaining == 0 {
				// The budget is spent: later calls fail here until the reset.
				c.gate.block(&RateLimitError{Op: op, Limit: rate.Limit, Reset: rate.Reset.Time, Message: "API rate limit exhausted"})
			}
		}
	}
	if c.observe != nil {
		c.observe(o)
	}
}

// parseRate reads GitHub's x-ratelimit-* headers.
func parseRate(h http.Header) (github.Rate, bool) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || limit <= 0 {
		return github.Rate{}, false
	}
	return github.Rate{Limit: limit, Remaining: remaining, Reset: github.Timestamp{Time: time.Unix(reset, 0)}}, true
}

// nextPage reads the page number of the Link header's rel="next", or 0.
func nextPage(h http.Header) int {
	for _, link := range strings.Split(h.Get("Link"), ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			continue
		}
		n, _ := strconv.Atoi(u.Query().Get("page"))
		return n
	}
	return 0
}

// rateGate remembers the latest rate limit until it resets.
type rateGate struct {
	mu    sync.Mutex
	until *RateLimitError
}

func (g *rateGate) block(rl *RateLimitError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.until == nil || rl.Reset.After(g.until.Reset) {
		g.until = rl
	}
}

// refuse returns the error for op while the limit lasts, else nil.
func (g *rateGate) refuse(op string, now time.Time) *RateLimitError {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.until == nil || !now.Before(g.until.Reset) {
		return nil
	}
	rl := *g.until
	rl.Op = op
	rl.Message = "not asking GitHub until the limit resets"
	return &rl
}

// Sleep waits d, or until ctx ends. It is the default Retry.Sleep, and the
// one wait otapub makes on a real clock.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// get builds a GET for path, with extra headers.
func (c *Client) get(path string, header ...string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		req, err := c.gh.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(header); i += 2 {
			if header[i+1] != "" {
				req.Header.Set(header[i], header[i+1])
			}
		}
		return req, nil
	}
}

func (c *Client) newRequest(method, path string, body any) func() (*http.Request, error) {
	return func() (*http.Request, error) { return c.gh.NewRequest(method, path, body) }
}

func repoPath(repo Repo, rest string) string {
	return "repos/" + url.PathEscape(repo.Owner) + "/" + url.PathEscape(repo.Name) + "/" + rest
}

// drain reads what is left of a body so the connection can be reused.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}

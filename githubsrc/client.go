package githubsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
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
	noRedirect *http.Client // authenticated; stops at redirects to read Location
	plain      *http.Client // no credentials: for signed storage URLs
	anonymous  bool
	retry      Retry
	maxPages   int
	log        *slog.Logger
	observe    func(Observation)
	now        func() time.Time

	rateRemaining, rateLimit, rateReset atomic.Int64
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
	gh := github.NewClient(&http.Client{Transport: auth})
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
		gh: gh,
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
	err := c.retrying(ctx, op, idempotent, func() (bool, error) {
		req, err := build()
		if err != nil {
			return true, fmt.Errorf("%s: %w", op, err)
		}
		start := time.Now()
		resp, err = c.gh.Do(ctx, req, v)
		c.note(op, resp, err, time.Since(start))
		switch {
		case err == nil:
			return false, nil
		case resp != nil && resp.StatusCode == http.StatusNotModified:
			return true, err // the caller asked for this; not a failure
		}
		return false, classify(op, resp, err, c.anonymous, c.now())
	})
	return resp, err
}

// retrying calls try until it succeeds, says stop, or c.retry gives up,
// waiting between attempts. try returns errors already classified.
func (c *Client) retrying(ctx context.Context, op string, idempotent bool, try func() (stop bool, err error)) error {
	for attempt := 1; ; attempt++ {
		stop, err := try()
		if err == nil || stop || ctx.Err() != nil {
			return err
		}
		wait, ok := c.backoff(err, attempt, idempotent)
		if !ok {
			return err
		}
		c.log.WarnContext(ctx, "github request failed, retrying", "op", op, "attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", op, err)
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
		wait := rl.Reset.Sub(c.now()) + time.Second // GitHub's reset is whole seconds
		if wait > c.retry.MaxRateLimitWait {
			return 0, false
		}
		return max(wait, c.retry.BaseDelay), true
	}
	d := c.retry.BaseDelay << (attempt - 1)
	if d > c.retry.MaxDelay || d <= 0 {
		d = c.retry.MaxDelay
	}
	return d/2 + rand.N(d/2+1), true // jitter: spread retries of many clients
}

func (c *Client) note(op string, resp *github.Response, err error, d time.Duration) {
	o := Observation{Op: op, Duration: d, Err: err, RateRemaining: -1}
	if resp != nil && resp.Response != nil {
		o.Status = resp.StatusCode
		if resp.Rate.Limit > 0 {
			o.RateRemaining = resp.Rate.Remaining
			c.rateRemaining.Store(int64(resp.Rate.Remaining))
			c.rateLimit.Store(int64(resp.Rate.Limit))
			c.rateReset.Store(resp.Rate.Reset.Unix())
		}
	}
	if c.observe != nil {
		c.observe(o)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
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

package githubsrc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
)

// ErrAlreadyExists is wrapped into the error for an upload whose name is
// taken (GitHub's 422 already_exists). After a lost 201 it means the first
// attempt landed: read the asset back before deciding anything.
var ErrAlreadyExists = errors.New("already exists")

// RateLimitError says GitHub refused a request for its rate limit, primary
// (403 or 429 with x-ratelimit-remaining: 0) or secondary (403 or 429 with
// Retry-After or a secondary-limit message), and when to try again.
type RateLimitError struct {
	Op        string
	Secondary bool
	Limit     int
	Reset     time.Time // when GitHub will take requests again
	Message   string
}

func (e *RateLimitError) Error() string {
	kind := "rate limit"
	if e.Secondary {
		kind = "secondary rate limit"
	}
	msg := fmt.Sprintf("%s: GitHub %s exceeded", e.Op, kind)
	if e.Limit > 0 {
		msg += fmt.Sprintf(" (%d requests an hour)", e.Limit)
	}
	if !e.Reset.IsZero() {
		msg += fmt.Sprintf(", retry after %s", e.Reset.UTC().Format(time.RFC3339))
	}
	return msg
}

// Wait is how long to wait from now until GitHub takes requests again: to
// Reset, plus a second because GitHub counts resets in whole seconds.
func (e *RateLimitError) Wait(now time.Time) time.Duration {
	return e.Reset.Sub(now) + time.Second
}

// APIError is an answer from GitHub that is neither success nor one of the
// cases above. It carries the status and GitHub's own words.
type APIError struct {
	Op        string
	Status    int
	Message   string
	Details   []string // validation errors: "name already_exists", "size custom: size must be..."
	RequestID string   // X-GitHub-Request-Id, for support tickets
	hint      string
	sentinel  error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: GitHub answered %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Details, "; "))
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	if e.hint != "" {
		b.WriteString(": " + e.hint)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.sentinel }

// classify turns what the API answered into one of this package's errors,
// named after op, with a hint where a token would help; a rate limit also
// closes c's gate until it resets.
func (c *Client) classify(op string, resp *github.Response, err error) error {
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var er *github.ErrorResponse
	var out error
	now := c.now()
	switch {
	case errors.As(err, new(*RateLimitError)):
		return err // refused by the gate; already classified
	case errors.As(err, &rle) && rle.Response != nil:
		out = newRateLimitError(op, rle.Response.Header, now, false, rle.Message)
	case errors.As(err, &abuse) && abuse.Response != nil:
		out = newRateLimitError(op, abuse.Response.Header, now, true, abuse.Message)
	case errors.As(err, &er) && er.Response != nil:
		out = fromErrorResponse(op, er, c.anonymous, now)
	case resp != nil && resp.Response != nil && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
	if rl, ok := out.(*RateLimitError); ok {
		c.gate.block(rl)
	}
	return out
}

// newRateLimitError reads a rate-limit answer's headers: the limit
// (primary only) and when GitHub takes requests again.
func newRateLimitError(op string, h http.Header, now time.Time, secondary bool, msg string) *RateLimitError {
	e := &RateLimitError{Op: op, Secondary: secondary, Message: msg, Reset: retryAt(h, now)}
	if !secondary {
		e.Limit, _ = strconv.Atoi(h.Get("X-RateLimit-Limit"))
	}
	return e
}

func fromErrorResponse(op string, er *github.ErrorResponse, anonymous bool, now time.Time) error {
	h := er.Response.Header
	status := er.Response.StatusCode
	if status == http.StatusTooManyRequests || status == http.StatusForbidden && h.Get("X-RateLimit-Remaining") == "0" {
		return newRateLimitError(op, h, now, h.Get("X-RateLimit-Remaining") != "0", er.Message)
	}
	e := &APIError{Op: op, Status: status, Message: er.Message, RequestID: h.Get("X-GitHub-Request-Id")}
	for _, d := range er.Errors {
		s := strings.TrimSpace(d.Field + " " + d.Code)
		if d.Message != "" {
			s += ": " + d.Message
		}
		e.Details = append(e.Details, s)
		if d.Code == "already_exists" {
			e.sentinel = ErrAlreadyExists
		}
	}
	switch status {
	case http.StatusNotFound:
		e.sentinel = ErrNotFound
		if anonymous {
			e.hint = "no token was given, and private repositories and drafts are invisible without one: pass --token or set GITHUB_TOKEN"
		}
	case http.StatusUnauthorized:
		e.hint = "the token was refused: check that it is current and not expired"
	case http.StatusForbidden:
		if anonymous {
			e.hint = "this needs a token: pass --token or set GITHUB_TOKEN"
		} else {
			e.hint = "the token lacks permission: it needs contents: write to publish, contents: read to serve"
		}
	}
	return e
}

// retryAt reads when GitHub will take requests again: Retry-After (seconds)
// first, then x-ratelimit-reset (epoch seconds), else a minute from now.
func retryAt(h http.Header, now time.Time) time.Time {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		return time.Unix(s, 0)
	}
	return now.Add(time.Minute)
}

// Retry is how a Client retries failed requests: network errors, 5xx and
// rate limits, with exponential backoff and full jitter; never other 4xx.
type Retry struct {
	// Attempts is the most tries one operation makes; 0 means 4.
	Attempts int
	// BaseDelay is the first backoff; 0 means 500ms. It doubles per attempt.
	BaseDelay time.Duration
	// MaxDelay caps one backoff; 0 means 30s.
	MaxDelay time.Duration
	// MaxRateLimitWait is the longest a Client sleeps for a rate limit to
	// reset before giving up with *RateLimitError. A server sets 0 (serve
	// stale instead of waiting); a CLI can afford minutes.
	MaxRateLimitWait time.Duration
	// Sleep waits d, or until ctx ends; nil means Sleep, on the real clock.
	// Tests pass a fake clock's (githubsrctest.Clock), so that no test
	// waits out a real backoff.
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff is the wait before attempt+1 after a failure that is not a
	// rate limit; nil means BaseDelay doubled per attempt, capped at
	// MaxDelay, with full jitter in the upper half.
	Backoff func(attempt int) time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.Sleep == nil {
		r.Sleep = Sleep
	}
	if r.Backoff == nil {
		base, most := r.BaseDelay, r.MaxDelay
		r.Backoff = func(attempt int) time.Duration {
			d := base << (attempt - 1)
			if d > most || d <= 0 {
				d = most
			}
			return d/2 + rand.N(d/2+1) // jitter: spread retries of many clients
		}
	}
	return r
}

// transient reports whether err may pass if the same request is sent again,
// and whether the request certainly did not take effect (so that even a
// non-idempotent write may be resent).
func transient(err error) (retry, notApplied bool) {
	var rl *RateLimitError
	var api *APIError
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false, false
	case errors.As(err, new(cleared)):
		return true, true
	case errors.As(err, &rl):
		return true, true
	case errors.As(err, &api):
		return api.Status >= 500, false
	case errors.As(err, &dns):
		return true, true
	case errors.As(err, &op) && op.Op == "dial":
		return true, true
	}
	// Connection resets, EOFs and timeouts mid-request: the request may or
	// may not have reached GitHub.
	return true, false
}

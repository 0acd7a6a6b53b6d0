// Package githubsrctest is a stateful fake of the GitHub Releases API on a
// real loopback socket, for tests of every otapub package.
//
// It keeps what GitHub's traps depend on: drafts are listed only for a
// token and are invisible by tag, with "untagged-…" URLs until published;
// uploads need a Content-Length, are renamed like GitHub renames them, get
// a state and a sha256 digest, and collide with 422 already_exists; asset
// downloads redirect to short-lived signed storage URLs that refuse
// credentials; list responses carry ETags and a 304 costs no rate limit.
// Knobs inject latency, 5xx, dropped uploads, "successful failures",
// secondary rate limits and rate-limit exhaustion, and every request is
// counted by route. A request to a route the fake does not know fails the
// test.
package githubsrctest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// Token is the token the fake accepts unless a test sets Server.Tokens.
const Token = "ghp_fakeTestToken0123456789"

// Server is a fake GitHub. Create it with NewServer.
type Server struct {
	// URL is the server root; APIURL is what a client is given as its API
	// URL (URL + "/api/v3/", the GitHub Enterprise Server shape).
	URL, APIURL string

	t      testing.TB
	secret []byte

	mu          sync.Mutex
	tokens      map[string]bool
	repos       map[string]*repo
	nextID      int64
	faults      []*Fault
	latency     time.Duration
	counts      map[string]int
	rate        rateLimit
	signedTTL   time.Duration
	now         func() time.Time
	uploadLimit int64
	discard     bool
	noDigests   bool
	// closing ends the waits of requests (latency, stalls) when the test
	// ends, so that closing the server does not wait them out.
	closing context.Context
}

type repo struct {
	owner, name string
	private     bool
	immutable   bool
	releases    []*release // in creation order; listed newest first
	// latest is the release make_latest made the latest (sent "true", or
	// left out when publishing, as GitHub defaults). nil, or no longer
	// eligible, falls back to the newest eligible release by creation:
	// GitHub's "legacy" rule, and what seeded releases get.
	latest *release
}

type release struct {
	id          int64
	tag         string
	name, body  string
	target      string
	draft       bool
	prerelease  bool
	immutable   bool
	notLatest   bool // published with make_latest=false: never the legacy pick
	untagged    string
	createdAt   time.Time
	publishedAt time.Time
	assets      []*asset
}

type asset struct {
	id          int64
	name, label string
	state       string
	contentType string
	data        []byte
	digest      string
	updatedAt   time.Time
	// discardedSize is the size of an upload whose bytes were not kept.
	discardedSize int64
}

type rateLimit struct {
	limit, remaining int
	reset            time.Time
	status           int // 403 or 429 when exhausted
}

// NewServer starts a fake GitHub that lives as long as the test.
func NewServer(t testing.TB) *Server {
	s := &Server{
		t:           t,
		secret:      []byte("storage-signing-secret"),
		tokens:      map[string]bool{Token: true},
		repos:       map[string]*repo{},
		nextID:      1000,
		counts:      map[string]int{},
		signedTTL:   5 * time.Minute,
		now:         time.Now,
		uploadLimit: githubsrc.MaxAssetSize,
		rate:        rateLimit{limit: 5000, remaining: 5000, status: http.StatusForbidden},
	}
	closing, closeAll := context.WithCancel(context.Background())
	s.closing = closing
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /api/v3"+path, s.apiRoute(h))
	}
	api("GET /repos/{owner}/{repo}", s.getRepo)
	api("GET /repos/{owner}/{repo}/immutable-releases", s.immutableReleases)
	api("GET /repos/{owner}/{repo}/releases", s.listReleases)
	api("POST /repos/{owner}/{repo}/releases", s.createRelease)
	api("GET /repos/{owner}/{repo}/releases/latest", s.latestRelease)
	api("GET /repos/{owner}/{repo}/releases/{id}", s.getRelease)
	api("PATCH /repos/{owner}/{repo}/releases/{id}", s.editRelease)
	api("DELETE /repos/{owner}/{repo}/releases/{id}", s.deleteRelease)
	// One pattern for ".../releases/tags/{tag}" and ".../releases/{id}/assets":
	// ServeMux cannot rank the two.
	api("GET /repos/{owner}/{repo}/releases/{id}/{sub}", s.releaseSub)
	api("GET /repos/{owner}/{repo}/releases/assets/{id}", s.getAsset)
	api("PATCH /repos/{owner}/{repo}/releases/assets/{id}", s.editAsset)
	api("DELETE /repos/{owner}/{repo}/releases/assets/{id}", s.deleteAsset)
	mux.HandleFunc("GET /api/v3/rate_limit", s.rateLimitStatus)
	mux.HandleFunc("POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets", s.apiRoute(s.uploadAsset))
	mux.HandleFunc("GET /{owner}/{repo}/releases/download/{tag}/{name}", s.counted(s.browserDownload))
	mux.HandleFunc("GET /storage/{id}", s.counted(s.storage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake GitHub: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		closeAll()
		ts.Close()
	})
	s.URL = ts.URL
	s.APIURL = ts.URL + "/api/v3/"
	return s
}

// --- knobs ---

// Fault makes the fake misbehave for requests whose "METHOD /path?query" contains Match.
type Fault struct {
	// Match selects requests by substring of "METHOD /path?query", e.g.
	// "POST /api/uploads", "name=App.exe" or "GET /api/v3/repos/o/r/releases"; "" matches all.
	Match string
	// Times is how many matching requests it hits; 0 means 1.
	Times int
	// Status is the answer, e.g. 502. With RetryAfter it is a secondary
	// rate limit (403 unless Status says 429).
	Status int
	// RetryAfter makes it a secondary rate limit with this Retry-After.
	RetryAfter time.Duration
	// Apply, for uploads, stores the asset and then answers Status anyway:
	// GitHub's "successful failure" after which a retry meets 422.
	Apply bool
	// DropAfter, for uploads, reads this many bytes of the body and then
	// cuts the connection, leaving the asset in state "starter".
	DropAfter int64
	// StallAfter, for uploads, reads this many bytes of the body and then
	// stops reading, as a wedged connection does, until the client gives up.
	StallAfter int64
	// StallFor is how long the stall lasts (default 2s).
	StallFor time.Duration
	// Delay holds the request this long first.
	Delay time.Duration
	// Hold, when set, then holds the request until Hold is closed (or the
	// client gives up, or the test ends). Without Status or RetryAfter the
	// request then goes on as it would have: a test decides when a request
	// in flight completes, instead of guessing a latency.
	Hold <-chan struct{}
	// Notify, when set, is sent to (if it has room) each time the fault
	// takes effect; for a stall, once the stall begins. Tests wait on it
	// instead of sleeping.
	Notify chan<- struct{}
}

func (f *Fault) notify() {
	if f.Notify == nil {
		return
	}
	select {
	case f.Notify <- struct{}{}:
	default:
	}
}

// Inject queues a fault; faults fire in the order they were injected.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// SetLatency delays every API and upload request by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRateLimit gives the fake a primary rate limit of limit requests,
// resetting at reset; status (403 or 429) answers requests past it.
// Conditional requests answered 304 do not count, as on GitHub.
func (s *Server) SetRateLimit(limit int, reset time.Time, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = rateLimit{limit: limit, remaining: limit, reset: reset, status: status}
}

// ResetRateLimit refills the rate limit, as GitHub does at the reset time.
func (s *Server) ResetRateLimit(reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate.remaining, s.rate.reset = s.rate.limit, reset
}

// SetTokens replaces the accepted tokens.
func (s *Server) SetTokens(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
	for _, t := range tokens {
		s.tokens[t] = true
	}
}

// SetSignedURLTTL sets how long signed storage URLs stay valid (default 5m).
func (s *Server) SetSignedURLTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedTTL = d
}

// SetClock replaces the fake's clock (published_at, rate resets, URL expiry).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetDiscardUploads makes the fake keep only the size and digest of
// uploaded bytes, for benchmarks that upload gigabytes.
func (s *Server) SetDiscardUploads(discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = discard
}

// SetNoDigests makes the fake answer without asset digests, as GitHub
// Enterprise Server and assets uploaded before June 2025 do.
func (s *Server) SetNoDigests(none bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noDigests = none
}

// SetUploadLimit lowers the largest upload accepted (default 2 GiB), so
// tests can meet the limit without writing 2 GiB.
func (s *Server) SetUploadLimit(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploadLimit = n
}

// Count returns how many requests reached route, a pattern such as
// "GET /api/v3/repos/{owner}/{repo}/releases" (see Counts for the keys).
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Counts returns a copy of the request counters, keyed by route pattern;
// "304" counts conditional requests answered Not Modified.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// APICalls returns how many requests reached the API (uploads included).
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.counts {
		if strings.Contains(k, " /api/") {
			n += v
		}
	}
	return n
}

// ResetCounts zeroes the request counters.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// --- seeding and inspection ---

// RepoOptions describe a repository.
type RepoOptions struct {
	Private bool
	// Immutable makes releases immutable from publication on.
	Immutable bool
}

// AddRepo creates repository "owner/name".
func (s *Server) AddRepo(fullName string, opts RepoOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, name, _ := strings.Cut(fullName, "/")
	s.repos[fullName] = &repo{owner: owner, name: name, private: opts.Private, immutable: opts.Immutable}
}

// ReleaseSpec describes a release to seed.
type ReleaseSpec struct {
	Tag         string
	Name, Notes string
	Target      string
	Draft       bool
	Prerelease  bool
	PublishedAt time.Time // zero: now, for published releases
	// Assets are uploaded as given, in name order.
	Assets map[string][]byte
	// States overrides the state of named assets ("starter" for a broken upload).
	States map[string]string
	// NoDigest leaves digests empty, like assets uploaded before June 2025.
	NoDigest bool
}

// AddRelease seeds a release into repo (created with AddRepo, or on the
// fly as public) and returns its ID.
func (s *Server) AddRelease(fullName string, spec ReleaseSpec) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[fullName]
	if rp == nil {
		owner, name, _ := strings.Cut(fullName, "/")
		rp = &repo{owner: owner, name: name}
		s.repos[fullName] = rp
	}
	now := s.now().UTC().Truncate(time.Second)
	rel := &release{
		id: s.newID(), tag: spec.Tag, name: spec.Name, body: spec.Notes, target: spec.Target,
		draft: spec.Draft, prerelease: spec.Prerelease, createdAt: now,
	}
	published := spec.PublishedAt.UTC()
	if published.IsZero() {
		published = now
	}
	rel.setDraft(spec.Draft, rp, published)
	for _, name := range sortedKeys(spec.Assets) {
		a := s.newAsset(githubsrc.AssetName(name), spec.Assets[name], now)
		if st, ok := spec.States[name]; ok {
			a.state = st
		}
		if spec.NoDigest {
			a.digest = ""
		}
		rel.assets = append(rel.assets, a)
	}
	rp.releases = append(rp.releases, rel)
	return rel.id
}

// setDraft makes rel a draft, with an untagged-… name in its URLs, or
// publishes it at the time given, immutable if rp makes releases so.
func (rel *release) setDraft(draft bool, rp *repo, published time.Time) {
	rel.draft = draft
	if draft {
		rel.untagged = untaggedName(rel.id)
		return
	}
	rel.publishedAt, rel.immutable = published, rp.immutable
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) newAsset(name string, data []byte, now time.Time) *asset {
	sum := sha256.Sum256(data)
	return &asset{
		id: s.newID(), name: name, state: "uploaded", contentType: "application/octet-stream",
		data: data, digest: "sha256:" + hex.EncodeToString(sum[:]), updatedAt: now,
	}
}

// Releases returns what the fake holds for repo, newest first, with asset
// bytes, for assertions.
func (s *Server) Releases(fullName string) []githubsrc.Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[fullName]
	if rp == nil {
		return nil
	}
	var out []githubsrc.Release
	for i := len(rp.releases) - 1; i >= 0; i-- {
		out = append(out, s.releaseJSON(rp, rp.releases[i]).release())
	}
	return out
}

// AssetData returns the stored bytes of an asset by ID.
func (s *Server) AssetData(id int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, a := s.findAsset(id)
	if a == nil {
		return nil, false
	}
	return a.data, true
}

// SetAssetData replaces an asset's bytes but keeps its digest and size, as
// if storage were corrupted behind GitHub's back (for tamper tests).
func (s *Server) SetAssetData(id int64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, a := s.findAsset(id); a != nil {
		a.data = data
	}
}

// SetAssetState sets an asset's state ("starter", "open", "uploaded").
func (s *Server) SetAssetState(id int64, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, a := s.findAsset(id); a != nil {
		a.state = state
	}
}

func (s *Server) findAsset(id int64) (*repo, *release, *asset) {
	for _, rp := range s.repos {
		for _, rel := range rp.releases {
			for _, a := range rel.assets {
				if a.id == id {
					return rp, rel, a
				}
			}
		}
	}
	return nil, nil, nil
}

// signURL returns a storage URL for asset id valid until exp.
func (s *Server) signURL(id int64, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	mac := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(mac, "%d:%s", id, e)
	return fmt.Sprintf("%s/storage/%d?se=%s&sig=%s", s.URL, id, e, hex.EncodeToString(mac.Sum(nil)))
}

func (s *Server) checkSignedURL(id int64, exp, sig string) bool {
	mac := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(mac, "%d:%s", id, exp)
	want := hex.EncodeToString(mac.Sum(nil))
	e, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && hmac.Equal([]byte(want), []byte(sig)) && s.now().Unix() <= e
}

package githubsrctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

type ctxKey int

const (
	authKey ctxKey = iota
	faultKey
)

func authed(r *http.Request) bool { ok, _ := r.Context().Value(authKey).(bool); return ok }

// statusWriter calls onHeader with the status just before the header is
// written, so that a 304 can be refunded from the rate limit and say so.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onHeader func(status int)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.onHeader(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// apiRoute wraps an API handler with what every GitHub API request meets:
// counting, latency, faults, authentication and the primary rate limit.
func (s *Server) apiRoute(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.Pattern]++
		delay := s.latency
		f := s.takeFault(r)
		if f != nil {
			delay += f.Delay
		}
		s.mu.Unlock()
		if !s.wait(r, delay) {
			return // the client gave up
		}
		if f != nil && !s.hold(r, f.Hold) {
			return // the client gave up
		}

		ok, bad := s.checkAuth(r)
		if bad {
			writeError(w, http.StatusUnauthorized, "Bad credentials", nil)
			return
		}
		ctx := context.WithValue(r.Context(), authKey, ok)

		s.mu.Lock()
		if s.rate.reset.IsZero() || s.now().After(s.rate.reset) {
			s.rate.remaining, s.rate.reset = s.rate.limit, s.now().Add(time.Hour)
		}
		exhausted := s.rate.remaining <= 0
		if !exhausted {
			s.rate.remaining--
		}
		s.setRateHeaders(w.Header())
		rateStatus := s.rate.status
		s.mu.Unlock()

		if exhausted {
			writeError(w, rateStatus, "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)", nil)
			return
		}
		if f != nil && !f.Apply && f.DropAfter == 0 && f.StallAfter == 0 && (f.Hold == nil || f.Status != 0 || f.RetryAfter != 0) {
			s.writeFault(w, f)
			return
		}
		if f != nil {
			ctx = context.WithValue(ctx, faultKey, f)
		}
		sw := &statusWriter{ResponseWriter: w, onHeader: func(status int) {
			if status == http.StatusNotModified {
				s.mu.Lock()
				s.rate.remaining++ // a 304 costs no rate limit
				s.counts["304"]++
				s.setRateHeaders(w.Header())
				s.mu.Unlock()
			}
		}}
		h(sw, r.WithContext(ctx))
	}
}

// counted wraps the download routes: counted, and subject to faults.
func (s *Server) counted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.Pattern]++
		f := s.takeFault(r)
		s.mu.Unlock()
		if f != nil {
			if !s.wait(r, f.Delay) || !s.hold(r, f.Hold) {
				return
			}
			if f.Status != 0 || f.RetryAfter != 0 {
				s.writeFault(w, f)
				return
			}
		}
		h(w, r)
	}
}

// wait waits d unless the request ends or the server closes first; it
// reports whether it waited.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	return githubsrc.Sleep(ctx, d) == nil
}

// hold waits until release is closed (at once when it is nil) unless the
// request ends or the server closes first; it reports whether it waited.
func (s *Server) hold(r *http.Request, release <-chan struct{}) bool {
	if release == nil {
		return true
	}
	select {
	case <-release:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing.Done():
		return false
	}
}

// setRateHeaders writes GitHub's rate-limit headers; s.mu is held.
func (s *Server) setRateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rate.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.rate.remaining, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.rate.limit-max(s.rate.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.rate.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("FAKE:%d", s.nextID))
}

// takeFault returns the first queued fault matching r; s.mu is held.
func (s *Server) takeFault(r *http.Request) *Fault {
	key := r.Method + " " + r.URL.RequestURI()
	for i, f := range s.faults {
		if strings.Contains(key, f.Match) {
			if f.StallAfter == 0 {
				f.notify()
			}
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter > 0 {
		status := http.StatusForbidden
		if f.Status == http.StatusTooManyRequests {
			status = f.Status
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadGateway
	}
	writeError(w, status, http.StatusText(status), nil)
}

// checkAuth reports whether the request carries a valid token (ok) or an
// invalid one (bad). No token is neither.
func (s *Server) checkAuth(r *http.Request) (ok, bad bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return false, false
	}
	tok := strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "token ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[tok] {
		return true, false
	}
	return false, true
}

type apiError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string, errs []apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
	if errs != nil {
		body["errors"] = errs
	}
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// --- JSON shapes, as GitHub sends them ---

type releaseJSON struct {
	ID              int64       `json:"id"`
	URL             string      `json:"url"`
	HTMLURL         string      `json:"html_url"`
	UploadURL       string      `json:"upload_url"`
	TagName         string      `json:"tag_name"`
	TargetCommitish string      `json:"target_commitish"`
	Name            string      `json:"name"`
	Body            string      `json:"body"`
	Draft           bool        `json:"draft"`
	Prerelease      bool        `json:"prerelease"`
	Immutable       bool        `json:"immutable"`
	CreatedAt       time.Time   `json:"created_at"`
	PublishedAt     *time.Time  `json:"published_at"`
	Assets          []assetJSON `json:"assets"`
}

type assetJSON struct {
	ID                 int64     `json:"id"`
	URL                string    `json:"url"`
	BrowserDownloadURL string    `json:"browser_download_url"`
	Name               string    `json:"name"`
	Label              string    `json:"label"`
	State              string    `json:"state"`
	ContentType        string    `json:"content_type"`
	Size               int64     `json:"size"`
	Digest             *string   `json:"digest"`
	DownloadCount      int       `json:"download_count"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func (s *Server) releaseJSON(rp *repo, rel *release) releaseJSON {
	full := rp.owner + "/" + rp.name
	j := releaseJSON{
		ID: rel.id, TagName: rel.tag, TargetCommitish: rel.target, Name: rel.name, Body: rel.body,
		Draft: rel.draft, Prerelease: rel.prerelease, Immutable: rel.immutable, CreatedAt: rel.createdAt,
		URL:       fmt.Sprintf("%s/api/v3/repos/%s/releases/%d", s.URL, full, rel.id),
		HTMLURL:   fmt.Sprintf("%s/%s/releases/tag/%s", s.URL, full, rel.pathTag()),
		UploadURL: fmt.Sprintf("%s/api/uploads/repos/%s/releases/%d/assets{?name,label}", s.URL, full, rel.id),
		Assets:    []assetJSON{},
	}
	if j.TargetCommitish == "" {
		j.TargetCommitish = "main"
	}
	if !rel.draft {
		t := rel.publishedAt
		j.PublishedAt = &t
	}
	for _, a := range rel.assets {
		j.Assets = append(j.Assets, s.assetJSON(rp, rel, a))
	}
	return j
}

func (rel *release) pathTag() string {
	if rel.draft {
		return rel.untagged
	}
	return rel.tag
}

func (s *Server) assetJSON(rp *repo, rel *release, a *asset) assetJSON {
	full := rp.owner + "/" + rp.name
	j := assetJSON{
		ID: a.id, Name: a.name, Label: a.label, State: a.state, ContentType: a.contentType,
		Size: max(int64(len(a.data)), a.discardedSize), UpdatedAt: a.updatedAt,
		URL:                fmt.Sprintf("%s/api/v3/repos/%s/releases/assets/%d", s.URL, full, a.id),
		BrowserDownloadURL: fmt.Sprintf("%s/%s/releases/download/%s/%s", s.URL, full, rel.pathTag(), url.PathEscape(a.name)),
	}
	if a.digest != "" && a.state == "uploaded" && !s.noDigests {
		d := a.digest
		j.Digest = &d
	}
	return j
}

func (j releaseJSON) release() githubsrc.Release {
	r := githubsrc.Release{
		ID: j.ID, Tag: j.TagName, Name: j.Name, Notes: j.Body, TargetCommitish: j.TargetCommitish,
		Draft: j.Draft, Prerelease: j.Prerelease, Immutable: j.Immutable, CreatedAt: j.CreatedAt,
		HTMLURL: j.HTMLURL, UploadURL: strings.TrimSuffix(j.UploadURL, "{?name,label}"),
	}
	if j.PublishedAt != nil {
		r.PublishedAt = *j.PublishedAt
	}
	for _, a := range j.Assets {
		ga := githubsrc.Asset{
			ID: a.ID, Name: a.Name, State: a.State, Size: a.Size,
		}
		ga.SetBrowserURL(a.BrowserDownloadURL)
		if a.Digest != nil {
			ga.Digest = *a.Digest
		}
		r.Assets = append(r.Assets, ga)
	}
	return r
}

// --- lookups ---

// repoFor finds the repository of r, answering 404 (as GitHub does for a
// private repository without a token) when it is not visible.
func (s *Server) repoFor(w http.ResponseWriter, r *http.Request) *repo {
	rp := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
	if rp == nil || rp.private && !authed(r) {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return nil
	}
	return rp
}

func (s *Server) releaseFor(w http.ResponseWriter, r *http.Request, rp *repo) *release {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rel := range rp.releases {
		if rel.id == id && (!rel.draft || authed(r)) {
			return rel
		}
	}
	writeError(w, http.StatusNotFound, "Not Found", nil)
	return nil
}

func (s *Server) assetFor(w http.ResponseWriter, r *http.Request, rp *repo) (*release, *asset) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rel := range rp.releases {
		for _, a := range rel.assets {
			if a.id == id && (!rel.draft || authed(r)) {
				return rel, a
			}
		}
	}
	writeError(w, http.StatusNotFound, "Not Found", nil)
	return nil, nil
}

// writableRepo is repoFor for requests that change something: they need a token. s.mu is held.
func (s *Server) writableRepo(w http.ResponseWriter, r *http.Request) *repo {
	rp := s.repoFor(w, r)
	if rp == nil || !requireAuth(w, r) {
		return nil
	}
	return rp
}

// decodeJSON reads a JSON request body into v, answering 400 when it is not JSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", nil)
		return false
	}
	return true
}

func requireAuth(w http.ResponseWriter, r *http.Request) bool {
	if !authed(r) {
		writeError(w, http.StatusUnauthorized, "Requires authentication", nil)
		return false
	}
	return true
}

// page returns per_page and page from r, GitHub's defaults applied.
func page(r *http.Request) (perPage, page int) {
	perPage, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	return perPage, max(page, 1)
}

// paginate slices items for r and sets the Link header go-github reads.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T) []T {
	perPage, p := page(r)
	last := max((len(items)+perPage-1)/perPage, 1)
	link := func(n int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<http://%s%s>; rel="%s"`, r.Host, u.RequestURI(), rel)
	}
	var links []string
	if p < last {
		links = append(links, link(p+1, "next"), link(last, "last"))
	}
	if p > 1 {
		links = append(links, link(1, "first"), link(p-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := min((p-1)*perPage, len(items))
	return items[start:min(start+perPage, len(items))]
}

// --- handlers ---

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.repoFor(w, r); rp != nil {
		writeJSON(w, http.StatusOK, map[string]any{"full_name": rp.owner + "/" + rp.name, "private": rp.private})
	}
}

func (s *Server) immutableReleases(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.writableRepo(w, r)
	if rp == nil {
		return
	}
	if !rp.immutable {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": true, "enforced_by_owner": false})
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.repoFor(w, r)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	var all []releaseJSON
	for i := len(rp.releases) - 1; i >= 0; i-- {
		if rel := rp.releases[i]; !rel.draft || authed(r) {
			all = append(all, s.releaseJSON(rp, rel))
		}
	}
	s.mu.Unlock()
	items := paginate(w, r, all)
	if items == nil {
		items = []releaseJSON{}
	}
	body, _ := json.Marshal(items)
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Server) createRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TagName         string  `json:"tag_name"`
		TargetCommitish string  `json:"target_commitish"`
		Name            string  `json:"name"`
		Body            string  `json:"body"`
		Draft           bool    `json:"draft"`
		Prerelease      bool    `json:"prerelease"`
		MakeLatest      *string `json:"make_latest"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.writableRepo(w, r)
	if rp == nil {
		return
	}
	if in.TagName == "" {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "Release", Field: "tag_name", Code: "missing_field"}})
		return
	}
	if !in.Draft {
		for _, rel := range rp.releases {
			if !rel.draft && rel.tag == in.TagName {
				writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "Release", Field: "tag_name", Code: "already_exists"}})
				return
			}
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	rel := &release{
		id: s.newID(), tag: in.TagName, name: in.Name, body: in.Body, target: in.TargetCommitish,
		draft: in.Draft, prerelease: in.Prerelease, createdAt: now,
	}
	rel.setDraft(in.Draft, rp, now)
	rp.releases = append(rp.releases, rel)
	if !in.Draft {
		rp.makeLatest(rel, in.MakeLatest, true)
	}
	writeJSON(w, http.StatusCreated, s.releaseJSON(rp, rel))
}

func (s *Server) latestRelease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	if rel := rp.latestRelease(); rel != nil {
		writeJSON(w, http.StatusOK, s.releaseJSON(rp, rel))
		return
	}
	writeError(w, http.StatusNotFound, "Not Found", nil)
}

// latestRelease is what GET .../releases/latest answers: the release
// make_latest last chose, while it is published and not a prerelease
// ("Drafts and prereleases cannot be set as latest"), else the newest
// such release by creation that was not published with make_latest=false.
func (rp *repo) latestRelease() *release {
	if rel := rp.latest; rel != nil && !rel.draft && !rel.prerelease && slices.Contains(rp.releases, rel) {
		return rel
	}
	for i := len(rp.releases) - 1; i >= 0; i-- {
		if rel := rp.releases[i]; !rel.draft && !rel.prerelease && !rel.notLatest {
			return rel
		}
	}
	return nil
}

// makeLatest applies a make_latest sent with a create or an edit. GitHub:
// "Defaults to true for newly published releases"; "legacy" decides by
// creation date (and semver, which the fake leaves out); "false" on the
// current latest lets the legacy rule pick another.
func (rp *repo) makeLatest(rel *release, makeLatest *string, publishing bool) {
	v := ""
	if makeLatest != nil {
		v = *makeLatest
	}
	if v == "" && publishing {
		v = "true"
	}
	switch v {
	case "true":
		if !rel.draft && !rel.prerelease {
			rp.latest, rel.notLatest = rel, false
		}
	case "false":
		rel.notLatest = true
		if rp.latest == rel {
			rp.latest = nil
		}
	case "legacy":
		rp.latest, rel.notLatest = nil, false
	}
}

func (s *Server) releaseSub(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.PathValue("id") == "tags":
		s.releaseByTag(w, r, r.PathValue("sub"))
	case r.PathValue("sub") == "assets":
		s.listAssets(w, r)
	default:
		s.t.Errorf("fake GitHub: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

func (s *Server) releaseByTag(w http.ResponseWriter, r *http.Request, tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	for i := len(rp.releases) - 1; i >= 0; i-- {
		// GitHub: "Get a published release with the specified tag": never a draft.
		if rel := rp.releases[i]; !rel.draft && rel.tag == tag {
			writeJSON(w, http.StatusOK, s.releaseJSON(rp, rel))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found", nil)
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	if rel := s.releaseFor(w, r, rp); rel != nil {
		writeJSON(w, http.StatusOK, s.releaseJSON(rp, rel))
	}
}

func (s *Server) editRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TagName    *string `json:"tag_name"`
		Name       *string `json:"name"`
		Body       *string `json:"body"`
		Draft      *bool   `json:"draft"`
		Prerelease *bool   `json:"prerelease"`
		MakeLatest *string `json:"make_latest"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.writableRepo(w, r)
	if rp == nil {
		return
	}
	rel := s.releaseFor(w, r, rp)
	if rel == nil {
		return
	}
	if in.MakeLatest != nil && *in.MakeLatest == "true" {
		// GitHub answers 422 "Latest release cannot be draft or prerelease"
		// (cli/cli#6853) for a release that would still be either.
		draft, pre := rel.draft, rel.prerelease
		if in.Draft != nil {
			draft = *in.Draft
		}
		if in.Prerelease != nil {
			pre = *in.Prerelease
		}
		if draft || pre {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "Release", Field: "make_latest", Code: "custom", Message: "Latest release cannot be draft or prerelease."}})
			return
		}
	}
	if rel.immutable && (in.Draft != nil && *in.Draft || in.TagName != nil && *in.TagName != rel.tag) {
		writeError(w, http.StatusUnprocessableEntity, "Cannot modify an immutable release", nil)
		return
	}
	if in.TagName != nil {
		rel.tag = *in.TagName
	}
	if in.Name != nil {
		rel.name = *in.Name
	}
	if in.Body != nil {
		rel.body = *in.Body
	}
	if in.Prerelease != nil {
		rel.prerelease = *in.Prerelease
	}
	if in.Draft != nil && rel.draft && !*in.Draft {
		for _, other := range rp.releases {
			if other != rel && !other.draft && other.tag == rel.tag {
				writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "Release", Field: "tag_name", Code: "already_exists"}})
				return
			}
		}
		rel.setDraft(false, rp, s.now().UTC().Truncate(time.Second))
		rp.makeLatest(rel, in.MakeLatest, true)
	} else if in.Draft != nil && *in.Draft {
		rel.setDraft(true, rp, time.Time{})
	} else if !rel.draft {
		rp.makeLatest(rel, in.MakeLatest, false)
	}
	writeJSON(w, http.StatusOK, s.releaseJSON(rp, rel))
}

func (s *Server) deleteRelease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.writableRepo(w, r)
	if rp == nil {
		return
	}
	rel := s.releaseFor(w, r, rp)
	if rel == nil {
		return
	}
	rp.releases = slices.DeleteFunc(rp.releases, func(x *release) bool { return x == rel })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.repoFor(w, r)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	rel := s.releaseFor(w, r, rp)
	if rel == nil {
		s.mu.Unlock()
		return
	}
	all := []assetJSON{}
	for _, a := range rel.assets {
		all = append(all, s.assetJSON(rp, rel, a))
	}
	s.mu.Unlock()
	items := paginate(w, r, all)
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) getAsset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	rel, a := s.assetFor(w, r, rp)
	if a == nil {
		return
	}
	if r.Header.Get("Accept") == "application/octet-stream" {
		http.Redirect(w, r, s.signURL(a.id, s.now().Add(s.signedTTL)), http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, s.assetJSON(rp, rel, a))
}

func (s *Server) editAsset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  *string `json:"name"`
		Label *string `json:"label"`
		State *string `json:"state"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, rel, a := s.mutableAsset(w, r, "Cannot modify asset of an immutable release")
	if a == nil {
		return
	}
	if in.Name != nil {
		name := githubsrc.AssetName(*in.Name)
		for _, other := range rel.assets {
			if other != a && other.name == name {
				writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "name", Code: "already_exists"}})
				return
			}
		}
		a.name = name
	}
	if in.Label != nil {
		a.label = *in.Label
	}
	if in.State != nil {
		a.state = *in.State
	}
	writeJSON(w, http.StatusOK, s.assetJSON(rp, rel, a))
}

// mutableAsset finds the asset a write request names, answering for it
// when it cannot be changed (refused says why for an immutable release);
// s.mu is held.
func (s *Server) mutableAsset(w http.ResponseWriter, r *http.Request, refused string) (*repo, *release, *asset) {
	rp := s.writableRepo(w, r)
	if rp == nil {
		return nil, nil, nil
	}
	rel, a := s.assetFor(w, r, rp)
	if a == nil {
		return nil, nil, nil
	}
	if rel.immutable {
		writeError(w, http.StatusUnprocessableEntity, refused, nil)
		return nil, nil, nil
	}
	return rp, rel, a
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rel, a := s.mutableAsset(w, r, "Cannot delete asset from an immutable release")
	if a == nil {
		return
	}
	rel.assets = slices.DeleteFunc(rel.assets, func(x *asset) bool { return x == a })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) uploadAsset(w http.ResponseWriter, r *http.Request) {
	f, _ := r.Context().Value(faultKey).(*Fault)
	s.mu.Lock()
	rp := s.repoFor(w, r)
	if rp == nil || !requireAuth(w, r) {
		s.mu.Unlock()
		return
	}
	rel := s.releaseFor(w, r, rp)
	if rel == nil {
		s.mu.Unlock()
		return
	}
	name := githubsrc.AssetName(r.URL.Query().Get("name"))
	limit := s.uploadLimit
	var fail func()
	switch {
	case r.URL.Query().Get("name") == "":
		fail = func() {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "name", Code: "missing_field"}})
		}
	case rel.immutable:
		fail = func() {
			writeError(w, http.StatusUnprocessableEntity, "Cannot upload assets to an immutable release", nil)
		}
	case r.ContentLength < 0 || len(r.TransferEncoding) > 0:
		fail = func() { writeError(w, http.StatusBadRequest, "Bad Content-Length", nil) }
	case r.ContentLength == 0:
		fail = func() {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "size", Code: "custom", Message: "size must be greater than or equal to 1"}})
		}
	case r.ContentLength > limit:
		fail = func() {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "size", Code: "custom", Message: fmt.Sprintf("size must be less than or equal to %d", limit)}})
		}
	case len(rel.assets) >= 1000:
		fail = func() {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "file_count", Code: "custom", Message: "file_count limited to 1000 assets per release"}})
		}
	}
	if fail == nil {
		for _, a := range rel.assets {
			if a.name == name {
				fail = func() {
					writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []apiError{{Resource: "ReleaseAsset", Field: "name", Code: "already_exists"}})
				}
			}
		}
	}
	var a *asset
	if fail == nil {
		// The asset exists, unfinished, while its bytes arrive: what a
		// dropped upload leaves behind.
		a = &asset{id: s.newID(), name: name, state: "starter", contentType: r.Header.Get("Content-Type"), updatedAt: s.now().UTC()}
		rel.assets = append(rel.assets, a)
	}
	s.mu.Unlock()
	if fail != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		fail()
		return
	}

	if f != nil && f.StallAfter > 0 {
		// Stop reading for StallFor (the client cannot be seen leaving
		// without reading), then drain what it sent; the asset stays "starter".
		_, _ = io.CopyN(io.Discard, r.Body, f.StallAfter)
		stall := f.StallFor
		if stall <= 0 {
			stall = 2 * time.Second
		}
		f.notify()
		s.wait(r, stall)
		_, _ = io.Copy(io.Discard, r.Body)
		return
	}
	if f != nil && f.DropAfter > 0 {
		_, _ = io.CopyN(io.Discard, r.Body, f.DropAfter)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	s.mu.Lock()
	discard := s.discard
	s.mu.Unlock()
	h := sha256.New()
	var buf bytes.Buffer
	var dst io.Writer = io.MultiWriter(h, &buf)
	if discard {
		dst = h
	}
	n, err := io.Copy(dst, r.Body)
	if err != nil || n != r.ContentLength {
		return // the client went away mid-body: the asset stays "starter"
	}
	data := buf.Bytes()
	if discard {
		data = make([]byte, 0) // sizes below come from the count
	}
	s.mu.Lock()
	a.data, a.state, a.digest, a.discardedSize = data, "uploaded", "sha256:"+hex.EncodeToString(h.Sum(nil)), n
	j := s.assetJSON(rp, rel, a)
	s.mu.Unlock()
	if f != nil && f.Apply {
		s.writeFault(w, f) // stored, yet reported as failed
		return
	}
	writeJSON(w, http.StatusCreated, j)
}

func (s *Server) browserDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
	// browser_download_url never works for private repositories, not even
	// with a token; drafts' untagged URLs only for a signed-in user.
	ok, _ := s.checkAuth(r)
	if rp == nil || rp.private {
		http.NotFound(w, r)
		return
	}
	tag, name := r.PathValue("tag"), r.PathValue("name")
	for _, rel := range rp.releases {
		if rel.pathTag() != tag || rel.draft && !ok {
			continue
		}
		for _, a := range rel.assets {
			if a.name == name && a.state == "uploaded" {
				http.Redirect(w, r, s.signURL(a.id, s.now().Add(s.signedTTL)), http.StatusFound)
				return
			}
		}
	}
	http.NotFound(w, r)
}

func (s *Server) storage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		// What S3 told go-github users who forwarded their token (google/go-github#246).
		http.Error(w, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	valid := s.checkSignedURL(id, r.URL.Query().Get("se"), r.URL.Query().Get("sig"))
	_, _, a := s.findAsset(id)
	var data []byte
	if a != nil {
		data = a.data
	}
	s.mu.Unlock()
	switch {
	case !valid:
		http.Error(w, "Signature not valid or expired", http.StatusForbidden)
	case a == nil:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
}

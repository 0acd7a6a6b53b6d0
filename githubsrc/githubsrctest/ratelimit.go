package githubsrctest

import (
	"net/http"
	"time"
)

// rateLimitStatus answers GET /rate_limit, which goreleaser's GitHub client
// calls before each release step and each upload. As on GitHub it is
// counted but costs no rate limit and answers even when the limit is spent;
// faults do not apply to it.
func (s *Server) rateLimitStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[r.Pattern]++
	delay := s.latency
	s.mu.Unlock()
	if !s.wait(r, delay) {
		return
	}
	if _, bad := s.checkAuth(r); bad {
		writeError(w, http.StatusUnauthorized, "Bad credentials", nil)
		return
	}
	type rate struct {
		Limit     int    `json:"limit"`
		Remaining int    `json:"remaining"`
		Used      int    `json:"used"`
		Reset     int64  `json:"reset"`
		Resource  string `json:"resource"`
	}
	s.mu.Lock()
	if s.rate.reset.IsZero() || s.now().After(s.rate.reset) {
		s.rate.remaining, s.rate.reset = s.rate.limit, s.now().Add(time.Hour)
	}
	remaining := max(s.rate.remaining, 0)
	core := rate{Limit: s.rate.limit, Remaining: remaining, Used: s.rate.limit - remaining, Reset: s.rate.reset.Unix(), Resource: "core"}
	search := rate{Limit: 30, Remaining: 30, Reset: s.now().Add(time.Minute).Unix(), Resource: "search"}
	s.setRateHeaders(w.Header())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"resources": map[string]rate{"core": core, "search": search},
		"rate":      core,
	})
}

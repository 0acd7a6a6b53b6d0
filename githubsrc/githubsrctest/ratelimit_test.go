package githubsrctest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestRateLimitStatus: GET /rate_limit reports the core limit, is counted,
// costs nothing, and still answers once the limit is spent.
func TestRateLimitStatus(t *testing.T) {
	s := NewServer(t)
	s.AddRepo("o/r", RepoOptions{})
	s.SetRateLimit(2, time.Now().Add(time.Hour), http.StatusForbidden)
	get := func(path string) (int, map[string]map[string]int64) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.APIURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Resources map[string]map[string]int64 `json:"resources"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Resources
	}
	for want := 2; want >= 0; want-- {
		code, res := get("rate_limit")
		if code != http.StatusOK || res["core"]["limit"] != 2 || res["core"]["remaining"] != int64(want) {
			t.Fatalf("rate_limit with %d left: %d %v", want, code, res)
		}
		if want > 0 {
			if code, _ := get("repos/o/r"); code != http.StatusOK {
				t.Fatalf("GET repo: %d", code)
			}
		}
	}
	if code, _ := get("repos/o/r"); code != http.StatusForbidden {
		t.Fatalf("GET repo past the limit: %d, want 403", code)
	}
	if n := s.Count("GET /api/v3/rate_limit"); n != 3 {
		t.Fatalf("rate_limit counted %d times, want 3", n)
	}
}

package githubsrc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

var repo = githubsrc.Repo{Owner: "demo-org", Name: "demo-app"}

const fullName = "demo-org/demo-app"

const listRoute = "GET /api/v3/repos/{owner}/{repo}/releases"

// newClient is a client of gh whose retries wait on a fake clock.
func newClient(t *testing.T, gh *githubsrctest.Server, token string, retry githubsrc.Retry) *githubsrc.Client {
	t.Helper()
	c, _ := clockedClient(t, gh, token, retry)
	return c
}

// clockedClient is newClient, and the fake clock it waits on.
func clockedClient(t *testing.T, gh *githubsrctest.Server, token string, retry githubsrc.Retry) (*githubsrc.Client, *githubsrctest.Clock) {
	t.Helper()
	clock := githubsrctest.NewClock(time.Now())
	retry.Sleep = clock.Sleep
	c, err := githubsrc.New(githubsrc.Options{Token: token, APIURL: gh.APIURL, Retry: retry, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

func TestListReleasesPaginates(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	for i := range 230 {
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: fmt.Sprintf("v1.0.%d", i)})
	}
	c := newClient(t, gh, "", githubsrc.Retry{})
	l, err := c.ListReleases(t.Context(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Releases) != 230 {
		t.Fatalf("listed %d releases, want 230", len(l.Releases))
	}
	if l.Releases[0].Tag != "v1.0.229" || l.Releases[229].Tag != "v1.0.0" {
		t.Errorf("order: first %s, last %s; want newest first", l.Releases[0].Tag, l.Releases[229].Tag)
	}
	if n := gh.Count(listRoute); n != 3 {
		t.Errorf("%d list requests, want 3 pages of 100", n)
	}
}

func TestListReleasesBounded(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	for i := range 250 {
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: fmt.Sprintf("v1.0.%d", i)})
	}
	c, err := githubsrc.New(githubsrc.Options{APIURL: gh.APIURL, MaxReleasePages: 2})
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.ListReleases(t.Context(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Releases) != 200 || gh.Count(listRoute) != 2 {
		t.Errorf("got %d releases in %d requests, want the newest 200 in 2", len(l.Releases), gh.Count(listRoute))
	}
}

func TestListReleasesConditional(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	for i := range 120 {
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: fmt.Sprintf("v1.0.%d", i)})
	}
	gh.SetRateLimit(100, time.Now().Add(time.Hour), http.StatusForbidden)
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	first, err := c.ListReleases(t.Context(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	remaining, _, _ := c.RateLimit()

	again, err := c.ListReleases(t.Context(), repo, first)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Unchanged || len(again.Releases) != 120 {
		t.Fatalf("second listing: unchanged %v, %d releases; want unchanged, 120", again.Unchanged, len(again.Releases))
	}
	if n := gh.Count("304"); n != 2 {
		t.Errorf("%d answers were 304, want 2 (one per page)", n)
	}
	if after, _, _ := c.RateLimit(); after != remaining {
		t.Errorf("rate limit remaining went from %d to %d; 304s must cost nothing", remaining, after)
	}

	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v2.0.0"})
	third, err := c.ListReleases(t.Context(), repo, again)
	if err != nil {
		t.Fatal(err)
	}
	if third.Unchanged || third.Releases[0].Tag != "v2.0.0" || len(third.Releases) != 121 {
		t.Errorf("after a new release: unchanged %v, first %s, %d releases", third.Unchanged, third.Releases[0].Tag, len(third.Releases))
	}
}

func TestDrafts(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0"})
	draft := gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Draft: true, Assets: map[string][]byte{"a.exe": []byte("x")}})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Draft: true})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Draft: true})
	ctx := t.Context()

	t.Run("found by listing", func(t *testing.T) {
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		rel, err := c.DraftByTag(ctx, repo, "v1.2.0")
		if err != nil {
			t.Fatal(err)
		}
		if rel.ID != draft || !rel.Draft || !rel.PublishedAt.IsZero() {
			t.Errorf("DraftByTag = %+v", rel)
		}
		if u := rel.Assets[0].BrowserURL(); !strings.Contains(u, "/releases/download/untagged-") {
			t.Errorf("draft asset URL %s, want an untagged-… URL until publication", u)
		}
	})
	t.Run("two drafts for one tag", func(t *testing.T) {
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		_, err := c.DraftByTag(ctx, repo, "v1.3.0")
		if err == nil || !strings.Contains(err.Error(), "2 draft releases for tag v1.3.0 (IDs ") {
			t.Fatalf("DraftByTag = %v, want an error naming both drafts", err)
		}
	})
	t.Run("a published release is not a draft", func(t *testing.T) {
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		if _, err := c.DraftByTag(ctx, repo, "v1.1.0"); !errors.Is(err, githubsrc.ErrNotFound) {
			t.Fatalf("DraftByTag(v1.1.0) = %v, want ErrNotFound", err)
		}
	})
	t.Run("invisible without a token", func(t *testing.T) {
		c := newClient(t, gh, "", githubsrc.Retry{})
		_, err := c.DraftByTag(ctx, repo, "v1.2.0")
		if !errors.Is(err, githubsrc.ErrNotFound) || !strings.Contains(err.Error(), "pass --token") {
			t.Fatalf("DraftByTag without token = %v, want ErrNotFound with a token hint", err)
		}
		l, err := c.ListReleases(ctx, repo, nil)
		if err != nil || len(l.Releases) != 1 {
			t.Fatalf("anonymous listing: %d releases, %v; want only the published one", len(l.Releases), err)
		}
	})
}

func TestCreateAndPublish(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	ctx := t.Context()
	rel, err := c.CreateDraft(ctx, repo, githubsrc.NewRelease{Tag: "v1.2.0", Target: "0123abc", Name: "DemoApp 1.2.0", Notes: "notes"})
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Draft || rel.TargetCommitish != "0123abc" || rel.UploadURL == "" || strings.Contains(rel.UploadURL, "{") {
		t.Fatalf("CreateDraft = %+v", rel)
	}
	data := []byte("payload bytes")
	a, err := c.Upload(ctx, repo, rel, "DemoApp 1.2.0 Setup.exe", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if a.Name != "DemoApp.1.2.0.Setup.exe" || !a.Uploaded() || a.Size != int64(len(data)) || a.SHA256() != hex.EncodeToString(sum[:]) {
		t.Errorf("uploaded asset = %+v; want GitHub's renamed name, state uploaded and the sha256 digest", a)
	}
	pub, err := c.EditRelease(ctx, repo, rel.ID, githubsrc.ReleaseEdit{Draft: new(false), MakeLatest: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Draft || pub.PublishedAt.IsZero() || !strings.Contains(pub.Assets[0].BrowserURL(), "/download/v1.2.0/") {
		t.Errorf("published release = %+v; want published_at and tag URLs", pub)
	}
	got, err := c.Release(ctx, repo, rel.ID)
	if err != nil || got.Draft {
		t.Fatalf("Release = %+v, %v", got, err)
	}
}

func TestUpload(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{})
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	ctx := t.Context()
	rel, err := c.CreateDraft(ctx, repo, githubsrc.NewRelease{Tag: "v1.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(name string, data []byte) (githubsrc.Asset, error) {
		return c.Upload(ctx, repo, rel, name, bytes.NewReader(data), int64(len(data)))
	}

	t.Run("422 already_exists", func(t *testing.T) {
		if _, err := upload("a.AppImage", []byte("one")); err != nil {
			t.Fatal(err)
		}
		_, err := upload("a.AppImage", []byte("two"))
		if !errors.Is(err, githubsrc.ErrAlreadyExists) {
			t.Fatalf("second upload = %v, want ErrAlreadyExists", err)
		}
	})
	t.Run("empty and oversized files are refused before sending", func(t *testing.T) {
		before := gh.APICalls()
		if _, err := upload("empty.deb", nil); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("empty upload = %v", err)
		}
		if _, err := c.Upload(ctx, repo, rel, "huge.deb", strings.NewReader(""), githubsrc.MaxAssetSize+1); err == nil || !strings.Contains(err.Error(), "2 GiB") {
			t.Errorf("oversized upload = %v", err)
		}
		if gh.APICalls() != before {
			t.Error("refused uploads reached GitHub")
		}
	})
	t.Run("a 502 that succeeded anyway reads back", func(t *testing.T) {
		gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", Status: http.StatusBadGateway, Apply: true})
		_, err := upload("b.msi", []byte("bytes"))
		var api *githubsrc.APIError
		if !errors.As(err, &api) || api.Status != http.StatusBadGateway {
			t.Fatalf("upload = %v, want a 502 APIError", err)
		}
		assets, err := c.Assets(ctx, repo, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := find(assets, "b.msi")
		if !ok || !b.Uploaded() {
			t.Fatalf("read back %+v: the upload landed and must be visible", assets)
		}
		if _, err := upload("b.msi", []byte("bytes")); !errors.Is(err, githubsrc.ErrAlreadyExists) {
			t.Errorf("blind retry = %v, want ErrAlreadyExists", err)
		}
	})
	t.Run("a dropped upload leaves a starter asset", func(t *testing.T) {
		gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", DropAfter: 3})
		if _, err := upload("c.deb", []byte("0123456789")); err == nil {
			t.Fatal("dropped upload succeeded")
		}
		assets, err := c.Assets(ctx, repo, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := find(assets, "c.deb"); !ok || c.Uploaded() || c.Digest != "" {
			t.Fatalf("after a dropped upload: %+v, want an asset not in state uploaded, without digest", c)
		}
	})
	t.Run("delete", func(t *testing.T) {
		assets, _ := c.Assets(ctx, repo, rel.ID)
		a, _ := find(assets, "c.deb")
		if err := c.DeleteAsset(ctx, repo, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteAsset(ctx, repo, a.ID); err != nil {
			t.Errorf("deleting it again = %v, want nil (already gone)", err)
		}
	})
}

func TestAssetsPaginates(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	assets := map[string][]byte{}
	for i := range 130 {
		assets[fmt.Sprintf("f%03d.bin", i)] = []byte{byte(i)}
	}
	id := gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Draft: true, Assets: assets})
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	got, err := c.Assets(t.Context(), repo, id)
	if err != nil || len(got) != 130 {
		t.Fatalf("Assets = %d, %v; want 130", len(got), err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("5xx is retried", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
		gh.Inject(githubsrctest.Fault{Match: "/releases", Status: http.StatusBadGateway, Times: 2})
		c := newClient(t, gh, "", githubsrc.Retry{Attempts: 3})
		l, err := c.ListReleases(ctx, repo, nil)
		if err != nil || len(l.Releases) != 1 {
			t.Fatalf("ListReleases = %v, %v", l, err)
		}
		if n := gh.Count(listRoute); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("5xx past the attempts is reported", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
		gh.Inject(githubsrctest.Fault{Match: "/releases", Status: http.StatusServiceUnavailable, Times: 5})
		c := newClient(t, gh, "", githubsrc.Retry{Attempts: 2})
		_, err := c.ListReleases(ctx, repo, nil)
		var api *githubsrc.APIError
		if !errors.As(err, &api) || api.Status != 503 || !strings.Contains(err.Error(), "list releases of demo-org/demo-app") {
			t.Fatalf("ListReleases = %v, want a 503 naming the operation", err)
		}
		if n := gh.Count(listRoute); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("404 is not retried", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		_, err := c.ListReleases(ctx, githubsrc.Repo{Owner: "no", Name: "such"}, nil)
		if !errors.Is(err, githubsrc.ErrNotFound) || gh.Count(listRoute) != 1 {
			t.Fatalf("ListReleases = %v after %d requests, want ErrNotFound after 1", err, gh.Count(listRoute))
		}
	})
	t.Run("create is not blindly retried after a 5xx", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		gh.Inject(githubsrctest.Fault{Match: "POST /api/v3/repos/demo-org/demo-app/releases", Status: http.StatusBadGateway})
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		if _, err := c.CreateDraft(ctx, repo, githubsrc.NewRelease{Tag: "v1.0.0"}); err == nil {
			t.Fatal("CreateDraft succeeded through a 502")
		}
		if n := gh.Count("POST /api/v3/repos/{owner}/{repo}/releases"); n != 1 {
			t.Errorf("%d create requests, want 1: a retry could make a second draft", n)
		}
	})
	t.Run("secondary rate limit is waited out when allowed", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
			gh := githubsrctest.NewServer(t)
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
			gh.Inject(githubsrctest.Fault{Match: "/releases", RetryAfter: 3 * time.Second, Status: status})
			c, clock := clockedClient(t, gh, "", githubsrc.Retry{MaxRateLimitWait: 5 * time.Second})
			if _, err := c.ListReleases(ctx, repo, nil); err != nil {
				t.Fatal(err)
			}
			// Retry-After: 3, plus a second for GitHub's whole seconds.
			if slept := clock.Slept(); len(slept) != 1 || slept[0] != 4*time.Second || gh.Count(listRoute) != 2 {
				t.Errorf("%d: waited %v between %d requests, want 4s between 2", status, slept, gh.Count(listRoute))
			}
		}
	})
	t.Run("primary rate limit is waited out until its reset", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
			gh := githubsrctest.NewServer(t)
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
			spender, clock := clockedClient(t, gh, "", githubsrc.Retry{})
			gh.SetClock(clock.Now) // the fake refills the limit at its reset, on the same clock
			reset := clock.Now().Add(30 * time.Second).Truncate(time.Second)
			gh.SetRateLimit(1, reset, status)
			if _, err := spender.ListReleases(ctx, repo, nil); err != nil { // spends the one request
				t.Fatal(err)
			}
			// A client that has not seen the limit yet meets GitHub's refusal.
			c, err := githubsrc.New(githubsrc.Options{APIURL: gh.APIURL, Now: clock.Now, Retry: githubsrc.Retry{MaxRateLimitWait: time.Minute, Sleep: clock.Sleep}})
			if err != nil {
				t.Fatal(err)
			}
			want := reset.Sub(clock.Now()) + time.Second // x-ratelimit-reset is whole seconds
			if _, err := c.ListReleases(ctx, repo, nil); err != nil {
				t.Fatal(err)
			}
			if slept := clock.Slept(); len(slept) != 1 || slept[0] != want || gh.Count(listRoute) != 3 {
				t.Errorf("%d: waited %v before request %d, want %v (until the reset) before request 3", status, slept, gh.Count(listRoute), want)
			}
		}
	})
	t.Run("backoff follows the policy", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
		gh.Inject(githubsrctest.Fault{Match: "/releases", Status: http.StatusBadGateway, Times: 3})
		var attempts []int
		c, clock := clockedClient(t, gh, "", githubsrc.Retry{Attempts: 4, Backoff: func(n int) time.Duration {
			attempts = append(attempts, n)
			return time.Duration(n) * time.Minute
		}})
		if _, err := c.ListReleases(ctx, repo, nil); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(attempts, clock.Slept()); got != "[1 2 3] [1m0s 2m0s 3m0s]" {
			t.Errorf("backoff asked for %s, want [1 2 3] [1m0s 2m0s 3m0s]", got)
		}
	})
	t.Run("secondary rate limit is reported when waiting is not allowed", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
		gh.Inject(githubsrctest.Fault{Match: "/releases", RetryAfter: 30 * time.Second})
		c := newClient(t, gh, "", githubsrc.Retry{})
		_, err := c.ListReleases(ctx, repo, nil)
		var rl *githubsrc.RateLimitError
		if !errors.As(err, &rl) || !rl.Secondary || time.Until(rl.Reset) < 20*time.Second {
			t.Fatalf("ListReleases = %#v, want a secondary RateLimitError resetting in ~30s", err)
		}
	})
}

func TestPrimaryRateLimit(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0"})
			reset := time.Now().Add(40 * time.Minute).Truncate(time.Second)
			gh.SetRateLimit(2, reset, status)
			c := newClient(t, gh, "", githubsrc.Retry{})
			for range 2 {
				if _, err := c.ListReleases(t.Context(), repo, nil); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.ListReleases(t.Context(), repo, nil)
			var rl *githubsrc.RateLimitError
			if !errors.As(err, &rl) || rl.Secondary || !rl.Reset.Equal(reset) || rl.Limit != 2 {
				t.Fatalf("third call = %#v, want a primary RateLimitError until %v", err, reset)
			}
			if remaining, limit, _ := c.RateLimit(); remaining != 0 || limit != 2 {
				t.Errorf("RateLimit() = %d of %d, want 0 of 2", remaining, limit)
			}
			calls := gh.Count(listRoute)
			if _, err := c.ListReleases(t.Context(), repo, nil); !errors.As(err, &rl) {
				t.Fatalf("fourth call = %v, want RateLimitError", err)
			}
			if gh.Count(listRoute) > calls+1 {
				t.Errorf("kept calling GitHub while rate limited")
			}
		})
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	payload := []byte("the payload")
	ctx := t.Context()

	t.Run("public: browser URL, no API call", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"a.AppImage": payload}})
		rel := gh.Releases(fullName)[0]
		c := newClient(t, gh, "", githubsrc.Retry{})
		before := gh.APICalls()
		d, err := c.DownloadURL(ctx, repo, rel.Assets[0], false)
		if err != nil || d.URL != rel.Assets[0].BrowserURL() {
			t.Fatalf("DownloadURL = %+v, %v", d, err)
		}
		if gh.APICalls() != before {
			t.Error("a public download cost an API call")
		}
		if got := fetch(t, d.URL, ""); !bytes.Equal(got, payload) {
			t.Errorf("fetched %q", got)
		}
	})
	t.Run("private: signed URL without credentials", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{Private: true})
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"a.AppImage": payload}})
		rel := gh.Releases(fullName)[0]
		c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
		d, err := c.DownloadURL(ctx, repo, rel.Assets[0], true)
		if err != nil || !strings.Contains(d.URL, "/storage/") || strings.Contains(d.URL, githubsrctest.Token) {
			t.Fatalf("DownloadURL = %+v, %v; want a signed storage URL", d, err)
		}
		if got := fetch(t, d.URL, ""); !bytes.Equal(got, payload) {
			t.Errorf("fetched %q", got)
		}
		// The browser URL of a private repository 404s, even with a token.
		resp, err := http.Get(rel.Assets[0].BrowserURL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("private browser URL answered %d", resp.StatusCode)
		}
		rc, err := c.OpenAsset(ctx, repo, rel.Assets[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, payload) {
			t.Errorf("OpenAsset read %q", got)
		}
	})
	t.Run("private without a token", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{Private: true})
		id := gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"a.AppImage": payload}})
		_ = id
		c := newClient(t, gh, "", githubsrc.Retry{})
		rel := gh.Releases(fullName)[0]
		if _, err := c.ResolveDownload(ctx, repo, rel.Assets[0].ID); !errors.Is(err, githubsrc.ErrNotFound) {
			t.Fatalf("ResolveDownload = %v, want ErrNotFound", err)
		}
	})
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo(fullName, githubsrctest.RepoOptions{Private: true})
	secret := "ghp_thisIsTheSecretThatMustNotLeak"
	c := newClient(t, gh, secret, githubsrc.Retry{})
	_, err := c.ListReleases(t.Context(), repo, nil)
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("ListReleases with a bad token = %v; want a 401 that does not quote the token", err)
	}
}

func TestEnterpriseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                               "https://api.github.com/",
		"https://api.github.com":         "https://api.github.com/",
		"https://ghe.example.com":        "https://ghe.example.com/api/v3/",
		"https://ghe.example.com/api/v3": "https://ghe.example.com/api/v3/",
	} {
		c, err := githubsrc.New(githubsrc.Options{APIURL: in})
		if err != nil || c.APIURL() != want {
			t.Errorf("New(APIURL: %q).APIURL() = %q, %v; want %q", in, c.APIURL(), err, want)
		}
	}
	if _, err := githubsrc.New(githubsrc.Options{APIURL: "ghe.example.com"}); err == nil {
		t.Error("an API URL without a scheme was accepted")
	}
}

func find(assets []githubsrc.Asset, name string) (githubsrc.Asset, bool) {
	for _, a := range assets {
		if a.Name == name {
			return a, true
		}
	}
	return githubsrc.Asset{}, false
}

func fetch(t *testing.T, url, auth string) []byte {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b, _ := io.ReadAll(resp.Body)
	return b
}

func TestFakeStorageRefusesCredentials(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: map[string][]byte{"a.deb": []byte("x")}})
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	d, err := c.ResolveDownload(t.Context(), repo, gh.Releases(fullName)[0].Assets[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, d.URL, nil)
	req.Header.Set("Authorization", "Bearer "+githubsrctest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("storage with a token answered %d, want 400 like S3", resp.StatusCode)
	}
}

// TestListedBrowserURLs: the browser URLs a listing gives are the JSON's
// browser_download_url, byte for byte, though each release holds them as
// one base its assets share (the names GitHub renames, and a tag with a
// "+", included; TestShareBrowserBase has names that need escaping).
func TestListedBrowserURLs(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.2.0+build.7", Assets: map[string][]byte{
		"Demo App_1.2.0_x64-setup.exe": []byte("x"), "Demo App_1.2.0_x64-setup.exe.sig": []byte("s"), "démo.AppImage": []byte("y"),
	}})
	gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.1.0"})
	c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{})
	l, err := c.ListReleases(t.Context(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{}
	for _, r := range gh.Releases(fullName) {
		for _, a := range r.Assets {
			want[a.ID] = a.BrowserURL()
		}
	}
	n := 0
	for _, r := range l.Releases {
		for _, a := range r.Assets {
			n++
			if got := a.BrowserURL(); got != want[a.ID] || got == "" || !a.HasBrowserURL() {
				t.Errorf("%s: browser URL %q, want %q", a.Name, got, want[a.ID])
			}
		}
	}
	if n != 3 {
		t.Errorf("%d assets listed, want 3", n)
	}
}

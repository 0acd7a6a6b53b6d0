package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// recordingSource notes which small assets the proxy reads.
type recordingSource struct {
	proxy.Source
	mu   sync.Mutex
	read []string
}

func (r *recordingSource) Text(ctx context.Context, rel githubsrc.Release, a githubsrc.Asset) ([]byte, error) {
	r.mu.Lock()
	r.read = append(r.read, rel.Tag+"/"+a.Name)
	r.mu.Unlock()
	return r.Source.Text(ctx, rel, a)
}

// reads returns what was read, sorted, and forgets it.
func (r *recordingSource) reads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Sorted(slices.Values(r.read))
	r.read = nil
	return out
}

// sigsOf lists tag's .sig files among assets, as reads spells them.
func sigsOf(tag string, assets map[string][]byte) []string {
	var out []string
	for name := range assets {
		if strings.HasSuffix(name, ".sig") {
			out = append(out, tag+"/"+name)
		}
	}
	return out
}

// TestColdStartReadsOnlyWhatItAnswersWith: a first refresh reads the .sig
// files of the release each platform key is offered, not every signature
// in the history; an older release's are read when, and only when, a newer
// one cannot answer a key (a bad .sig, a platform it dropped), and the
// answers are those of reading everything.
func TestColdStartReadsOnlyWhatItAnswersWith(t *testing.T) {
	t.Parallel()
	v1 := func(t *testing.T) map[string][]byte { return fixture(t, "tauri-v1/v1.1.0") } // signatures not bound to a version
	start := func(t *testing.T, gh *githubsrctest.Server) (*env, *recordingSource) {
		c, err := githubsrc.New(githubsrc.Options{APIURL: gh.APIURL})
		check(t, err)
		repo, _ := githubsrc.ParseRepo(repo)
		src := &recordingSource{Source: &proxy.GitHubSource{Client: c, Repo: repo}}
		return newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].Source = src }), src
	}
	version := func(t *testing.T, e *env, path string) string {
		t.Helper()
		rec := e.get("GET", path)
		var a answer
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &a) != nil {
			t.Fatalf("%s = %d %s, want 200", path, rec.Code, rec.Body)
		}
		return a.Version
	}
	wantReads := func(t *testing.T, src *recordingSource, want ...[]string) {
		t.Helper()
		w := slices.Sorted(slices.Values(slices.Concat(want...)))
		if got := src.reads(); !slices.Equal(got, w) {
			t.Errorf("read %d .sig files:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(w), strings.Join(w, "\n"))
		}
	}

	t.Run("only the newest release's signatures", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		for _, tag := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
			gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: tag, Assets: v1(t)})
		}
		e, src := start(t, gh)
		if v := version(t, e, "/linux/x86_64/0.9.0"); v != "1.2.0" {
			t.Errorf("linux got %s, want 1.2.0", v)
		}
		wantReads(t, src, sigsOf("v1.2.0", v1(t)))
		// A new release costs its own signatures, and nothing else.
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.3.0", Assets: v1(t)})
		e.clock.Advance(2 * time.Minute) // past the TTL: the next check refreshes
		e.get("GET", "/windows/x86_64/0.9.0")
		proxy.Settle(e.srv)
		if v := version(t, e, "/windows/x86_64/0.9.0"); v != "1.3.0" {
			t.Errorf("windows got %s after v1.3.0, want 1.3.0", v)
		}
		wantReads(t, src, sigsOf("v1.3.0", v1(t)))
	})
	t.Run("a bad signature falls back to the older release, lazily", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: v1(t)})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: v1(t)})
		bad := v1(t)
		bad["DemoApp_1.1.0_amd64.AppImage.tar.gz.sig"] = []byte("not a signature")
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: bad})
		e, src := start(t, gh)
		if v := version(t, e, "/linux/x86_64/0.9.0"); v != "1.1.0" {
			t.Errorf("linux got %s, want 1.1.0: v1.2.0's AppImage signature is bad", v)
		}
		if v := version(t, e, "/windows/x86_64/0.9.0"); v != "1.2.0" {
			t.Errorf("windows got %s, want 1.2.0", v)
		}
		wantReads(t, src, sigsOf("v1.2.0", bad), sigsOf("v1.1.0", v1(t)))
	})
	t.Run("a platform a newer release dropped", func(t *testing.T) {
		t.Parallel()
		gh := githubsrctest.NewServer(t)
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: v1(t)})
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: v1(t)})
		winOnly := map[string][]byte{}
		for name, b := range v1(t) {
			if strings.Contains(name, "nsis") {
				winOnly[name] = b
			}
		}
		gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: winOnly})
		e, src := start(t, gh)
		if v := version(t, e, "/darwin/x86_64/0.9.0"); v != "1.1.0" {
			t.Errorf("darwin got %s, want 1.1.0", v)
		}
		if v := version(t, e, "/windows/x86_64/0.9.0"); v != "1.2.0" {
			t.Errorf("windows got %s, want 1.2.0", v)
		}
		wantReads(t, src, sigsOf("v1.2.0", winOnly), sigsOf("v1.1.0", v1(t)))
	})
}

// TestEvictedAppAnswersAsBefore: an evicted app's rebuild, which looks
// only at the releases that answered in its last build, answers exactly
// as that build did, fallbacks to older releases included.
func TestEvictedAppAnswersAsBefore(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	v1 := fixture(t, "tauri-v1/v1.1.0")
	bad := fixture(t, "tauri-v1/v1.1.0")
	bad["DemoApp_1.1.0_amd64.AppImage.tar.gz.sig"] = []byte("not a signature")
	for _, app := range []string{"demo-org/a", "demo-org/b"} {
		gh.AddRelease(app, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Assets: v1})
		gh.AddRelease(app, githubsrctest.ReleaseSpec{Tag: "v1.1.0", Assets: v1})
		gh.AddRelease(app, githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: bad})
	}
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.MaxCachedApps = 1
		c.Apps = []proxy.AppConfig{{Slug: "a", Repo: "demo-org/a"}, {Slug: "b", Repo: "demo-org/b"}}
	})
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range []string{"/a/linux/x86_64/0.9.0", "/a/windows/x86_64/0.9.0", "/a/darwin/x86_64/0.9.0", "/a/latest.json"} {
			rec := e.get("GET", p)
			out[p] = fmt.Sprint(rec.Code, " ", rec.Body.String())
		}
		return out
	}
	before := answers()
	if !strings.Contains(before["/a/linux/x86_64/0.9.0"], `"version":"1.1.0"`) || !strings.Contains(before["/a/windows/x86_64/0.9.0"], `"version":"1.2.0"`) {
		t.Fatalf("before eviction: %v", before)
	}
	e.get("GET", "/b/linux/x86_64/0.9.0") // evicts a
	if n := metric(e, "otapub_cache_evictions_total"); n != "1" {
		t.Fatalf("%s evictions, want 1", n)
	}
	after := answers()
	if n := metric(e, "otapub_cache_rebuilds_total"); n != "1" {
		t.Fatalf("%s rebuilds, want 1", n)
	}
	for p, want := range before {
		if after[p] != want {
			t.Errorf("%s after eviction:\n%s\nwant, as before:\n%s", p, after[p], want)
		}
	}
}

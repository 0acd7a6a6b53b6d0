package proxy_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/proxy"
)

// otaBundle is a bundle release to seed: its metadata, and what to break.
type otaBundle struct {
	tag        string
	meta       ota.Metadata
	draft      bool
	published  time.Time
	states     map[string]string // asset state overrides ("starter")
	noSig      bool
	rawMeta    string // ota-bundle.json as given, instead of meta's
	prerelease bool
}

// otaKey signs the test bundles (minisign's own key: fast, unlike the
// scrypt-protected keys otapub keygen writes).
var otaPub, otaPriv, _ = minisign.GenerateKey(rand.Reader)

// otaSig is a Tauri .sig of data: base64 of minisign's signature text.
func otaSig(data []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(minisign.Sign(otaPriv, data)))
}

// files is the bundle release's assets.
func (b otaBundle) files() map[string][]byte {
	archive := githubsrctest.TarGz(map[string]string{"index.html": "<title>" + b.tag + "</title>"})
	m := b.meta
	if m.Format == 0 {
		m.Format = ota.FormatVersion
	}
	if m.Version == "" {
		m.Version = b.tag
	}
	if m.Archive == "" {
		m.Archive = "dist.tar.gz"
	}
	m.BundleSize = int64(len(archive))
	meta := m.Encode()
	if b.rawMeta != "" {
		meta = []byte(b.rawMeta)
	}
	files := map[string][]byte{m.Archive: archive, ota.MetadataName: meta}
	if !b.noSig {
		files[m.Archive+".sig"] = otaSig(archive)
	}
	return files
}

func (b otaBundle) seed(gh *githubsrctest.Server) {
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: b.tag, Notes: "bundle " + b.tag, Draft: b.draft, Prerelease: b.prerelease,
		PublishedAt: b.published, Assets: b.files(), States: b.states})
}

// writeDir lays the bundle out as otapub pull leaves it, release.json included.
func (b otaBundle) writeDir(t *testing.T, root string) {
	dir := filepath.Join(root, b.tag)
	check(t, os.MkdirAll(dir, 0o755))
	for name, data := range b.files() {
		check(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	rel, _ := json.Marshal(map[string]any{"notes": "bundle " + b.tag, "published_at": b.published, "draft": b.draft, "prerelease": b.prerelease})
	check(t, os.WriteFile(filepath.Join(dir, "release.json"), rel, 0o644))
}

func day(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }

// otaBundles are the bundles every route test serves: five fit to offer
// (sequences 4 to 8) and six that must never be.
var otaBundles = []otaBundle{
	// A bundle whose tag is a semver prerelease: never a native update.
	{tag: "v1.4.0-ota.4", published: day(1), meta: ota.Metadata{Sequence: 4, MinBinaryVersion: "1.0.0"}},
	{tag: "ota-5", published: day(2), meta: ota.Metadata{Sequence: 5, MinBinaryVersion: "1.0.0", Mandatory: true}},
	{tag: "ota-6", published: day(3), meta: ota.Metadata{Sequence: 6, MinBinaryVersion: "2.0.0"}},
	// The same sequence, published later: withheld (it would offer 6 to 1.x binaries).
	{tag: "ota-6-again", published: day(4), meta: ota.Metadata{Sequence: 6, MinBinaryVersion: "1.0.0"}},
	{tag: "ota-7-beta", published: day(5), meta: ota.Metadata{Sequence: 7, MinBinaryVersion: "1.0.0", Channel: "beta"}},
	{tag: "ota-8-mac", published: day(6), meta: ota.Metadata{Sequence: 8, MinBinaryVersion: "1.0.0", Platforms: []string{"macos-aarch64"}}},
	{tag: "ota-9-draft", draft: true, meta: ota.Metadata{Sequence: 9, MinBinaryVersion: "1.0.0"}},
	{tag: "ota-10-unfinished", published: day(7), meta: ota.Metadata{Sequence: 10, MinBinaryVersion: "1.0.0"}, states: map[string]string{"dist.tar.gz": "starter"}},
	{tag: "ota-11-unsigned", published: day(7), meta: ota.Metadata{Sequence: 11, MinBinaryVersion: "1.0.0"}, noSig: true},
	{tag: "ota-12-invalid", published: day(7), rawMeta: `{"otapub_bundle":1,"sequence":12,"version":"x","min_binary_version":"one","archive":"dist.tar.gz","bundle_size":1}`},
	{tag: "ota-13-meta-unfinished", published: day(7), meta: ota.Metadata{Sequence: 13, MinBinaryVersion: "1.0.0"}, states: map[string]string{ota.MetadataName: "starter"}},
	{tag: "ota-14-badsig", published: day(7), meta: ota.Metadata{Sequence: 14, MinBinaryVersion: "1.0.0", Archive: "b.zip"}},
}

func seedBundles(_ testing.TB, gh *githubsrctest.Server) {
	for _, b := range otaBundles {
		if b.tag == "ota-14-badsig" {
			files := b.files()
			files["b.zip.sig"] = []byte("not a signature")
			gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: b.tag, PublishedAt: b.published, Assets: files})
			continue
		}
		b.seed(gh)
	}
}

// otaCase is a check and the bundle it must get ("" for 204).
type otaCase struct {
	query string // after /ota/
	want  string
}

var otaCases = []otaCase{
	{"0?binary_version=0.9.0&platform=linux&arch=x86_64", ""},
	{"0?binary_version=1.0.0&platform=linux&arch=x86_64", "ota-5"}, // equal to 5's minimum, below 6's
	{"0?binary_version=1.2.0&platform=linux&arch=x86_64", "ota-5"},
	{"4?binary_version=1.2.0&platform=linux&arch=x86_64", "ota-5"},
	{"3?binary_version=0.9.0&platform=linux&arch=x86_64", ""},
	{"5?binary_version=1.2.0&platform=linux&arch=x86_64", ""}, // not ota-6-again
	{"0?binary_version=2.0.0&platform=linux&arch=x86_64", "ota-6"},
	{"0?binary_version=2.1.0&platform=windows&arch=x86_64", "ota-6"},
	{"5?binary_version=9.0.0&platform=linux&arch=x86_64", "ota-6"}, // never a withheld or draft 9..14
	{"6?binary_version=2.1.0&platform=linux&arch=x86_64", ""},
	{"0?binary_version=1.2.0&platform=macos&arch=aarch64", "ota-8-mac"},
	{"0?binary_version=1.2.0&platform=darwin&arch=arm64", "ota-8-mac"},
	{"0?binary_version=1.2.0&platform=macos&arch=x86_64", "ota-5"},
	{"8?binary_version=1.2.0&platform=macos&arch=aarch64", ""},
	{"0?binary_version=1.2.0&platform=linux&arch=x86_64&channel=beta", "ota-7-beta"},
	{"0?binary_version=0.9.0&platform=linux&arch=x86_64&channel=beta", ""},
	{"7?binary_version=1.2.0&platform=linux&arch=x86_64&channel=beta", ""},
	{"0?binary_version=1.2.0&platform=linux&arch=x86_64&channel=production", "ota-5"},
	{"0?binary_version=1.2.0&platform=linux&arch=x86_64&channel=nightly", ""},
	{"0?arch=x86_64&platform=linux&binary_version=2.0.0-rc.1", "ota-5"}, // a prerelease binary is below 2.0.0
}

// get checks one case against h at prefix (the app's routes).
func (c otaCase) run(t *testing.T, h http.Handler, prefix string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", prefix+"/ota/"+c.query, nil))
	if c.want == "" {
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("GET /ota/%s = %d %s, want 204", c.query, rec.Code, rec.Body)
		}
		return rec
	}
	var got struct {
		Version string `json:"version"`
		URL     string `json:"url"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Version != c.want {
		t.Errorf("GET /ota/%s = %d %s, want %s", c.query, rec.Code, rec.Body, c.want)
	}
	if !strings.Contains(got.URL, "/download/"+c.want+"/") {
		t.Errorf("GET /ota/%s: url %q, want the proxy's download route", c.query, got.URL)
	}
	return rec
}

// TestOTAPicksTheBundle: sequence, channel, binary version and platform
// rules, and the bundles never offered (drafts, unfinished uploads,
// missing or bad .sig, invalid metadata, a duplicate sequence), in every
// form of app: one repository, slugs under a base path.
func TestOTAPicksTheBundle(t *testing.T) {
	t.Parallel()
	for _, form := range []struct {
		name, prefix string
		opt          option
	}{
		{"one app", "", func(*proxy.Config) {}},
		{"slugs under a base path", "/api/sync/ota/demo", func(c *proxy.Config) {
			c.BasePath = "/api/sync/ota"
			c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
		}},
	} {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			seedReleases(t, gh)
			seedBundles(t, gh)
			seedOther(t, gh)
			e := newEnv(t, gh, form.opt)
			for _, c := range otaCases {
				c.run(t, e.h, form.prefix)
			}
			// HEAD, and a check the mux serves (an escaped path).
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, httptest.NewRequest("HEAD", form.prefix+"/ota/0?binary_version=1.2.0&platform=linux&arch=x86_64", nil))
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
				t.Errorf("HEAD = %d %q %v", rec.Code, rec.Body, rec.Header())
			}
			otaCase{"%35?binary_version=1.2.0&platform=linux&arch=x86_64", ""}.run(t, e.h, form.prefix)
			otaCase{"%30?binary_version=1.2.0&platform=linux&arch=x86_64", "ota-5"}.run(t, e.h, form.prefix)
		})
	}
}

// TestOTAAnswer: the 200's fields, as the hotswap contract reads them.
func TestOTAAnswer(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedBundles(t, gh)
	e := newEnv(t, gh)
	rec := e.get("GET", "/ota/0?binary_version=1.2.0&platform=linux&arch=x86_64")
	var got map[string]any
	check(t, json.Unmarshal(rec.Body.Bytes(), &got))
	files := otaBundles[1].files()
	want := map[string]any{
		"version": "ota-5", "sequence": 5.0, "min_binary_version": "1.0.0",
		"url":       publicURL + "/download/ota-5/dist.tar.gz",
		"signature": string(files["dist.tar.gz.sig"]),
		"notes":     "bundle ota-5", "pub_date": "2026-11-02T09:00:00Z", "mandatory": true,
		"bundle_size": float64(len(files["dist.tar.gz"])),
	}
	for k, v := range want {
		if k == "signature" {
			if _, err := base64.StdEncoding.DecodeString(got[k].(string)); err != nil {
				t.Errorf("signature %q is not the .sig text", got[k])
			}
			continue // signed again each run: compared by form
		}
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("answer %s: want exactly %d fields", rec.Body, len(want))
	}
	if rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age") {
		t.Errorf("headers %v", rec.Header())
	}
	// The url is served: the download route redirects to the archive.
	dl := e.get("GET", strings.TrimPrefix(got["url"].(string), publicURL))
	if dl.Code != http.StatusFound {
		t.Errorf("GET %s = %d", got["url"], dl.Code)
	}
	// --direct-downloads: GitHub's URL, as for Tauri payloads.
	d := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].DirectDownloads = true })
	if body := d.get("GET", "/ota/0?binary_version=1.2.0&platform=linux&arch=x86_64").Body.String(); !strings.Contains(body, `"url":"`+gh.URL+"/") {
		t.Errorf("with direct downloads: %s, want GitHub's URL", body)
	}
}

// TestOTABadRequests: 400 JSON for what a check cannot mean.
func TestOTABadRequests(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedBundles(t, gh)
	e := newEnv(t, gh)
	for _, q := range []string{
		"-1?binary_version=1.2.0&platform=linux&arch=x86_64",
		"abc?binary_version=1.2.0&platform=linux&arch=x86_64",
		"1.5?binary_version=1.2.0&platform=linux&arch=x86_64",
		"+1?binary_version=1.2.0&platform=linux&arch=x86_64",
		"99999999999999999999999?binary_version=1.2.0&platform=linux&arch=x86_64",
		"0?platform=linux&arch=x86_64",
		"0?binary_version=&platform=linux&arch=x86_64",
		"0?binary_version=1.2&platform=linux&arch=x86_64",
		"0?binary_version=banana&platform=linux&arch=x86_64",
		"0?binary_version=1.2.0&platform=beos&arch=x86_64",
		"0?binary_version=1.2.0&platform=linux&arch=mips",
		"0?binary_version=1.2.0&arch=x86_64",
		"0?binary_version=1.2.0&platform=linux",
	} {
		rec := e.get("GET", "/ota/"+q)
		var body struct{ Error string }
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error == "" {
			t.Errorf("GET /ota/%s = %d %s, want 400 JSON", q, rec.Code, rec.Body)
		}
	}
}

// TestBundlesAreNeverNativeUpdates: a bundle release (tags v1.4.0-ota.4
// and v1.5.0-ota.15, semver prereleases newer than v1.2.0, the latter with
// an archive named like a macOS payload) is offered to no Tauri check and
// is in no latest.json, on either channel; the bundle feed offers it.
func TestBundlesAreNeverNativeUpdates(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	seedBundles(t, gh)
	// Hand-made, its archive named like a native payload (publish refuses
	// that; a release edited by hand need not go through publish).
	gh.AddRelease(repo, githubsrctest.ReleaseSpec{Tag: "v1.5.0-ota.15", Prerelease: true, PublishedAt: day(8),
		Assets: otaBundle{tag: "v1.5.0-ota.15", meta: ota.Metadata{Sequence: 15, MinBinaryVersion: "1.0.0", Archive: "DemoApp_aarch64.app.tar.gz"}}.files()})
	e := newEnv(t, gh)
	for _, path := range []string{"/linux/x86_64/1.2.0?channel=beta", "/darwin/aarch64/1.2.0?channel=beta", "/windows/x86_64/1.2.0"} {
		if rec := e.get("GET", path); rec.Code != http.StatusNoContent {
			t.Errorf("GET %s = %d %s, want 204", path, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/latest.json?channel=beta", "/latest.json"} {
		if body := e.get("GET", path).Body.String(); !strings.Contains(body, `"version":"1.2.0"`) {
			t.Errorf("GET %s = %s, want 1.2.0's", path, body)
		}
	}
	otaCase{"0?binary_version=1.2.0&platform=linux&arch=x86_64", "v1.5.0-ota.15"}.run(t, e.h, "")
}

// TestOTAFromADir: serve --dir reads bundles laid out as otapub pull
// leaves them; drafts are never offered.
func TestOTAFromADir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, b := range otaBundles {
		if b.states == nil && b.tag != "ota-14-badsig" {
			b.writeDir(t, root)
		}
	}
	e := newEnv(t, nil, func(c *proxy.Config) { c.Apps = []proxy.AppConfig{{Dir: root}} })
	for _, c := range otaCases {
		rec := c.run(t, e.h, "")
		if c.want == "" {
			continue
		}
		var got struct{ URL, Signature string }
		check(t, json.Unmarshal(rec.Body.Bytes(), &got))
		dl := e.get("GET", strings.TrimPrefix(got.URL, publicURL))
		if dl.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", got.URL, dl.Code)
		}
		sig, err := base64.StdEncoding.DecodeString(got.Signature)
		check(t, err)
		var s minisign.Signature
		check(t, s.UnmarshalText(sig))
		if !minisign.Verify(otaPub, dl.Body.Bytes(), sig) {
			t.Errorf("%s: the archive served does not verify against its signature", c.want)
		}
	}
}

// TestOTAAfterEviction: an app evicted by --max-cached-apps and rebuilt
// from what it kept (only the releases that answered) gives the same
// bundle answers, the duplicate sequence still withheld.
func TestOTAAfterEviction(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	seedBundles(t, gh)
	seedOther(t, gh)
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.MaxCachedApps = 1
		c.Apps = []proxy.AppConfig{{Slug: "demo", Repo: repo}, {Slug: "other", Repo: "demo-org/other"}}
	})
	answers := func() map[string]string {
		out := map[string]string{}
		for _, c := range otaCases {
			rec := c.run(t, e.h, "/demo")
			out[c.query] = rec.Body.String()
		}
		return out
	}
	requireSameAfterEviction(t, e, "/other/linux/x86_64/0.9.0", answers)
}

// TestOTAPrivateRepository: a private repository's bundle is offered at
// the proxy's /download/ route (GitHub's browser URL would answer 404),
// which redirects to a signed URL.
func TestOTAPrivateRepository(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	b := otaBundles[1]
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: b.tag, PublishedAt: b.published, Assets: b.files()})
	e := newEnv(t, gh, func(c *proxy.Config) {
		c.Token = githubsrctest.Token
		c.Apps = []proxy.AppConfig{{Repo: "demo-org/private-app", Private: true}}
	})
	rec := otaCase{"0?binary_version=1.2.0&platform=linux&arch=x86_64", "ota-5"}.run(t, e.h, "")
	var got struct{ URL string }
	check(t, json.Unmarshal(rec.Body.Bytes(), &got))
	if got.URL != publicURL+"/download/ota-5/dist.tar.gz" {
		t.Fatalf("url %s, want the proxy's download route", got.URL)
	}
	dl := e.get("GET", "/download/ota-5/dist.tar.gz")
	if loc := dl.Header().Get("Location"); dl.Code != http.StatusFound || loc == "" || strings.HasPrefix(loc, gh.URL+"/demo-org/") {
		t.Errorf("download = %d %q, want a redirect to a signed URL", dl.Code, loc)
	}
}

// TestOTATagPrefix: with --tag-prefix, the app's bundles are those whose
// tag has the prefix, as its native releases are.
func TestOTATagPrefix(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	for _, b := range []otaBundle{
		{tag: "desktop-ota-5", published: day(2), meta: ota.Metadata{Sequence: 5, MinBinaryVersion: "1.0.0"}},
		{tag: "mobile-ota-6", published: day(3), meta: ota.Metadata{Sequence: 6, MinBinaryVersion: "1.0.0"}},
	} {
		b.seed(gh)
	}
	e := newEnv(t, gh, func(c *proxy.Config) { c.Apps[0].TagPrefix = "desktop-" })
	otaCase{"0?binary_version=1.2.0&platform=linux&arch=x86_64", "desktop-ota-5"}.run(t, e.h, "")
}

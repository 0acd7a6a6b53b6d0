package proxy_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// serveReal runs a proxy on a loopback socket, as updaters reach it.
func serveReal(t *testing.T, cfg proxy.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	cfg.PublicURL = "http://" + ln.Addr().String()
	srv, err := proxy.New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	check(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return cfg.PublicURL
}

// TestCargoPackagerClient drives the real cargo-packager updater against
// the proxy in front of the fake GitHub: it checks, follows the 302 to the
// payload and verifies the minisign signature itself.
func TestCargoPackagerClient(t *testing.T) {
	t.Parallel()
	githubsrctest.RequireCargoPackager(t) // before the setup: a skip costs nothing
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.AddRepo("demo-org/private-app", githubsrctest.RepoOptions{Private: true})
	gh.AddRelease("demo-org/private-app", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: fixture(t, "tauri-v2/v1.2.0")})
	gh.AddRelease("demo-org/tampered", githubsrctest.ReleaseSpec{Tag: "v1.2.0", Assets: fixture(t, "tauri-v2/v1.2.0")})
	for _, a := range gh.Releases("demo-org/tampered")[0].Assets {
		if a.Name == "DemoApp_1.2.0_amd64.AppImage" {
			data, _ := gh.AssetData(a.ID)
			bad := append([]byte(nil), data...)
			bad[100] ^= 0xff
			gh.SetAssetData(a.ID, bad)
		}
	}
	base := serveReal(t, proxy.Config{
		APIURL: gh.APIURL, Token: githubsrctest.Token,
		Apps: []proxy.AppConfig{
			{Slug: "demo", Repo: repo},
			{Slug: "private", Repo: "demo-org/private-app"},
			{Slug: "tampered", Repo: "demo-org/tampered"},
		},
	})
	ep := func(app, suffix string) []string {
		return []string{base + "/" + app + "/{{target}}/{{arch}}/{{current_version}}" + suffix}
	}
	pub := strings.TrimSpace(fixtureFile(t, "keys/test.key.pub"))
	v2 := fixture(t, "tauri-v2/v1.2.0")

	got := githubsrctest.CargoPackager(t, pub,
		githubsrctest.UpdaterCheck{Name: "linux appimage", Current: "1.0.0", Endpoints: ep("demo", ""), Download: true},
		githubsrctest.UpdaterCheck{Name: "up to date", Current: "1.2.0", Endpoints: ep("demo", ""), Download: true},
		githubsrctest.UpdaterCheck{Name: "windows nsis", Current: "1.1.0", Endpoints: ep("demo", ""), Target: "windows", Download: true},
		githubsrctest.UpdaterCheck{Name: "windows msi", Current: "1.1.0", Endpoints: ep("demo", "?bundle_type=msi"), Target: "windows", Download: true},
		githubsrctest.UpdaterCheck{Name: "macos app", Current: "1.1.0", Endpoints: ep("demo", ""), Target: "macos", Download: true},
		githubsrctest.UpdaterCheck{Name: "private repo", Current: "1.0.0", Endpoints: ep("private", ""), Download: true},
		githubsrctest.UpdaterCheck{Name: "tampered payload", Current: "1.0.0", Endpoints: ep("tampered", ""), Download: true},
		githubsrctest.UpdaterCheck{Name: "falls through a dead endpoint", Current: "1.0.0", Endpoints: append([]string{base + "/nope/{{target}}/{{arch}}/{{current_version}}"}, ep("demo", "")...), Download: true},
	)
	for name, want := range map[string]struct {
		version, format, file string
	}{
		"linux appimage":                {"1.2.0", "appimage", "DemoApp_1.2.0_amd64.AppImage"},
		"windows nsis":                  {"1.2.0", "nsis", "DemoApp_1.2.0_x64-setup.exe"},
		"windows msi":                   {"1.2.0", "wix", "DemoApp_1.2.0_x64_en-US.msi"},
		"macos app":                     {"1.2.0", "app", "DemoApp_x64.app.tar.gz"},
		"private repo":                  {"1.2.0", "appimage", "DemoApp_1.2.0_amd64.AppImage"},
		"falls through a dead endpoint": {"1.2.0", "appimage", "DemoApp_1.2.0_amd64.AppImage"},
	} {
		r := got[name]
		if r.Error != "" || r.Update == nil {
			t.Errorf("%s: error %q, update %v; want %s", name, r.Error, r.Update, want.version)
			continue
		}
		if r.Update.Version != want.version || r.Update.Format != want.format || !strings.HasSuffix(r.Update.DownloadURL, "/"+want.file) {
			t.Errorf("%s: got %+v, want %s %s %s", name, *r.Update, want.version, want.format, want.file)
		}
		if r.Downloaded != len(v2[want.file]) {
			t.Errorf("%s: downloaded and verified %d bytes, want %d", name, r.Downloaded, len(v2[want.file]))
		}
	}
	if r := got["up to date"]; r.Error != "" || r.Update != nil {
		t.Errorf("up to date: error %q, update %v; want no update", r.Error, r.Update)
	}
	if r := got["tampered payload"]; r.Update == nil || r.Downloaded != 0 || !strings.Contains(strings.ToLower(r.Error), "signature") {
		t.Errorf("tampered payload: update %v, downloaded %d, error %q; want a signature error", r.Update, r.Downloaded, r.Error)
	}

	wrongKey := githubsrctest.CargoPackager(t, strings.TrimSpace(fixtureFile(t, "keys/other.key.pub")),
		githubsrctest.UpdaterCheck{Name: "other key", Current: "1.0.0", Endpoints: ep("demo", ""), Download: true})
	if r := wrongKey["other key"]; r.Downloaded != 0 || r.Error == "" {
		t.Errorf("an app with another key: downloaded %d, error %q; want a refusal", r.Downloaded, r.Error)
	}
}

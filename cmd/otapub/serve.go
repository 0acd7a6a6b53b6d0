package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/proxy"
	"github.com/otapub/ota-action/proxy/logjson"
)

type serveConfig struct {
	listen, publicURL, dir, configFile, basePath string
	cacheTTL, maxStale, grace                    time.Duration
	private, direct                              bool
	windowsInstaller, tagPrefix, pubkey          string
	webhookSecret                                string
	logFormat, logLevel                          string
	maxCachedApps                                int
	deviceHeader                                 string
	trustProxyHeaders                            bool
}

func env(name string) []string { return []string{"OTAPUB_" + name} }

func serveCommand() *cli.Command {
	var cfg serveConfig
	return &cli.Command{
		Name:  "serve",
		Usage: "run the update server that Tauri, cargo-packager and Electron apps point their updaters at",
		Description: "Serves one app (--repo owner/name, or --dir PATH for a folder of releases) at /, or several\n" +
			"(--config FILE) under /{slug}. Routes: /{target}/{arch}/{current_version}, /latest.json,\n" +
			"/electron/{file}, /ota/{current_sequence}, /download/{tag}/{asset}, /healthz, /metrics, POST /webhook.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: ":8080", Usage: "`address` to listen on; PORT is honoured when this is not set", EnvVars: env("LISTEN"), Destination: &cfg.listen},
			&cli.StringFlag{Name: "public-url", Usage: "the `URL` clients reach this server at; download URLs in answers start with it (default: http://localhost:PORT)", EnvVars: env("PUBLIC_URL"), Destination: &cfg.publicURL},
			&cli.StringFlag{Name: "dir", Usage: "serve releases from a local `folder` (one sub-folder per tag) instead of GitHub", EnvVars: env("DIR"), Destination: &cfg.dir},
			&cli.StringFlag{Name: "config", Usage: "YAML `file` mapping app slugs to repositories (several apps, routes under /{slug})", EnvVars: env("CONFIG"), Destination: &cfg.configFile},
			&cli.StringFlag{Name: "base-path", Usage: "mount every route under this `prefix`, e.g. /api/sync/ota", EnvVars: env("BASE_PATH"), Destination: &cfg.basePath},
			&cli.DurationFlag{Name: "cache-ttl", Value: time.Minute, Usage: "how long fetched releases are fresh", EnvVars: env("CACHE_TTL"), Destination: &cfg.cacheTTL},
			&cli.DurationFlag{Name: "max-stale", Value: 24 * time.Hour, Usage: "how long stale releases are still served while GitHub fails", EnvVars: env("MAX_STALE"), Destination: &cfg.maxStale},
			&cli.BoolFlag{Name: "private", Usage: "the repository is private: resolve downloads with the token (detected when a token is set)", EnvVars: env("PRIVATE"), Destination: &cfg.private},
			&cli.BoolFlag{Name: "direct-downloads", Usage: "put GitHub's download URLs in answers instead of this server's /download/ route (public repositories)", EnvVars: env("DIRECT_DOWNLOADS"), Destination: &cfg.direct},
			&cli.StringFlag{Name: "windows-installer", Value: "nsis", Usage: "what a Windows check that does not name its installer gets: `nsis` or msi", EnvVars: env("WINDOWS_INSTALLER"), Destination: &cfg.windowsInstaller},
			&cli.StringFlag{Name: "tag-prefix", Usage: "the part of tags before the version, for monorepos (`desktop-` for desktop-v1.2.0)", EnvVars: env("TAG_PREFIX"), Destination: &cfg.tagPrefix},
			&cli.StringFlag{Name: "pubkey", Usage: "the app's updater public `key` (base64, as in tauri.conf.json): payloads signed by another key are not offered", EnvVars: env("PUBKEY"), Destination: &cfg.pubkey},
			&cli.StringFlag{Name: "webhook-secret", Usage: "`secret` of the GitHub webhook that POSTs release events to /webhook", EnvVars: env("WEBHOOK_SECRET"), Destination: &cfg.webhookSecret},
			&cli.StringFlag{Name: "device-header", Value: proxy.DefaultDeviceHeader, Usage: "request `header` that names the device, for staged rollouts (else the client's address stands for it)", EnvVars: env("DEVICE_HEADER"), Destination: &cfg.deviceHeader},
			&cli.BoolFlag{Name: "trust-proxy-headers", Usage: "take the client's address from X-Forwarded-For or Forwarded (behind a load balancer)", EnvVars: env("TRUST_PROXY_HEADERS"), Destination: &cfg.trustProxyHeaders},
			&cli.IntFlag{Name: "max-cached-apps", Value: 256, Usage: "how many apps' releases are held in memory at once", EnvVars: env("MAX_CACHED_APPS"), Destination: &cfg.maxCachedApps},
			&cli.DurationFlag{Name: "shutdown-grace", Value: 25 * time.Second, Usage: "how long in-flight requests may finish after SIGTERM", EnvVars: env("SHUTDOWN_GRACE"), Destination: &cfg.grace},
			&cli.StringFlag{Name: "log-format", Value: "json", Usage: "`json` or text", EnvVars: env("LOG_FORMAT"), Destination: &cfg.logFormat},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, `info`, warn or error", EnvVars: env("LOG_LEVEL"), Destination: &cfg.logLevel},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usageError{fmt.Errorf("serve takes no arguments, got %q", c.Args().Slice())}
			}
			if !c.IsSet("listen") && os.Getenv("PORT") != "" {
				cfg.listen = ":" + os.Getenv("PORT")
			}
			logOut := logjson.NewBuffer(c.App.ErrWriter, 200*time.Millisecond)
			defer logOut.Close()
			log, err := newLogger(logOut, cfg.logFormat, cfg.logLevel)
			if err != nil {
				return err
			}
			gh := githubOf(c)
			pc, err := cfg.proxyConfig(c, gh)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.listen, err)
			}
			if pc.PublicURL == "" {
				pc.PublicURL = "http://localhost:" + portOf(ln.Addr())
				log.Warn("no --public-url: answers point at " + pc.PublicURL + ", which only this machine reaches")
			}
			srv, err := proxy.New(pc, log)
			if err != nil {
				ln.Close()
				return usageError{err}
			}
			log.Info("serving", "addr", ln.Addr().String(), "public_url", pc.PublicURL+pc.BasePath, "apps", len(pc.Apps), "version", version())
			srv.Warm()
			return srv.Serve(c.Context, ln, cfg.grace)
		},
	}
}

// proxyConfig turns the flags into the server's configuration.
func (cfg *serveConfig) proxyConfig(c *cli.Context, gh *githubConfig) (proxy.Config, error) {
	pc := proxy.Config{
		PublicURL: cfg.publicURL, BasePath: cfg.basePath, CacheTTL: cfg.cacheTTL, MaxStale: cfg.maxStale,
		WebhookSecret: cfg.webhookSecret, MaxCachedApps: cfg.maxCachedApps, Token: gh.token, APIURL: gh.apiURL,
		DeviceHeader: cfg.deviceHeader, TrustProxyHeaders: cfg.trustProxyHeaders,
	}
	single := proxy.AppConfig{
		Repo: gh.repo, Dir: cfg.dir, Private: cfg.private, DirectDownloads: cfg.direct,
		WindowsInstaller: cfg.windowsInstaller, TagPrefix: cfg.tagPrefix, PubKey: cfg.pubkey,
	}
	switch {
	case cfg.configFile != "":
		for _, f := range []string{"dir", "private", "direct-downloads", "windows-installer", "tag-prefix", "pubkey"} {
			if c.IsSet(f) {
				return pc, usageError{fmt.Errorf("--%s applies to one app; with --config set it per app in the file (or under defaults:)", f)}
			}
		}
		apps, err := proxy.LoadConfigFile(cfg.configFile)
		if err != nil {
			return pc, usageError{err}
		}
		pc.Apps = apps
	case cfg.dir != "" && gh.repo != "" && c.IsSet("repo"):
		return pc, usageError{errors.New("--dir and --repo both name the releases: pass one")}
	case cfg.dir != "":
		single.Repo = "" // GITHUB_REPOSITORY from the environment does not apply to a folder
		pc.Apps = []proxy.AppConfig{single}
	case gh.repo != "":
		pc.Apps = []proxy.AppConfig{single}
	default:
		return pc, usageError{errors.New("nothing to serve: pass --repo owner/name, --dir PATH or --config FILE")}
	}
	return pc, nil
}

func portOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return fmt.Sprint(ta.Port)
	}
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

// newLogger builds the process's logger: JSON or text on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(logjson.New(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: use json or text", format)}
}

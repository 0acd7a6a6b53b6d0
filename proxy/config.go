package proxy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// Config configures a Server.
type Config struct {
	// PublicURL is the absolute URL clients reach the server at (scheme,
	// host, and any path a reverse proxy adds); download URLs in answers
	// start with it.
	PublicURL string
	// BasePath mounts every route under a prefix, such as "/api/sync/ota".
	BasePath string
	// CacheTTL is how long a snapshot is fresh; MaxStale how long a stale
	// one is still served while GitHub fails.
	CacheTTL, MaxStale time.Duration
	// ColdWait bounds how long a request waits for an app's first refresh
	// before it gets 503 with Retry-After.
	ColdWait time.Duration
	// UpstreamTimeout bounds one refresh.
	UpstreamTimeout time.Duration
	// ReadTimeout bounds reading a request, headers included (default
	// 15 s); WriteTimeout writing its answer (30 s; downloads of local
	// files lift it for themselves); IdleTimeout a kept-alive connection
	// waiting for its next request (120 s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// WebhookSecret enables POST /webhook.
	WebhookSecret string
	// MaxCachedApps bounds how many apps' snapshots are held at once.
	MaxCachedApps int
	// DeviceHeader names the request header that says which device asks,
	// for staged rollouts (default X-Device-Id); when a request lacks it
	// the client's address stands for the device.
	DeviceHeader string
	// TrustProxyHeaders takes the client's address from X-Forwarded-For or
	// Forwarded (behind a load balancer) rather than from the connection.
	TrustProxyHeaders bool
	// Token and APIURL are the defaults for apps that do not set their own.
	Token, APIURL string
	Apps          []AppConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// AppConfig describes one served app. With one app and no Slug the routes
// live at the root; otherwise each app's routes are under /{slug}.
type AppConfig struct {
	Slug string `yaml:"-"`
	// Repo ("owner/name") or Dir (a folder with one sub-folder per tag) is
	// where the releases are.
	Repo string `yaml:"repo"`
	Dir  string `yaml:"dir"`
	// TokenEnv names the environment variable that holds this app's token.
	// The file never holds the token itself.
	TokenEnv string `yaml:"token_env"`
	// TokenInFile catches a token written into the file, to refuse it.
	TokenInFile string `yaml:"token"`
	Token       string `yaml:"-"`
	APIURL      string `yaml:"github_api_url"`
	// Private resolves downloads through the API with the token (detected
	// when a token is set and this is false).
	Private bool `yaml:"private"`
	// DirectDownloads puts GitHub's browser URLs in answers (public repos).
	DirectDownloads bool   `yaml:"direct_downloads"`
	TagPrefix       string `yaml:"tag_prefix"`
	// WindowsInstaller is what a Windows check that does not name its
	// installer gets: nsis (default) or msi.
	WindowsInstaller string `yaml:"windows_installer"`
	// PubKey (the app's plugins.updater.pubkey) withholds payloads signed
	// by another key.
	PubKey string `yaml:"pubkey"`

	// Source overrides Repo and Dir (tests, embedding).
	Source Source `yaml:"-"`
}

// configFile is the --config file: apps by slug, plus defaults for all.
type configFile struct {
	Defaults AppConfig            `yaml:"defaults"`
	Apps     map[string]AppConfig `yaml:"apps"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// LoadConfigFile reads a --config YAML file (documented in the README) and
// resolves each app's token_env from the environment.
func LoadConfigFile(path string) ([]AppConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var f configFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(f.Apps) == 0 {
		return nil, fmt.Errorf("config %s: no apps: add an apps: section mapping slugs to repositories", path)
	}
	var apps []AppConfig
	for _, slug := range slices.Sorted(maps.Keys(f.Apps)) {
		a := f.Apps[slug].withDefaults(f.Defaults)
		a.Slug = slug
		if a.TokenInFile != "" || f.Defaults.TokenInFile != "" {
			return nil, fmt.Errorf("config %s: apps.%s: token: the file must not hold secrets: put the token in an environment variable and name it with token_env", path, slug)
		}
		if a.TokenEnv != "" {
			a.Token = os.Getenv(a.TokenEnv)
			if a.Token == "" {
				return nil, fmt.Errorf("config %s: apps.%s.token_env names %s, which is not set", path, slug, a.TokenEnv)
			}
		}
		apps = append(apps, a)
	}
	return apps, nil
}

func (a AppConfig) withDefaults(d AppConfig) AppConfig {
	a.TokenEnv = cmp.Or(a.TokenEnv, d.TokenEnv)
	a.APIURL = cmp.Or(a.APIURL, d.APIURL)
	a.TagPrefix = cmp.Or(a.TagPrefix, d.TagPrefix)
	a.WindowsInstaller = cmp.Or(a.WindowsInstaller, d.WindowsInstaller)
	a.PubKey = cmp.Or(a.PubKey, d.PubKey)
	a.Private = a.Private || d.Private
	a.DirectDownloads = a.DirectDownloads || d.DirectDownloads
	return a
}

// check validates an app and works out its snapshot options.
func (a AppConfig) check(single bool, reserved []string) (SnapshotOptions, error) {
	where := "app " + a.Slug
	if single && a.Slug == "" {
		where = "the app"
	}
	var opts SnapshotOptions
	switch {
	case !single && !slugRE.MatchString(a.Slug):
		return opts, fmt.Errorf("%s: the slug must be lower-case letters, digits, '.', '_' or '-'", where)
	case !single && slices.Contains(reserved, a.Slug):
		return opts, fmt.Errorf("%s: %q is a route of its own: choose another slug", where, a.Slug)
	case a.Source == nil && (a.Repo == "") == (a.Dir == ""):
		return opts, fmt.Errorf("%s: set exactly one of repo (owner/name) and dir (a folder of releases)", where)
	case a.DirectDownloads && a.Private:
		return opts, fmt.Errorf("%s: direct downloads need a public repository: a private one's browser URLs 404 for clients", where)
	}
	if a.Repo != "" {
		if _, err := githubsrc.ParseRepo(a.Repo); err != nil {
			return opts, fmt.Errorf("%s: %w", where, err)
		}
	}
	opts.TagPrefix, opts.Direct = a.TagPrefix, a.DirectDownloads
	switch strings.ToLower(a.WindowsInstaller) {
	case "", "nsis":
		opts.WindowsInstaller = githubsrc.NSIS
	case "msi", "wix":
		opts.WindowsInstaller = githubsrc.MSI
	default:
		return opts, fmt.Errorf("%s: windows installer %q: use nsis or msi", where, a.WindowsInstaller)
	}
	if a.PubKey != "" {
		pub, err := taurisig.ParsePublicKey(a.PubKey)
		if err != nil {
			return opts, fmt.Errorf("%s: pubkey: %w", where, err)
		}
		opts.PubKeyID = pub.ID()
	}
	return opts, nil
}

func (c *Config) setDefaults() error {
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.MaxStale <= 0 {
		c.MaxStale = 24 * time.Hour
	}
	if c.ColdWait <= 0 {
		c.ColdWait = 2 * time.Second
	}
	if c.UpstreamTimeout <= 0 {
		c.UpstreamTimeout = 30 * time.Second
	}
	if c.MaxCachedApps <= 0 {
		c.MaxCachedApps = 256
	}
	if c.DeviceHeader == "" {
		c.DeviceHeader = DefaultDeviceHeader
	}
	if !validHeaderName(c.DeviceHeader) {
		return fmt.Errorf("--device-header %q is not a header name: use letters, digits and dashes, such as %s", c.DeviceHeader, DefaultDeviceHeader)
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PublicURL == "" {
		return errors.New("no public URL: pass --public-url, the address clients reach this server at")
	}
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("public URL %q: want an absolute http(s) URL such as https://updates.example.com", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.BasePath != "" {
		c.BasePath = "/" + strings.Trim(c.BasePath, "/")
		if c.BasePath == "/" {
			c.BasePath = ""
		}
	}
	if len(c.Apps) == 0 {
		return errors.New("no app to serve: pass --repo owner/name, --dir PATH or --config FILE")
	}
	return nil
}

// DefaultDeviceHeader is the request header that names the device unless
// Config.DeviceHeader says otherwise.
const DefaultDeviceHeader = "X-Device-Id"

// validHeaderName reports whether s is an HTTP header field name (RFC 9110 token).
func validHeaderName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

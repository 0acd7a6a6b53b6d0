package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc"
)

// Exit statuses, documented in the README.
const (
	exitOK          = 0
	exitFailed      = 1 // the job failed: incomplete release, refused upload, bad input file
	exitUsage       = 2 // the command line is wrong
	exitUnreachable = 3 // GitHub could not be asked: network, auth, rate limit
)

func newApp(stdout, stderr io.Writer) *cli.App {
	var gh githubConfig
	app := &cli.App{
		Name:  "otapub",
		Usage: "publish desktop-app releases to GitHub and serve them to Tauri, cargo-packager and Electron updaters",
		Description: "otapub upload TAG FILES... puts build outputs on a draft release; otapub verify TAG proves it\n" +
			"complete and correctly signed; otapub publish TAG makes it public. otapub serve is the update\n" +
			"server apps point their updater endpoints at.",
		Version:                version(),
		Writer:                 stdout,
		ErrWriter:              stderr,
		Flags:                  gh.flags(),
		HideHelpCommand:        true,
		Suggest:                true,
		EnableBashCompletion:   false,
		UseShortOptionHandling: false,
		// Errors are printed once, by run; never os.Exit inside the app.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			uploadCommand(),
			verifyCommand(),
			publishCommand(),
			pullCommand(),
			rolloutCommand(),
			keygenCommand(),
			signCommand(),
			serveCommand(),
			healthcheckCommand(),
			actionCommand(),
			versionCommand(),
		},
	}
	onUsage := func(c *cli.Context, err error, _ bool) error { return usageError{explainNumberFlag(err)} }
	app.OnUsageError = onUsage
	for _, c := range app.Commands {
		c.OnUsageError = onUsage
	}
	app.Metadata = map[string]any{"github": &gh}
	return app
}

// explainNumberFlag explains the flag parser's refusal of a negative
// number (otapub rollout v1.2.0 -5): it reads as a flag, not a share.
func explainNumberFlag(err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if _, nerr := strconv.ParseFloat(name, 64); !ok || nerr != nil {
		return err
	}
	return fmt.Errorf("%w: -%s is read as a flag; a rollout share is a number from 0 to 100 (no sign)", err, name)
}

// githubConfig holds the flags every GitHub-facing command shares. They are
// app-level flags; normalizeArgs lets them stand after the subcommand too.
type githubConfig struct {
	token  string
	repo   string
	apiURL string
}

func (g *githubConfig) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name: "token", Usage: "GitHub token (never printed); without one, access is anonymous: 60 requests an hour, no drafts, no private repositories",
			EnvVars: []string{"OTAPUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"}, Destination: &g.token,
		},
		&cli.StringFlag{
			Name: "repo", Usage: "repository as `owner/name`",
			EnvVars: []string{"OTAPUB_REPO", "GITHUB_REPOSITORY"}, Destination: &g.repo,
		},
		&cli.StringFlag{
			Name: "github-api-url", Usage: "GitHub REST API `URL`; GitHub Enterprise Server: https://HOST/api/v3/",
			EnvVars: []string{"OTAPUB_GITHUB_API_URL", "GITHUB_API_URL"}, Value: githubsrc.DefaultAPIURL, Destination: &g.apiURL,
		},
	}
}

// githubOf returns the shared GitHub flags of the app c belongs to.
func githubOf(c *cli.Context) *githubConfig { return c.App.Metadata["github"].(*githubConfig) }

// repository parses --repo, saying how to set it when it is missing.
func (g *githubConfig) repository() (githubsrc.Repo, error) {
	if g.repo == "" {
		return githubsrc.Repo{}, usageError{errors.New("no repository: pass --repo owner/name or set GITHUB_REPOSITORY")}
	}
	r, err := githubsrc.ParseRepo(g.repo)
	if err != nil {
		return githubsrc.Repo{}, usageError{fmt.Errorf("--repo: %w", err)}
	}
	return r, nil
}

// client builds the GitHub client for the flags; retry is the command's policy.
func (g *githubConfig) client(log *slog.Logger, retry githubsrc.Retry, observe func(githubsrc.Observation)) (*githubsrc.Client, error) {
	c, err := githubsrc.New(githubsrc.Options{Token: g.token, APIURL: g.apiURL, Retry: retry, Logger: log, Observe: observe})
	if err != nil {
		return nil, usageError{fmt.Errorf("--github-api-url: %w", err)}
	}
	return c, nil
}

// commandClient is the client and logger of a command-line job: warnings
// on stderr as text, retries under cliRetry.
func (g *githubConfig) commandClient(stderr io.Writer) (*githubsrc.Client, *slog.Logger, error) {
	log, _ := newLogger(stderr, "text", "warn") // fixed, valid arguments
	c, err := g.client(log, cliRetry, nil)
	return c, log, err
}

// cliRetry is how a command-line job retries: it can afford to wait out a
// rate limit for a few minutes rather than fail a release pipeline.
var cliRetry = githubsrc.Retry{Attempts: 5, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxRateLimitWait: 5 * time.Minute}

// usageError marks a wrong command line (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitStatuser lets a domain error choose its exit status.
type exitStatuser interface{ ExitStatus() int }

func exitCode(err error) int {
	var u usageError
	var es exitStatuser
	var cliExit cli.ExitCoder
	var rl *githubsrc.RateLimitError
	var api *githubsrc.APIError
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &es):
		return es.ExitStatus()
	case errors.As(err, &cliExit): // urfave/cli's own complaints, such as an unknown help topic
		return exitUsage
	case errors.As(err, &rl), errors.As(err, &opErr), errors.As(err, &dnsErr), errors.As(err, &urlErr), errors.Is(err, context.DeadlineExceeded):
		return exitUnreachable
	case errors.As(err, &api) && (api.Status == 401 || api.Status == 403 || api.Status >= 500):
		return exitUnreachable
	}
	return exitFailed
}

// hintFor returns a line that tells the user what to do next, when the
// error itself does not.
func hintFor(err error) string {
	var u usageError
	var rl *githubsrc.RateLimitError
	switch {
	case errors.As(err, &u):
		return "run otapub --help, or otapub COMMAND --help"
	case errors.As(err, &rl):
		return "pass a token (--token or GITHUB_TOKEN) for 5,000 requests an hour, or wait for the reset"
	}
	return ""
}

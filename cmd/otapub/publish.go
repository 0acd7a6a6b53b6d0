package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/publisher"
)

func publishCommand() *cli.Command {
	var cfg verifyConfig
	var latest, windows, rolloutPercent string
	return &cli.Command{
		Name:      "publish",
		Usage:     "verify the draft for TAG, write latest.json and SHA256SUMS from its assets, and make it public",
		ArgsUsage: "TAG",
		Description: "Refuses when verify finds any problem; a failure before the last step leaves the release a draft.\n" +
			"Running it again on a published release changes nothing.",
		Flags: append(cfg.flags(),
			&cli.StringFlag{Name: "latest", Usage: "mark the release as the repository's latest: `true`, false or legacy (default: GitHub's choice, true; false for a hot-swap bundle)", EnvVars: env("LATEST"), Destination: &latest},
			&cli.BoolFlag{Name: "prerelease", Usage: "publish as a prerelease (--prerelease=false publishes as a full release)", EnvVars: env("PRERELEASE")},
			&cli.StringFlag{Name: "rollout", Usage: "publish to this `PERCENT` of devices only (see otapub rollout)", EnvVars: env("ROLLOUT"), Destination: &rolloutPercent},
			&cli.StringFlag{Name: "windows-installer", Value: "nsis", Usage: "what latest.json's bare windows keys point at: `nsis` or msi", EnvVars: env("WINDOWS_INSTALLER"), Destination: &windows},
		),
		Action: func(c *cli.Context) error {
			vopts, err := cfg.options(c)
			if err != nil {
				return err
			}
			opts := publisher.PublishOptions{VerifyOptions: vopts}
			switch latest {
			case "", "true", "false", "legacy":
				opts.MakeLatest = latest
			default:
				return usageError{fmt.Errorf("--latest %q: use true, false or legacy", latest)}
			}
			if rolloutPercent != "" {
				share, err := rollout.ParsePercent(rolloutPercent)
				if err != nil {
					return usageError{fmt.Errorf("--rollout: %w", err)}
				}
				opts.Rollout = &share
			}
			if c.IsSet("prerelease") {
				pre := c.Bool("prerelease")
				opts.Prerelease = &pre
			}
			switch strings.ToLower(windows) {
			case "nsis":
				opts.WindowsInstaller = githubsrc.NSIS
			case "msi", "wix":
				opts.WindowsInstaller = githubsrc.MSI
			default:
				return usageError{fmt.Errorf("--windows-installer %q: use nsis or msi", windows)}
			}
			gh := githubOf(c)
			if gh.token == "" {
				return usageError{fmt.Errorf("publish needs a token with contents: write: pass --token or set GITHUB_TOKEN")}
			}
			client, log, err := gh.commandClient(c.App.ErrWriter)
			opts.Log = log
			if err != nil {
				return err
			}
			out := newReporter(c.App.Writer, c.App.ErrWriter, cfg.asJSON)
			end := out.group("otapub publish " + vopts.Tag)
			rep, err := publisher.Publish(c.Context, client, opts)
			end()
			if out.json {
				if jerr := out.writeJSON(rep); jerr != nil && err == nil {
					err = jerr
				}
			} else if rerr := reportVerify(out, rep.Verify, vopts.PubKey != nil); rerr != nil && err == nil {
				err = rerr
			}
			if err != nil {
				if ie, ok := err.(*publisher.IncompleteError); ok {
					return fmt.Errorf("not published: %w", ie)
				}
				out.annotate("error", err.Error())
				return err
			}
			if rep.AlreadyPublished && opts.Rollout != nil {
				// Published already (by hand on GitHub, or an earlier run):
				// it went to every device, and saying nothing would let
				// the operator believe it is at the percentage asked.
				return fmt.Errorf("%s@%s is already published, to every device unless a rollout was set: set its rollout with otapub rollout %s %s", vopts.Repo, vopts.Tag, vopts.Tag, rolloutPercent)
			}
			if rep.AlreadyPublished {
				out.printf("%s@%s is already published: nothing to do (%s)\n", vopts.Repo, vopts.Tag, rep.URL)
				reportLatest(out, rep, vopts.Tag, false)
				return out.setOutputs("release-id", fmt.Sprint(rep.Release.ID), "release-url", rep.URL, "latest", fmt.Sprint(rep.Latest))
			}
			if rep.Immutable {
				out.printf("note: %s makes releases immutable: %s can no longer gain, lose or change assets, and its tag cannot move\n", vopts.Repo, vopts.Tag)
				out.annotate("notice", "the release is immutable from now on")
			}
			out.printf("published %s@%s: %s\n", vopts.Repo, vopts.Tag, rep.URL)
			_, bundle := rep.Release.Asset(ota.MetadataName)
			if bundle && opts.MakeLatest == "" {
				out.printf("a hot-swap bundle: not made the repository's latest release (--latest true would)\n")
			}
			if opts.Rollout != nil {
				out.printf("rollout: %s (widen with otapub rollout %s PERCENT, stop with --halt)\n", publisher.RolloutState(*opts.Rollout), vopts.Tag)
			}
			heldBack := opts.MakeLatest == "" && opts.Rollout != nil && !publisher.RolloutState(*opts.Rollout).Full() && !bundle
			reportLatest(out, rep, vopts.Tag, heldBack)
			for _, u := range rep.Assets {
				out.printf("  %s\n", u)
			}
			if err := out.summary(fmt.Sprintf("Published [%s](%s).\n\n", vopts.Tag, rep.URL)); err != nil {
				return err
			}
			return out.setOutputs("release-id", fmt.Sprint(rep.Release.ID), "release-url", rep.URL, "latest", fmt.Sprint(rep.Latest))
		},
	}
}

// reportLatest says which release GitHub's releases/latest now serves, and
// why it is not this one when publish held it back.
func reportLatest(out *reporter, rep publisher.PublishReport, tag string, heldBack bool) {
	switch {
	case rep.LatestError != "":
		out.printf("latest: could not read GitHub's latest release: %s\n", rep.LatestError)
	case rep.Latest:
		out.printf("latest: %s is GitHub's latest release (what releases/latest serves)\n", tag)
	case rep.LatestTag == "":
		out.printf("latest: GitHub calls no release latest\n")
	default:
		out.printf("latest: GitHub's latest release is still %s\n", rep.LatestTag)
	}
	if heldBack && !rep.Latest {
		out.printf("  not made latest while the rollout is partial (make_latest=false): apps and links that read releases/latest would get it at 100%%; otapub rollout %s 100 makes it latest (--latest true would have now)\n", tag)
	}
}

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc/rollout"
	"github.com/otapub/ota-action/publisher"
)

func rolloutCommand() *cli.Command {
	var halt, resume, asJSON bool
	return &cli.Command{
		Name:      "rollout",
		Usage:     "show or change who gets the published release for TAG: a share of devices, halted, or everyone",
		ArgsUsage: "TAG [PERCENT]",
		Description: "otapub rollout TAG prints the state; otapub rollout TAG 10 offers the release to 10% of devices\n" +
			"(decimals allowed; 100 is everyone); --halt offers it to nobody, --resume undoes --halt. The state\n" +
			"is kept in the release's notes, as a line apps never see, so every otapub serve reads the same.\n" +
			"Reaching 100% (a PERCENT of 100, or --resume of one) also makes the release GitHub's latest (what\n" +
			"releases/latest serves to every reader) when no newer release already goes to every device; a\n" +
			"prerelease never. A halt or a smaller share leaves GitHub's latest alone and warns when it is this release.\n" +
			"Exit status: 0 done; 1 no such published release, or GitHub refused; 2 usage; 3 GitHub could not be asked.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "halt", Usage: "offer the release to nobody until --resume (the percentage is kept)", Destination: &halt},
			&cli.BoolFlag{Name: "resume", Usage: "undo --halt", Destination: &resume},
			&cli.BoolFlag{Name: "json", Usage: "print the state as JSON", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			tag, rest, err := tagArg(c)
			if err != nil {
				return err
			}
			change := publisher.RolloutChange{Halt: halt, Resume: resume}
			switch {
			case len(rest) > 1:
				return usageError{fmt.Errorf("otapub rollout takes TAG and at most one PERCENT, got %q", rest)}
			case halt && resume:
				return usageError{fmt.Errorf("--halt and --resume contradict each other: give one")}
			case len(rest) == 1:
				share, err := rollout.ParsePercent(rest[0])
				if err != nil {
					return usageError{err}
				}
				change.Share = &share
			}
			gh := githubOf(c)
			if gh.token == "" && (change.Share != nil || halt || resume) {
				return usageError{fmt.Errorf("changing a rollout needs a token with contents: write: pass --token or set GITHUB_TOKEN")}
			}
			repo, err := gh.repository()
			if err != nil {
				return err
			}
			client, _, err := gh.commandClient(c.App.ErrWriter)
			if err != nil {
				return err
			}
			out := newReporter(c.App.Writer, c.App.ErrWriter, asJSON)
			rep, err := publisher.Rollout(c.Context, client, repo, tag, change)
			if err != nil {
				return err
			}
			if rep.LatestWarning != "" { // on stderr, --json or not
				fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", rep.LatestWarning)
				out.annotate("warning", rep.LatestWarning)
			}
			if out.json {
				return out.writeJSON(rep)
			}
			switch {
			case !rep.Changed:
				out.printf("%s@%s: %s\n", repo, tag, rep.After)
			default:
				out.printf("%s@%s: %s (was: %s)\n", repo, tag, rep.After, rep.Before)
			}
			if rep.After.Halted && change.Share != nil {
				out.printf("note: still halted: otapub rollout %s --resume offers it again\n", tag)
			}
			switch {
			case rep.MadeLatest && rep.Latest:
				out.printf("latest: made %s GitHub's latest release (what releases/latest serves)\n", tag)
			case rep.MadeLatest:
				out.printf("latest: asked GitHub to make %s latest, but it calls %q latest\n", tag, rep.LatestTag)
			case rep.LatestError != "":
				out.printf("latest: could not read GitHub's latest release: %s\n", rep.LatestError)
			case rep.Latest:
				out.printf("latest: %s is GitHub's latest release\n", tag)
			case rep.LatestTag != "":
				out.printf("latest: GitHub's latest release is %s\n", rep.LatestTag)
			default:
				out.printf("latest: GitHub calls no release latest\n")
			}
			if rep.NotLatest != "" {
				out.printf("  not made latest: %s\n", rep.NotLatest)
			}
			return out.setOutputs("release-id", fmt.Sprint(rep.ReleaseID), "rollout", rep.Percent, "latest", fmt.Sprint(rep.Latest))
		},
	}
}

package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/publisher"
)

func pullCommand() *cli.Command {
	var pubkey, pubkeyFile string
	var concurrency int
	var asJSON bool
	return &cli.Command{
		Name:      "pull",
		Usage:     "download the release (or, with a token, the draft) for TAG into DIR, every byte checked",
		ArgsUsage: "TAG DIR",
		Description: "Each file is checked against GitHub's digest, the release's checksum manifests and, with --pubkey,\n" +
			"its signature, under a temporary name; only then does it get its real name. Files already in DIR\n" +
			"with the right bytes are kept, so running it again after an interruption finishes the job.\n" +
			"DIR gets a release.json, so `otapub serve --dir` serves the folder above it.\n" +
			"Exit status: 0 every file pulled and checked; 1 a file failed a check or could not be pulled;\n" +
			"2 usage; 3 GitHub could not be asked.",
		Flags: append(pubkeyFlags(&pubkey, &pubkeyFile),
			&cli.IntFlag{Name: "concurrency", Value: 4, Usage: "files downloaded at once", EnvVars: env("CONCURRENCY"), Destination: &concurrency},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON report instead of progress lines", Destination: &asJSON},
		),
		Action: func(c *cli.Context) error {
			tag, rest, err := tagArg(c)
			if err != nil {
				return err
			}
			if len(rest) != 1 {
				return usageError{fmt.Errorf("otapub pull takes TAG and DIR (the folder to download into), got %d arguments after the tag", len(rest))}
			}
			pub, err := loadPubkey(pubkey, pubkeyFile)
			if err != nil {
				return err
			}
			gh := githubOf(c)
			repo, err := gh.repository()
			if err != nil {
				return err
			}
			client, log, err := gh.commandClient(c.App.ErrWriter)
			if err != nil {
				return err
			}
			out := newReporter(c.App.Writer, c.App.ErrWriter, asJSON)
			progress, done := out.newProgress()
			rep, err := publisher.Pull(c.Context, client, publisher.PullOptions{
				Repo: repo, Tag: tag, Dir: rest[0], PubKey: pub, Concurrency: concurrency, Progress: progress, Log: log,
			})
			done()
			return reportPull(out, rep, pub != nil, err)
		},
	}
}

// reportPull prints what pull did and passes err on.
func reportPull(out *reporter, rep publisher.PullReport, signatures bool, err error) error {
	var ie *publisher.IncompleteError
	if err != nil && !errors.As(err, &ie) {
		out.annotate("error", err.Error())
		return err
	}
	if out.json {
		if rep.Problems == nil {
			rep.Problems = []publisher.Problem{}
		}
		if jerr := out.writeJSON(rep); jerr != nil {
			return jerr
		}
		return err
	}
	for _, p := range rep.Problems {
		out.annotate("error", p.String())
		out.printf("PROBLEM %s\n", p)
	}
	kept, pulled := 0, 0
	for _, f := range rep.Files {
		switch {
		case f.Error != "":
		case f.Action == publisher.ActionKeep:
			kept++
		default:
			pulled++
		}
	}
	sigNote := "signatures not checked: pass --pubkey to check them"
	if signatures {
		sigNote = fmt.Sprintf("%d signatures checked", rep.Signatures)
	}
	out.printf("%s@%s → %s: %d files downloaded (%d bytes), %d already there; %s\n", rep.Repo, rep.Tag, rep.Dir, pulled, rep.Bytes, kept, sigNote)
	if err != nil {
		return fmt.Errorf("pull incomplete: %w", err)
	}
	return nil
}

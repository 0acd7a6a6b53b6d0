package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/ota"
	"github.com/otapub/ota-action/publisher"
)

type uploadConfig struct {
	pubkey, pubkeyFile, target, name, notes, notesFile, tagPrefix string
	prerelease, replace, allowPublished, allowMismatch, asJSON    bool
	dryRun                                                        bool
	concurrency                                                   int
	stallTimeout                                                  time.Duration
	bundle                                                        bundleConfig
}

func uploadCommand() *cli.Command {
	var cfg uploadConfig
	return &cli.Command{
		Name:      "upload",
		Usage:     "put build outputs on the draft release for TAG (created if missing); safe to run again",
		ArgsUsage: "TAG PATH... | TAG BUNDLE --ota-sequence N --min-binary-version V",
		Description: "Folders are walked for their files. Files already on the release with the same size and digest are\n" +
			"skipped; files stuck mid-upload are repaired; a manifest SHA256SUMS-<8 hex>.txt of this run's files\n" +
			"is written. Several jobs may upload to one tag at once: they converge on one draft.\n\n" +
			"With --ota-sequence, BUNDLE is a frontend hot-swap bundle (.tar.gz or .zip, index.html at its root,\n" +
			"BUNDLE.sig beside it): its archive, .sig and " + ota.MetadataName + " go on TAG's release, a release of its own.",
		Flags: append(append(pubkeyFlags(&cfg.pubkey, &cfg.pubkeyFile),
			&cli.StringFlag{Name: "target", Usage: "`commit` the tag will point at when the draft is published", EnvVars: []string{"OTAPUB_TARGET", "GITHUB_SHA"}, Destination: &cfg.target},
			&cli.StringFlag{Name: "name", Usage: "release `title` for a new draft (default: the tag)", EnvVars: env("NAME"), Destination: &cfg.name},
			&cli.StringFlag{Name: "notes", Usage: "release `notes` for a new draft", EnvVars: env("NOTES"), Destination: &cfg.notes},
			&cli.StringFlag{Name: "notes-file", Usage: "read release notes for a new draft from `FILE`", EnvVars: env("NOTES_FILE"), Destination: &cfg.notesFile},
			&cli.BoolFlag{Name: "prerelease", Usage: "mark a new draft as a prerelease", EnvVars: env("PRERELEASE"), Destination: &cfg.prerelease},
			&cli.IntFlag{Name: "concurrency", Value: 4, Usage: "files uploaded at once", EnvVars: env("CONCURRENCY"), Destination: &cfg.concurrency},
			&cli.BoolFlag{Name: "replace", Usage: "replace assets whose bytes differ from the local files (the new one is uploaded before the old is removed)", EnvVars: env("REPLACE"), Destination: &cfg.replace},
			&cli.BoolFlag{Name: "allow-published", Usage: "upload into a release that is already published (never into an immutable one)", EnvVars: env("ALLOW_PUBLISHED"), Destination: &cfg.allowPublished},
			&cli.BoolFlag{Name: "allow-version-mismatch", Usage: "accept files whose names carry another version than the tag", EnvVars: env("ALLOW_VERSION_MISMATCH"), Destination: &cfg.allowMismatch},
			&cli.DurationFlag{Name: "stall-timeout", Value: time.Minute, Usage: "abort and retry an upload that sends nothing for this long", EnvVars: env("STALL_TIMEOUT"), Destination: &cfg.stallTimeout},
			&cli.StringFlag{Name: "tag-prefix", Usage: "the part of the tag before the version (`desktop-` for desktop-v1.2.0)", EnvVars: env("TAG_PREFIX"), Destination: &cfg.tagPrefix},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON report instead of text", Destination: &cfg.asJSON},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be uploaded, change nothing", Destination: &cfg.dryRun},
		), cfg.bundle.flags()...),
		Action: func(c *cli.Context) error {
			tag, paths, err := tagArg(c)
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				return usageError{fmt.Errorf("no files: otapub upload %s PATH... (files or folders)", tag)}
			}
			pub, err := loadPubkey(cfg.pubkey, cfg.pubkeyFile)
			if err != nil {
				return err
			}
			bundle, err := cfg.bundle.parse(c, paths)
			if err != nil {
				return err
			}
			gh := githubOf(c)
			repo, err := gh.repository()
			if err != nil {
				return err
			}
			if gh.token == "" && !cfg.dryRun {
				return usageError{fmt.Errorf("upload needs a token with contents: write: pass --token or set GITHUB_TOKEN")}
			}
			notes := cfg.notes
			if cfg.notesFile != "" {
				b, err := os.ReadFile(cfg.notesFile)
				if err != nil {
					return usageError{fmt.Errorf("--notes-file: %w", err)}
				}
				notes = string(b)
			}
			out := newReporter(c.App.Writer, c.App.ErrWriter, cfg.asJSON)
			log, err := newLogger(c.App.ErrWriter, "text", "warn")
			if err != nil {
				return err
			}
			client, err := gh.client(log, cliRetry, nil)
			if err != nil {
				return err
			}

			if bundle != nil {
				return uploadBundle(c, &cfg, bundle, tag, repo, notes, pub, client, out, log)
			}
			endPrep := out.group("otapub upload " + tag + ": check files")
			files, skipped, err := publisher.Collect(paths)
			if err == nil {
				err = publisher.Hash(c.Context, files, 4)
			}
			var plan publisher.Plan
			if err == nil {
				plan, err = publisher.NewPlan(tag, files, publisher.PlanOptions{TagPrefix: cfg.tagPrefix, AllowVersionMismatch: cfg.allowMismatch})
			}
			for _, s := range append(skipped, plan.Skipped...) {
				out.printf("skipping %s: %s\n", s.Path, s.Reason)
			}
			for _, f := range plan.Files {
				if name, ok := publisher.ChannelFileOfPart(f.Name); ok {
					out.printf("%s goes up as %s: otapub publish merges every job's %s into the one clients read\n", f.Path, f.Name, name)
				}
			}
			if err == nil && pub != nil {
				err = publisher.CheckSignatures(c.Context, plan, *pub, 4)
				if err == nil {
					out.printf("every signature verifies against the public key\n")
				}
			}
			endPrep()
			if err != nil {
				out.annotate("error", err.Error())
				return err
			}

			endUp := out.group(fmt.Sprintf("otapub upload %s: %d files to %s", tag, len(plan.Files), repo))
			progress, wait := out.newProgress()
			rep, err := publisher.Upload(c.Context, client, plan, cfg.uploadOptions(repo, notes, progress, log))
			wait()
			endUp()
			return finishUpload(out, log, &cfg, repo.String(), tag, rep, err)
		},
	}
}

func (cfg *uploadConfig) uploadOptions(repo githubsrc.Repo, notes string, progress publisher.Progress, log *slog.Logger) publisher.UploadOptions {
	return publisher.UploadOptions{
		Repo: repo, Target: cfg.target, Name: cfg.name, Notes: notes, Prerelease: cfg.prerelease,
		Concurrency: cfg.concurrency, Replace: cfg.replace, AllowPublished: cfg.allowPublished,
		StallTimeout: cfg.stallTimeout, SettleDelay: 2 * time.Second, DryRun: cfg.dryRun, Progress: progress, Log: log,
	}
}

// finishUpload warns, reports and annotates after an upload.
func finishUpload(out *reporter, log *slog.Logger, cfg *uploadConfig, repo, tag string, rep publisher.UploadReport, err error) error {
	if cfg.target == "" && rep.Created && !cfg.dryRun {
		log.Warn("the draft has no --target: publishing will tag whatever the default branch points at then; pass --target or set GITHUB_SHA")
	}
	if rerr := reportUpload(out, repo, tag, rep); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		out.annotate("error", err.Error())
	}
	return err
}

// uploadBundle uploads a frontend hot-swap bundle: checked locally, its
// sequence checked against every bundle of the repository, then the
// archive, its .sig and the metadata through the same Upload.
func uploadBundle(c *cli.Context, cfg *uploadConfig, b *bundleUpload, tag string, repo githubsrc.Repo, notes string, pub *minisign.PublicKey, client *githubsrc.Client, out *reporter, log *slog.Logger) error {
	endPrep := out.group("otapub upload " + tag + ": check the bundle")
	plan, err := b.plan(c.Context, out, tag, pub)
	endPrep()
	if err != nil {
		out.annotate("error", err.Error())
		return err
	}
	endUp := out.group(fmt.Sprintf("otapub upload %s: bundle sequence %d to %s", tag, plan.Metadata.Sequence, repo))
	progress, wait := out.newProgress()
	rep, err := publisher.UploadBundle(c.Context, client, plan, b.seq, cfg.uploadOptions(repo, notes, progress, log))
	wait()
	endUp()
	if err != nil && len(rep.Files) == 0 { // refused before the draft was touched: nothing to report
		out.annotate("error", err.Error())
		return err
	}
	return finishUpload(out, log, cfg, repo.String(), tag, rep, err)
}

func reportUpload(out *reporter, repo, tag string, rep publisher.UploadReport) error {
	uploaded := rep.Count(publisher.ActionUpload) + rep.Count(publisher.ActionRepair) + rep.Count(publisher.ActionReplace)
	if out.json {
		return out.writeJSON(struct {
			Repo       string `json:"repo"`
			Tag        string `json:"tag"`
			ReleaseID  int64  `json:"release_id"`
			ReleaseURL string `json:"release_url"`
			publisher.UploadReport
		}{repo, tag, rep.Release.ID, rep.Release.HTMLURL, rep})
	}
	verb := "uploaded"
	if rep.DryRun {
		verb = "would upload"
		for _, f := range rep.Files {
			out.printf("  %-8s %s (%d bytes)\n", f.Action, f.Name, f.Size)
		}
	}
	created := ""
	if rep.Created {
		created = " (new draft)"
		if rep.DryRun {
			created = " (a new draft would be created)"
		}
	}
	out.printf("%s %d, skipped %d of %d files on %s@%s%s\n", verb, uploaded, rep.Count(publisher.ActionSkip), len(rep.Files), repo, tag, created)
	if rep.Release.HTMLURL != "" {
		out.printf("release: %s\n", rep.Release.HTMLURL)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "### otapub upload %s\n\n| File | Size | Action |\n|---|---:|---|\n", tag)
	for _, f := range rep.Files {
		action := string(f.Action)
		if f.Error != "" {
			action = "**failed**: " + f.Error
		}
		fmt.Fprintf(&md, "| `%s` | %d | %s |\n", f.Name, f.Size, action)
	}
	if err := out.summary(md.String() + "\n"); err != nil {
		return err
	}
	return out.setOutputs("release-id", fmt.Sprint(rep.Release.ID), "release-url", rep.Release.HTMLURL, "uploaded", fmt.Sprint(uploaded))
}

package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/publisher"
)

type verifyConfig struct {
	pubkey, pubkeyFile, tagPrefix string
	concurrency                   int
	asJSON                        bool
	dir, version                  string // verify --dir only
}

func (cfg *verifyConfig) flags() []cli.Flag {
	return append(pubkeyFlags(&cfg.pubkey, &cfg.pubkeyFile), requireFlag(),
		&cli.StringFlag{Name: "tag-prefix", Usage: "the part of the tag before the version (`desktop-` for desktop-v1.2.0)", EnvVars: env("TAG_PREFIX"), Destination: &cfg.tagPrefix},
		&cli.IntFlag{Name: "concurrency", Value: 4, Usage: "assets read at once", EnvVars: env("CONCURRENCY"), Destination: &cfg.concurrency},
		&cli.BoolFlag{Name: "json", Usage: "print a JSON report instead of the table", Destination: &cfg.asJSON},
	)
}

// options builds the verify options from the flags and the TAG argument.
func (cfg *verifyConfig) options(c *cli.Context) (publisher.VerifyOptions, error) {
	tag, rest, err := tagArg(c)
	if err != nil {
		return publisher.VerifyOptions{}, err
	}
	if len(rest) > 0 {
		return publisher.VerifyOptions{}, usageError{fmt.Errorf("otapub %s takes one TAG, got also %q", c.Command.Name, rest)}
	}
	pub, err := loadPubkey(cfg.pubkey, cfg.pubkeyFile)
	if err != nil {
		return publisher.VerifyOptions{}, err
	}
	require, err := parseRequire(c.StringSlice("require"))
	if err != nil {
		return publisher.VerifyOptions{}, err
	}
	repo, err := githubOf(c).repository()
	if err != nil {
		return publisher.VerifyOptions{}, err
	}
	return publisher.VerifyOptions{Repo: repo, Tag: tag, TagPrefix: cfg.tagPrefix, Require: require, PubKey: pub, Concurrency: cfg.concurrency}, nil
}

func verifyCommand() *cli.Command {
	var cfg verifyConfig
	return &cli.Command{
		Name:      "verify",
		Usage:     "check that the draft (or published release) for TAG, or a local folder (--dir), is complete and correctly signed",
		ArgsUsage: "TAG",
		Description: "With --dir, the same checks run over the release files in a local folder (as upload would\n" +
			"take them), with no network and no token; the version comes from TAG, --version or the folder's name.\n" +
			"Exit status: 0 complete; 1 incomplete or wrong (each problem named with its fix); 2 usage;\n" +
			"3 could not check (network, authentication, rate limit).",
		Flags: append(cfg.flags(),
			&cli.StringFlag{Name: "dir", Usage: "check the release files in `DIR` instead of a release on GitHub (no network, no token)", Destination: &cfg.dir},
			&cli.StringFlag{Name: "version", Usage: "with --dir: the `VERSION` the files must carry, when no TAG is given", Destination: &cfg.version},
		),
		Action: func(c *cli.Context) error {
			if cfg.dir != "" {
				return verifyDir(c, &cfg)
			}
			opts, err := cfg.options(c)
			if err != nil {
				return err
			}
			gh := githubOf(c)
			client, _, err := gh.commandClient(c.App.ErrWriter)
			if err != nil {
				return err
			}
			out := newReporter(c.App.Writer, c.App.ErrWriter, cfg.asJSON)
			rep, err := publisher.Verify(c.Context, client, opts)
			if rerr := reportVerify(out, rep, opts.PubKey != nil); rerr != nil && err == nil {
				err = rerr
			}
			return err
		},
	}
}

// reportVerify prints the platform × check table and the problems.
func reportVerify(out *reporter, rep publisher.VerifyReport, signatures bool) error {
	for _, p := range rep.Problems {
		out.annotate("error", p.String())
	}
	if out.json {
		if rep.Problems == nil {
			rep.Problems = []publisher.Problem{}
		}
		return out.writeJSON(rep)
	}
	state := "draft"
	if !rep.Draft {
		state = "published release"
	}
	switch {
	case rep.Dir != "":
		out.printf("files in %s for %s\n\n", rep.Dir, rep.Tag)
	case rep.ReleaseID != 0:
		out.printf("%s %s@%s (%s)\n\n", state, rep.Repo, rep.Tag, rep.ReleaseURL)
	}
	lanes := byLane(rep.Platforms)
	for _, l := range lanes {
		tw := tabwriter.NewWriter(out.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "PLATFORM\t%s\t%s\n", strings.ToUpper(strings.Join(l.columns, "\t")), l.file)
		for _, r := range l.rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Key, strings.Join(cells(r, l.columns), "\t"), r.Payload)
		}
		tw.Flush()
		out.printf("\n")
	}
	for _, p := range rep.Problems {
		out.printf("PROBLEM %s\n", p)
	}
	sigNote := "signatures not checked: pass --pubkey to check them against the bytes"
	if len(lanes) == 1 && lanes[0].columns[0] == publisher.ElectronColumns[0] {
		sigNote = "an Electron release: electron-updater checks each file by the SHA-512 its channel file gives, checked above"
	}
	if signatures {
		sigNote = fmt.Sprintf("%d signatures checked", rep.Signatures)
	}
	out.printf("%s; read %d bytes of payloads and %d of manifests\n", sigNote, rep.PayloadBytes, rep.MetadataBytes)
	switch {
	case len(rep.Problems) > 0:
	case rep.Dir != "":
		out.printf("complete: %s holds a whole release for %s\n", rep.Dir, rep.Tag)
	case rep.ReleaseID != 0:
		out.printf("complete: %s@%s is ready to publish\n", rep.Repo, rep.Tag)
	}

	var md strings.Builder
	fmt.Fprintf(&md, "### otapub verify %s\n", rep.Tag)
	if len(lanes) == 0 {
		lanes = []lane{{columns: publisher.Columns, file: "PAYLOAD"}}
	}
	for _, l := range lanes {
		fmt.Fprintf(&md, "\n| Platform | %s | %s |\n|---|%s---|\n", strings.Join(l.columns, " | "), l.mdFile, strings.Repeat("---|", len(l.columns)))
		for _, r := range l.rows {
			fmt.Fprintf(&md, "| %s | %s | `%s` |\n", r.Key, strings.Join(cells(r, l.columns), " | "), r.Payload)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&md, "\n- **%s** %s", p.Check, p)
	}
	if err := out.summary(md.String() + "\n\n"); err != nil {
		return err
	}
	lines := make([]string, len(rep.Problems))
	for i, p := range rep.Problems {
		lines[i] = p.String()
	}
	return out.setOutputs("release-id", fmt.Sprint(rep.ReleaseID), "release-url", rep.ReleaseURL, "problems", strings.Join(lines, "\n"))
}

// lane is one platform table: Tauri's rows (payload, .sig, signature …)
// or Electron's (channel file, file, size, sha512, blockmap), each with
// the columns that mean something for it.
type lane struct {
	columns      []string
	file, mdFile string // the last column's heading: the payload, or the file electron-updater takes
	rows         []publisher.PlatformRow
}

// byLane splits the platform rows into their lanes' tables, Tauri first.
func byLane(rows []publisher.PlatformRow) []lane {
	tauri := lane{columns: publisher.Columns, file: "PAYLOAD", mdFile: "Payload"}
	electron := lane{columns: publisher.ElectronColumns, file: "FILE TAKEN", mdFile: "File taken"}
	for _, r := range rows {
		if r.Lane == publisher.LaneElectron {
			electron.rows = append(electron.rows, r)
		} else {
			tauri.rows = append(tauri.rows, r)
		}
	}
	var out []lane
	for _, l := range []lane{tauri, electron} {
		if len(l.rows) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func cells(r publisher.PlatformRow, columns []string) []string {
	out := make([]string, len(columns))
	for i, col := range columns {
		out[i] = r.Checks[col]
	}
	return out
}

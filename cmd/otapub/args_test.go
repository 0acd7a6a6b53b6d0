package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// testApp has the real global flags and one command with a value flag, a
// bool flag and positional arguments, recording what it parsed.
func testApp(got *parsed) *cli.App {
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	app.Commands = append(app.Commands, &cli.Command{
		Name: "checkargs",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "require"},
			&cli.BoolFlag{Name: "json"},
		},
		Action: func(c *cli.Context) error {
			gh := githubOf(c)
			*got = parsed{repo: gh.repo, token: gh.token, require: c.StringSlice("require"), json: c.Bool("json"), args: c.Args().Slice()}
			return nil
		},
	})
	return app
}

type parsed struct {
	repo, token string
	require     []string
	json        bool
	args        []string
}

func TestFlagPlacement(t *testing.T) {
	want := parsed{repo: "o/r", token: "t", require: []string{"linux-x86_64"}, json: true, args: []string{"v1.2.0"}}
	for _, line := range []string{
		"otapub --repo o/r --token t checkargs --require linux-x86_64 --json v1.2.0",
		"otapub checkargs --repo o/r --token t --require linux-x86_64 --json v1.2.0",
		"otapub checkargs v1.2.0 --repo o/r --token t --require linux-x86_64 --json",
		"otapub checkargs v1.2.0 --require=linux-x86_64 --json --repo=o/r --token=t",
		"otapub --token t checkargs v1.2.0 --json --require linux-x86_64 --repo o/r",
		"otapub -repo o/r checkargs -json v1.2.0 -token t -require linux-x86_64",
	} {
		t.Run(line, func(t *testing.T) {
			var got parsed
			app := testApp(&got)
			args := strings.Fields(line)
			if err := app.Run(normalizeArgs(app, args)); err != nil {
				t.Fatalf("run: %v (normalized to %q)", err, normalizeArgs(app, args))
			}
			if got.repo != want.repo || got.token != want.token || !slices.Equal(got.require, want.require) || got.json != want.json || !slices.Equal(got.args, want.args) {
				t.Errorf("parsed %+v, want %+v (normalized to %q)", got, want, normalizeArgs(app, args))
			}
		})
	}
}

func TestNormalizeArgsKeepsArgumentsThatLookLikeFlags(t *testing.T) {
	var got parsed
	app := testApp(&got)
	args := []string{"otapub", "checkargs", "--json", "--", "-weird-tag", "--repo"}
	if err := app.Run(normalizeArgs(app, args)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.args, []string{"-weird-tag", "--repo"}) || got.repo != "" {
		t.Errorf("after --: args %q, repo %q", got.args, got.repo)
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args       string
		want       int
		wantStdout string
		wantStderr string
	}{
		{"otapub version", 0, "otapub devel", ""},
		{"otapub version --repo o/r", 0, "otapub devel", ""},
		{"otapub --help", 0, "GLOBAL OPTIONS", ""},
		{"otapub nope", 2, "", `unknown command "nope"`},
		{"otapub version --bogus", 2, "", "flag provided but not defined"},
		{"otapub rollout v1.2.0 -5", 2, "", "-5 is read as a flag; a rollout share is a number from 0 to 100"},
		{"otapub rollout v1.2.0 -x", 2, "", "flag provided but not defined: -x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), strings.Fields(tt.args), &stdout, &stderr)
			if code != tt.want || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout.String(), stderr.String(), tt.want, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/urfave/cli/v2"
)

// actionCommand is the GitHub Action's entry point (action.yml runs it).
// The action hands its inputs over as INPUT_* environment variables, never
// by interpolating them into a script, and this turns them into an otapub
// command line: the action's logic stays here, in Go, under test.
func actionCommand() *cli.Command {
	return &cli.Command{
		Name:   "action",
		Usage:  "run as the otapub GitHub Action, reading its inputs from INPUT_* environment variables",
		Hidden: true,
		Action: func(c *cli.Context) error {
			args, err := actionArgs(os.Getenv)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(c.App.ErrWriter, "otapub %s\n", strings.Join(redactArgs(args[1:]), " "))
			if code := run(c.Context, args, c.App.Writer, c.App.ErrWriter); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// exitError carries the status of a command that already reported its error.
type exitError struct{ code int }

func (e exitError) Error() string   { return "exit status " + strconv.Itoa(e.code) }
func (e exitError) ExitStatus() int { return e.code }

// actionArgs builds the command line from the action's inputs.
func actionArgs(getenv func(string) string) ([]string, error) {
	input := func(name string) string { return strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(name))) }
	command := input("command")
	switch command {
	case "upload", "verify", "publish":
	case "":
		return nil, errors.New("the command input is empty: set it to upload, verify or publish")
	default:
		return nil, fmt.Errorf("command input %q: use upload, verify or publish", command)
	}
	tag := input("tag")
	if tag == "" && getenv("GITHUB_REF_TYPE") == "tag" {
		tag = getenv("GITHUB_REF_NAME")
	}
	if tag == "" {
		return nil, errors.New("no tag: set the tag input, or run on a tag push")
	}
	args := []string{"otapub", command, tag}
	if command == "upload" {
		files, err := expandFiles(input("files"))
		if err != nil {
			return nil, err
		}
		args = append(args, files...)
	} else if input("files") != "" {
		return nil, fmt.Errorf("the files input is for upload, not %s", command)
	}
	if v := input("repo"); v != "" {
		args = append(args, "--repo", v)
	}
	if v := input("pubkey"); v != "" {
		args = append(args, "--pubkey", v)
	}
	if v := input("concurrency"); v != "" {
		args = append(args, "--concurrency", v)
	}
	if v := input("require"); v != "" {
		if command == "upload" {
			return nil, errors.New("the require input is for verify and publish")
		}
		args = append(args, "--require", strings.Join(strings.Fields(strings.ReplaceAll(v, ",", " ")), ","))
	}
	for _, b := range []struct{ input, flag string }{{"replace", "--replace"}, {"prerelease", "--prerelease"}} {
		switch v := strings.ToLower(input(b.input)); v {
		case "", "false":
		case "true":
			args = append(args, b.flag)
		default:
			return nil, fmt.Errorf("the %s input is %q: use true or false", b.input, v)
		}
	}
	if v := input("rollout"); v != "" {
		if command != "publish" {
			return nil, fmt.Errorf("the rollout input is for publish, not %s", command)
		}
		args = append(args, "--rollout", v)
	}
	if v := input("notes"); v != "" {
		args = append(args, "--notes", v)
	}
	args = append(args, strings.Fields(getenv("INPUT_ARGS"))...)
	return args, nil
}

// expandFiles reads the files input: one path or glob a line ("**" spans folders).
func expandFiles(lines string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(lines, "\n") {
		pattern := strings.TrimSpace(line)
		if pattern == "" {
			continue
		}
		if !strings.ContainsAny(pattern, "*?[{") {
			out = append(out, pattern)
			continue
		}
		matches, err := doublestar.FilepathGlob(filepath.FromSlash(pattern), doublestar.WithFilesOnly())
		if err != nil {
			return nil, fmt.Errorf("files: %q: %w", pattern, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("files: %q matched nothing (relative to %s)", pattern, workdir())
		}
		out = append(out, matches...)
	}
	if len(out) == 0 {
		return nil, errors.New("the files input is empty: list the files or folders to upload, one per line")
	}
	return out, nil
}

func workdir() string {
	wd, _ := os.Getwd()
	return wd
}

// redactArgs hides the values of flags that must not reach logs.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && (args[i-1] == "--token") {
			out[i] = "***"
		}
	}
	return out
}

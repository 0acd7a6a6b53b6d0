package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"aead.dev/minisign"
	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// pubkeyFlags are --pubkey and --pubkey-file, shared by upload, verify and publish.
func pubkeyFlags(key, file *string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "pubkey", Usage: "the app's updater public `key`: the base64 line of plugins.updater.pubkey", EnvVars: env("PUBKEY"), Destination: key},
		&cli.StringFlag{Name: "pubkey-file", Usage: "read the public key from `FILE` (a .key.pub from tauri signer or otapub keygen, or a minisign .pub)", EnvVars: env("PUBKEY_FILE"), Destination: file},
	}
}

// loadPubkey parses --pubkey or --pubkey-file; nil when neither is set.
func loadPubkey(key, file string) (*minisign.PublicKey, error) {
	switch {
	case key != "" && file != "":
		return nil, usageError{errors.New("--pubkey and --pubkey-file both name a key: pass one")}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usageError{fmt.Errorf("--pubkey-file: %w", err)}
		}
		key = string(b)
	case key == "":
		return nil, nil
	}
	pub, err := taurisig.ParsePublicKey(key)
	if err != nil {
		return nil, usageError{fmt.Errorf("--pubkey: %w", err)}
	}
	return &pub, nil
}

// tagArg returns the TAG argument and the rest. In GitHub Actions a run
// for a pushed tag may leave it out (GITHUB_REF_NAME).
func tagArg(c *cli.Context) (string, []string, error) {
	args := c.Args().Slice()
	if len(args) > 0 {
		return args[0], args[1:], nil
	}
	if os.Getenv("GITHUB_REF_TYPE") == "tag" && os.Getenv("GITHUB_REF_NAME") != "" {
		return os.Getenv("GITHUB_REF_NAME"), nil, nil
	}
	return "", nil, usageError{fmt.Errorf("no tag: otapub %s TAG (for example v1.2.0)", c.Command.Name)}
}

// parseRequire reads --require: platform keys, comma-separated or repeated.
func parseRequire(values []string) ([]githubsrc.Platform, error) {
	var out []githubsrc.Platform
	for _, v := range values {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k == "" {
				continue
			}
			p, err := githubsrc.ParsePlatform(k)
			if err != nil {
				return nil, usageError{fmt.Errorf("--require: %w", err)}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// requireFlag is --require, shared by verify and publish.
func requireFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "require", Usage: "platform `keys` that must have a signed updater payload, comma-separated: darwin-aarch64,linux-x86_64,windows-x86_64", EnvVars: env("REQUIRE")}
}

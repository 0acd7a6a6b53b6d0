package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// passwordEnv is where Tauri's CLI, and so otapub, reads the key password.
const passwordEnv = "TAURI_SIGNING_PRIVATE_KEY_PASSWORD"

// parsePrivateKey is taurisig.ParsePrivateKey. Each call derives the key with
// scrypt (about 0.1 s and 32 MiB); the tests, which sign with one key many
// times in one process, swap in a memoised one.
var parsePrivateKey = taurisig.ParsePrivateKey

func keygenCommand() *cli.Command {
	var out string
	var force bool
	return &cli.Command{
		Name:  "keygen",
		Usage: "make an updater key pair, as `tauri signer generate` does",
		Description: "Writes the secret key to KEYFILE and the public key (the base64 line an app puts in\n" +
			"plugins.updater.pubkey) to KEYFILE.pub. The password comes from " + passwordEnv + " (empty when unset).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "write the secret key to `KEYFILE` and the public key to KEYFILE.pub", Destination: &out},
			&cli.BoolFlag{Name: "force", Usage: "overwrite existing key files", Destination: &force},
		},
		Action: func(c *cli.Context) error {
			if out == "" {
				return usageError{errors.New("keygen: pass --out KEYFILE")}
			}
			if !force {
				for _, p := range []string{out, out + ".pub"} {
					if _, err := os.Stat(p); err == nil {
						return usageError{fmt.Errorf("%s exists: pass --force to overwrite it (the apps signed with it would need the new public key)", p)}
					}
				}
			}
			secret, public, err := taurisig.GenerateKey(os.Getenv(passwordEnv))
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, []byte(secret), 0o600); err != nil {
				return fmt.Errorf("write secret key: %w", err)
			}
			if err := os.WriteFile(out+".pub", []byte(public), 0o644); err != nil {
				return fmt.Errorf("write public key: %w", err)
			}
			fmt.Fprintf(c.App.Writer, "secret key: %s (keep it secret; CI reads it from TAURI_SIGNING_PRIVATE_KEY)\npublic key: %s\n\nput this in tauri.conf.json under plugins.updater.pubkey:\n%s\n", out, out+".pub", public)
			if os.Getenv(passwordEnv) == "" {
				fmt.Fprintf(c.App.ErrWriter, "otapub: note: no password (%s is unset): anyone with the key file can sign updates\n", passwordEnv)
			}
			return nil
		},
	}
}

func signCommand() *cli.Command {
	var keyFile, appVersion string
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign files for the Tauri and cargo-packager updaters, writing FILE.sig beside each",
		ArgsUsage: "FILE...",
		Description: "The key comes from --private-key-file (or TAURI_SIGNING_PRIVATE_KEY_PATH), else from\n" +
			"TAURI_SIGNING_PRIVATE_KEY (the key itself); the password from " + passwordEnv + ".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "private-key-file", Usage: "the secret key `KEYFILE` (from tauri signer generate or otapub keygen)", EnvVars: []string{"TAURI_SIGNING_PRIVATE_KEY_PATH"}, Destination: &keyFile},
			&cli.StringFlag{Name: "app-version", Usage: "bind the signatures to this `version` (newer Tauri updaters then refuse them for any other)", EnvVars: env("APP_VERSION"), Destination: &appVersion},
		},
		Action: func(c *cli.Context) error {
			files := c.Args().Slice()
			if len(files) == 0 {
				return usageError{errors.New("sign: name the files to sign")}
			}
			key := os.Getenv("TAURI_SIGNING_PRIVATE_KEY")
			switch {
			case keyFile != "":
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return usageError{fmt.Errorf("--private-key-file: %w", err)}
				}
				key = string(b)
			case key == "":
				return usageError{errors.New("no key: pass --private-key-file KEYFILE, or set TAURI_SIGNING_PRIVATE_KEY or TAURI_SIGNING_PRIVATE_KEY_PATH")}
			default:
				if b, err := os.ReadFile(key); err == nil { // Tauri accepts a path here too
					key = string(b)
				}
			}
			priv, err := parsePrivateKey(key, os.Getenv(passwordEnv))
			if err != nil {
				return err
			}
			for _, f := range files {
				sig, err := taurisig.SignFile(priv, f, appVersion, time.Now())
				if err != nil {
					return fmt.Errorf("sign %s: %w", f, err)
				}
				if err := os.WriteFile(f+".sig", []byte(sig), 0o644); err != nil {
					return fmt.Errorf("write %s.sig: %w", f, err)
				}
				fmt.Fprintf(c.App.Writer, "signed %s -> %s.sig (key %s)\n", f, f, taurisig.KeyID(priv.ID()))
			}
			return nil
		},
	}
}

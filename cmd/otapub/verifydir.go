package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/publisher"
)

// verifyDir is `otapub verify --dir DIR [TAG]`: verify's checks over a
// local folder, with no network and no token.
func verifyDir(c *cli.Context, cfg *verifyConfig) error {
	tag, err := dirTag(c, cfg)
	if err != nil {
		return err
	}
	pub, err := loadPubkey(cfg.pubkey, cfg.pubkeyFile)
	if err != nil {
		return err
	}
	require, err := parseRequire(c.StringSlice("require"))
	if err != nil {
		return err
	}
	opts := publisher.VerifyOptions{Tag: tag, TagPrefix: cfg.tagPrefix, Require: require, PubKey: pub, Concurrency: cfg.concurrency}
	out := newReporter(c.App.Writer, c.App.ErrWriter, cfg.asJSON)
	rep, err := publisher.VerifyDir(c.Context, cfg.dir, opts)
	if rep.Platforms == nil && rep.Problems == nil && err != nil {
		if _, ok := err.(*publisher.IncompleteError); !ok {
			return err // the folder could not be read: nothing to report
		}
	}
	if rerr := reportVerify(out, rep, pub != nil); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// dirTag is the tag the folder's files must carry: TAG, else --version,
// else the folder's own name when it is a tag (releases/v1.2.0).
func dirTag(c *cli.Context, cfg *verifyConfig) (string, error) {
	args := c.Args().Slice()
	switch {
	case len(args) > 1:
		return "", usageError{fmt.Errorf("otapub verify --dir takes at most one TAG, got %q", args)}
	case len(args) == 1 && cfg.version != "":
		return "", usageError{fmt.Errorf("give TAG or --version, not both")}
	case len(args) == 1:
		return args[0], nil
	case cfg.version != "":
		v, err := githubsrc.ParseVersion(cfg.version)
		if err != nil {
			return "", usageError{fmt.Errorf("--version: %w", err)}
		}
		return cfg.tagPrefix + "v" + v.String(), nil
	}
	name := filepath.Base(filepath.Clean(cfg.dir))
	if _, err := githubsrc.ParseTag(name, cfg.tagPrefix); err == nil {
		return name, nil
	}
	return "", usageError{fmt.Errorf("which version must the files in %s carry? Give TAG (otapub verify v1.2.0 --dir %s), --version 1.2.0, or name the folder after the tag",
		cfg.dir, strings.TrimSuffix(cfg.dir, "/"))}
}

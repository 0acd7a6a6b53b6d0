package publisher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"aead.dev/minisign"
	"golang.org/x/sync/errgroup"

	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// CheckSignatures verifies, before anything is uploaded, every .sig among
// the plan's files against the file it signs and pub, and that no
// signature is bound to another version than the tag's. It names every
// file that fails and why.
func CheckSignatures(ctx context.Context, plan Plan, pub minisign.PublicKey, workers int) error {
	payloads, sigs := plan.Payloads()
	var mu sync.Mutex
	var failures []string
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for _, p := range payloads {
		sig, ok := sigs[p.Name]
		if !ok {
			continue
		}
		g.Go(func() error {
			if err := checkOne(ctx, p, sig, pub, plan.Version.String()); err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s: %v", p.Path, err))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if len(failures) > 0 {
		return fmt.Errorf("%d signatures do not verify against the public key; nothing was uploaded:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return ctx.Err()
}

func checkOne(ctx context.Context, payload, sigFile File, pub minisign.PublicKey, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sig, err := os.ReadFile(sigFile.Path)
	if err != nil {
		return err
	}
	f, err := os.Open(payload.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := taurisig.Verify(pub, f, sig)
	if err != nil {
		switch {
		case errors.Is(err, taurisig.ErrWrongKey):
			return fmt.Errorf("wrong key: %w", err)
		case errors.Is(err, taurisig.ErrMismatch):
			return fmt.Errorf("tampered: %w", err)
		case errors.Is(err, taurisig.ErrMalformed):
			return fmt.Errorf("not a signature: %w", err)
		}
		return err
	}
	if signed, bad := s.VersionMismatch(version); bad && version != "" { // "": a bundle, bound to no app version
		return fmt.Errorf("the signature is bound to version %s, but the tag is %s: newer Tauri updaters refuse it; sign again with --app-version %s", signed, version, version)
	}
	return nil
}

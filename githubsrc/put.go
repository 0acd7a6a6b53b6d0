package githubsrc

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStalled is wrapped into the error of an upload attempt that stopped
// sending for AssetUpload.StallTimeout.
var ErrStalled = errors.New("upload stalled")

// AssetUpload is an asset to put on a release: its bytes, opened afresh
// for each attempt, and what they hash to.
type AssetUpload struct {
	Name   string
	Size   int64
	SHA256 string // hex
	Open   func() (io.ReadCloser, error)
	// StallTimeout aborts, to retry, an attempt that sends nothing for this
	// long; 0 means never.
	StallTimeout time.Duration
	// StallClock is the clock StallTimeout is measured on; nil means
	// time.Now. Tests move a fake one, so that only the stall a test makes
	// is one, however slow the machine.
	StallClock func() time.Time
}

// PutAsset uploads u to rel, retrying per the client's Retry like every
// other call, and returns the asset and the attempts it took. A write that
// may have landed is never sent again blindly: after an ambiguous failure
// (a 5xx, a dropped connection, a stall, a 422 already_exists after a lost
// answer) it reads the asset back first. The same bytes there count as
// done; a half-uploaded asset is deleted; other bytes under the name are
// an error.
func (c *Client) PutAsset(ctx context.Context, repo Repo, rel Release, u AssetUpload) (Asset, int, error) {
	op := fmt.Sprintf("upload %s to %s@%s", u.Name, repo, rel.Tag)
	var out Asset
	var retried bool // the last error was one to retry
	attempts, err := c.retrying(ctx, op, true, func(attempt int) (bool, error) {
		retried = false
		a, err := c.putOnce(ctx, repo, rel, u)
		if err == nil {
			if a.Size == u.Size && (a.SHA256() == "" || a.SHA256() == u.SHA256) {
				out = a
				return false, nil
			}
			err = fmt.Errorf("%s: GitHub stored %d bytes with %s, not what was sent", op, a.Size, cmp.Or(a.Digest, "no digest"))
			_ = c.DeleteAsset(ctx, repo, a.ID)
		}
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		retry, notApplied := transient(err)
		taken := errors.Is(err, ErrAlreadyExists) // maybe ours, landed after a lost answer
		if !retry && !taken {
			return true, err
		}
		if !notApplied {
			landed, ok, rerr := c.readBack(ctx, repo, rel, u)
			switch {
			case rerr != nil:
				return true, rerr
			case ok:
				c.log.InfoContext(ctx, "upload failed but landed", "asset", u.Name, "attempt", attempt, "err", err)
				out = landed
				return false, nil
			}
		}
		if taken {
			err = cleared{err} // read back: the name is free again
		}
		retried = true
		return false, err
	})
	if err != nil && retried && attempts >= c.retry.Attempts {
		err = fmt.Errorf("gave up after %d attempts: %w", attempts, err)
	}
	return out, attempts, err
}

// cleared marks an error whose request the caller has made safe to send
// again: it read the release back and cleared the way.
type cleared struct{ error }

func (e cleared) Unwrap() error { return e.error }

// putOnce is one attempt of PutAsset.
func (c *Client) putOnce(ctx context.Context, repo Repo, rel Release, u AssetUpload) (Asset, error) {
	rc, err := u.Open()
	if err != nil {
		return Asset{}, err
	}
	defer rc.Close()
	if u.StallTimeout <= 0 {
		return c.Upload(ctx, repo, rel, u.Name, rc, u.Size)
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	now := u.StallClock
	if now == nil {
		now = time.Now
	}
	body := &stallReader{r: rc, now: now}
	body.touch()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		t := time.NewTicker(max(u.StallTimeout/8, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if !body.done.Load() && now().Sub(time.Unix(0, body.last.Load())) > u.StallTimeout {
					cancel(fmt.Errorf("%w: no progress for %v", ErrStalled, u.StallTimeout))
					return
				}
			}
		}
	})
	a, err := c.Upload(actx, repo, rel, u.Name, body, u.Size)
	close(stop)
	wg.Wait()
	if cause := context.Cause(actx); err != nil && cause != nil && ctx.Err() == nil {
		err = cause
	}
	return a, err
}

// stallReader notes when bytes last moved and when the body was all read
// (then GitHub is only slow to answer, which is no stall).
type stallReader struct {
	r    io.Reader
	now  func() time.Time
	last atomic.Int64 // unix nanoseconds
	done atomic.Bool
}

func (s *stallReader) touch() { s.last.Store(s.now().UnixNano()) }

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.touch()
	}
	if err == io.EOF {
		s.done.Store(true)
	}
	return n, err
}

// readBack looks for u on the release after an ambiguous failure: there
// and complete with u's bytes means the upload landed; a broken one is
// deleted; another file under the name is an error.
func (c *Client) readBack(ctx context.Context, repo Repo, rel Release, u AssetUpload) (Asset, bool, error) {
	assets, err := c.Assets(ctx, repo, rel.ID)
	if err != nil {
		return Asset{}, false, nil // cannot tell; the next attempt will
	}
	want := AssetName(u.Name)
	for _, a := range assets {
		if a.Name != want {
			continue
		}
		if !a.Uploaded() {
			return Asset{}, false, c.DeleteAsset(ctx, repo, a.ID)
		}
		same, err := c.HasBytes(ctx, repo, a, u.Size, u.SHA256)
		switch {
		case err != nil:
			return Asset{}, false, err
		case same:
			return a, true, nil
		}
		return Asset{}, false, fmt.Errorf("%s appeared on the release with other bytes while uploading: another job uploads the same name", want)
	}
	return Asset{}, false, nil
}

// HasBytes reports whether asset a holds size bytes with SHA-256 sha256
// (hex), by GitHub's digest, or by downloading a when GitHub gave none.
func (c *Client) HasBytes(ctx context.Context, repo Repo, a Asset, size int64, sha256 string) (bool, error) {
	if a.Size != size {
		return false, nil
	}
	got, err := c.AssetSHA256(ctx, repo, a)
	return got == sha256, err
}

// AssetSHA256 returns asset a's SHA-256 (hex): GitHub's digest, or, where
// GitHub gave none (assets uploaded before June 2025, GitHub Enterprise
// Server), the hash of its bytes, downloaded.
func (c *Client) AssetSHA256(ctx context.Context, repo Repo, a Asset) (string, error) {
	if d := a.SHA256(); d != "" {
		return d, nil
	}
	rc, err := c.OpenAsset(ctx, repo, a.ID)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("read back %s of %s: %w", a.Name, repo, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

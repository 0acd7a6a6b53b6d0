package githubsrc

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/google/go-github/v66/github"
)

// MaxAssetSize is the largest asset GitHub accepts: 2 GiB.
const MaxAssetSize = 2 << 30

// Upload sends size bytes from body as asset name of rel, to the release's
// own upload_url (so github.com, GHES and fakes take one path). It makes
// one attempt: the body cannot be replayed, and after an ambiguous failure
// the caller must read the asset back (GitHub "successfully fails": a 5xx
// or timeout can hide an upload that landed, and the retry then gets a
// 422 already_exists, which wraps ErrAlreadyExists).
func (c *Client) Upload(ctx context.Context, repo Repo, rel Release, name string, body io.Reader, size int64) (Asset, error) {
	op := fmt.Sprintf("upload %s to %s@%s", name, repo, rel.Tag)
	switch {
	case size <= 0:
		return Asset{}, fmt.Errorf("%s: the file is empty and GitHub rejects empty assets: leave it out", op)
	case size > MaxAssetSize:
		return Asset{}, fmt.Errorf("%s: the file is %d bytes and GitHub takes at most 2 GiB per asset: split it or host it elsewhere", op, size)
	case rel.UploadURL == "":
		return Asset{}, fmt.Errorf("%s: release %d has no upload URL: read it again with Release", op, rel.ID)
	}
	contentType := mime.TypeByExtension(path.Ext(name))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	u := rel.UploadURL + "?" + url.Values{"name": {name}}.Encode() // Encode escapes "+" as %2B
	req, err := c.gh.NewUploadRequest(u, body, size, contentType)
	if err != nil {
		return Asset{}, fmt.Errorf("%s: %w", op, err)
	}
	var raw ghAsset
	if _, err := c.call(ctx, op, req, &raw); err != nil {
		return Asset{}, err
	}
	return raw.asset(), nil
}

// Download is where a client can fetch an asset without credentials: a URL,
// or, when GitHub streams the bytes itself instead of redirecting, a Body.
type Download struct {
	URL  string
	Body io.ReadCloser
	Size int64 // of Body; -1 when unknown
}

// DownloadURL resolves asset a of repo for a client that has no
// credentials. Public repositories need no API call: browser_download_url
// works anonymously and costs no rate limit. Private ones (and drafts) go
// through ResolveDownload.
func (c *Client) DownloadURL(ctx context.Context, repo Repo, a Asset, private bool) (Download, error) {
	if !private && a.HasBrowserURL() {
		return Download{URL: a.BrowserURL()}, nil
	}
	return c.ResolveDownload(ctx, repo, a.ID)
}

// ResolveDownload asks the API for asset id's bytes with the client's token
// and returns the short-lived signed URL GitHub redirects to, without
// following it (so the token never reaches the storage host), or the body
// when GitHub answers 200 itself. It uses its own http.Client: go-github
// v66's DownloadReleaseAsset swaps the shared client's CheckRedirect, a data
// race under concurrent use.
func (c *Client) ResolveDownload(ctx context.Context, repo Repo, id int64) (Download, error) {
	op := fmt.Sprintf("resolve download of asset %d of %s", id, repo)
	var d Download
	build := c.get(repoPath(repo, "releases/assets/"+strconv.FormatInt(id, 10)), "Accept", "application/octet-stream")
	_, err := c.retrying(ctx, op, true, func(int) (bool, error) {
		req, err := build()
		if err != nil {
			return true, fmt.Errorf("%s: %w", op, err)
		}
		resp, err := c.exchange(ctx, op, c.noRedirect, req)
		var gr *github.Response
		if err == nil {
			gr = &github.Response{Response: resp}
			switch {
			case resp.StatusCode >= 300 && resp.StatusCode < 400:
				drain(resp.Body)
				loc, lerr := resp.Location()
				if lerr != nil {
					err = fmt.Errorf("GitHub redirected without a usable Location: %w", lerr)
					break
				}
				d = Download{URL: loc.String()}
			case resp.StatusCode == http.StatusOK:
				d = Download{Body: resp.Body, Size: resp.ContentLength}
			default:
				err = github.CheckResponse(resp)
				drain(resp.Body)
			}
		}
		if err != nil {
			return false, c.classify(op, gr, err)
		}
		return false, nil
	})
	if err != nil {
		return Download{}, err
	}
	return d, nil
}

// OpenAsset streams the bytes of asset id (drafts included, with a token).
// The caller closes the reader.
func (c *Client) OpenAsset(ctx context.Context, repo Repo, id int64) (io.ReadCloser, error) {
	d, err := c.ResolveDownload(ctx, repo, id)
	if err != nil {
		return nil, err
	}
	if d.Body != nil {
		return d.Body, nil
	}
	return c.openURL(ctx, fmt.Sprintf("download asset %d of %s", id, repo), d.URL)
}

// openURL GETs u without credentials (signed storage URLs, public browser
// URLs), retrying transient failures.
func (c *Client) openURL(ctx context.Context, op, u string) (io.ReadCloser, error) {
	var body io.ReadCloser
	_, err := c.retrying(ctx, op, true, func(int) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return true, fmt.Errorf("%s: %w", op, err)
		}
		start := time.Now()
		resp, err := c.plain.Do(req) // no credentials: the URL is signed or public
		status := 0
		if err == nil {
			status = resp.StatusCode
			if resp.StatusCode == http.StatusOK {
				body = resp.Body
			} else {
				drain(resp.Body)
				err = &APIError{Op: op, Status: resp.StatusCode, Message: "from the download host"}
				if resp.StatusCode == http.StatusNotFound {
					err = fmt.Errorf("%s: %w", op, ErrNotFound)
				}
			}
		} else {
			err = fmt.Errorf("%s: %w", op, err)
		}
		if c.observe != nil {
			c.observe(Observation{Op: op, Status: status, Duration: time.Since(start), Err: err, RateRemaining: -1})
		}
		return false, err
	})
	if err != nil {
		return nil, err
	}
	return body, nil
}

// ReadAsset reads a small asset whole, at most limit bytes: a .sig or a
// manifest. Public repositories are read through browser_download_url (no
// API call, no rate limit); private ones and drafts through the API.
func (c *Client) ReadAsset(ctx context.Context, repo Repo, a Asset, private bool, limit int64) ([]byte, error) {
	var rc io.ReadCloser
	var err error
	if private || !a.HasBrowserURL() {
		rc, err = c.OpenAsset(ctx, repo, a.ID)
	} else {
		rc, err = c.openURL(ctx, fmt.Sprintf("download %s of %s", a.Name, repo), a.BrowserURL())
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", a.Name, repo, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s of %s: larger than %d bytes", a.Name, repo, limit)
	}
	return b, nil
}

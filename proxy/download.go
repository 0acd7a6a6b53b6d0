package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// handleDownload answers /download/{tag}/{asset} for any feed: a redirect
// to GitHub, or the local file, for an uploaded asset of a release in the
// app's Index; 404 for anything else.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	a := s.appOf(w, r)
	if a == nil {
		return
	}
	s.serveDownload(w, r, a, r.PathValue("tag"), r.PathValue("asset"))
}

// publicRedirect is the Cache-Control of a redirect to a public URL.
var publicRedirect = []string{"public, max-age=3600"}

// serveDownload answers a download of asset name of release tag. A public
// asset's redirect is made on its first download from the snapshot
// (Index.location): after that the answer is a lookup and two header
// values, with no allocation.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, a *app, tag, name string) {
	snap := s.snapshot(w, r, a)
	if snap == nil {
		return
	}
	s.serveAsset(w, r, a, snap, tag, name)
}

// serveAsset answers a download of asset name of release tag from snap:
// the one place a redirect (signed for a private repository) or a local
// file is served, whichever route named the asset.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, a *app, snap *Snapshot, tag, name string) {
	ix := snap.index
	i, j, ok := ix.find(tag, name)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no asset %q in a published release %q", name, tag))
		return
	}
	if loc := ix.location(i, j); loc != nil {
		a.adoption.download(ix.Releases[i].Assets[j], a.opts.tagVersion(ix.Releases[i].Tag))
		h := w.Header()
		h["Location"] = loc
		h["Cache-Control"] = publicRedirect
		w.WriteHeader(http.StatusFound)
		return
	}
	rel, asset := ix.Releases[i], ix.Releases[i].Assets[j]
	key := downloadKey{a, asset.ID}
	now := s.cfg.Now()
	d, ok := s.dls.Get(key)
	if !ok || now.After(d.until) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpstreamTimeout)
		defer cancel()
		dl, err := a.Source.Download(ctx, rel, asset)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d = cachedDownload{d: dl, until: now.Add(dl.Reuse)}
		if dl.URL != "" && dl.Reuse > 0 {
			s.dls.Add(key, d)
		}
	}
	a.adoption.download(asset, a.opts.tagVersion(rel.Tag))
	switch {
	case d.d.URL != "":
		if d.d.Cacheable > 0 {
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.d.Cacheable.Seconds())))
		} else {
			w.Header().Set("Cache-Control", "no-store") // a signed URL: for this client, now
		}
		http.Redirect(w, r, d.d.URL, http.StatusFound)
	case d.d.File != nil:
		defer d.d.File.Close()
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{}) // large files take long
		s.serveFile(w, r, d.d.File, asset.Name)
	case d.d.Body != nil:
		defer d.d.Body.Close()
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/octet-stream")
		if d.d.Size >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(d.d.Size, 10))
		}
		_, _ = io.Copy(w, d.d.Body)
	}
}

// serveFile answers with a local file, ranges and conditional requests included.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, f *os.File, name string) {
	fi, err := f.Stat()
	if err != nil {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("asset %q: %v", name, err))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

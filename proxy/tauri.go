package proxy

// This file is the wire contract with the updaters (research/client-protocols.md):
//
//   - Tauri v1, Tauri v2 and cargo-packager read 204 No Content as "up to
//     date" and stop; any other non-2xx makes them try the next endpoint and
//     at the end fail with "Could not fetch a valid release JSON", so "no
//     update" is always a 204, never a 404.
//   - A 200 carries {version, notes, pub_date, url, signature, format}:
//     version without a leading "v" and strict semver; pub_date RFC 3339
//     (a bad one fails the whole answer) or absent; signature the .sig
//     contents verbatim (base64 of the minisign text, never a URL);
//     format is nsis, wix, app or appimage, which cargo-packager requires
//     and Tauri ignores, and is left out for deb and rpm, which
//     cargo-packager cannot apply.
//   - The static latest.json has the same fields per platform key; Tauri
//     rejects the whole file if any entry is malformed, so every entry
//     carries its own url and signature.

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/otapub/ota-action/githubsrc"
)

type dynamicAnswer struct {
	Version   string `json:"version"`
	Notes     string `json:"notes"`
	PubDate   string `json:"pub_date,omitempty"`
	URL       string `json:"url"`
	Signature string `json:"signature"`
	Format    string `json:"format,omitempty"`
}

type staticManifest struct {
	Version   string                   `json:"version"`
	Notes     string                   `json:"notes"`
	PubDate   string                   `json:"pub_date,omitempty"`
	Platforms map[string]platformEntry `json:"platforms"`
}

type platformEntry struct {
	Signature string `json:"signature"`
	URL       string `json:"url"`
	Format    string `json:"format,omitempty"`
}

// answer encodes c as the dynamic answer, the same for every key it serves.
func (c *candidate) answer(opts SnapshotOptions) *Answer {
	body := encode(dynamicAnswer{
		Version:   c.rel.version.String(),
		Notes:     c.rel.gh.Notes,
		PubDate:   c.rel.pubDate(),
		URL:       DownloadURL(opts, c.rel.gh.Tag, c.Asset),
		Signature: c.sigText,
		Format:    githubsrc.CargoPackagerFormat(c.Artifact.Platform.Installer),
	})
	return &Answer{Version: c.rel.version, Tag: c.rel.gh.Tag, Asset: c.Asset.Name, Body: body, length: []string{strconv.Itoa(len(body))}}
}

// staticManifest encodes r as Tauri's latest.json: every key r has, bare
// and installer-suffixed (encoding/json sorts them, so the file is stable).
func (r *release) staticManifest(opts SnapshotOptions) []byte {
	m := staticManifest{Version: r.version.String(), Notes: r.gh.Notes, PubDate: r.pubDate(), Platforms: map[string]platformEntry{}}
	for p, c := range r.entries {
		m.Platforms[p.Key()] = platformEntry{
			Signature: c.sigText,
			URL:       DownloadURL(opts, r.gh.Tag, c.Asset),
			Format:    githubsrc.CargoPackagerFormat(c.Artifact.Platform.Installer),
		}
	}
	return encode(m)
}

// encode marshals v without HTML escaping, so notes read as written.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain structs of strings reach here
	}
	return bytes.Clone(b.Bytes()) // its own size: the buffer grew by doubling, and answers are kept

}

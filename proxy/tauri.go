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
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/rollout"
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
	url := DownloadURL(opts, c.rel.gh.Tag, c.Asset)
	format := githubsrc.CargoPackagerFormat(c.Artifact.Platform.Installer)
	body := encode(dynamicAnswer{
		Version:   c.rel.version.String(),
		Notes:     c.rel.gh.Notes,
		PubDate:   c.rel.pubDate(),
		URL:       url,
		Signature: c.sigText,
		Format:    format,
	})
	return &Answer{Version: c.rel.version, Tag: c.rel.gh.Tag, Asset: c.Asset.Name, Body: body, length: []string{strconv.Itoa(len(body))},
		sig: within(body, c.sigText), url: within(body, url), format: format, rollout: c.rel.rollout, label: c.rel.version.String()}
}

// within returns s as the bytes of body that spell it, when body holds it
// verbatim (it does unless JSON had to escape it), else as a copy.
func within(body []byte, s string) []byte {
	if i := bytes.Index(body, []byte(s)); i >= 0 && s != "" {
		j := i + len(s)
		return body[i:j:j]
	}
	return []byte(s)
}

// manifest is Tauri's latest.json for one release, encoded on first
// request: most apps' updaters use the dynamic check, and the file repeats
// every signature under its bare and installer-suffixed keys, more than
// all the app's other answers together. Until then it holds what it is
// made of, the signatures and URLs as slices of the answers.
type manifest struct {
	version   *semver.Version
	notes     string
	published time.Time
	keys      []githubsrc.Platform
	answers   []*Answer // of keys[i]
	rollout   rollout.State
	tag       string

	once   sync.Once
	body   []byte
	length []string
}

// newManifest notes what r's latest.json is made of, given the answer of
// each of r's candidates.
func (r *release) newManifest(answer func(*candidate) *Answer) *manifest {
	m := &manifest{version: r.version, notes: r.gh.Notes, published: r.gh.PublishedAt, rollout: r.rollout, tag: r.gh.Tag,
		keys: make([]githubsrc.Platform, 0, len(r.entries)), answers: make([]*Answer, 0, len(r.entries))}
	for p, c := range r.entries {
		m.keys = append(m.keys, p)
		m.answers = append(m.answers, answer(c))
	}
	return m
}

// encoded returns the file and its Content-Length, encoding it once:
// every key the release answers, bare and installer-suffixed
// (encoding/json sorts them, so the file is stable).
func (m *manifest) encoded() ([]byte, []string) {
	m.once.Do(func() {
		sm := staticManifest{Version: m.version.String(), Notes: m.notes, Platforms: make(map[string]platformEntry, len(m.keys))}
		if !m.published.IsZero() {
			sm.PubDate = m.published.UTC().Format(time.RFC3339)
		}
		for i, p := range m.keys {
			a := m.answers[i]
			sm.Platforms[p.Key()] = platformEntry{Signature: string(a.sig), URL: string(a.url), Format: a.format}
		}
		m.body = encode(sm)
		m.length = []string{strconv.Itoa(len(m.body))}
	})
	return m.body, m.length
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

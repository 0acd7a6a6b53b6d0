package githubsrc

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ChannelDoc is a channel file read for rewriting: the parsed YAML document
// beside the typed ChannelFile view, so that serving, merging or editing
// one keeps every field, known or not (releaseName, releaseNotes,
// stagingPercentage, minimumSystemVersion, packages,
// files[].isAdminRightsRequired, whatever electron-builder adds next), in
// the order electron-builder wrote them, comments included.
//
// The fields electron-updater reads are typed by
// builder-util-runtime/src/updateInfo.ts (UpdateInfo, WindowsUpdateInfo,
// UpdateFileInfo); electron-builder writes them with js-yaml's dump
// (builder-util/src/serializeToYaml.ts), two-space indents, and Encode
// writes the same bytes back for a document it did not change.
//
// The setters keep the document decodable into ChannelFile: File never
// fails after a successful Parse. A ChannelDoc is not safe for concurrent
// use; Clone one to rewrite a cached document per request.
type ChannelDoc struct {
	doc  *yaml.Node // the document, which holds a comment heading the file
	root *yaml.Node // doc's top-level mapping
}

// ChannelEntry is one of a ChannelDoc's files: the typed fields, and every
// field the entry had when read. The typed fields win when it is written
// back; fields the type does not know are kept as they were.
type ChannelEntry struct {
	ChannelFileEntry
	node *yaml.Node // the entry's mapping as read; nil for an entry built in Go
}

// ParseChannelDoc reads a channel file. It accepts what ParseChannelFile
// accepts, and also requires a mapping at the top, as electron-updater does
// (a list or a scalar has no version).
func ParseChannelDoc(data []byte) (*ChannelDoc, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("channel file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("channel file is a YAML %s, not a mapping of version, files, …", kindName(root.Kind))
	}
	d := &ChannelDoc{doc: &doc, root: root}
	if _, err := d.decode(); err != nil {
		return nil, err
	}
	return d, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

func (d *ChannelDoc) decode() (ChannelFile, error) {
	var f ChannelFile
	err := d.root.Decode(&f)
	return f, err
}

// File returns the typed view of d.
func (d *ChannelDoc) File() ChannelFile {
	f, _ := d.decode() // cannot fail: Parse and every setter checked it
	return f
}

// Clone returns a deep copy of d, to change without touching d.
func (d *ChannelDoc) Clone() *ChannelDoc {
	doc := cloneNode(d.doc)
	return &ChannelDoc{doc: doc, root: doc.Content[0]}
}

func cloneNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = cloneNode(k)
		}
	}
	// An alias points into the same document; the copy keeps pointing at
	// the original's anchor, which Encode resolves by name, not pointer.
	return &c
}

// Encode writes d as YAML as electron-builder's js-yaml does: two-space
// indents, lists indented under their key, quoting kept as read.
func (d *ChannelDoc) Encode() ([]byte, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(d.doc); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Keys returns d's top-level keys in order.
func (d *ChannelDoc) Keys() []string {
	keys := make([]string, 0, len(d.root.Content)/2)
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		keys = append(keys, d.root.Content[i].Value)
	}
	return keys
}

// Get returns a copy of the value of a top-level key, or nil.
func (d *ChannelDoc) Get(key string) *yaml.Node { return cloneNode(lookup(d.root, key)) }

// Set sets a top-level key to value (anything yaml encodes, or a
// *yaml.Node). A key d already has keeps its place; a new key goes last, as
// electron-builder adds releaseDate and people add stagingPercentage. Set
// refuses a value that would make d unreadable as a ChannelFile
// ("version: [1]") and leaves d unchanged.
func (d *ChannelDoc) Set(key string, value any) error {
	n, ok := value.(*yaml.Node)
	if ok {
		n = cloneNode(n)
	} else {
		n = new(yaml.Node)
		if err := n.Encode(value); err != nil {
			return fmt.Errorf("channel file %s: %w", key, err)
		}
		singleQuote(n)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	old := cloneNode(d.root)
	setKey(d.root, key, n)
	if _, err := d.decode(); err != nil {
		d.root.Content = old.Content
		return fmt.Errorf("channel file %s: %w", key, err)
	}
	return nil
}

// Delete removes a top-level key; it is a no-op for a key d lacks.
func (d *ChannelDoc) Delete(key string) { deleteKey(d.root, key) }

// Version is d's version.
func (d *ChannelDoc) Version() string { return d.File().Version }

// SetVersion sets d's version.
func (d *ChannelDoc) SetVersion(v string) {
	setKey(d.root, "version", scalar(v))
}

// ReleaseDate is d's releaseDate as written (electron-builder writes
// JavaScript's toISOString, with milliseconds), or "".
func (d *ChannelDoc) ReleaseDate() string { return d.File().ReleaseDate }

// SetReleaseDate sets d's releaseDate.
func (d *ChannelDoc) SetReleaseDate(s string) { setKey(d.root, "releaseDate", scalar(s)) }

// ReleaseNotes returns releaseNotes when it is a string. electron-builder
// writes a list of {version, note} instead when updater.fullChangelog is
// set; that, and no notes, give ok false (Get returns the list).
func (d *ChannelDoc) ReleaseNotes() (notes string, ok bool) {
	n := lookup(d.root, "releaseNotes")
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// SetReleaseNotes sets releaseNotes to a string (a literal block when it
// spans lines, as js-yaml writes it).
func (d *ChannelDoc) SetReleaseNotes(notes string) { setKey(d.root, "releaseNotes", scalar(notes)) }

// StagingPercentage is d's stagingPercentage as electron-updater reads it
// (AppUpdater.isStagingMatch: parseInt of the value): ok is false when
// there is none or it is not a number, and then every client updates.
func (d *ChannelDoc) StagingPercentage() (p int, ok bool) {
	n := lookup(d.root, "stagingPercentage")
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		return 0, false
	}
	return parseIntJS(n.Value)
}

// parseIntJS is JavaScript's parseInt(s, 10) for the values YAML gives: the
// leading integer of s after spaces, or not a number.
func parseIntJS(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\r")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0, false
	}
	v, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0, false
	}
	return v, true
}

// SetStagingPercentage sets the share of clients (0 to 100) that take this
// update; electron-updater buckets each client by a stored random id.
func (d *ChannelDoc) SetStagingPercentage(p int) error {
	if p < 0 || p > 100 {
		return fmt.Errorf("stagingPercentage %d: want 0 to 100", p)
	}
	setKey(d.root, "stagingPercentage", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(p)})
	return nil
}

// Path returns the legacy top-level path and sha512 (electron-updater
// before 2.16 read only these), or "" when d has none.
func (d *ChannelDoc) Path() (path, sha512 string) {
	f := d.File()
	return f.Path, f.SHA512
}

// SetPath sets the legacy top-level path and sha512, where they are or,
// new, right after files, where electron-builder writes them; an empty
// path removes both.
func (d *ChannelDoc) SetPath(path, sha512 string) {
	if path == "" {
		deleteKey(d.root, "path")
		deleteKey(d.root, "sha512")
		return
	}
	if lookup(d.root, "path") == nil {
		after := "files"
		if lookup(d.root, after) == nil {
			after = "version"
		}
		insertAfter(d.root, after, "path")
	}
	setKey(d.root, "path", scalar(path))
	if lookup(d.root, "sha512") == nil {
		insertAfter(d.root, "path", "sha512")
	}
	setKey(d.root, "sha512", scalar(sha512))
}

// insertAfter adds key, with an empty value for setKey to fill, right after
// the key after in mapping n, or last when n lacks after.
func insertAfter(n *yaml.Node, after, key string) {
	at := len(n.Content)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == after {
			at = i + 2
			break
		}
	}
	kv := []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, {Kind: yaml.ScalarNode, Tag: "!!null"}}
	n.Content = slices.Insert(n.Content, at, kv...)
}

// Files returns d's files, each with every field it has. A channel file
// that has only the legacy path has no Files (File().Entries() has it).
func (d *ChannelDoc) Files() []ChannelEntry {
	seq := lookup(d.root, "files")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]ChannelEntry, 0, len(seq.Content))
	for _, n := range seq.Content {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue // "- " alone: the typed view skips it, and so does electron-updater's (it fails on it)
		}
		e := ChannelEntry{node: cloneNode(n)}
		_ = n.Decode(&e.ChannelFileEntry) // cannot fail: Parse decoded the whole document
		out = append(out, e)
	}
	return out
}

// SetFiles replaces d's files. Each entry is written from its typed fields
// over the fields it was read with, so an entry from Files (of d or of
// another document) keeps isAdminRightsRequired and anything else it had.
func (d *ChannelDoc) SetFiles(files []ChannelEntry) {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, e := range files {
		seq.Content = append(seq.Content, e.encode())
	}
	setKey(d.root, "files", seq)
}

// encode writes e's typed fields into (a copy of) the mapping it was read
// from, in electron-builder's order for an entry built in Go: url, sha512,
// size, blockMapSize, isAdminRightsRequired.
func (e ChannelEntry) encode() *yaml.Node {
	n := cloneNode(e.node)
	if n == nil || n.Kind != yaml.MappingNode {
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	setKey(n, "url", scalar(e.URL))
	setKey(n, "sha512", scalar(e.SHA512))
	setInt(n, "size", e.Size)
	setInt(n, "blockMapSize", e.BlockMapSize)
	if e.IsAdminRightsRequired {
		setKey(n, "isAdminRightsRequired", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	} else {
		deleteKey(n, "isAdminRightsRequired")
	}
	return n
}

func setInt(n *yaml.Node, key string, v int64) {
	if v == 0 {
		deleteKey(n, key)
		return
	}
	setKey(n, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)})
}

// RewriteURLs replaces every URL d names: files[].url, the legacy path and
// packages.<arch>.path (the NSIS web installer's packages), each by f of
// the URL as written. The proxy uses it to point a channel file at itself
// or at absolute download URLs; electron-updater resolves each against the
// channel file's own URL (new URL(url, base)), so absolute URLs pass
// through untouched.
func (d *ChannelDoc) RewriteURLs(f func(url string) string) {
	rewrite := func(n *yaml.Node, key string) {
		if v := lookup(n, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			setKey(n, key, scalar(f(v.Value)))
		}
	}
	if seq := lookup(d.root, "files"); seq != nil && seq.Kind == yaml.SequenceNode {
		for _, e := range seq.Content {
			if e.Kind == yaml.MappingNode {
				rewrite(e, "url")
			}
		}
	}
	rewrite(d.root, "path")
	if pkgs := lookup(d.root, "packages"); pkgs != nil && pkgs.Kind == yaml.MappingNode {
		for i := 1; i < len(pkgs.Content); i += 2 {
			if p := pkgs.Content[i]; p.Kind == yaml.MappingNode {
				rewrite(p, "path")
			}
		}
	}
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// setKey sets key in mapping n, in place when it is there (keeping the
// old value's comments), last otherwise.
func setKey(n *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			old := n.Content[i+1]
			v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
			if v.Kind == yaml.ScalarNode && old.Kind == yaml.ScalarNode && v.Tag == old.Tag && old.Style != 0 && holds(old.Style, v.Value) {
				v.Style = old.Style // keep a quoted string quoted the same way
			}
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// holds reports whether a quoted or block style can hold s: quotes hold a
// one-line string, a block style any string.
func holds(style yaml.Style, s string) bool {
	return style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || !strings.ContainsAny(s, "\n")
}

func deleteKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
}

// scalar is a string node that reads back as the string s, quoted as
// js-yaml quotes: single quotes where a plain scalar would read as
// something else ('2026-11-20T10:00:00.000Z', '1.0').
func scalar(s string) *yaml.Node {
	n := new(yaml.Node)
	_ = n.Encode(s) // a string always encodes
	singleQuote(n)
	return n
}

// singleQuote turns go-yaml's double quotes into js-yaml's single quotes
// where they mean the same: strings of printable characters on one line.
func singleQuote(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || n.Style != yaml.DoubleQuotedStyle {
		for _, c := range n.Content {
			singleQuote(c)
		}
		return
	}
	for _, r := range n.Value {
		if r < 0x20 || r == 0x7f || r == 0xfeff || r == '\u2028' || r == '\u2029' || r == 0x85 {
			return
		}
	}
	n.Style = yaml.SingleQuotedStyle
}

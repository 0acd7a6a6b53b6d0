// Package squirrel is the vocabulary of Squirrel-style Electron update
// feeds: Squirrel.Windows' RELEASES file, Squirrel.Mac's update JSON and
// its pub_date, and the platform spellings of the two servers Electron
// apps point Squirrel at, vercel/hazel and update.electronjs.org. It does
// no I/O; the server's Squirrel routes and the publisher's checks read
// through it.
package squirrel

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Entry is one line of a RELEASES file: "<SHA1> <name or URL> <size>",
// optionally followed by "# NN%" (Squirrel/Squirrel.Windows
// src/Squirrel/ReleaseEntry.cs, ParseReleaseEntry and EntryAsString).
type Entry struct {
	// SHA1 is the package's SHA-1, 40 hex digits as written.
	SHA1 string
	// Name is a file name, which Squirrel resolves against the feed URL,
	// or an absolute http(s) URL, as written.
	Name string
	// Size is the package's size in bytes.
	Size int64
	// Staged says the line carries "# NN%": Squirrel offers it only to
	// that share of installs, each bucketed by a stored random id.
	Staged  bool
	Percent int // 0 to 100, when Staged
}

// Filename is the package's file name: Name, or the last segment of its
// URL's path, which Squirrel downloads into its packages folder.
func (e Entry) Filename() string {
	if u, ok := httpURL(e.Name); ok {
		return u.Path[strings.LastIndex(u.Path, "/")+1:]
	}
	return e.Name
}

// IsDelta reports whether e is a delta package: its file name ends in
// "-delta.nupkg", case ignored (ReleaseEntry.filenameIsDeltaFile).
func (e Entry) IsDelta() bool {
	return strings.HasSuffix(strings.ToLower(e.Filename()), "-delta.nupkg")
}

var (
	entryRE   = regexp.MustCompile(`^([0-9a-fA-F]{40})[ \t]+(\S+)[ \t]+([0-9]+)$`)
	stagingRE = regexp.MustCompile(`#[ \t]+([0-9]{1,3})%$`)
)

// Parse reads a RELEASES file as Squirrel.Windows does
// (ReleaseEntry.ParseReleaseFile): a UTF-8 byte order mark is dropped,
// lines split on "\n" with a "\r" before it ignored, blank lines and lines
// holding only a comment skipped, anything after "#" a comment. It is
// stricter than Squirrel where Squirrel would go wrong quietly, and names
// the line: a name that is neither a file name nor an http(s) URL, a
// package that is not a .nupkg, a size of 0, a comment that looks like a
// staged rollout Squirrel would not read ("#10%", "# 10 %", "# 10% "),
// which Squirrel would offer to everyone, or one over 100%.
//
// One difference from Squirrel: Squirrel reads "# NN%" only on a line
// ending in "\n" alone, so a RELEASES file with CRLF line ends is never
// staged there. Parse reads the percentage either way; Encode writes "\n".
func Parse(text []byte) ([]Entry, error) {
	text = bytes.TrimPrefix(text, []byte("\uFEFF"))
	var out []Entry
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, ok, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("RELEASES line %d %q: %w", i+1, line, err)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// parseLine reads one line; ok is false for a comment.
func parseLine(line string) (e Entry, ok bool, err error) {
	entry, comment := line, ""
	if i := strings.IndexByte(line, '#'); i >= 0 {
		entry, comment = line[:i], line[i:]
	}
	entry = strings.TrimRight(entry, " \t")
	if comment != "" {
		if m := stagingRE.FindStringSubmatch(comment); m != nil {
			p, _ := strconv.Atoi(m[1])
			if p > 100 {
				return Entry{}, false, fmt.Errorf("staged to %d%%: want 0%% to 100%%", p)
			}
			e.Staged, e.Percent = true, p
		} else if strings.Contains(comment, "%") {
			return Entry{}, false, errors.New(`a comment with "%" that Squirrel does not read as a staged rollout, which would offer the package to everyone: write "# NN%"`)
		}
	}
	if strings.TrimSpace(entry) == "" {
		if e.Staged {
			return Entry{}, false, errors.New("a staged rollout without a package")
		}
		return Entry{}, false, nil
	}
	m := entryRE.FindStringSubmatch(entry)
	if m == nil {
		return Entry{}, false, errors.New("want <40-hex SHA1> <file name or URL> <size> [# NN%]")
	}
	e.SHA1, e.Name = m[1], m[2]
	if e.Size, err = strconv.ParseInt(m[3], 10, 64); err != nil {
		return Entry{}, false, fmt.Errorf("size %s: %w", m[3], err)
	}
	if e.Size == 0 {
		return Entry{}, false, errors.New("size 0: Squirrel requires the package's size")
	}
	if err := checkName(e.Name); err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// invalidFilenameChars are those .NET's Path.GetInvalidFileNameChars lists
// on Windows, bar the control characters, checked apart.
const invalidFilenameChars = "\"<>|:*?\\/"

// checkName accepts what ParseReleaseEntry accepts for a name (an
// absolute http(s) URL with a host and a path, or a file name without
// path separators), and only .nupkg packages.
func checkName(name string) error {
	file := name
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		if _, err := url.Parse(name); err != nil {
			return fmt.Errorf("URL %s: %w", name, err)
		}
	}
	if u, ok := httpURL(name); ok {
		if u.Host == "" || u.Path == "" || strings.HasSuffix(u.Path, "/") {
			return fmt.Errorf("URL %s: Squirrel needs a host and a path ending in the package's file name", name)
		}
		file = u.Path[strings.LastIndex(u.Path, "/")+1:]
	} else if strings.Contains(name, "://") {
		return fmt.Errorf("%s: a URL must be http or https", name)
	}
	if strings.ContainsAny(file, invalidFilenameChars) || strings.IndexFunc(file, func(r rune) bool { return r < 0x20 }) >= 0 {
		return fmt.Errorf("%s: neither a file name nor an absolute http(s) URL", name)
	}
	if !strings.HasSuffix(strings.ToLower(file), ".nupkg") {
		return fmt.Errorf("%s: not a .nupkg package", name)
	}
	return nil
}

// httpURL parses s when it is an absolute http or https URL
// (Squirrel's Utility.IsHttpUrl).
func httpURL(s string) (*url.URL, bool) {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, false
	}
	return u, true
}

// Encode writes entries as a RELEASES file, each name replaced by
// rename(name) when rename is not nil: a proxy points every package at an
// absolute download URL. Lines are joined by "\n" without a final one and
// a staged line ends in " # NN%", as Squirrel's WriteReleaseFile writes
// them; the order is the caller's. hazel and update.electronjs.org rewrite
// only the first ".nupkg" they find, leaving the rest (deltas) relative to
// themselves; Encode rewrites every line.
//
// Encode refuses what Parse refuses, naming the entry, and an empty list:
// Squirrel fails on a RELEASES file without entries ("Remote release File
// is empty or corrupted").
func Encode(entries []Entry, rename func(name string) string) ([]byte, error) {
	if len(entries) == 0 {
		return nil, errors.New("RELEASES: no entries; Squirrel refuses an empty RELEASES file")
	}
	var b bytes.Buffer
	for i, e := range entries {
		name := e.Name
		if rename != nil {
			name = rename(name)
		}
		line := fmt.Sprintf("%s %s %d", e.SHA1, name, e.Size)
		if strings.ContainsAny(name, " \t\r\n\v\f#") {
			return nil, fmt.Errorf("RELEASES entry %d %q: the name holds a space or a '#', which a RELEASES line cannot carry", i+1, line)
		}
		if e.Staged {
			line += fmt.Sprintf(" # %d%%", e.Percent)
		}
		if e.Staged && (e.Percent < 0 || e.Percent > 100) {
			return nil, fmt.Errorf("RELEASES entry %d %q: staged to %d%%: want 0%% to 100%%", i+1, line, e.Percent)
		}
		if got, ok, err := parseLine(line); err != nil || !ok || got.Name != name {
			if err == nil {
				err = errors.New("does not read back")
			}
			return nil, fmt.Errorf("RELEASES entry %d %q: %w", i+1, line, err)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return b.Bytes(), nil
}

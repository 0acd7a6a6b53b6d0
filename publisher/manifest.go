package publisher

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// CombinedManifest is the name of the manifest publish writes of every
// asset of the release.
const CombinedManifest = "SHA256SUMS"

// ManifestLine is one line of a `sha256sum -c` manifest.
type ManifestLine struct {
	SHA256 string
	Name   string
	// Line is the line's number in the parsed text (ParseManifest only).
	Line int
}

// FormatManifest writes lines in `sha256sum` text format ("<hex>  <name>"),
// sorted by name, so the same files always give the same bytes.
func FormatManifest(lines []ManifestLine) []byte {
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b ManifestLine) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	for _, l := range sorted {
		fmt.Fprintf(&b, "%s  %s\n", l.SHA256, l.Name)
	}
	return b.Bytes()
}

// ParseManifest reads a `sha256sum` manifest, text ("  ") or binary (" *")
// mode; blank lines and # comments are skipped.
func ParseManifest(data []byte) ([]ManifestLine, error) {
	var out []ManifestLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if !ok || len(sum) != 64 || !isHex(sum) || name == "" {
			return nil, fmt.Errorf("line %d is not \"<sha256 hex>  <name>\": %q", n, line)
		}
		out = append(out, ManifestLine{SHA256: strings.ToLower(sum), Name: name, Line: n})
	}
	return out, sc.Err()
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// RunManifestName names the manifest one upload writes of its own files:
// "SHA256SUMS-<8 hex>.txt", the hex from the sorted names of the files.
// Parallel jobs upload different files and so never collide; a re-run of
// the same job writes the same name.
func RunManifestName(names []string) string {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return "SHA256SUMS-" + hex.EncodeToString(sum[:4]) + ".txt"
}

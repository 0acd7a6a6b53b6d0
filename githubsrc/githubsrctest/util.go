package githubsrctest

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
)

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// untaggedName is the placeholder GitHub puts in a draft's URLs until it is published.
func untaggedName(id int64) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(id, 10)))
	return "untagged-" + hex.EncodeToString(sum[:10])
}

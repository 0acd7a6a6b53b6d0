package githubsrc

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ParseVersion parses a version as updaters send it: strict semver
// (MAJOR.MINOR.PATCH[-pre][+build]) with an optional leading "v". Tauri
// rejects "1.2" and so does this: an update server that read "1.2" as 1.2.0
// would answer a question the client never asked.
func ParseVersion(s string) (*semver.Version, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return nil, fmt.Errorf("version %q is not semver (want MAJOR.MINOR.PATCH, like 1.2.0 or 1.3.0-beta.1): %w", s, err)
	}
	return v, nil
}

// ParseTag returns the version a release tag names. prefix is the part
// before the version in monorepo tags ("desktop-" for "desktop-v1.2.0");
// after it an optional "v" is allowed.
func ParseTag(tag, prefix string) (*semver.Version, error) {
	rest, ok := strings.CutPrefix(tag, prefix)
	if !ok {
		return nil, fmt.Errorf("tag %q does not start with the tag prefix %q", tag, prefix)
	}
	v, err := semver.StrictNewVersion(strings.TrimPrefix(rest, "v"))
	if err != nil {
		if prefix == "" {
			return nil, fmt.Errorf("tag %q does not name a semver version (want v1.2.0 or 1.2.0; for monorepo tags like desktop-v1.2.0 set the tag prefix): %w", tag, err)
		}
		return nil, fmt.Errorf("tag %q does not name a semver version after the prefix %q: %w", tag, prefix, err)
	}
	return v, nil
}

package githubsrc

import (
	"net/url"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ChannelFile is an electron-updater channel file (latest.yml,
// latest-mac.yml, beta-linux-arm64.yml): what electron-builder writes beside
// its installers and electron-updater reads to find an update. Verify
// checks one against the release; a server can merge and serve them.
type ChannelFile struct {
	Version string             `yaml:"version"`
	Files   []ChannelFileEntry `yaml:"files,omitempty"`
	// Path and SHA512 repeat the first file; older electron-builders wrote
	// only them.
	Path        string `yaml:"path,omitempty"`
	SHA512      string `yaml:"sha512,omitempty"`
	ReleaseDate string `yaml:"releaseDate,omitempty"`
}

// ChannelFileEntry is one file a channel file offers.
type ChannelFileEntry struct {
	URL          string `yaml:"url"`
	SHA512       string `yaml:"sha512"` // base64 of the SHA-512 of the file
	Size         int64  `yaml:"size,omitempty"`
	BlockMapSize int64  `yaml:"blockMapSize,omitempty"`
	// IsAdminRightsRequired is set on NSIS per-machine installers: the
	// updater asks for elevation before running it.
	IsAdminRightsRequired bool `yaml:"isAdminRightsRequired,omitempty"`
}

// IsChannelFile reports whether an asset name is an electron-updater
// channel file.
func IsChannelFile(name string) bool {
	return strings.HasSuffix(name, ".yml") && Classify(name).Role == RoleUpdaterManifest
}

// ParseChannelFile reads a channel file; the error is the YAML parser's.
// The typed view drops fields it does not know (releaseNotes, packages,
// stagingPercentage, …): to serve, merge or edit a channel file, read it
// with ParseChannelDoc, which keeps them.
func ParseChannelFile(data []byte) (ChannelFile, error) {
	var f ChannelFile
	err := yaml.Unmarshal(data, &f)
	return f, err
}

// Encode writes f as YAML, in electron-builder's field order.
func (f ChannelFile) Encode() ([]byte, error) {
	return yaml.Marshal(f)
}

// Entries returns the files f offers: Files, or for an old channel file
// that has only path and sha512, that one.
func (f ChannelFile) Entries() []ChannelFileEntry {
	if len(f.Files) == 0 && f.Path != "" {
		return []ChannelFileEntry{{URL: f.Path, SHA512: f.SHA512}}
	}
	return f.Files
}

// AssetName is the name of the asset e's url points at: a relative url
// names a file beside the channel file, and GitHub stores the name with
// its own renaming (spaces become dots).
func (e ChannelFileEntry) AssetName() string {
	name := path.Base(e.URL)
	if u, err := url.Parse(e.URL); err == nil {
		name = path.Base(u.Path)
	}
	return AssetName(name)
}

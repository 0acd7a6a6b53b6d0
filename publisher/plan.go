package publisher

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/otapub/ota-action/githubsrc"
)

// Plan is what an upload puts on the draft for Tag.
type Plan struct {
	Tag     string
	Version *semver.Version
	Files   []File
	// Skipped are files left out on purpose, with why.
	Skipped []SkippedFile
}

// SkippedFile is a file a plan leaves out.
type SkippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// PlanOptions relax the plan's checks.
type PlanOptions struct {
	// TagPrefix precedes the version in monorepo tags ("desktop-").
	TagPrefix string
	// AllowVersionMismatch accepts files whose names carry another version
	// than the tag's.
	AllowVersionMismatch bool
}

// NewPlan checks files against tag: the tag must name a version, file
// names that carry a version must carry the tag's, and every .sig must
// come with the file it signs. It reports every problem at once. An
// electron-updater channel file is planned as a part (ChannelPartName),
// which publish merges with the other jobs' into the real one.
func NewPlan(tag string, files []File, opts PlanOptions) (Plan, error) {
	v, err := githubsrc.ParseTag(tag, opts.TagPrefix)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Tag: tag, Version: v}
	names := map[string]bool{}
	for _, f := range files {
		// A job's latest.json (tauri-action writes one per job) lists only
		// that job's platforms; publish writes the whole one from the
		// release's assets, once, so parallel jobs cannot drop platforms.
		// The combined SHA256SUMS is publish's too: one pulled from another
		// release lists that release's latest.json, not this one's.
		if f.Name == LatestJSON || f.Name == CombinedManifest {
			p.Skipped = append(p.Skipped, SkippedFile{Path: f.Path, Reason: "otapub publish writes " + f.Name + " from the release's assets"})
			continue
		}
		p.Files = append(p.Files, f)
		names[f.Name] = true
	}
	files = p.Files
	var problems []string
	// A job's channel file goes up as a part (electron.go): matrix jobs
	// each bring a latest-mac.yml, and publish merges them.
	for i, f := range files {
		if !githubsrc.IsChannelFile(f.Name) {
			continue
		}
		data := f.data
		if data == nil {
			var err error
			if data, err = os.ReadFile(f.Path); err != nil {
				problems = append(problems, err.Error())
				continue
			}
		}
		part := ChannelPartName(f.Name, data)
		files[i].Name, files[i].Artifact = part, githubsrc.Classify(part)
		names[part] = true
	}
	for _, f := range files {
		if !opts.AllowVersionMismatch && f.Artifact.Version != "" && !githubsrc.NameHasVersion(f.Name, v.String()) && f.Artifact.Role != githubsrc.RoleChecksums {
			problems = append(problems, fmt.Sprintf("%s names version %s, but the tag %s is %s: build it again, or pass --allow-version-mismatch", f.Path, f.Artifact.Version, tag, v))
		}
		if f.Artifact.Role == githubsrc.RoleSignature && !names[f.Artifact.Signs] {
			problems = append(problems, fmt.Sprintf("%s signs %s, which is not among the files: upload them together", f.Path, f.Artifact.Signs))
		}
	}
	if len(problems) > 0 {
		return p, errors.New(strings.Join(problems, "\n"))
	}
	return p, nil
}

// Payloads returns the plan's updater payloads with the .sig beside each,
// or "" when there is none.
func (p Plan) Payloads() (payloads []File, sigs map[string]File) {
	sigs = map[string]File{}
	for _, f := range p.Files {
		if f.Artifact.Role == githubsrc.RoleSignature {
			sigs[f.Artifact.Signs] = f
		}
	}
	for _, f := range p.Files {
		if f.Artifact.Role == githubsrc.RolePayload {
			payloads = append(payloads, f)
		}
	}
	return payloads, sigs
}

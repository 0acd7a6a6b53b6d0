package publisher

import (
	"context"
	"io"

	"github.com/otapub/ota-action/githubsrc"
)

// Releases is what the publisher needs from a release store;
// *githubsrc.Client has it.
type Releases interface {
	ReleasesByTag(ctx context.Context, repo githubsrc.Repo, tag string) ([]githubsrc.Release, error)
	ListReleases(ctx context.Context, repo githubsrc.Repo, prev *githubsrc.Listing) (*githubsrc.Listing, error)
	Latest(ctx context.Context, repo githubsrc.Repo) (githubsrc.Release, error)
	Release(ctx context.Context, repo githubsrc.Repo, id int64) (githubsrc.Release, error)
	Assets(ctx context.Context, repo githubsrc.Repo, releaseID int64) ([]githubsrc.Asset, error)
	CreateDraft(ctx context.Context, repo githubsrc.Repo, nr githubsrc.NewRelease) (githubsrc.Release, error)
	EditRelease(ctx context.Context, repo githubsrc.Repo, id int64, e githubsrc.ReleaseEdit) (githubsrc.Release, error)
	DeleteRelease(ctx context.Context, repo githubsrc.Repo, id int64) error
	PutAsset(ctx context.Context, repo githubsrc.Repo, rel githubsrc.Release, u githubsrc.AssetUpload) (githubsrc.Asset, int, error)
	HasBytes(ctx context.Context, repo githubsrc.Repo, a githubsrc.Asset, size int64, sha256 string) (bool, error)
	RenameAsset(ctx context.Context, repo githubsrc.Repo, assetID int64, name string) (githubsrc.Asset, error)
	DeleteAsset(ctx context.Context, repo githubsrc.Repo, assetID int64) error
	OpenAsset(ctx context.Context, repo githubsrc.Repo, assetID int64) (io.ReadCloser, error)
	ImmutableReleases(ctx context.Context, repo githubsrc.Repo) (bool, error)
}

var _ Releases = (*githubsrc.Client)(nil)

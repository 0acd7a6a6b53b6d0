package githubsrc_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
)

const uploadRoute = "POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets"

func TestPutAsset(t *testing.T) {
	t.Parallel()
	data := []byte("the payload bytes")
	sum := sha256.Sum256(data)
	put := githubsrc.AssetUpload{Name: "App_1.0.0_amd64.deb", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	tests := []struct {
		name      string
		setup     func(gh *githubsrctest.Server)
		attempts  int
		uploads   int
		wantErr   string
		noDigests bool
		taken     bool // another file has the name already
	}{
		{name: "first time", attempts: 1, uploads: 1},
		{name: "a 502 that landed is read back, not sent again", attempts: 1, uploads: 1, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", Status: http.StatusBadGateway, Apply: true})
		}},
		{name: "the same without digests", attempts: 1, uploads: 1, noDigests: true, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", Status: http.StatusBadGateway, Apply: true})
		}},
		{name: "a lost answer meets 422 already_exists, then reads back", attempts: 2, uploads: 2, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", Status: http.StatusBadGateway, Apply: true})
			gh.Inject(githubsrctest.Fault{Match: "/assets?", Status: http.StatusServiceUnavailable, Times: 4}) // the first read-back cannot tell
		}},
		{name: "a dropped upload is deleted and sent again", attempts: 2, uploads: 2, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", DropAfter: 5})
		}},
		{name: "a dropped upload not read back meets 422, is deleted and sent again", attempts: 3, uploads: 3, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", DropAfter: 5})
			gh.Inject(githubsrctest.Fault{Match: "/assets?", Status: http.StatusServiceUnavailable, Times: 4})
		}},
		{name: "a secondary rate limit is waited out", attempts: 2, uploads: 2, setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", RetryAfter: time.Second, Status: http.StatusForbidden})
		}},
		{name: "other bytes under the name are an error", attempts: 1, uploads: 1, taken: true, wantErr: "appeared on the release with other bytes", setup: func(gh *githubsrctest.Server) {
			gh.Inject(githubsrctest.Fault{Match: "POST /api/uploads", Status: http.StatusBadGateway})
		}},
		{name: "a refused upload is not retried", attempts: 1, uploads: 1, wantErr: "size must be less than or equal to 4", setup: func(gh *githubsrctest.Server) {
			gh.SetUploadLimit(4)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubsrctest.NewServer(t)
			gh.AddRepo(fullName, githubsrctest.RepoOptions{})
			gh.SetNoDigests(tt.noDigests)
			c := newClient(t, gh, githubsrctest.Token, githubsrc.Retry{MaxRateLimitWait: 5 * time.Second})
			rel, err := c.CreateDraft(t.Context(), repo, githubsrc.NewRelease{Tag: "v1.0.0"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.taken {
				if _, err := c.Upload(t.Context(), repo, rel, put.Name, strings.NewReader("other bytes here!"), 17); err != nil {
					t.Fatal(err)
				}
				gh.ResetCounts()
			}
			if tt.setup != nil {
				tt.setup(gh)
			}
			a, attempts, err := c.PutAsset(t.Context(), repo, rel, put)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("PutAsset = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case a.Name != put.Name || a.Size != put.Size || !a.Uploaded():
				t.Errorf("PutAsset = %+v", a)
			}
			if attempts != tt.attempts || gh.Count(uploadRoute) != tt.uploads {
				t.Errorf("%d attempts, %d uploads; want %d, %d", attempts, gh.Count(uploadRoute), tt.attempts, tt.uploads)
			}
			if tt.wantErr == "" {
				assets, err := c.Assets(t.Context(), repo, rel.ID)
				if err != nil || len(assets) != 1 {
					t.Errorf("the release has %d assets (%v), want the one", len(assets), err)
				}
			}
		})
	}
}

package publisher_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc"
	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/githubsrc/taurisig"
	"github.com/otapub/ota-action/publisher"
)

const testdataDir = "../testdata"

var repo = githubsrc.Repo{Owner: "demo-org", Name: "demo-app"}

const fullName = "demo-org/demo-app"

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixtureCopy copies a fixture folder into a temporary one the test may change.
func fixtureCopy(t testing.TB, dir string, skip ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(dir))
	check(t, os.CopyFS(out, os.DirFS(filepath.Join(testdataDir, "fixtures", dir))))
	for _, s := range skip {
		check(t, os.Remove(filepath.Join(out, s)))
	}
	return out
}

func pubkey(t testing.TB, name string) minisign.PublicKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "fixtures", "keys", name))
	check(t, err)
	k, err := taurisig.ParsePublicKey(string(b))
	check(t, err)
	return k
}

// client is a client of gh on a fake clock: its retries wait no real time.
func client(t testing.TB, gh *githubsrctest.Server) *githubsrc.Client {
	t.Helper()
	c, _ := clockedClient(t, gh)
	return c
}

// clockedClient is client, and the fake clock its retries wait on.
func clockedClient(t testing.TB, gh *githubsrctest.Server) (*githubsrc.Client, *githubsrctest.Clock) {
	t.Helper()
	clock := githubsrctest.NewClock(time.Now())
	c, err := githubsrc.New(githubsrc.Options{Token: githubsrctest.Token, APIURL: gh.APIURL, Now: clock.Now,
		Retry: githubsrc.Retry{Attempts: 5, MaxRateLimitWait: 5 * time.Second, Sleep: clock.Sleep}})
	check(t, err)
	return c, clock
}

// plan collects, hashes and plans paths for tag.
func plan(t testing.TB, tag string, paths ...string) publisher.Plan {
	t.Helper()
	files, _, err := publisher.Collect(paths)
	check(t, err)
	check(t, publisher.Hash(context.Background(), files, 4))
	p, err := publisher.NewPlan(tag, files, publisher.PlanOptions{})
	check(t, err)
	return p
}

func uploadOpts() publisher.UploadOptions {
	return publisher.UploadOptions{Repo: repo, Target: "0123456789abcdef0123456789abcdef01234567", Log: slog.New(slog.DiscardHandler)}
}

var allTauriV2 = []string{"darwin-aarch64", "darwin-x86_64", "linux-x86_64", "linux-x86_64-deb", "linux-x86_64-rpm", "windows-x86_64", "windows-x86_64-msi", "windows-aarch64"}

func platforms(t testing.TB, keys ...string) []githubsrc.Platform {
	t.Helper()
	var out []githubsrc.Platform
	for _, k := range keys {
		p, err := githubsrc.ParsePlatform(k)
		check(t, err)
		out = append(out, p)
	}
	return out
}

func verifyOpts(t testing.TB, tag string, pub *minisign.PublicKey, require ...string) publisher.VerifyOptions {
	return publisher.VerifyOptions{Repo: repo, Tag: tag, Require: platforms(t, require...), PubKey: pub}
}

// assetByName finds an asset of the fake's newest release of the repo.
func assetByName(t testing.TB, gh *githubsrctest.Server, tag, name string) githubsrc.Asset {
	t.Helper()
	for _, r := range gh.Releases(fullName) {
		if r.Tag != tag {
			continue
		}
		for _, a := range r.Assets {
			if a.Name == name {
				return a
			}
		}
	}
	t.Fatalf("no asset %s on %s", name, tag)
	return githubsrc.Asset{}
}

func problemsOf(err error) []publisher.Problem {
	if ie, ok := err.(*publisher.IncompleteError); ok {
		return ie.Problems
	}
	return nil
}

func hasProblem(problems []publisher.Problem, check, asset, text string) bool {
	for _, p := range problems {
		if p.Check == check && (asset == "" || p.Asset == asset) && strings.Contains(p.Message, text) && p.Fix != "" {
			return true
		}
	}
	return false
}

func readFixture(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(testdataDir, "fixtures", path))
}

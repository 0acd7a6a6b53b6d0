package publisher

import (
	"os"
	"path/filepath"
	"sync"

	"aead.dev/minisign"

	"github.com/otapub/ota-action/githubsrc/taurisig"
)

// FixtureKey returns the fixture secret key testdata/fixtures/keys/name
// (empty password), parsed once per test binary for this package's tests
// and publisher_test's: parsing runs scrypt, about 0.1 s of CPU and 32 MiB,
// and parallel tests asking at once would each pay it.
func FixtureKey(name string) (minisign.PrivateKey, error) {
	parse, _ := fixtureKeys.LoadOrStore(name, sync.OnceValues(func() (minisign.PrivateKey, error) {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "keys", name))
		if err != nil {
			return minisign.PrivateKey{}, err
		}
		return taurisig.ParsePrivateKey(string(b), "")
	}))
	return parse.(func() (minisign.PrivateKey, error))()
}

var fixtureKeys sync.Map // name -> func() (minisign.PrivateKey, error), a sync.OnceValues

// Package githubsrc reads and writes GitHub Releases and owns the release
// vocabulary that the publisher and the proxy share. It is the only package
// that imports go-github and oauth2.
//
// Start with New for a Client, Classify for what a file is, and
// githubsrctest for a fake GitHub to test against.
//
// Where things go:
//
//   - Release nouns (Repo, Release, Asset): release.go. Names GitHub gives
//     assets: assetname.go. Versions in tags and names: version.go.
//   - What a file is (platform key, role): platform.go and artifact.go,
//     tabled and fuzzed; which payloads a release offers updaters:
//     payloads.go. A new artifact rule is a row in artifact_test.go first.
//   - File formats both sides read: channelfile.go (electron-updater's
//     latest*.yml), taurisig/ (Tauri's .sig). A new format that the
//     publisher writes and the proxy serves goes here, beside them.
//   - Electron, one model for the server's feeds and the publisher's
//     rules: channeldoc.go keeps every field of a channel file to serve or
//     edit it (ChannelDoc; ChannelFile is the typed, lossy view);
//     channelmerge.go unites the files several jobs wrote under one name;
//     channelpick.go says which file each electron-updater client takes
//     and which channel file it asks for. squirrel/ holds Squirrel's
//     RELEASES, Squirrel.Mac's update JSON and pub_date, and the platform
//     spellings of hazel and update.electronjs.org.
//   - Talking to GitHub: client.go runs every request under one Retry
//     policy (one clock, one Sleep, one rate-limit wait: errors.go);
//     releases.go and assets.go are the calls; put.go uploads with retries
//     and reads back after ambiguous failures. A new call builds its
//     request and goes through Client.do (or Client.retrying), never its
//     own loop.
package githubsrc

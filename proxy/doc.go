// Package proxy is otapub's update server: it answers desktop updaters'
// checks from a cached snapshot of each app's published releases and
// redirects downloads to GitHub (or serves them from a local folder).
//
// Start with New and Server.Handler. Where things are:
//
//   - routes.go: the route table, the one statement of every route; the
//     mux, the reserved slugs and the "no such route" hint are built from
//     it. fastpath.go answers the check and download routes, and any route
//     with a plain handler (route.plain: /ota/{sequence}), without the mux,
//     and TestFastPathAgreesWithTheMux (routes_test.go) holds them equal.
//   - cache.go: one refresh at a time per app (singleflight), TTL,
//     stale-while-revalidate, backoff and rate limits, and the bound on
//     cached apps (eviction by use; an evicted app keeps its listing,
//     texts and what parsing them gave, facts.go, and rebuilds from them
//     without parsing again). A refresh lists the releases, fetches
//     the small texts the feeds ask for (in rounds: only what they answer
//     with) and builds a Snapshot.
//   - index.go: the Snapshot and its feed-agnostic Index (releases, assets,
//     fetched texts), which /download serves from (download.go).
//   - feed_tauri.go and tauri.go: the Tauri / cargo-packager feed and its
//     wire contract.
//   - feed_ota.go: the hot-swap bundle feed (tauri-plugin-hotswap's
//     /ota/{current_sequence}); bundle releases are never native updates.
//   - feed_electron.go: electron-updater's generic provider
//     (/electron/{file}): channel files (latest*.yml, beta*.yml) from the
//     newest release with a complete one, and the files they list.
//   - feed_squirrel.go: Electron's built-in autoUpdater and
//     update-electron-app in hazel's and update.electronjs.org's route
//     shapes (Squirrel.Mac's JSON, Squirrel.Windows' RELEASES; the
//     latter's /{owner}/{repo}/… for served repositories only), and
//     /download/latest/{platform} (and hazel's /download/{platform}) for
//     websites.
//   - download.go and webhook.go: the routes every feed shares;
//     serveAsset is the one place a redirect (signed for a private
//     repository) or a local file is served.
//   - server.go: the Server, middleware, and errors mapped to statuses.
//   - source.go, github.go, dir.go: where releases come from (GitHub, or a
//     local folder through githubsrc/localdir).
//
// A new client family is a new feed: a file
// feed_<family>.go with a type that implements feed (texts: the small
// assets whose contents it needs, such as latest*.yml or RELEASES; build:
// its answer tables from the Index, kept in a field of Snapshot; routes:
// its routes, pre-encoded answers so its hot path stays a lookup), listed
// in feeds (routes.go). Its routes then reach the mux, the reserved slugs
// and the fast path's deference by themselves. Its tests go in
// feed_<family>_test.go (package proxy_test, through Server.Handler with
// newEnv over the fake GitHub, helpers_test.go); add its paths to
// TestFastPathAgreesWithTheMux, and its metrics to the README. A route
// whose check must not allocate gets a plain handler (route.plain), as
// /ota/{sequence} has.
package proxy

// Package publisher puts a desktop app's build outputs on a GitHub draft
// release, proves the draft complete and correctly signed, and publishes
// it: plan (pure) -> upload (I/O) -> verify -> publish.
//
// Start with Collect and NewPlan for the files, Upload, Verify and Publish
// for the three commands. Releases is all it needs from GitHub.
//
// Where things go:
//
//   - files.go, plan.go: what to upload. upload.go: the draft, what to
//     skip, replace or repair, and putAsset, the one way upload and
//     publish write an asset (retries are githubsrc's).
//   - verify.go: Verify finds the release and reads it through
//     ReleaseFiles (GitHub today; a local folder can implement it) and
//     evidence, a reader that fetches each file at most once and computes
//     SHA-256 where an asset has no digest.
//   - checks.go: the checks, one function each, run in the order of the
//     checks table. A new verify check is a func(ctx, *verification)
//     error that asks v.ev for what it needs (Text, SHA256, SHA512,
//     Signature) and reports with v.add(Problem{...}), plus one row in
//     checks; a new table column is a Check* constant in Columns. A test
//     in flow_test.go's TestVerifyNamesEveryProblem breaks a release the
//     new way and names the problem.
//   - electron.go: every Electron rule (channel files, SHA-512s, names,
//     blockmaps, RELEASES). Upload puts each job's channel file up as a
//     part (ChannelPartName) so matrix jobs never overwrite each other;
//     verify merges the parts (githubsrc.MergeChannelDocs), each entry's
//     size and SHA-512 taken from the bytes, and judges a release with
//     channel files and no signed Tauri payload by the Electron rules
//     alone (its rows' Lane is LaneElectron, their columns
//     ElectronColumns); publish writes the merged files.
//   - bundle.go: frontend hot-swap bundles (githubsrc/ota): the plan of
//     archive, .sig and metadata, and the global sequence checks.
//     bundle_verify.go: the bundle lane of verify. A release carrying
//     ota.MetadataName is judged by checkBundle alone; the native checks
//     see no payloads and require no platform of it.
//   - publish.go: latest.json, the merged latest*.yml and SHA256SUMS from
//     what verify read, then the flip.
package publisher

// Drives the real electron-updater client code (npm electron-updater and
// builder-util-runtime, pinned in package.json) for otapub's end-to-end
// tests, under plain Node: no Electron.
//
// Usage: node electron-updater.js '<json>' where json is
//   {"checks": [{"name", "feedURL", "channel"?, "platform": "darwin"|"win32"|"linux",
//     "arch": "x64"|"arm64"|..., "packageType"?: "deb"|"rpm"|"pacman",
//     "headers"?: {...}, "download"?: true}]}
// It prints one JSON line per check:
//   {"name", "channelFile", "version", "files": [{"url", "sha512", "size"}],
//    "picked": "<url>", "downloaded": <bytes>, "error": "<message>", "code": "<error code>",
//    "requests": [{"method", "url", "headers"}]}
//
// What is electron-updater's own code and what is ours (electron-updater
// 6.8.10, the compiled out/ files; sources are the .ts files of the same
// names in electron-userland/electron-builder, packages/electron-updater/src):
//   - providers/GenericProvider.ts: the provider, its channel-file name
//     (Provider.getChannelFilePrefix: "-mac", "", "-linux", "-linux-<arch>"),
//     getLatestVersion() (channel URL via util.ts newUrlFromBase, with the
//     ?noCache= query when the updater's isAddNoCacheQuery says so; 404 ->
//     ERR_UPDATER_CHANNEL_FILE_NOT_FOUND) and resolveFiles().
//   - providers/Provider.ts findFile(): the file an updater picks, called with
//     the same arguments as NsisUpdater.ts ("exe"), AppImageUpdater.ts
//     ("AppImage", not rpm/deb/pacman), Deb/Rpm/PacmanUpdater.ts and
//     MacUpdater.ts ("zip", not pkg/dmg), after MacUpdater.filterFilesForArch
//     (the static method itself; MacUpdater only requires electron in its
//     constructor). findFile and getChannelFilePrefix read process.arch, so
//     each check overrides process.arch with its "arch".
//   - AppUpdater.ts: the channel setter, the isAddNoCacheQuery getter,
//     computeFinalHeaders and computeRequestHeaders, on an object with
//     AppUpdater's prototype that is never constructed, whose requestHeaders
//     are the check's "headers"; so requests carry AppUpdater's headers:
//     x-user-staging-id on the channel file (as getUpdateInfoAndProvider sets
//     it), accept */* on downloads, and an Authorization or Private-Token
//     header drops the ?noCache= query.
//   - electronHttpExecutor.ts ElectronHttpExecutor.download(): the download
//     an updater runs (builder-util-runtime httpExecutor.ts doDownload, which
//     follows Location redirects and pipes through DigestTransform, checking
//     the sha512: ERR_CHECKSUM_MISMATCH). Only the transport is ours:
//     createRequest uses Node's http/https, like builder-util's
//     NodeHttpExecutor (packages/builder-util/src/nodeHttpExecutor.ts), and
//     addRedirectHandlers is builder-util-runtime's Node no-op again (Electron's
//     net emits "redirect" events; Node's http hands the 3xx to doDownload).
//   - DownloadedUpdateHelper.ts createTempUpdateFile() names the temp file
//     the way AppUpdater.executeDownload does.
// Not exercised: AppUpdater's version comparison, staging percentages,
// differential (blockmap) downloads and installing.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const os = require("os");
const path = require("path");
const { HttpExecutor, CancellationToken, UUID } = require("builder-util-runtime");
const { GenericProvider } = require("electron-updater/out/providers/GenericProvider");
const { findFile } = require("electron-updater/out/providers/Provider");
const { getChannelFilename } = require("electron-updater/out/util");
const { AppUpdater } = require("electron-updater/out/AppUpdater");
const { MacUpdater } = require("electron-updater/out/MacUpdater");
const { ElectronHttpExecutor } = require("electron-updater/out/electronHttpExecutor");
const { createTempUpdateFile } = require("electron-updater/out/DownloadedUpdateHelper");

// Logs go to stderr: stdout is one JSON line per check.
const log = { info: (m) => console.error(m), warn: (m) => console.error(m), error: (m) => console.error(m) };

// ElectronHttpExecutor with Node's transport (see above); it records each
// request it makes, redirects included.
class NodeExecutor extends ElectronHttpExecutor {
  constructor(requests) {
    super(null);
    this.requests = requests;
  }
  createRequest(options, callback) {
    const port = options.port ? `:${options.port}` : "";
    this.requests.push({
      method: options.method || "GET",
      url: `${options.protocol || "https:"}//${options.hostname}${port}${options.path}`,
      headers: { ...options.headers },
    });
    return (options.protocol === "http:" ? http : https).request(options, callback);
  }
  addRedirectHandlers(request, options, reject, redirectCount, handler) {
    HttpExecutor.prototype.addRedirectHandlers.call(this, request, options, reject, redirectCount, handler);
  }
}

// The stand-in for an AppUpdater: an object with AppUpdater's prototype
// that is never constructed (the constructor wants an Electron app), holding
// only what GenericProvider and the header logic read: the channel
// (autoUpdater.channel = ..., the setter) and requestHeaders.
function updaterFor(c) {
  const updater = Object.create(AppUpdater.prototype);
  updater._channel = null;
  updater.requestHeaders = c.headers || null;
  if (c.channel) updater.channel = c.channel;
  return updater;
}

// The file each platform's updater downloads (see above).
function pick(files, c) {
  switch (c.platform) {
    case "win32":
      return findFile(files, "exe");
    case "darwin":
      return findFile(MacUpdater.filterFilesForArch(files, c.arch === "arm64"), "zip", ["pkg", "dmg"]);
    case "linux":
      switch (c.packageType || "AppImage") {
        case "AppImage":
          return findFile(files, "AppImage", ["rpm", "deb", "pacman"]);
        case "deb":
          return findFile(files, "deb", ["AppImage", "rpm", "pacman"]);
        case "rpm":
          return findFile(files, "rpm", ["AppImage", "deb", "pacman"]);
        case "pacman":
          return findFile(files, "pacman", ["AppImage", "deb", "rpm"]);
      }
  }
  throw new Error(`unsupported platform ${c.platform} / packageType ${c.packageType}`);
}

async function run(c, tmp) {
  const out = { name: c.name, requests: [] };
  // getChannelFilePrefix reads TEST_UPDATER_ARCH before process.arch.
  delete process.env.TEST_UPDATER_ARCH;
  Object.defineProperty(process, "arch", { value: c.arch || "x64", configurable: true, enumerable: true });
  try {
    const executor = new NodeExecutor(out.requests);
    const updater = updaterFor(c);
    // providerFactory.ts createClient, case "generic".
    const provider = new GenericProvider({ provider: "generic", url: c.feedURL }, updater, {
      isUseMultipleRangeRequest: true,
      platform: c.platform,
      executor,
    });
    out.channelFile = getChannelFilename(provider.channel);
    // AppUpdater.getUpdateInfoAndProvider: the staging id header.
    provider.setRequestHeaders(updater.computeFinalHeaders({ "x-user-staging-id": UUID.v5(crypto.randomBytes(4096), UUID.OID) }));
    const info = await provider.getLatestVersion();
    out.version = info.version;
    const files = provider.resolveFiles(info);
    out.files = files.map((f) => ({ url: f.url.href, sha512: f.info.sha512, size: f.info.size }));
    const file = pick(files, c);
    out.picked = file.url.href;
    if (c.download) {
      // AppUpdater.executeDownload's downloadOptions, and the updaters' task.
      const name = path.basename(decodeURIComponent(file.url.pathname));
      const dest = await createTempUpdateFile(`temp-${name}`, tmp, log);
      await executor.download(file.url, dest, {
        headers: updater.computeRequestHeaders(provider),
        cancellationToken: new CancellationToken(),
        sha2: file.info.sha2,
        sha512: file.info.sha512,
      });
      out.downloaded = fs.statSync(dest).size;
      fs.rmSync(dest, { force: true });
    }
  } catch (e) {
    out.error = String((e && e.message) || e);
    if (e && e.code) out.code = String(e.code);
  }
  return out;
}

(async () => {
  const cfg = JSON.parse(process.argv[2]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "otapub-electron-updater-"));
  try {
    for (const c of cfg.checks) {
      process.stdout.write(JSON.stringify(await run(c, tmp)) + "\n");
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // Exit now: builder-util-runtime's doDownload never reads the body of a
  // redirect (Electron's net follows redirects itself), so under Node that
  // response keeps its socket, and the process, alive until the 60 s
  // request timeout.
  process.stdout.write("", () => process.exit(0));
})().catch((e) => {
  console.error(e);
  process.exit(2);
});

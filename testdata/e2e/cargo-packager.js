// Drives the real cargo-packager updater (the @crabnebula/updater Node
// binding, a prebuilt Rust library) for otapub's end-to-end tests.
//
// Usage: node cargo-packager.js '<json>' where json is
//   {"pubkey": "<base64>", "checks": [{"name", "current", "endpoints": [...],
//     "target"?, "headers"?, "download"?: true}]}
// It prints one JSON line per check:
//   {"name", "update": null | {"version", "downloadUrl", "format", "date", "signature"},
//    "downloaded": <bytes>, "error": "<message>"}
// download() verifies the minisign signature itself; install() is never called.
"use strict";
const updater = require("@crabnebula/updater-linux-x64-gnu");

const formats = { 0: "nsis", 1: "wix", 2: "appimage", 3: "app" };

async function run(pubkey, c) {
  const out = { name: c.name };
  try {
    const opts = { endpoints: c.endpoints, pubkey, timeout: 20000 };
    if (c.target) opts.target = c.target;
    if (c.headers) opts.headers = c.headers;
    const up = await updater.checkUpdate(c.current, opts);
    out.update = up && {
      version: up.version,
      downloadUrl: up.downloadUrl,
      format: formats[up.format],
      date: up.date,
      signature: up.signature,
    };
    if (up && c.download) {
      const buf = await up.download();
      out.downloaded = buf.byteLength;
    }
  } catch (e) {
    out.error = String((e && e.message) || e);
  }
  return out;
}

(async () => {
  const cfg = JSON.parse(process.argv[2]);
  for (const c of cfg.checks) {
    process.stdout.write(JSON.stringify(await run(cfg.pubkey, c)) + "\n");
  }
})().catch((e) => {
  console.error(e);
  process.exit(2);
});

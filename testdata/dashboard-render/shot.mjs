// Serves render.html (which draws the dashboard JSON from Prometheus) and
// screenshots it with Debian's Chromium through playwright-core.
//
//	node shot.mjs --prometheus URL --start UNIX --end UNIX --dashboard JSON --out PNG [--scrape SECONDS]
//
// Exits 1 when a panel has no data or a query failed (the PNG is written anyway).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: arg } = parseArgs({
  options: {
    prometheus: { type: 'string' }, start: { type: 'string' }, end: { type: 'string' },
    dashboard: { type: 'string' }, out: { type: 'string' }, scrape: { type: 'string', default: '1' },
    width: { type: 'string', default: '1600' },
  },
});
for (const k of ['prometheus', 'start', 'end', 'dashboard', 'out']) {
  if (!arg[k]) {
    console.error(`shot.mjs: --${k} is required`);
    process.exit(2);
  }
}

const files = {
  '/': [path.join(here, 'render.html'), 'text/html'],
  '/render.js': [path.join(here, 'render.js'), 'text/javascript'],
  '/dashboard.json': [path.resolve(arg.dashboard), 'application/json'],
  '/uplot/uPlot.iife.min.js': [path.join(here, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'text/javascript'],
  '/uplot/uPlot.min.css': [path.join(here, 'node_modules/uplot/dist/uPlot.min.css'), 'text/css'],
};
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/v1/')) {
    try {
      const up = await fetch(arg.prometheus.replace(/\/$/, '') + url.pathname + url.search);
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await up.arrayBuffer()));
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
    return;
  }
  if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
  const f = files[url.pathname];
  if (!f) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': f[1] });
  fs.createReadStream(f[0]).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'otapub-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: Number(arg.width), height: 900 },
  deviceScaleFactor: 1,
  timezoneId: 'UTC',
  colorScheme: 'dark',
});
let failed = false;
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  page.on('pageerror', (e) => console.error('page:', e.message));
  await page.goto(`${base}/?start=${arg.start}&end=${arg.end}&scrape=${arg.scrape}`);
  await page.waitForFunction(() => window.renderReport, null, { timeout: 120000 });
  const report = await page.evaluate(() => window.renderReport);
  for (const p of report) {
    const bad = p.error || !p.points;
    failed ||= Boolean(bad);
    console.log(`${bad ? 'NO DATA' : 'ok     '} ${p.type ?? ''} ${p.title}: ${p.series ?? 0} series, ${p.points ?? 0} points` +
      (p.step ? ` (step ${p.step}s, rate ${p.rateInterval}s)` : '') + (p.names?.length ? ` [${p.names.join(', ')}]` : '') + (p.error ? ` ${p.error}` : ''));
  }
  await page.screenshot({ path: arg.out, fullPage: true });
  console.log(`wrote ${arg.out} (${Math.round(fs.statSync(arg.out).size / 1024)} KB)`);
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

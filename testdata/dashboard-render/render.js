// Draws a Grafana dashboard JSON the way Grafana would, closely enough for a
// README screenshot: each panel's targets[].expr is sent to Prometheus's
// query_range API (through shot.mjs, which serves this page) over the run's
// window, with the dashboard's variables and Grafana's $__interval and
// $__rate_interval worked out as Grafana does, and drawn with uPlot in the
// panel's gridPos. Supports what otapub-dashboard.json uses: row, stat and
// timeseries panels; units; stacking (normal, percent); overrides by name or
// regexp of color, fillOpacity, lineWidth, unit, min/max, axisPlacement and
// stacking. Sets window.renderReport when done.
'use strict';

const params = new URLSearchParams(location.search);
const START = Number(params.get('start'));
const END = Number(params.get('end'));
// The Prometheus data source's "Scrape interval" setting, in seconds.
const SCRAPE = Number(params.get('scrape') || 15);

const COLS = 24, CELL_H = 30, MARGIN = 8;
const TEXT = '#ccccdc', DIM = 'rgba(204, 204, 220, 0.65)', GRID = 'rgba(204, 204, 220, 0.08)';
const NAMED = {
  green: '#73BF69', 'dark-green': '#37872D', blue: '#5794F2', 'dark-blue': '#1F60C4', orange: '#FF9830',
  red: '#F2495C', 'dark-red': '#C4162A', yellow: '#FADE2A', purple: '#B877D9', text: TEXT, transparent: 'rgba(0,0,0,0)',
};
// Grafana's palette-classic.
const PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0',
  '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477'];
const color = (c) => NAMED[c] || c;
function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

// --- units ---

function decimalsFor(v, dec) {
  if (dec !== undefined && dec !== null) return dec;
  const a = Math.abs(v);
  if (a === 0 || a >= 100) return 0;
  if (a >= 10) return 1;
  if (a >= 1) return 2;
  return Math.min(4, 1 - Math.floor(Math.log10(a)));
}
const trim = (s) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
function fmt(unit, v, dec, keepZeros) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'No data';
  const f = (x) => { const s = x.toFixed(decimalsFor(x, dec)); return keepZeros ? s : trim(s); };
  switch (unit) {
    case 'percentunit': return f(v * 100) + '%';
    case 'percent': return f(v) + '%';
    case 'reqps': return f(v) + ' req/s';
    case 's': {
      const a = Math.abs(v);
      if (a === 0) return '0 s';
      if (a < 1e-3) return f(v * 1e6) + ' µs';
      if (a < 1) return f(v * 1e3) + ' ms';
      return f(v) + ' s';
    }
    case 'locale': return v.toLocaleString('en-US', { maximumFractionDigits: dec ?? 0 });
    case 'short': {
      const a = Math.abs(v);
      if (a >= 1e6) return f(v / 1e6) + ' Mil';
      if (a >= 1e3) return f(v / 1e3) + ' K';
      return f(v);
    }
    default: return f(v);
  }
}
// Axis labels: as many decimals as the tick step needs.
function axisValues(unit) {
  return (u, splits, ax, space, incr) => {
    const scale = unit === 'percentunit' ? 100 : unit === 's' ? (Math.max(...splits.map(Math.abs)) < 1 ? 1000 : 1) : 1;
    let dec = 0; // as many as the step needs: 2.5 → 1
    while (dec < 6 && Math.abs(incr * scale * 10 ** dec - Math.round(incr * scale * 10 ** dec)) > 1e-6 * 10 ** dec) dec++;
    return splits.map((v) => fmt(unit, v, unit === 'short' || unit === 'locale' ? undefined : dec));
  };
}

// --- Grafana's interval arithmetic ---

function roundInterval(ms) {
  const steps = [[15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000],
    [7500, 5000], [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000], [90000, 60000], [210000, 120000],
    [450000, 300000], [750000, 600000], [1050000, 900000], [1500000, 1200000], [2700000, 1800000], [5400000, 3600000]];
  for (const [lim, v] of steps) if (ms < lim) return v;
  return 7200000;
}
function intervals(width) {
  const intervalMs = Math.max(SCRAPE * 1000, roundInterval(((END - START) * 1000) / Math.max(width, 1)));
  const step = intervalMs / 1000;
  const rateInterval = Math.max(step + SCRAPE, 4 * SCRAPE);
  return { step, rateInterval };
}

// --- variables and queries ---

const vars = {};
function interpolate(expr, iv) {
  return expr
    .replaceAll('$__rate_interval', `${iv.rateInterval}s`)
    .replaceAll('$__interval', `${iv.step}s`)
    .replaceAll('$__range', `${END - START}s`)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => (vars[a || b] !== undefined ? vars[a || b] : m));
}
async function queryRange(expr, iv) {
  const start = Math.floor(START / iv.step) * iv.step;
  const end = Math.ceil(END / iv.step) * iv.step;
  const q = new URLSearchParams({ query: interpolate(expr, iv), start, end, step: iv.step });
  const resp = await fetch('/api/v1/query_range?' + q);
  const body = await resp.json();
  if (body.status !== 'success') throw new Error(`${body.error}: ${q.get('query')}`);
  return { start, end, result: body.data.result };
}
function legendName(fmtStr, metric) {
  if (fmtStr) return fmtStr.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, l) => metric[l] ?? '');
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`);
  return (metric.__name__ || '') + (labels.length ? `{${labels.join(', ')}}` : '');
}

// Runs a panel's targets and returns {xs, series:[{name, values, refId}]} on one time grid.
async function panelData(panel, width) {
  const iv = intervals(width);
  const series = [];
  let xs = null;
  for (const t of panel.targets || []) {
    if (t.hide) continue;
    const r = await queryRange(t.expr, iv);
    if (!xs) {
      xs = [];
      for (let x = r.start; x <= r.end; x += iv.step) xs.push(x);
    }
    const got = r.result.map((s) => {
      const byT = new Map(s.values.map(([ts, v]) => [Math.round(ts / iv.step), Number(v)]));
      return {
        name: legendName(t.legendFormat, s.metric), refId: t.refId,
        values: xs.map((x) => { const v = byT.get(Math.round(x / iv.step)); return v === undefined || !Number.isFinite(v) ? null : v; }),
      };
    });
    got.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    series.push(...got);
  }
  return { xs: xs || [], series, iv };
}

// --- field config and overrides ---

function fieldConfig(panel, name, index) {
  const d = panel.fieldConfig?.defaults || {};
  const fc = { ...d, custom: { ...(d.custom || {}) } };
  for (const o of panel.fieldConfig?.overrides || []) {
    const m = o.matcher || {};
    let hit = false;
    if (m.id === 'byName') hit = m.options === name;
    if (m.id === 'byRegexp') {
      const src = String(m.options).replace(/^\/(.*)\/$/, '$1');
      hit = new RegExp(src).test(name);
    }
    if (!hit) continue;
    for (const p of o.properties || []) {
      if (p.id.startsWith('custom.')) fc.custom[p.id.slice(7)] = p.value;
      else fc[p.id] = p.value;
    }
  }
  if (fc.color?.mode === 'fixed') fc.stroke = color(fc.color.fixedColor);
  else fc.stroke = PALETTE[index % PALETTE.length];
  return fc;
}
function thresholdColor(fc, v) {
  const steps = fc.thresholds?.steps || [];
  let c = steps.length ? steps[0].color : 'green';
  for (const s of steps) if (s.value !== null && v >= s.value) c = s.color;
  return color(c);
}

// --- drawing ---

function box(gridPos, W) {
  const colW = (W - (COLS - 1) * MARGIN) / COLS;
  return {
    left: gridPos.x * (colW + MARGIN), top: gridPos.y * (CELL_H + MARGIN),
    width: gridPos.w * colW + (gridPos.w - 1) * MARGIN, height: gridPos.h * CELL_H + (gridPos.h - 1) * MARGIN,
  };
}
function el(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function drawTimeseries(panel, body, data) {
  const W = body.clientWidth - 16;
  const fcs = data.series.map((s, i) => fieldConfig(panel, s.name, i));
  const legend = el('div', 'legend', body);
  data.series.forEach((s, i) => {
    if (fcs[i].custom.hideFrom?.legend) return;
    const item = el('span', null, legend);
    const sw = el('i', null, item);
    sw.style.background = fcs[i].stroke;
    item.appendChild(document.createTextNode(s.name));
  });
  const H = body.clientHeight - legend.offsetHeight - 8;
  legend.remove();

  // Stacking: cumulative sums per group, the percent mode normalised per point.
  const plotted = data.series.map((s) => s.values.slice());
  const groups = {};
  data.series.forEach((s, i) => {
    const st = fcs[i].custom.stacking;
    if (st && st.mode && st.mode !== 'none') (groups[`${st.group}/${st.mode}`] ??= []).push(i);
  });
  const bands = [];
  for (const [key, idx] of Object.entries(groups)) {
    const percent = key.endsWith('/percent');
    for (let p = 0; p < data.xs.length; p++) {
      const total = idx.reduce((a, i) => a + (data.series[i].values[p] ?? 0), 0);
      const any = idx.some((i) => data.series[i].values[p] !== null);
      let acc = 0;
      for (const i of idx) {
        const v = data.series[i].values[p] ?? 0;
        acc += percent ? (total > 0 ? v / total : 0) : v;
        plotted[i][p] = any ? acc : null;
      }
    }
    for (let k = 1; k < idx.length; k++) bands.push({ series: [idx[k] + 1, idx[k - 1] + 1] });
  }

  const scaleOf = (fc) => (fc.custom.axisPlacement === 'right' ? 'y2' : 'y');
  const d0 = panel.fieldConfig?.defaults || {};
  const rightFc = fcs.find((fc) => scaleOf(fc) === 'y2');
  const range = (fc) => (u, min, max) => {
    let lo = fc.min ?? Math.min(0, min ?? 0), hi = fc.max ?? max ?? 1;
    if (fc.custom.axisSoftMax !== undefined) hi = Math.max(hi, fc.custom.axisSoftMax);
    if (fc.max === undefined) {
      if (hi === lo) hi = lo + 1;
      const pad = (hi - lo) * 0.08;
      hi += pad;
      if (fc.min === undefined && min > 0) lo = Math.max(0, min - pad);
    }
    return [lo, hi];
  };
  const axis = (unit, side, scale) => ({
    scale, side, stroke: DIM, font: '11px Inter, Arial, sans-serif', size: 58, gap: 4,
    grid: { show: side === 3, stroke: GRID, width: 1 }, ticks: { show: false }, values: axisValues(unit),
  });
  const series = [{}].concat(data.series.map((s, i) => {
    const c = fcs[i].custom;
    const lw = c.lineWidth ?? 1;
    return {
      label: s.name, scale: scaleOf(fcs[i]), stroke: lw > 0 ? fcs[i].stroke : alpha(fcs[i].stroke, 0), width: Math.max(lw, 0.001),
      fill: c.fillOpacity ? alpha(fcs[i].stroke, c.fillOpacity / 100) : undefined,
      paths: c.lineInterpolation === 'stepAfter' ? uPlot.paths.stepped({ align: 1 })
        : c.lineInterpolation === 'smooth' ? uPlot.paths.spline() : uPlot.paths.linear(),
      points: { show: false }, spanGaps: c.spanNulls === true,
    };
  }));
  const log = d0.custom?.scaleDistribution?.type === 'log';
  const opts = {
    width: W, height: H, legend: { show: false }, cursor: { show: false }, bands,
    scales: { x: { time: true }, y: { range: range({ ...d0, custom: d0.custom || {} }) } },
    axes: [
      { stroke: DIM, font: '11px Inter, Arial, sans-serif', grid: { stroke: GRID, width: 1 }, ticks: { show: false }, size: 24, space: 60,
        incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400],
        values: (u, splits, ax, space, incr) => splits.map((v) => new Date(v * 1000).toISOString().slice(11, incr < 60 ? 19 : 16)) },
      axis(d0.unit, 3, 'y'),
    ],
    series,
  };
  if (log) {
    const base = d0.custom.scaleDistribution.log || 10;
    opts.scales.y = { distr: 3, log: base };
    // Grid and labels at the powers of the base only.
    opts.axes[1].splits = (u, i, min, max) => {
      const out = [];
      for (let e = Math.floor(Math.log(min) / Math.log(base) - 1e-9); base ** e <= max * (1 + 1e-9); e++) {
        if (base ** e >= min * (1 - 1e-9)) out.push(base ** e);
      }
      return out;
    };
    opts.axes[1].values = (u, splits) => splits.map((v) => fmt(d0.unit, v));
  }
  if (rightFc) {
    opts.scales.y2 = { range: range(rightFc) };
    opts.axes.push(axis(rightFc.unit, 1, 'y2'));
  }
  const holder = el('div', null, body);
  new uPlot(opts, [data.xs, ...plotted], holder);
  body.appendChild(legend);
}

function drawStat(panel, body, data) {
  const d = panel.fieldConfig?.defaults || {};
  const wrap = el('div', 'stat', body);
  const showName = panel.options?.textMode === 'value_and_name' || (panel.options?.textMode === 'auto' && data.series.length > 1);
  const n = data.series.length;
  data.series.forEach((s, i) => {
    const fc = fieldConfig(panel, s.name, i);
    const vals = s.values.filter((v) => v !== null);
    const last = vals.length ? vals[vals.length - 1] : null;
    const c = last === null ? DIM : thresholdColor(fc, last);
    const item = el('div', 'item', wrap);
    if (showName) el('div', 'name', item, s.name);
    const v = el('div', 'value', item, fmt(fc.unit, last, fc.decimals, true));
    v.style.color = c;
    if (n > 1) v.style.fontSize = '26px';
    if (panel.options?.graphMode === 'area' && n === 1 && vals.length > 1) {
      const H = Math.round(body.clientHeight * 0.42);
      const holder = el('div', null, wrap);
      holder.style.cssText = `position:absolute;left:0;right:0;bottom:0;height:${H}px`;
      const ys = s.values;
      let lo = Math.min(...vals), hi = Math.max(...vals);
      if (hi === lo) { hi += 1; lo -= 1; }
      new uPlot({
        width: body.clientWidth, height: H, legend: { show: false }, cursor: { show: false }, axes: [{ show: false }, { show: false }],
        scales: { x: { time: false }, y: { range: () => [lo - (hi - lo) * 0.1, hi + (hi - lo) * 0.05] } },
        series: [{}, { stroke: alpha(c.startsWith('#') ? c : '#73BF69', 0.9), width: 1, fill: alpha(c.startsWith('#') ? c : '#73BF69', 0.18), points: { show: false } }],
      }, [data.xs, ys], holder);
    }
  });
}

async function main() {
  const dash = await (await fetch('/dashboard.json')).json();
  document.title = dash.title;
  document.getElementById('title').textContent = dash.title;
  const t = (s) => new Date(s * 1000).toISOString().slice(11, 19);
  document.getElementById('range').textContent = `${new Date(START * 1000).toISOString().slice(0, 10)} ${t(START)} to ${t(END)} UTC`;
  const varBar = document.getElementById('vars');
  for (const v of dash.templating?.list || []) {
    let shown;
    if (v.type === 'datasource') shown = 'Prometheus';
    else if (v.includeAll) { vars[v.name] = v.allValue ?? '.*'; shown = 'All'; }
    if (v.hide === 2) continue;
    const e = el('div', 'var', varBar);
    el('span', null, e, v.label || v.name);
    el('span', null, e, shown ?? '');
  }

  const grid = document.getElementById('grid');
  const W = grid.clientWidth;
  const bottom = Math.max(...dash.panels.map((p) => p.gridPos.y + p.gridPos.h));
  grid.style.height = `${bottom * (CELL_H + MARGIN) - MARGIN}px`;
  const report = [];
  for (const panel of dash.panels) {
    const b = box(panel.gridPos, W);
    if (panel.type === 'row') {
      const r = el('div', 'row', grid, panel.title);
      Object.assign(r.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
      continue;
    }
    const p = el('div', 'panel', grid);
    Object.assign(p.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
    el('div', 'title', p, panel.title);
    const body = el('div', 'body', p);
    const entry = { title: panel.title, type: panel.type, series: 0, points: 0, names: [] };
    report.push(entry);
    try {
      const data = await panelData(panel, b.width);
      entry.series = data.series.length;
      entry.names = data.series.map((s) => s.name);
      entry.points = data.series.reduce((a, s) => a + s.values.filter((v) => v !== null).length, 0);
      entry.step = data.iv.step;
      entry.rateInterval = data.iv.rateInterval;
      if (!entry.points) el('div', 'nodata', body, 'No data');
      else if (panel.type === 'stat') drawStat(panel, body, data);
      else drawTimeseries(panel, body, data);
    } catch (err) {
      entry.error = String(err);
      el('div', 'nodata', body, 'Query error');
    }
  }
  window.renderReport = report;
}

main().catch((err) => { window.renderReport = [{ title: 'page', error: String(err && err.stack || err) }]; });

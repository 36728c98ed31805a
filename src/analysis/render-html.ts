// --format html: one self-contained page (inline CSS, SVG and a few lines of JS; nothing is
// fetched) with per-stage stacked bars of mult-adds and of memory access cost, a roofline plot
// with every layer placed, and sortable tables. The charts are static SVG computed here, so
// they render without scripts; the script only sorts tables.

import type { GroupRow, ModelAnalysis, RooflineSettings } from './analyze.js';
import { cell, groupColumns, int, pct, seconds, si, type Column } from './columns.js';
import { DELTA_METRICS, METRIC_TITLES, metricValue, modelLabel, type AnalysisReport, type ReportModel } from './report.js';

/** Charts show at most this many models (a sweep can have thousands); the tables show all. */
const MAX_CHART_MODELS = 50;

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** Horizontal bars, one per model, each stacked by stage. */
function stackedBars(title: string, metric: 'macs' | 'memAccess', models: readonly ReportModel[], stages: readonly GroupRow[][], unit: string): string {
  const keys: string[] = [];
  for (const rows of stages) for (const r of rows) if (!keys.includes(r.key)) keys.push(r.key);
  const color = (k: string) => PALETTE[keys.indexOf(k) % PALETTE.length];
  const totals = stages.map((rows) => rows.reduce((s, r) => s + r[metric], 0));
  const max = Math.max(...totals, 1);
  const labelW = 260;
  const barW = 560;
  const rowH = 22;
  const top = 28;
  const legendY = top + models.length * rowH + 16;
  const height = legendY + 24;
  const parts: string[] = [`<text x="0" y="16" class="title">${esc(title)}</text>`];
  models.forEach((m, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${labelW - 6}" y="${y + 15}" text-anchor="end" class="label">${esc(modelLabel(m).slice(0, 40))}</text>`);
    let x = labelW;
    for (const r of stages[i]) {
      const w = (r[metric] / max) * barW;
      if (w <= 0) continue;
      parts.push(`<rect class="seg" x="${x.toFixed(2)}" y="${y + 2}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${color(r.key)}"><title>${esc(`${modelLabel(m)} ${r.key}: ${int(r[metric])} ${unit} (${pct(r[metric] / totals[i])} of ${int(totals[i])})`)}</title></rect>`);
      x += w;
    }
    parts.push(`<text x="${(x + 6).toFixed(2)}" y="${y + 15}" class="label">${esc(si(totals[i]))}</text>`);
  });
  keys.forEach((k, i) => {
    const x = labelW + i * 90;
    parts.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${color(k)}"/><text x="${x + 16}" y="${legendY}" class="label">${esc(k)}</text>`);
  });
  const width = Math.max(labelW + barW + 80, labelW + keys.length * 90);
  return `<svg class="chart" data-chart="${metric}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** Log-log roofline: the GPU's roof, and each layer at (FLOP/B, FLOPs / estimated time). */
function rooflinePlot(rf: RooflineSettings, models: readonly ReportModel[], layers: readonly GroupRow[][]): string {
  const pts: { x: number; y: number; m: number; r: GroupRow }[] = [];
  let skipped = 0;
  layers.forEach((rows, m) => {
    for (const r of rows) {
      const t = r.roofline?.timeS ?? 0;
      if (r.intensity && r.flops > 0 && t > 0) pts.push({ x: r.intensity, y: r.flops / t, m, r });
      else skipped++;
    }
  });
  const xs = pts.map((p) => p.x);
  const x0 = Math.floor(Math.log10(Math.min(...xs, rf.ridge / 10)));
  const x1 = Math.ceil(Math.log10(Math.max(...xs, rf.ridge * 10)));
  const y1 = Math.ceil(Math.log10(rf.peakFlops * 1.01));
  const y0 = Math.min(Math.floor(Math.log10(Math.min(...pts.map((p) => p.y), rf.peakFlops / 1e3))), y1 - 1);
  const W = 720;
  const H = 420;
  const L = 70;
  const B = 40;
  const T = 30;
  const R = 20;
  const px = (v: number) => L + ((Math.log10(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => H - B - ((Math.log10(v) - y0) / (y1 - y0)) * (H - B - T);
  const parts: string[] = [`<text x="${L}" y="18" class="title">${esc(`Roofline: ${rf.gpu}, ${rf.precision} (${si(rf.peakFlops, 1)}FLOP/s, ${si(rf.bandwidth, 2)}B/s)`)}</text>`];
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    parts.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${H - B}" class="grid"/><text x="${x}" y="${H - B + 16}" text-anchor="middle" class="label">1e${e}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" class="grid"/><text x="${L - 6}" y="${y + 4}" text-anchor="end" class="label">1e${e}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" class="label">arithmetic intensity (FLOP/byte)</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" class="label" transform="rotate(-90 14 ${(T + H - B) / 2})">FLOP/s</text>`);
  // The roof: bandwidth slope up to the ridge point, then the compute peak.
  const xa = 10 ** x0;
  const ya = Math.max(xa * rf.bandwidth, 10 ** y0);
  const xa2 = ya / rf.bandwidth;
  parts.push(`<polyline class="roof" fill="none" stroke="#333" stroke-width="2" points="${px(xa2)},${py(ya)} ${px(rf.ridge)},${py(rf.peakFlops)} ${px(10 ** x1)},${py(rf.peakFlops)}"/>`);
  for (const p of pts) {
    const tip = `${modelLabel(models[p.m])} ${p.r.key}: ${p.x.toFixed(2)} FLOP/B, ${si(p.y, 2)}FLOP/s, ${seconds(p.r.roofline!.timeS)}, ${p.r.roofline!.bound}-bound`;
    parts.push(`<circle class="pt" cx="${px(p.x).toFixed(2)}" cy="${py(p.y).toFixed(2)}" r="3.5" fill="${PALETTE[p.m % PALETTE.length]}" fill-opacity="0.75"><title>${esc(tip)}</title></circle>`);
  }
  if (models.length > 1) {
    models.forEach((m, i) => {
      const y = T + 14 + i * 16;
      parts.push(`<circle cx="${L + 12}" cy="${y - 4}" r="4" fill="${PALETTE[i % PALETTE.length]}"/><text x="${L + 22}" y="${y}" class="label">${esc(modelLabel(m).slice(0, 50))}</text>`);
    });
  }
  // Each point's time is the roofline model's own estimate, so every point sits on the roof by
  // construction: the plot shows where layers are bound, not measured speed.
  const note = `<p class="note">Times are modelled lower bounds (max of FLOPs / peak and bytes / bandwidth per kernel), not measurements: every layer sits on the roof by construction; its position says whether it is compute- or memory-bound.${skipped ? ` ${skipped} layers without FLOPs or bytes (pools, concats, copies) are not placed.` : ''}</p>`;
  return `<svg class="chart" data-chart="roofline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>${note}`;
}

function sortableTable(id: string, header: readonly { title: string; numeric: boolean }[], rows: readonly { cells: readonly string[]; values: readonly (number | string | null)[] }[], foot?: readonly string[]): string {
  const th = header.map((h, i) => `<th data-col="${i}" data-numeric="${h.numeric ? 1 : 0}">${esc(h.title)}</th>`).join('');
  const tr = rows
    .map((r) => `<tr>${r.cells.map((c, i) => `<td${header[i].numeric ? ' class="n"' : ''} data-v="${esc(String(r.values[i] ?? ''))}">${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const tf = foot ? `<tfoot><tr>${foot.map((c, i) => `<td${header[i].numeric ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr></tfoot>` : '';
  // The wide tables scroll inside their own box instead of widening the page.
  return `<div class="scroll"><table class="sortable" id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody>${tf}</table></div>`;
}

function groupTableHtml(id: string, cols: Column[], m: ReportModel): string {
  return sortableTable(
    id,
    cols.map((c) => ({ title: c.title, numeric: c.kind !== 'text' })),
    m.groups.map((g) => ({ cells: cols.map((c) => cell(c, g)), values: cols.map((c) => c.get(g)) })),
    cols.map((c) => cell(c, m.totals)),
  );
}

function totalsTableHtml(r: AnalysisReport): string {
  const ms = DELTA_METRICS.filter((k) => r.models.some((x) => metricValue(x.totals, k) !== null));
  const fmt = (k: (typeof ms)[number], v: number | null) => (v === null ? '-' : k === 'timeS' ? seconds(v) : k === 'efficiency' ? `${si(v, 2)}FLOP/s` : int(v));
  const header = [{ title: 'model', numeric: false }];
  for (const k of ms) header.push({ title: METRIC_TITLES[k], numeric: true }, { title: `Δ ${k === 'memAccess' ? 'mem. access' : METRIC_TITLES[k]}`, numeric: true });
  const rows = r.models.map((x) => {
    const cells = [modelLabel(x)];
    const values: (number | string | null)[] = [modelLabel(x)];
    for (const k of ms) {
      const v = metricValue(x.totals, k);
      const d = x.deltas?.[k];
      cells.push(fmt(k, v), d ? pct(d.rel) : '');
      values.push(v, d?.rel ?? null);
    }
    return { cells, values };
  });
  return sortableTable('totals', header, rows);
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd;white-space:nowrap}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums}tfoot td{font-weight:600}
.chart{display:block;margin:12px 0}.chart .title{font-weight:600;font-size:13px}.chart .label{font-size:11px;fill:#333}
.chart .grid{stroke:#e4e4e4}.note{color:#666;font-size:12px}ul.conv li{margin:2px 0}
.scroll{max-width:100%;overflow-x:auto}body{max-width:100vw;box-sizing:border-box}`;

// Sorts a table by the clicked column; numbers numerically, text by localeCompare; the
// total row sits in <tfoot> and does not move.
const SCRIPT = `for(const t of document.querySelectorAll('table.sortable')){
for(const th of t.tHead.rows[0].cells){th.addEventListener('click',()=>{
const i=+th.dataset.col,num=th.dataset.numeric==='1',asc=!th.classList.contains('asc');
for(const o of t.tHead.rows[0].cells)o.classList.remove('asc','desc');th.classList.add(asc?'asc':'desc');
const rows=[...t.tBodies[0].rows],key=r=>r.cells[i].dataset.v;
rows.sort((a,b)=>{const x=key(a),y=key(b);let c;if(num){const p=x===''?-Infinity:+x,q=y===''?-Infinity:+y;c=p-q}else c=x.localeCompare(y);return asc?c:-c});
for(const r of rows)t.tBodies[0].appendChild(r)})}}`;

/**
 * Renders the report as one HTML page. `analyses` are the models' full analyses (in report
 * order), for the stage and layer levels the charts need whatever --group is.
 */
export function renderHtml(r: AnalysisReport, analyses: readonly ModelAnalysis[]): string {
  const shown = r.models.slice(0, MAX_CHART_MODELS);
  const stages = analyses.slice(0, MAX_CHART_MODELS).map((a) => a.groups.stage ?? []);
  const layers = analyses.slice(0, MAX_CHART_MODELS).map((a) => a.groups.layer ?? []);
  const title = r.models.length === 1 ? modelLabel(r.models[0]) : `${r.models.length} models`;
  const body: string[] = [`<h1>vovc analysis: ${esc(title)}</h1>`];
  body.push(`<p>schema ${esc(r.schema)}, ${esc(r.generator)}; grouped by ${esc(r.groupBy)}; bytes at ${r.elementBytes} per element (${esc(r.precision)}); fused bytes ${r.fused ? 'from the optimized kernel plan' : 'not computed'}.</p>`);
  body.push(`<h2>Conventions</h2><ul class="conv">${r.conventions.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`);
  if (r.roofline) {
    const rf = r.roofline;
    body.push(`<p>Roofline: ${esc(rf.label)}; peak ${esc(rf.precision)} ${esc(si(rf.peakFlops, 2))}FLOP/s (${esc(rf.peakSource)}); bandwidth ${esc(si(rf.bandwidth, 3))}B/s (${esc(rf.bandwidthSource)}); ridge ${num(rf.ridge)} FLOP/B; bytes: ${rf.bytesBasis}.</p>`);
  }
  if (r.models.length > shown.length) body.push(`<p class="note">Charts show the first ${shown.length} of ${r.models.length} models; the tables show all.</p>`);
  body.push('<h2>Per stage</h2>');
  body.push(stackedBars('mult-adds per stage', 'macs', shown, stages, 'mult-adds'));
  body.push(stackedBars('MAC (memory access cost, eq. 1) per stage, elements', 'memAccess', shown, stages, 'elements'));
  if (r.roofline) body.push('<h2>Roofline, per layer</h2>', rooflinePlot(r.roofline, shown, layers));
  const cols = groupColumns(r);
  if (r.models.length === 1) {
    const m = r.models[0];
    const t = m.totals;
    body.push('<h2>Summary</h2><ul>');
    body.push(`<li>parameters ${int(t.params)}; mult-adds ${int(t.macs)} (${si(t.macs)}); FLOPs = 2 x mult-adds = ${int(t.flops)}; MAC (memory access cost) ${int(t.memAccess)} elements</li>`);
    body.push(`<li>BN would add ${int(t.otherOpsBy.batchnorm)}, pooling ${int(t.otherOpsBy.pooling)}, elementwise ops ${int(t.otherOpsBy.elementwise)}; fvcore-style total ${int(t.fvcoreMacs)}</li>`);
    body.push(`<li>bytes op-by-op ${int(t.bytesOps)}${t.bytesFused !== null ? `; fused ${int(t.bytesFused)} (${pct(t.bytesFused / t.bytesOps - 1)})` : ''}</li>`);
    if (t.efficiency !== null) body.push(`<li>estimated time ${seconds((t.timeFusedS ?? t.timeOpsS)!)}; GPU-computation efficiency ${si(t.efficiency, 2)}FLOP/s</li>`);
    body.push('</ul>');
    body.push(`<h2>By ${esc(r.groupBy)}</h2>`, groupTableHtml('groups', cols, m));
  } else {
    body.push('<h2>Totals and deltas against the first model</h2>', totalsTableHtml(r));
    if (r.models.length <= 8) {
      r.models.forEach((m, i) => body.push(`<details><summary>${esc(modelLabel(m))}: by ${esc(r.groupBy)}</summary>${groupTableHtml(`groups${i}`, cols, m)}</details>`));
    }
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vovc analysis: ${esc(title)}</title>
<style>${STYLE}</style></head>
<body>
${body.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

// The human-readable formats: an aligned text table (--format table) and Markdown (--format
// md). Both render the same document: a header with the conventions, then for one model a
// summary and its group table; for several, a totals table, the deltas against the first
// model and (up to MAX_SIDE_BY_SIDE models) the groups side by side.

import type { GroupRow, Totals } from './analyze.js';
import { cell, groupColumns, int, pct, seconds, si, signedInt, type Column } from './columns.js';
import { DELTA_METRICS, METRIC_TITLES, metricValue, modelLabel, type AnalysisReport, type DeltaMetric, type ReportModel } from './report.js';

const MAX_SIDE_BY_SIDE = 8;

interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Right-align these columns (numbers). */
  readonly right: readonly boolean[];
}

type Block = { kind: 'heading'; text: string } | { kind: 'lines'; lines: string[] } | { kind: 'list'; items: readonly string[] } | { kind: 'table'; table: Table };


function fmtMetric(m: DeltaMetric, v: number): string {
  if (m === 'timeS') return seconds(v);
  if (m === 'efficiency') return `${si(v, 2)}FLOP/s`;
  return int(v);
}

function shape(s: readonly number[]): string {
  return s.join('x');
}

function header(r: AnalysisReport): Block[] {
  const names = r.models.length === 1 ? `${modelLabel(r.models[0])} (input ${shape(r.models[0].input)})` : `${r.models.length} models compared against ${modelLabel(r.models[0])}`;
  const blocks: Block[] = [
    { kind: 'heading', text: `vovc analysis: ${names}` },
    {
      kind: 'lines',
      lines: [
        `schema ${r.schema}, ${r.generator}; grouped by ${r.groupBy}; bytes at ${r.elementBytes} per element (${r.precision}); fused bytes ${r.fused ? 'from the optimized kernel plan' : 'not computed (--fusion on computes them)'}.`,
      ],
    },
    { kind: 'heading', text: 'Conventions' },
    { kind: 'list', items: r.conventions },
  ];
  const rf = r.roofline;
  if (rf) {
    blocks.push({ kind: 'heading', text: 'Roofline' });
    blocks.push({
      kind: 'list',
      items: [
        `GPU ${rf.gpu}: ${rf.label}.`,
        `peak ${rf.precision} ${si(rf.peakFlops, 2)}FLOP/s (${rf.peakSource}).`,
        `memory bandwidth ${si(rf.bandwidth, 3)}B/s (${rf.bandwidthSource}).`,
        `ridge point ${rf.ridge.toFixed(1)} FLOP/B. Each kernel takes max(FLOPs / peak, bytes / bandwidth), kernels run one after another (${rf.bytesBasis === 'fused' ? 'the launches of the optimized plan' : 'one per IR op'}); a lower bound that ignores launch overhead, caches and occupancy. A group is compute- or memory-bound by which kind of kernel takes more of its time.`,
      ],
    });
  }
  return blocks;
}

function summary(m: ReportModel): string[] {
  const t = m.totals;
  const lines = [
    `parameters: ${int(t.params)}`,
    `mult-adds (MACs): ${int(t.macs)} (${si(t.macs)})`,
    `FLOPs (= 2 x mult-adds): ${int(t.flops)} (${si(t.flops)})`,
    `MAC (memory access cost, eq. 1): ${int(t.memAccess)} elements (${si(t.memAccess)})`,
    `activations (conv and linear outputs): ${int(t.activations)}`,
    `not in the mult-adds: BN ${int(t.otherOpsBy.batchnorm)}, pooling ${int(t.otherOpsBy.pooling)}, elementwise ${int(t.otherOpsBy.elementwise)}; counting BN as 2 per element and global average pooling (as fvcore does, hence timm's tables) gives ${int(t.fvcoreMacs)} (${si(t.fvcoreMacs)})`,
    `bytes moved op-by-op: ${int(t.bytesOps)} (${si(t.bytesOps)}B)` + (t.bytesFused !== null ? `; by the fused plan: ${int(t.bytesFused)} (${si(t.bytesFused)}B, ${pct(t.bytesFused / t.bytesOps - 1)})` : ''),
  ];
  const d = t.deform;
  if (d) {
    const share = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
    lines.push(
      `deformable convolution (${d.layers} layers): offset convs ${int(d.offsetParams)} parameters (${share(d.offsetParams, t.params)}) and ${si(d.offsetMacs)} mult-adds (${share(d.offsetMacs, t.macs)}); deformable GEMMs ${si(d.gemmMacs)} mult-adds (${share(d.gemmMacs, t.macs)}); ` +
        `bilinear sampling, not in the FLOPs: ${int(d.samples)} sampled values, ${si(d.sampleFlops)}FLOP (${share(d.sampleFlops, t.flops)} on top of the FLOPs), reading ${si(d.sampleBytes)}B (${share(d.sampleBytes, t.bytesOps)} of the bytes op-by-op)`,
    );
  }
  if (t.timeOpsS !== null) {
    lines.push(`estimated time (roofline): op-by-op ${seconds(t.timeOpsS)}` + (t.timeFusedS !== null ? `, fused plan ${seconds(t.timeFusedS)}` : ''));
    if (t.efficiency !== null) lines.push(`GPU-computation efficiency (FLOPs / estimated time): ${si(t.efficiency, 2)}FLOP/s`);
  }
  return lines;
}

/** Layers listed by name in an int32 note; the rest are counted. */
const INT32_LISTED = 12;

function listed<T>(rows: readonly T[], f: (r: T) => string): string {
  const more = rows.length - INT32_LISTED;
  return rows.slice(0, INT32_LISTED).map(f).join(', ') + (more > 0 ? `, and ${more} more` : '');
}

/** Where 32-bit indexing would overflow (int32.ts); empty when nothing reaches 2^31 - 1. */
function int32Notes(m: ReportModel, r: AnalysisReport): string[] {
  const o = m.int32;
  const items: string[] = [];
  const layers = (n: number) => `${n} layer${n === 1 ? '' : 's'}`;
  if (o.elements.length) items.push(`int32 element indices overflow in ${layers(o.elements.length)} (a tensor of more than 2^31 - 1 elements): ${listed(o.elements, (x) => `${x.layer} ${shape(x.shape)} = ${int(x.elements)}`)}.`);
  if (o.bytes.length) items.push(`int32 byte offsets overflow in ${layers(o.bytes.length)} (a tensor of more than 2^31 - 1 bytes at ${r.elementBytes} per element): ${listed(o.bytes, (x) => `${x.layer} ${int(x.bytes)} B`)}.`);
  if (o.planLaunches && o.planLaunches.needs64bit) {
    items.push(`kernel plan: ${o.planLaunches.needs64bit} of ${o.planLaunches.total} launches need 64-bit indices (a view, its arena offset included, reaches past element 2^31 - 1; the CUDA backend runs int64_t kernels there): ${listed(o.planLayers ?? [], (x) => x)}.`);
  }
  return items;
}

function groupTable(cols: Column[], rows: readonly GroupRow[], total: Totals): Table {
  return {
    header: cols.map((c) => c.title),
    rows: [...rows, total].map((r) => cols.map((c) => cell(c, r))),
    right: cols.map((c) => c.kind !== 'text'),
  };
}

function metricsOf(r: AnalysisReport): DeltaMetric[] {
  return DELTA_METRICS.filter((m) => r.models.some((x) => metricValue(x.totals, m) !== null));
}

function totalsTable(r: AnalysisReport): Table {
  const ms = metricsOf(r);
  return {
    header: ['model', ...ms.map((m) => METRIC_TITLES[m])],
    rows: r.models.map((x) => [modelLabel(x), ...ms.map((m) => {
      const v = metricValue(x.totals, m);
      return v === null ? '-' : fmtMetric(m, v);
    })]),
    right: [false, ...ms.map(() => true)],
  };
}

function deltasTable(r: AnalysisReport): Table {
  const ms = metricsOf(r);
  return {
    header: ['model', ...ms.map((m) => METRIC_TITLES[m])],
    rows: r.models.slice(1).map((x) => [modelLabel(x), ...ms.map((m) => {
      const d = x.deltas?.[m];
      if (!d) return '-';
      const abs = m === 'timeS' ? `${d.abs >= 0 ? '+' : '-'}${seconds(Math.abs(d.abs))}` : m === 'efficiency' ? `${d.abs >= 0 ? '+' : '-'}${si(Math.abs(d.abs), 2)}FLOP/s` : signedInt(d.abs);
      return `${abs} (${pct(d.rel)})`;
    })]),
    right: [false, ...ms.map(() => true)],
  };
}

/** Groups side by side: one row per group key (in order of first appearance), mult-adds and memory access cost per model. */
function sideBySide(r: AnalysisReport): Table {
  const keys: string[] = [];
  const seen = new Set<string>();
  const maps = r.models.map((m) => new Map(m.groups.map((g) => [g.key, g])));
  for (const m of r.models) for (const g of m.groups) if (!seen.has(g.key)) seen.add(g.key), keys.push(g.key);
  const header: string[] = [r.groupBy];
  r.models.forEach((_m, i) => header.push(`#${i + 1} mult-adds`, `#${i + 1} mem. access`));
  const row = (key: string, get: (i: number) => GroupRow | undefined) => {
    const cells = [key];
    r.models.forEach((_m, i) => {
      const g = get(i);
      cells.push(g ? int(g.macs) : '-', g ? int(g.memAccess) : '-');
    });
    return cells;
  };
  return {
    header,
    rows: [...keys.map((k) => row(k, (i) => maps[i].get(k))), row('total', (i) => r.models[i].totals)],
    right: header.map((_h, i) => i > 0),
  };
}

function document(r: AnalysisReport): Block[] {
  const blocks = header(r);
  const cols = groupColumns(r);
  if (r.models.length === 1) {
    const m = r.models[0];
    blocks.push({ kind: 'heading', text: 'Summary' }, { kind: 'list', items: summary(m) });
    const notes = int32Notes(m, r);
    if (notes.length) blocks.push({ kind: 'heading', text: 'int32 overflow' }, { kind: 'list', items: notes });
    blocks.push({ kind: 'heading', text: `By ${r.groupBy}` }, { kind: 'table', table: groupTable(cols, m.groups, m.totals) });
    return blocks;
  }
  blocks.push({ kind: 'heading', text: 'Totals' }, { kind: 'table', table: totalsTable(r) });
  blocks.push({ kind: 'heading', text: `Deltas against ${modelLabel(r.models[0])}` }, { kind: 'table', table: deltasTable(r) });
  r.models.forEach((m, i) => {
    const notes = int32Notes(m, r);
    if (notes.length) blocks.push({ kind: 'heading', text: `int32 overflow: #${i + 1} ${modelLabel(m)}` }, { kind: 'list', items: notes });
  });
  if (r.models.length <= MAX_SIDE_BY_SIDE) {
    blocks.push({ kind: 'heading', text: `By ${r.groupBy}, side by side` });
    blocks.push({ kind: 'lines', lines: r.models.map((m, i) => `#${i + 1}: ${modelLabel(m)} (input ${shape(m.input)})`) });
    blocks.push({ kind: 'table', table: sideBySide(r) });
  }
  return blocks;
}

function textTable(t: Table): string[] {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (t.right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)];
}

export function renderTable(r: AnalysisReport): string {
  const out: string[] = [];
  for (const b of document(r)) {
    if (b.kind === 'heading') out.push('', `== ${b.text} ==`);
    else if (b.kind === 'lines') out.push(...b.lines);
    else if (b.kind === 'list') out.push(...b.items.map((i) => `  - ${i}`));
    else out.push(...textTable(b.table));
  }
  return out.join('\n').replace(/^\n/, '') + '\n';
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(r: AnalysisReport): string {
  const out: string[] = [];
  let first = true;
  for (const b of document(r)) {
    if (b.kind === 'heading') {
      out.push(`${first ? '#' : '##'} ${b.text}`, '');
      first = false;
    } else if (b.kind === 'lines') out.push(...b.lines, '');
    else if (b.kind === 'list') out.push(...b.items.map((i) => `- ${i}`), '');
    else {
      const t = b.table;
      out.push(`| ${t.header.map(mdCell).join(' | ')} |`, `|${t.right.map((r) => (r ? '---:' : ':---')).join('|')}|`);
      for (const row of t.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  }
  return out.join('\n');
}

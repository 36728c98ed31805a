// The fusion report: what the pipeline fused, which concats it eliminated, which copies it
// kept and why, and the cost of the op-by-op plan of the unoptimized graph (one launch per IR
// op, no buffer reuse) next to the optimized plan: kernel launches, arena bytes, DRAM bytes
// moved (activations read and written, weights read), per launch and in total. It reads what
// the driver made (both graphs, the plan, the passes' records) and changes nothing.

import { concatPlacement } from '../ir/concat.js';
import type { Graph } from '../ir/graph.js';
import type { FusionRecord } from '../passes/pass.js';
import { buildPlan } from '../plan/build.js';
import { DTYPE_BYTES, type DType, type KernelPlan, type LaunchKind } from '../plan/types.js';
import type { Precision } from '../ir/precision.js';

export interface PlanTotals {
  readonly launches: number;
  readonly arenaBytes: number;
  /** The most bytes of arena blocks live at one launch (no planner can do better in this order). */
  readonly arenaLiveMaxBytes: number;
  readonly activationBytesRead: number;
  readonly activationBytesWritten: number;
  /** read + written */
  readonly activationBytes: number;
  readonly weightBytes: number;
  /** activations read + written + weights read */
  readonly totalBytes: number;
  readonly flops: number;
  readonly macs: number;
  /** Launches that only move data: concat launches and copies. */
  readonly copyLaunches: number;
}

export interface LaunchRow {
  readonly index: number;
  readonly kind: LaunchKind;
  /** The IR ids the launch computes (unoptimized ids). */
  readonly nodes: readonly string[];
  readonly activationBytesRead: number;
  readonly activationBytesWritten: number;
  readonly weightBytes: number;
  readonly note?: string;
}

export interface PlanSummary {
  readonly totals: PlanTotals;
  readonly launches: readonly LaunchRow[];
}

export interface ConcatInfo {
  readonly id: string;
  /** true when no concat kernel runs (producers write into slices; copies may remain). */
  readonly eliminated: boolean;
  /** Producers writing straight into their slice, with the slice's first channel. */
  readonly direct: readonly { readonly value: string; readonly channel: number }[];
  readonly copies: readonly { readonly value: string; readonly channel: number; readonly reason: string }[];
}

export interface FusionReport {
  readonly model: string;
  readonly input: readonly number[];
  /** The plan's precision and the storage type every byte figure counts in. */
  readonly precision: Precision;
  readonly storage: DType;
  /** Optimized launches that compute more than one unoptimized IR op. */
  readonly fused: readonly { readonly launch: number; readonly kind: LaunchKind; readonly nodes: readonly string[] }[];
  readonly concats: readonly ConcatInfo[];
  /** Copies the optimized plan still makes, with the reason. */
  readonly keptCopies: readonly { readonly launch: number; readonly nodes: readonly string[]; readonly value: string; readonly reason: string }[];
  /** Candidates a pass declined, with the reason. */
  readonly notFused: readonly { readonly pass: string; readonly nodes: readonly string[]; readonly detail: string }[];
  /** Ids of batchnorm ops left in the optimized graph. */
  readonly batchnormsLeft: readonly string[];
  readonly before: PlanSummary;
  readonly after: PlanSummary;
  /** after / before for the headline figures. */
  readonly ratios: {
    readonly launches: number;
    readonly arenaBytes: number;
    readonly activationBytes: number;
    readonly weightBytes: number;
    readonly totalBytes: number;
  };
}

function summarize(plan: KernelPlan): PlanSummary {
  let read = 0;
  let written = 0;
  let weights = 0;
  let flops = 0;
  let macs = 0;
  let copies = 0;
  const rows: LaunchRow[] = plan.launches.map((l) => {
    read += l.cost.activationBytesRead;
    written += l.cost.bytesWritten;
    weights += l.cost.weightBytesRead;
    flops += l.cost.flops;
    macs += l.cost.macs;
    if (l.kind === 'copy' || l.kind === 'concat') copies++;
    return {
      index: l.index,
      kind: l.kind,
      nodes: l.nodes,
      activationBytesRead: l.cost.activationBytesRead,
      activationBytesWritten: l.cost.bytesWritten,
      weightBytes: l.cost.weightBytesRead,
      ...(l.note ? { note: l.note } : {}),
    };
  });
  // Live bytes per launch from the planner's blocks (the independent check lives in the tests).
  const delta = new Array<number>(plan.launches.length + 1).fill(0);
  for (const b of plan.arena) {
    delta[b.firstLaunch] += b.elements;
    delta[b.lastLaunch + 1] -= b.elements;
  }
  let live = 0;
  let liveMax = 0;
  for (const d of delta) liveMax = Math.max(liveMax, (live += d));
  return {
    totals: {
      launches: plan.launches.length,
      arenaBytes: plan.arenaBytes,
      arenaLiveMaxBytes: DTYPE_BYTES[plan.weights.dtype] * liveMax,
      activationBytesRead: read,
      activationBytesWritten: written,
      activationBytes: read + written,
      weightBytes: weights,
      totalBytes: read + written + weights,
      flops,
      macs,
      copyLaunches: copies,
    },
    launches: rows,
  };
}

/**
 * The report for `after` (the optimized graph) and its plan, against the op-by-op plan of
 * `before` (shapes are enough: parameter data is not read). `records` (OptimizeResult.report)
 * gives the passes' reasons for what they left alone.
 */
export function buildFusionReport(before: Graph, after: Graph, plan: KernelPlan, records: readonly FusionRecord[]): FusionReport {
  const b = summarize(buildPlan(before, { reuse: false, precision: plan.precision }));
  const a = summarize(plan);
  const placement = concatPlacement(after, true);
  const concats: ConcatInfo[] = after.nodes
    .filter((n) => n.op === 'concat')
    .map((n) => {
      const list = placement.get(n.id);
      if (!list) return { id: n.id, eliminated: false, direct: [], copies: [] };
      return {
        id: n.id,
        eliminated: true,
        direct: list.filter((p) => p.direct).map((p) => ({ value: p.value, channel: p.channel })),
        copies: list.filter((p) => !p.direct).map((p) => ({ value: p.value, channel: p.channel, reason: p.reason! })),
      };
    });
  const keptCopies = plan.launches
    .filter((l) => l.kind === 'copy' && l.output.slice)
    .map((l) => ({ launch: l.index, nodes: l.nodes, value: l.inputs[0].value, reason: l.note ?? '' }));
  const batchnorms = after.nodes.filter((n) => n.op === 'batchnorm');
  const notFused = records.filter((r) => r.kind === 'not-fused').map((r) => ({ pass: r.pass, nodes: r.nodes, detail: r.detail }));
  const ratio = (x: number, y: number) => (y === 0 ? 0 : x / y);
  return {
    model: after.name,
    input: [...after.input.shape],
    precision: plan.precision,
    storage: plan.weights.dtype,
    fused: plan.launches.filter((l) => l.nodes.length > 1 && l.kind !== 'copy').map((l) => ({ launch: l.index, kind: l.kind, nodes: l.nodes })),
    concats,
    keptCopies,
    notFused,
    batchnormsLeft: batchnorms.map((n) => n.id),
    before: b,
    after: a,
    ratios: {
      launches: ratio(a.totals.launches, b.totals.launches),
      arenaBytes: ratio(a.totals.arenaBytes, b.totals.arenaBytes),
      activationBytes: ratio(a.totals.activationBytes, b.totals.activationBytes),
      weightBytes: ratio(a.totals.weightBytes, b.totals.weightBytes),
      totalBytes: ratio(a.totals.totalBytes, b.totals.totalBytes),
    },
  };
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (x: number) => `${(x / 2 ** 20).toFixed(2)} MiB`;

function renderReportJson(r: FusionReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/** The report as `vovc ir --opt --report[=json]` and `vovc build --report` print it. */
export function renderFusionReport(r: FusionReport, format: 'text' | 'json', opts: { perLaunch?: boolean } = {}): string {
  return format === 'json' ? renderReportJson(r) : renderReportText(r, opts);
}

export function renderReportText(r: FusionReport, opts: { perLaunch?: boolean } = {}): string {
  const L: string[] = [];
  L.push(`fusion report: ${r.model}, input [${r.input.join(',')}] (${r.precision}: ${r.storage} storage)`);
  L.push('');
  const rows: [string, number, number, (x: number) => string][] = [
    ['kernel launches', r.before.totals.launches, r.after.totals.launches, int],
    ['arena bytes', r.before.totals.arenaBytes, r.after.totals.arenaBytes, (x) => `${int(x)} (${mib(x)})`],
    ['  most bytes live at once', r.before.totals.arenaLiveMaxBytes, r.after.totals.arenaLiveMaxBytes, (x) => `${int(x)} (${mib(x)})`],
    ['activation bytes read', r.before.totals.activationBytesRead, r.after.totals.activationBytesRead, int],
    ['activation bytes written', r.before.totals.activationBytesWritten, r.after.totals.activationBytesWritten, int],
    ['activation bytes moved', r.before.totals.activationBytes, r.after.totals.activationBytes, (x) => `${int(x)} (${mib(x)})`],
    ['weight bytes read', r.before.totals.weightBytes, r.after.totals.weightBytes, (x) => `${int(x)} (${mib(x)})`],
    ['DRAM bytes moved (total)', r.before.totals.totalBytes, r.after.totals.totalBytes, (x) => `${int(x)} (${mib(x)})`],
    ['copy / concat launches', r.before.totals.copyLaunches, r.after.totals.copyLaunches, int],
  ];
  const cells = rows.map(([name, b, a, f]) => [name, f(b), f(a), b ? (a / b).toFixed(3) : '-']);
  const head = ['', 'before (op by op, no reuse)', 'after (fused, planned)', 'after/before'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join('  ');
  L.push(line(head), ...cells.map(line));
  L.push('');
  L.push(`fused launches (${r.fused.length}):`);
  for (const f of r.fused) L.push(`  #${f.launch} ${f.kind}: ${f.nodes.join(' + ')}`);
  const elim = r.concats.filter((c) => c.eliminated).length;
  L.push('');
  L.push(`concats: ${elim} of ${r.concats.length} not materialized, ${r.keptCopies.length} copies kept`);
  for (const c of r.concats) {
    if (!c.eliminated) L.push(`  ${c.id}: materialized (concat launch)`);
    else L.push(`  ${c.id}: in place; ${c.direct.map((d) => `${d.value}@${d.channel}`).join(', ') || 'no direct writer'}${c.copies.length ? `; copies: ${c.copies.map((x) => `${x.value}@${x.channel}`).join(', ')}` : ''}`);
  }
  if (r.keptCopies.length) {
    L.push('');
    L.push('kept copies:');
    for (const k of r.keptCopies) L.push(`  #${k.launch} copy of ${k.value} into ${k.nodes.join(', ')}: ${k.reason}`);
  }
  L.push('');
  L.push(`batchnorm ops left: ${r.batchnormsLeft.length ? r.batchnormsLeft.join(', ') : 'none'}`);
  if (r.notFused.length) {
    L.push('');
    L.push('not fused:');
    for (const n of r.notFused) L.push(`  ${n.pass ? `[${n.pass}] ` : ''}${n.detail}`);
  }
  if (opts.perLaunch) {
    for (const [title, s] of [['before', r.before], ['after', r.after]] as const) {
      L.push('');
      L.push(`per launch, ${title}: index kind act-read act-written weights  nodes`);
      for (const l of s.launches) L.push(`  ${String(l.index).padStart(4)} ${l.kind.padEnd(11)} ${int(l.activationBytesRead).padStart(12)} ${int(l.activationBytesWritten).padStart(12)} ${int(l.weightBytes).padStart(12)}  ${l.nodes.join(' + ')}`);
    }
  }
  return L.join('\n') + '\n';
}

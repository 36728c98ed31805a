// The analysis report: one or more analysed models (named models, or the variants of a
// sweep), side by side, with deltas against the first. This object is the JSON output
// (schema "vovc.analysis/1", documented in docs/ANALYSIS.md); every other format renders it.

import type { GroupBy, GroupRow, ModelAnalysis, RooflineSettings, Totals } from './analyze.js';
import { CONVENTIONS } from './cost.js';
import type { Precision } from '../hw/gpus.js';
import type { Int32Overflow } from './int32.js';

export const SCHEMA = 'vovc.analysis/1';

/** The totals compared between models, in report order. */
export const DELTA_METRICS = ['params', 'macs', 'flops', 'otherOps', 'memAccess', 'activations', 'bytesOps', 'bytesFused', 'timeS', 'efficiency'] as const;
export type DeltaMetric = (typeof DELTA_METRICS)[number];

/** Headings of the compared metrics in the human-readable formats. */
export const METRIC_TITLES: Record<DeltaMetric, string> = {
  params: 'params',
  macs: 'mult-adds',
  flops: 'FLOPs',
  otherOps: 'other ops',
  memAccess: 'MAC (mem. access)',
  activations: 'activations',
  bytesOps: 'bytes op-by-op',
  bytesFused: 'bytes fused',
  timeS: 'est. time',
  efficiency: 'FLOP/s (efficiency)',
};

export interface Delta {
  /** This model's figure minus the first model's. */
  readonly abs: number;
  /** abs / the first model's figure; null when that is 0. */
  readonly rel: number | null;
}

export interface ReportModel {
  /** The model as named on the command line (zoo name or file path). */
  readonly model: string;
  /** The graph's name (the DSL model name). */
  readonly name: string;
  /** --set and --sweep assignments that made this variant, key -> value. */
  readonly set: Readonly<Record<string, string>>;
  readonly input: readonly number[];
  readonly totals: Totals;
  readonly groups: readonly GroupRow[];
  /** Against the first model of the report; null for the first. Metrics absent on either side are left out. */
  readonly deltas: Partial<Record<DeltaMetric, Delta>> | null;
  /** Layers (and plan launches) whose tensors pass what 32-bit indices or byte offsets reach. */
  readonly int32: Int32Overflow;
}

export interface AnalysisReport {
  readonly schema: typeof SCHEMA;
  readonly generator: string;
  readonly conventions: readonly string[];
  readonly groupBy: GroupBy;
  readonly precision: Precision;
  /** Bytes per element used for every bytes figure. */
  readonly elementBytes: number;
  /** Whether bytes fused were computed (optimize + buildPlan per model). */
  readonly fused: boolean;
  readonly roofline: RooflineSettings | null;
  readonly models: readonly ReportModel[];
}

export interface ReportInput {
  readonly model: string;
  readonly set: Readonly<Record<string, string>>;
  readonly analysis: ModelAnalysis;
}

/** The compared value of a metric (the roofline time is the fused one when known). */
export function metricValue(t: Totals, m: DeltaMetric): number | null {
  if (m === 'timeS') return t.timeFusedS ?? t.timeOpsS;
  return t[m];
}

function deltas(t: Totals, first: Totals): Partial<Record<DeltaMetric, Delta>> {
  const out: Partial<Record<DeltaMetric, Delta>> = {};
  for (const m of DELTA_METRICS) {
    const a = metricValue(t, m);
    const b = metricValue(first, m);
    if (a === null || b === null) continue;
    out[m] = { abs: a - b, rel: b === 0 ? null : (a - b) / b };
  }
  return out;
}

export function buildReport(items: readonly ReportInput[], groupBy: GroupBy, generator: string): AnalysisReport {
  if (!items.length) throw new Error('internal: empty report');
  const first = items[0].analysis;
  return {
    schema: SCHEMA,
    generator,
    conventions: CONVENTIONS,
    groupBy,
    precision: first.precision,
    elementBytes: first.elementBytes,
    fused: first.totals.bytesFused !== null,
    roofline: first.roofline,
    models: items.map((it, i) => ({
      model: it.model,
      name: it.analysis.name,
      set: it.set,
      input: it.analysis.input,
      totals: it.analysis.totals,
      groups: it.analysis.groups[groupBy] ?? [],
      deltas: i === 0 ? null : deltas(it.analysis.totals, first.totals),
      int32: it.analysis.int32,
    })),
  };
}

/** A model's label in tables: its command-line name plus the assignments that made the variant. */
/** How reports name a model: its DSL name, with the file it came from when that differs (a .vov path), and the --set assignments. */
export function modelLabel(m: ReportModel): string {
  const sets = Object.entries(m.set);
  const base = m.name && m.name !== m.model ? `${m.name} (${m.model})` : m.model;
  return sets.length ? `${base} [${sets.map(([k, v]) => `${k}=${v}`).join(', ')}]` : base;
}

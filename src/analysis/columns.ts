// The columns of a group table, shared by every renderer (table, markdown, CSV, HTML), and
// the number formatting of the human-readable formats. CSV and JSON print plain numbers.

import type { GroupRow } from './analyze.js';
import type { AnalysisReport } from './report.js';

export interface Column {
  readonly id: string;
  /** Heading in table / markdown / HTML. */
  readonly title: string;
  /** CSV header name: snake_case, carrying its unit and convention. */
  readonly csv: string;
  readonly get: (r: GroupRow) => number | string | null;
  readonly kind: 'text' | 'count' | 'ratio' | 'seconds';
}

/** The columns of `report`'s group tables (fused bytes and roofline only when computed). */
export function groupColumns(report: AnalysisReport): Column[] {
  const eb = report.elementBytes;
  const cols: Column[] = [
    { id: 'key', title: report.groupBy, csv: 'group', get: (r) => r.key, kind: 'text' },
    { id: 'params', title: 'params', csv: 'params', get: (r) => r.params, kind: 'count' },
    { id: 'macs', title: 'mult-adds', csv: 'mult_adds_conv_linear', get: (r) => r.macs, kind: 'count' },
    { id: 'flops', title: 'FLOPs', csv: 'flops_2x_mult_adds', get: (r) => r.flops, kind: 'count' },
    { id: 'otherOps', title: 'other ops', csv: 'other_ops_bn_pool_elementwise', get: (r) => r.otherOps, kind: 'count' },
    { id: 'activations', title: 'activations', csv: 'activations_conv_linear_outputs', get: (r) => r.activations, kind: 'count' },
    { id: 'memAccess', title: 'MAC (mem. access)', csv: 'memory_access_cost_eq1_elements', get: (r) => r.memAccess, kind: 'count' },
    { id: 'bytesOps', title: 'bytes op-by-op', csv: `bytes_op_by_op_${eb}b_per_element`, get: (r) => r.bytesOps, kind: 'count' },
  ];
  if (report.fused) cols.push({ id: 'bytesFused', title: 'bytes fused', csv: `bytes_fused_plan_${eb}b_per_element`, get: (r) => r.bytesFused, kind: 'count' });
  cols.push({ id: 'intensity', title: 'FLOP/B', csv: `flop_per_byte_${report.fused ? 'fused' : 'op_by_op'}`, get: (r) => r.intensity, kind: 'ratio' });
  if (report.roofline) {
    cols.push({ id: 'bound', title: 'bound', csv: 'roofline_bound', get: (r) => r.roofline?.bound ?? null, kind: 'text' });
    cols.push({ id: 'timeS', title: 'est. time', csv: 'roofline_time_s', get: (r) => r.roofline?.timeS ?? null, kind: 'seconds' });
  }
  return cols;
}

/** 1234567 -> "1,234,567" (exact; no locale tables). */
export function int(n: number): string {
  const neg = n < 0;
  const s = String(Math.round(Math.abs(n)));
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (i && (s.length - i) % 3 === 0) out += ',';
    out += s[i];
  }
  return neg ? `-${out}` : out;
}

/** 7072227328 -> "7.072 G" */
export function si(n: number, digits = 3): string {
  const a = Math.abs(n);
  const [d, u] = a >= 1e12 ? [1e12, 'T'] : a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${(n / d).toFixed(digits)}${u ? ` ${u}` : ''}`;
}

export function seconds(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} µs`;
}

export function pct(rel: number | null): string {
  if (rel === null) return 'n/a';
  const v = rel * 100;
  return `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
}

export function signedInt(n: number): string {
  return `${n >= 0 ? '+' : ''}${int(n)}`;
}

/** A cell for the human-readable formats. */
export function cell(c: Column, r: GroupRow): string {
  const v = c.get(r);
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  switch (c.kind) {
    case 'count':
      return int(v);
    case 'ratio':
      return v.toFixed(2);
    case 'seconds':
      return seconds(v);
    default:
      return String(v);
  }
}

// analyzeGraph: the figures of a model, per group (group.ts) and in total, from the sums of
// aggregate.ts, with the roofline estimate of a GPU profile (roofline.ts) and, when a kernel
// plan of the optimized graph is given, the bytes its fused launches move.

import type { Graph } from '../ir/graph.js';
import { FLOPS_PER_MAC } from '../ir/ops.js';
import { aggregateGraph, type Acc, type Aggregate, type AnalyzeOptions, type DeformAcc } from './aggregate.js';
import type { Precision } from '../hw/gpus.js';
import type { GroupBy } from './group.js';
import { finishInt32, type Int32Overflow } from './int32.js';
import { roofOf, rooflineFigures, type RooflineFigures } from './roofline.js';

export type { Aggregate, AnalyzeOptions } from './aggregate.js';
export { aggregateGraph, mergeAggregates } from './aggregate.js';
export { GROUP_BYS, type GroupBy } from './group.js';
export type { RooflineFigures } from './roofline.js';

/** Figures summed over a set of nodes. Counts are elements or multiply-accumulates; bytes are bytes. */
export interface Metrics {
  readonly params: number;
  /** Multiply-accumulates ("mult-adds"). */
  readonly macs: number;
  /** FLOPS_PER_MAC x macs. */
  readonly flops: number;
  /** What BN, pooling and elementwise ops would add to the mult-adds (cost.ts). */
  readonly otherOps: number;
  /** Memory access cost, eq. 1, elements. */
  readonly memAccess: number;
  /** Output elements of conv and linear nodes. */
  readonly activations: number;
  /** Bytes an op-by-op execution moves (each IR op a kernel). */
  readonly bytesOps: number;
  /** Bytes the optimized plan's launches move; null when no plan was given. */
  readonly bytesFused: number | null;
}

export interface GroupRow extends Metrics {
  readonly key: string;
  /** IR nodes in the group. */
  readonly nodes: number;
  /** FLOPs per byte, on the bytes the roofline uses (fused when a plan was given); null without bytes. */
  readonly intensity: number | null;
  readonly roofline: RooflineFigures | null;
}

export interface Totals extends GroupRow {
  /** otherOps split by what would add them. */
  readonly otherOpsBy: { readonly batchnorm: number; readonly pooling: number; readonly elementwise: number };
  /**
   * The figure fvcore (and so timm's tables) reports: mult-adds + 2 per BN element + 1 per
   * global-average-pool input element (fvcore counts inference BN as 2 and ignores max pooling).
   */
  readonly fvcoreMacs: number;
  /** Op-by-op roofline time, and the fused plan's (null without a plan). */
  readonly timeOpsS: number | null;
  readonly timeFusedS: number | null;
  /** The paper's GPU-computation efficiency: FLOPs / estimated time (fused when known), FLOP/s. */
  readonly efficiency: number | null;
  /** Deformable convolution's share (aggregate.ts DeformAcc); null for a model without DCN. */
  readonly deform: DeformAcc | null;
}

export interface RooflineSettings {
  readonly gpu: string;
  readonly label: string;
  readonly precision: Precision;
  readonly peakFlops: number;
  readonly peakSource: string;
  readonly bandwidth: number;
  readonly bandwidthSource: string;
  /** FLOPs per byte where the roof bends (peak / bandwidth). */
  readonly ridge: number;
  /** Which bytes the per-kernel estimate uses. */
  readonly bytesBasis: 'fused' | 'op-by-op';
}

export interface ModelAnalysis {
  readonly name: string;
  readonly source?: string;
  readonly input: readonly number[];
  readonly precision: Precision;
  readonly elementBytes: number;
  readonly totals: Totals;
  readonly groups: Partial<Record<GroupBy, GroupRow[]>>;
  readonly roofline: RooflineSettings | null;
  /** Where 32-bit indices or byte offsets would overflow (int32.ts). */
  readonly int32: Int32Overflow;
}

function finish(key: string, a: Acc, hasPlan: boolean, hasGpu: boolean): GroupRow {
  const bytes = hasPlan ? a.bytesFused : a.bytesOps;
  const flops = FLOPS_PER_MAC * a.macs;
  const roofline: RooflineFigures | null = hasGpu ? rooflineFigures(hasPlan ? a.timeFused : a.timeOps, hasPlan ? a.computeFused : a.computeOps) : null;
  return {
    key,
    params: a.params,
    macs: a.macs,
    flops,
    otherOps: a.otherOps,
    memAccess: a.memAccess,
    activations: a.activations,
    bytesOps: a.bytesOps,
    bytesFused: hasPlan ? a.bytesFused : null,
    nodes: a.nodes,
    intensity: bytes > 0 ? flops / bytes : null,
    roofline,
  };
}

/** Rows, totals and roofline settings of an aggregate. */
export function finishAnalysis(model: { readonly name: string; readonly source?: string; readonly input: readonly number[] }, agg: Aggregate, opts: AnalyzeOptions = {}): ModelAnalysis {
  const { precision, eb, peak } = roofOf(opts.gpu, opts.precision);
  const gpu = opts.gpu;
  const { maps, total, by, fused } = agg;
  const groups: Partial<Record<GroupBy, GroupRow[]>> = {};
  agg.levels.forEach((lv, j) => {
    groups[lv] = [...maps[j]].map(([k, a]) => finish(k, a, fused, !!gpu));
  });
  const t = finish('total', total, fused, !!gpu);
  const timeOpsS = gpu ? total.timeOps : null;
  const timeFusedS = gpu && fused ? total.timeFused : null;
  const bestTime = timeFusedS ?? timeOpsS;
  const totals: Totals = {
    ...t,
    otherOpsBy: { ...by },
    fvcoreMacs: total.macs + 2 * by.batchnorm + agg.gapInput,
    timeOpsS,
    timeFusedS,
    efficiency: bestTime ? t.flops / bestTime : null,
    deform: agg.deform.layers ? { ...agg.deform } : null,
  };
  return {
    name: model.name,
    source: model.source,
    input: [...model.input],
    precision,
    elementBytes: eb,
    totals,
    groups,
    roofline:
      gpu && peak
        ? {
            gpu: gpu.name,
            label: gpu.label,
            precision,
            peakFlops: peak.value,
            peakSource: peak.source,
            bandwidth: gpu.bandwidth.value,
            bandwidthSource: gpu.bandwidth.source,
            ridge: peak.value / gpu.bandwidth.value,
            bytesBasis: fused ? 'fused' : 'op-by-op',
          }
        : null,
    int32: finishInt32(agg.int32, opts.plan),
  };
}

/** Analyses a graph from its shapes (parameter data is not read). */
export function analyzeGraph(g: Graph, opts: AnalyzeOptions = {}): ModelAnalysis {
  return finishAnalysis({ name: g.name, source: g.meta.source, input: g.input.shape }, aggregateGraph(g, opts), opts);
}

// analyzeGraph: per-node costs (cost.ts) summed per layer / block / stage / op kind and for
// the whole model, with the roofline estimate of a GPU profile and, when a kernel plan of
// the optimized graph is given, the bytes its fused launches move.
//
// The graph analysed is the unoptimized one (one IR op per PyTorch module), so every node
// id is a module path and every figure can be traced to a module. The optimized plan's
// launches name the unoptimized nodes they compute (Launch.nodes), which is how the fused
// bytes are attributed to groups: a launch belongs to the group of its first node.

import { nodeMap, valueShape, type Graph, type Node } from '../ir/graph.js';
import type { KernelPlan } from '../plan/types.js';
import { costNodes, type NodeCost } from './cost.js';
import { ELEMENT_BYTES, peakFlops, type GpuProfile, type Precision } from './gpus.js';
import { addNodeTensors, finishInt32, mergeInt32, type Int32Acc, type Int32Overflow } from './int32.js';

export type GroupBy = 'layer' | 'block' | 'stage' | 'op';
export const GROUP_BYS: readonly GroupBy[] = ['layer', 'block', 'stage', 'op'];

/** Figures summed over a set of nodes. Counts are elements or multiply-accumulates; bytes are bytes. */
export interface Metrics {
  readonly params: number;
  /** Multiply-accumulates ("mult-adds"). */
  readonly macs: number;
  /** 2 x macs. */
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

/** Roofline estimate of a set of kernels: each kernel takes max(FLOPs / peak, bytes / bandwidth). */
export interface RooflineFigures {
  /** Estimated time, seconds (sum over the kernels). */
  readonly timeS: number;
  /** Time of the kernels that are compute-bound / memory-bound. */
  readonly computeBoundS: number;
  readonly memoryBoundS: number;
  /** 'compute' or 'memory' by which kind of kernel takes more of the time; 'none' without work. */
  readonly bound: 'compute' | 'memory' | 'none';
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

export interface AnalyzeOptions {
  /** Group levels to compute (default: all four). */
  readonly groupBy?: readonly GroupBy[];
  readonly gpu?: GpuProfile;
  /** Precision of the roofline and element size of the bytes (default fp32). */
  readonly precision?: Precision;
  /** Kernel plan of the optimized graph, for the fused bytes. */
  readonly plan?: KernelPlan;
}

/** Trailing parts of a node id that belong to one conv unit ("stem.0.conv" is in layer "stem.0"). */
const UNIT_PARTS = new Set(['conv', 'conv_dw', 'conv_pw', 'bn', 'norm', 'relu']);

/**
 * The layer of a node: a conv unit (conv or separable conv + BN + ReLU, or DenseNet's
 * BN-ReLU-conv), an attention module (its pool, fc, gate and multiply), the head, or the
 * node itself (pool, concat, residual add).
 */
export function layerKey(id: string): string {
  const dot = id.lastIndexOf('.');
  if (dot < 0) return id;
  const parent = id.slice(0, dot);
  if (UNIT_PARTS.has(id.slice(dot + 1))) return parent;
  if (parent.endsWith('.attn') || parent === 'head') return parent;
  return id;
}

function opKey(n: Node): string {
  if (n.op !== 'conv2d') return n.op;
  const a = n.attrs as { groups: number; kernel: readonly [number, number] };
  if (a.groups > 1) return a.groups === n.shape[1] ? 'conv2d depthwise' : 'conv2d grouped';
  return `conv2d ${a.kernel[0]}x${a.kernel[1]}`;
}

export function groupKey(n: Node, by: GroupBy): string {
  switch (by) {
    case 'layer':
      return layerKey(n.id);
    case 'block':
      return n.scope;
    case 'stage': {
      const d = n.scope.indexOf('.');
      return d < 0 ? n.scope : n.scope.slice(0, d);
    }
    case 'op':
      return opKey(n);
  }
}

/** Running sums of one group (counts, bytes, roofline seconds). */
export interface Acc {
  params: number;
  macs: number;
  otherOps: number;
  memAccess: number;
  activations: number;
  bytesOps: number;
  bytesFused: number;
  nodes: number;
  timeOps: number;
  computeOps: number;
  timeFused: number;
  computeFused: number;
}

const newAcc = (): Acc => ({ params: 0, macs: 0, otherOps: 0, memAccess: 0, activations: 0, bytesOps: 0, bytesFused: 0, nodes: 0, timeOps: 0, computeOps: 0, timeFused: 0, computeFused: 0 });

/** One kernel's roofline time: [time, time if compute-bound else 0]. */
function kernelTime(flops: number, bytes: number, peak: number, bw: number): [number, number] {
  const c = flops / peak;
  const m = bytes / bw;
  return c >= m ? [c, c] : [m, 0];
}

function finish(key: string, a: Acc, hasPlan: boolean, hasGpu: boolean): GroupRow {
  const bytes = hasPlan ? a.bytesFused : a.bytesOps;
  const flops = 2 * a.macs;
  let roofline: RooflineFigures | null = null;
  if (hasGpu) {
    const timeS = hasPlan ? a.timeFused : a.timeOps;
    const computeBoundS = hasPlan ? a.computeFused : a.computeOps;
    const memoryBoundS = timeS - computeBoundS;
    roofline = { timeS, computeBoundS, memoryBoundS, bound: timeS === 0 ? 'none' : computeBoundS >= memoryBoundS ? 'compute' : 'memory' };
  }
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

const POOLS = new Set(['maxpool', 'avgpool', 'global_avg_pool']);
const NO_TIME: [number, number] = [0, 0];

/**
 * The sums of a graph, or of a piece of one (see pieces.ts), per group at each level, before
 * they become rows. Pieces of one model merge into the model's aggregate.
 */
export interface Aggregate {
  readonly levels: readonly GroupBy[];
  /** Per level, group key -> sums, in order of first appearance. */
  readonly maps: readonly Map<string, Acc>[];
  readonly total: Acc;
  readonly by: { batchnorm: number; pooling: number; elementwise: number };
  /** Input elements of global average pools (for the fvcore-style figure). */
  gapInput: number;
  readonly fused: boolean;
  /** Layers touching tensors past 2^31 - 1 bytes (int32.ts). */
  readonly int32: Int32Acc;
}

interface Settings {
  readonly precision: Precision;
  readonly eb: number;
  readonly levels: readonly GroupBy[];
  readonly peak?: { readonly value: number; readonly source: string };
  readonly bw: number;
}

function settings(opts: AnalyzeOptions): Settings {
  const precision = opts.precision ?? 'fp32';
  return {
    precision,
    eb: ELEMENT_BYTES[precision],
    levels: opts.groupBy ?? GROUP_BYS,
    peak: opts.gpu ? peakFlops(opts.gpu, precision) : undefined,
    bw: opts.gpu?.bandwidth.value ?? 1,
  };
}

function addAcc(a: Acc, b: Acc): void {
  for (const k in b) a[k as keyof Acc] += b[k as keyof Acc];
}

/**
 * Sums the costs of `g`'s nodes (and of the plan's launches) per group. `renameLayer` maps
 * the layer keys of a piece lowered on its own to the model's (stage index).
 */
export function aggregateGraph(g: Graph, opts: AnalyzeOptions = {}, renameLayer?: (key: string) => string): Aggregate {
  const { eb, levels, peak, bw } = settings(opts);
  const plan = opts.plan;
  const costs: NodeCost[] = costNodes(g);
  const maps = levels.map(() => new Map<string, Acc>());
  const total = newAcc();
  // With a plan, the accumulators of each node, so that its launches can be attributed.
  const accsOf = plan ? new Map<string, Acc[]>() : undefined;
  const by = { batchnorm: 0, pooling: 0, elementwise: 0 };
  let gapInput = 0;
  const int32: Int32Acc = new Map();
  const nodes = nodeMap(g);
  const add = (a: Acc, c: NodeCost, bytes: number, t: number, tc: number) => {
    a.params += c.params;
    a.macs += c.macs;
    a.otherOps += c.otherOps;
    a.memAccess += c.memAccess;
    a.activations += c.activations;
    a.bytesOps += bytes;
    a.nodes += 1;
    a.timeOps += t;
    a.computeOps += tc;
  };

  for (let i = 0; i < g.nodes.length; i++) {
    const n = g.nodes[i];
    const c = costs[i];
    const bytes = (c.elementsRead + c.elementsWritten) * eb;
    const [t, tc] = peak ? kernelTime(2 * c.macs, bytes, peak.value, bw) : NO_TIME;
    add(total, c, bytes, t, tc);
    const accs = accsOf ? [total] : undefined;
    for (let j = 0; j < levels.length; j++) {
      let key = groupKey(n, levels[j]);
      if (renameLayer && levels[j] === 'layer') key = renameLayer(key);
      let a = maps[j].get(key);
      if (!a) maps[j].set(key, (a = newAcc()));
      add(a, c, bytes, t, tc);
      accs?.push(a);
    }
    if (accs) accsOf!.set(n.id, accs);
    if (n.op === 'batchnorm') by.batchnorm += c.otherOps;
    else if (POOLS.has(n.op)) by.pooling += c.otherOps;
    else by.elementwise += c.otherOps;
    if (n.op === 'global_avg_pool') gapInput += c.otherOps;
    const layer = layerKey(n.id);
    addNodeTensors(int32, renameLayer ? renameLayer(layer) : layer, [...n.inputs.map((v) => valueShape(g, v, nodes)), n.shape], eb);
  }

  if (plan) {
    // Plans count f32 bytes; rescale to the element size of the precision.
    const scale = eb / 4;
    for (const l of plan.launches) {
      const accs = accsOf!.get(l.nodes[0]) ?? [total];
      const bytes = (l.cost.activationBytesRead + l.cost.weightBytesRead + l.cost.bytesWritten) * scale;
      const [t, tc] = peak ? kernelTime(2 * l.cost.macs, bytes, peak.value, bw) : NO_TIME;
      for (const a of accs) {
        a.bytesFused += bytes;
        a.timeFused += t;
        a.computeFused += tc;
      }
    }
  }
  return { levels, maps, total, by, gapInput, fused: !!plan, int32 };
}

/** The aggregate of a model from those of its pieces, in model order (the parts are not modified). */
export function mergeAggregates(parts: readonly Aggregate[]): Aggregate {
  const levels = parts[0].levels;
  const maps = levels.map(() => new Map<string, Acc>());
  const total = newAcc();
  const by = { batchnorm: 0, pooling: 0, elementwise: 0 };
  let gapInput = 0;
  for (const p of parts) {
    p.maps.forEach((m, j) => {
      for (const [k, a] of m) {
        let t = maps[j].get(k);
        if (!t) maps[j].set(k, (t = newAcc()));
        addAcc(t, a);
      }
    });
    addAcc(total, p.total);
    by.batchnorm += p.by.batchnorm;
    by.pooling += p.by.pooling;
    by.elementwise += p.by.elementwise;
    gapInput += p.gapInput;
  }
  return { levels, maps, total, by, gapInput, fused: parts.every((p) => p.fused), int32: mergeInt32(parts.map((p) => p.int32)) };
}

/** Rows, totals and roofline settings of an aggregate. */
export function finishAnalysis(model: { readonly name: string; readonly source?: string; readonly input: readonly number[] }, agg: Aggregate, opts: AnalyzeOptions = {}): ModelAnalysis {
  const { precision, eb, peak } = settings(opts);
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
    int32: finishInt32(agg.int32, opts.plan, layerKey),
  };
}

/** Analyses a graph from its shapes (parameter data is not read). */
export function analyzeGraph(g: Graph, opts: AnalyzeOptions = {}): ModelAnalysis {
  return finishAnalysis({ name: g.name, source: g.meta.source, input: g.input.shape }, aggregateGraph(g, opts), opts);
}

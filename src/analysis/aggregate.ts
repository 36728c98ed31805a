// Accumulation: the per-node costs (cost.ts) of a graph, or of a piece of one (pieces.ts),
// summed per group at each level and for the whole model, with each node's roofline time and,
// when a kernel plan of the optimized graph is given, the bytes its fused launches move.
//
// The graph is the unoptimized one (one IR op per PyTorch module), so every figure traces to a
// module. The plan's launches name the unoptimized nodes they compute (Launch.nodes): a launch
// belongs to the groups of its first node.

import { isOp, nodeMap, numel, valueShape, type Graph } from '../ir/graph.js';
import { sampleFlops } from '../ir/ops.js';
import type { KernelPlan } from '../plan/types.js';
import { costNodes, type NodeCost } from './cost.js';
import type { GpuProfile, Precision } from '../hw/gpus.js';
import { GROUP_BYS, groupKey, type GroupBy } from './group.js';
import { addNodeTensors, mergeInt32, type Int32Acc } from './int32.js';
import { kernelTime, roofOf } from './roofline.js';

export interface AnalyzeOptions {
  /** Group levels to compute (default: all four). */
  readonly groupBy?: readonly GroupBy[];
  readonly gpu?: GpuProfile;
  /** Precision of the roofline and element size of the bytes (default fp32). */
  readonly precision?: Precision;
  /** Kernel plan of the optimized graph, for the fused bytes. */
  readonly plan?: KernelPlan;
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

/**
 * The sums of a graph, or of a piece of one, per group at each level, before they become rows.
 * Pieces of one model merge into the model's aggregate.
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
  readonly deform: DeformAcc;
}

/** What deformable convolution costs in a model (zeros without DCN): its share, for researchers. */
export interface DeformAcc {
  /** Deformable conv layers. */
  layers: number;
  /** The offset convs' learnable parameters and mult-adds. */
  offsetParams: number;
  offsetMacs: number;
  /** The deformable convs' GEMM mult-adds (in the model's mult-adds, as a conv of that shape). */
  gemmMacs: number;
  /** Bilinearly sampled values, their FLOPs (sampleFlops per value) and the bytes the sampling reads. */
  samples: number;
  sampleFlops: number;
  sampleBytes: number;
}
const newDeform = (): DeformAcc => ({ layers: 0, offsetParams: 0, offsetMacs: 0, gemmMacs: 0, samples: 0, sampleFlops: 0, sampleBytes: 0 });

function addAcc<T extends object>(a: T, b: T): void {
  for (const k in b) (a as Record<string, number>)[k] += (b as Record<string, number>)[k];
}

const POOLS = new Set(['maxpool', 'avgpool', 'global_avg_pool']);

/**
 * Sums the costs of `g`'s nodes (and of the plan's launches) per group. `renameLayer` maps
 * the layer keys of a piece lowered on its own to the model's (stage index).
 */
export function aggregateGraph(g: Graph, opts: AnalyzeOptions = {}, renameLayer?: (key: string) => string): Aggregate {
  const roof = roofOf(opts.gpu, opts.precision);
  const { eb } = roof;
  const levels = opts.groupBy ?? GROUP_BYS;
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
  const deform = newDeform();
  const offsetConvs = new Set(g.nodes.filter((n) => isOp(n, 'deform_conv2d')).map((n) => n.inputs[1]));
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
    const [t, tc] = kernelTime(roof, c.macs, bytes);
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
    if (offsetConvs.has(n.id)) {
      deform.offsetParams += c.params;
      deform.offsetMacs += c.macs;
    }
    if (isOp(n, 'deform_conv2d')) {
      deform.layers += 1;
      deform.gemmMacs += c.macs;
      deform.samples += c.samples;
      deform.sampleFlops += c.samples * sampleFlops(n.attrs.modulated);
      deform.sampleBytes += (4 * c.samples + numel(valueShape(g, n.inputs[1], nodes))) * eb;
    }
    addNodeTensors(int32, renameLayer ? renameLayer(n.layer) : n.layer, [...n.inputs.map((v) => valueShape(g, v, nodes)), n.shape], eb);
  }

  if (plan) {
    // The plan counts bytes in its own dtypes (built for the same precision).
    if (plan.precision !== roof.precision) throw new Error(`internal: a ${plan.precision} plan analysed at ${roof.precision}`);
    for (const l of plan.launches) {
      const accs = accsOf!.get(l.nodes[0]) ?? [total];
      const bytes = l.cost.activationBytesRead + l.cost.weightBytesRead + l.cost.bytesWritten;
      const [t, tc] = kernelTime(roof, l.cost.macs, bytes);
      for (const a of accs) {
        a.bytesFused += bytes;
        a.timeFused += t;
        a.computeFused += tc;
      }
    }
  }
  return { levels, maps, total, by, gapInput, fused: !!plan, int32, deform };
}

/** The aggregate of a model from those of its pieces, in model order (the parts are not modified). */
export function mergeAggregates(parts: readonly Aggregate[]): Aggregate {
  const levels = parts[0].levels;
  const maps = levels.map(() => new Map<string, Acc>());
  const total = newAcc();
  const by = { batchnorm: 0, pooling: 0, elementwise: 0 };
  let gapInput = 0;
  const deform = newDeform();
  for (const p of parts) {
    addAcc(deform, p.deform);
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
  return { levels, maps, total, by, gapInput, fused: parts.every((p) => p.fused), int32: mergeInt32(parts.map((p) => p.int32)), deform };
}

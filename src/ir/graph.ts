// The graph IR: an immutable, typed dataflow graph in NCHW float32.
//
// - Every node has exactly one output value, named by the node's id (so a value name is the
//   name of the node that produces it; the graph input is the value "input").
// - Nodes are stored in a topological order; passes return new Graph objects and never mutate.
// - Learned tensors live in `params` under canonical names (timm's checkpoint names, e.g.
//   "stages.0.blocks.0.conv_mid.0.conv.weight"). Their data may be absent (null): a graph can
//   be compiled and analysed from shapes alone, and passes that transform weights (BN folding)
//   then produce absent data too.
// - Each node keeps the DSL span it came from, so that a verifier or backend error can point
//   at the model file.

import type { Span } from '../diag/diagnostics.js';
import type { Activation } from './activations.js';

export type { Activation } from './activations.js';

export type Shape = readonly number[];

export interface ConvAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pad: readonly [number, number, number, number];
  readonly groups: number;
  /** Fused epilogue activation (activations.ts; set by passes; the lowering emits 'none' and no bias). */
  readonly act: Activation;
  /** true when inputs[1] is added after the activation (fused residual). */
  readonly residual: boolean;
}

/**
 * A deformable convolution (DCN, torchvision.ops.deform_conv2d / ONNX DeformConv): inputs[1]
 * is the offset conv's raw output [N, (modulated ? 3 : 2) * KH * KW * deformGroups, OH, OW]:
 * channels [0, 2*KH*KW*G) are the offsets, (dy, dx) per kernel tap, taps row-major, group g's
 * at [2*KH*KW*g, 2*KH*KW*(g+1)); for a modulated (v2) conv channels [2*KH*KW*G + KH*KW*g, +KH*KW)
 * are group g's mask LOGITS, whose sigmoid the op applies. Tap (i, j) of output (oh, ow) samples
 * input channel c of group g = c / (Cin / G) at y = oh*SH - PT + i + dy, x = ow*SW - PL + j + dx,
 * bilinearly over the 4 integer neighbours, each neighbour outside the image contributing 0
 * (so y <= -1 or y >= H gives 0). No residual.
 */
export interface DeformConvAttrs extends ConvAttrs {
  readonly deformGroups: number;
  readonly modulated: boolean;
}

export interface PoolAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pad: readonly [number, number, number, number];
  readonly ceil: boolean;
}

/** Attributes by op. Ops not listed take no attributes. */
export interface OpAttrs {
  conv2d: ConvAttrs;
  deform_conv2d: DeformConvAttrs;
  batchnorm: { readonly eps: number };
  /** An elementwise activation from the table in activations.ts (never 'none'). */
  act: { readonly fn: Activation };
  maxpool: PoolAttrs;
  avgpool: PoolAttrs;
  global_avg_pool: Record<string, never>;
  /** `inplace`: set by concat elimination; producers write straight into channel slices. */
  concat: { readonly axis: 1; readonly inplace: boolean };
  add: Record<string, never>;
  mul: Record<string, never>;
  /** ECA: 1-D conv across the channel axis of an [N,C,1,1] tensor, one filter, no bias. */
  eca_conv1d: { readonly kernel: number };
  flatten: Record<string, never>;
  linear: Record<string, never>;
  /**
   * Fused attention gate (passes): s = act(fc(global_avg_pool(z))) with fc a 1x1 conv with
   * bias (eSE, act hardsigmoid) or an ECA conv1d (act sigmoid). Output [N,C,1,1].
   */
  se_gate: { readonly mode: 'ese' | 'eca'; readonly kernel: number; readonly act: Activation };
  /** Fused gating (passes): out = z * s (+ inputs[2] when residual). */
  scale: { readonly residual: boolean };
}

export type OpKind = keyof OpAttrs;

export interface Node<K extends OpKind = OpKind> {
  readonly id: string;
  readonly op: K;
  readonly inputs: readonly string[];
  readonly attrs: OpAttrs[K];
  /** Role -> canonical parameter name, e.g. { weight: "stem.0.conv.weight" }. */
  readonly params: Readonly<Record<string, string>>;
  /** Output shape (filled by shape inference). */
  readonly shape: Shape;
  /** Where in the DSL this node came from. */
  readonly span?: Span;
  /** Hierarchical scope for grouping: "stem", "stage2", "stage2.block1", "head". */
  readonly scope: string;
  /**
   * The layer the node belongs to, set at lowering: a conv unit ("stem.0": conv, BN and
   * activation), an attention module ("stages.1.blocks.0.attn"), the head, or the node itself
   * (a pool, a concat, a residual add). The analyzer groups by it.
   */
  readonly layer: string;
  /**
   * Provenance of a node that passes made from several: the ids of the unoptimized nodes it
   * computes, in dataflow order (absent when the node stands only for itself).
   */
  readonly fused?: readonly string[];
}

export interface Param {
  readonly shape: Shape;
  /** Float32 data in C order, or null when compiling from shapes alone. */
  readonly data: Float32Array | null;
}

export type Naming = 'timm' | 'vovnet-pytorch' | 'detectron2';

export interface GraphMeta {
  /** Checkpoint naming convention of the model. */
  readonly naming: Naming;
  /** Input preprocessing family (timm: RGB mean/std; detectron2: BGR minus mean). */
  readonly preprocessing: 'timm' | 'detectron2';
  readonly bnEps: number;
  readonly numClasses: number;
  /** Where the model was defined (zoo name or file). */
  readonly source?: string;
}

export interface GraphOutput {
  readonly name: string;
  readonly value: string;
}

export interface Graph {
  readonly name: string;
  readonly input: { readonly name: 'input'; readonly shape: Shape };
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
  readonly params: ReadonlyMap<string, Param>;
  readonly meta: GraphMeta;
}

export const INPUT = 'input';

export function nodeMap(g: Graph): Map<string, Node> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

/** The shape of a value: the graph input or a node output. */
export function valueShape(g: Graph, value: string, nodes = nodeMap(g)): Shape {
  if (value === INPUT) return g.input.shape;
  const n = nodes.get(value);
  if (!n) throw new Error(`unknown value ${value}`);
  return n.shape;
}

/** value -> ids of the nodes that read it (in node order). */
export function consumers(g: Graph): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const n of g.nodes) for (const i of n.inputs) {
    const list = m.get(i);
    if (list) list.push(n.id);
    else m.set(i, [n.id]);
  }
  return m;
}

export function numel(shape: Shape): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

export function isOp<K extends OpKind>(n: Node | undefined, op: K): n is Node<K> {
  return n?.op === op;
}

/** A convolution with a weight (and optional bias) that fold-bn and the epilogue fusions treat alike. */
export function isConvLike(n: Node | undefined): n is Node<'conv2d'> | Node<'deform_conv2d'> {
  return n?.op === 'conv2d' || n?.op === 'deform_conv2d';
}

/** How the IR text and messages name a node's op: an activation by its function (`relu`). */
export function opName(n: Node): string {
  return isOp(n, 'act') ? n.attrs.fn : n.op;
}

/** The unoptimized node ids a node computes (itself when it was never fused). */
export function covers(n: Node): readonly string[] {
  return n.fused ?? [n.id];
}

/**
 * Learnable parameters, timm's convention: conv / linear weights and biases, BN gamma and
 * beta; not BN running statistics (nor num_batches_tracked, which the IR does not hold).
 */
export function countParams(g: Graph): number {
  let n = 0;
  for (const [name, p] of g.params) if (!/\.running_(mean|var)$/.test(name)) n += numel(p.shape);
  return n;
}

/** The same graph with every parameter's data dropped (shapes only): for structural work. */
export function shapesOnly(g: Graph): Graph {
  return { ...g, params: new Map([...g.params].map(([k, p]) => [k, { shape: p.shape, data: null }])) };
}

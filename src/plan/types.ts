// The kernel-level plan: the input of every backend (ONNX, CUDA, WGSL).
//
// A KernelPlan is a flat, ordered list of kernel launches over three kinds of memory:
//   - the graph input buffer ('input'), read-only;
//   - one buffer per graph output ('output', by output name), written by the launch that
//     produces the output value (and possibly read by later launches);
//   - one arena ('arena') holding every other activation; offsets inside it come from the
//     memory planner (liveness over the launch order + best-fit placement, see
//     docs/PASSES.md), so two values whose lifetimes do not overlap may share bytes.
// plus one packed, read-only weight blob holding every parameter.
//
// Everything is float32. Offsets, shapes and strides count ELEMENTS (4 bytes each), never
// bytes, except the fields whose names end in "Bytes". Every 4-D tensor is NCHW; 2-D IR
// values ([N,F], the classifier's logits) are described as [N,F,1,1].
//
// Launches run in array order; a launch may read any view written by an earlier launch.
// Views may be strided: a channel slice of a concat buffer has a batch stride larger than
// C*H*W, and a producer may WRITE through such a view (in-place concat, see
// `TensorView.slice`). Every backend must honour `strides` for inputs and outputs alike.
//
// The same types describe both the optimized plan (fused launches, in-place concats, arena
// reuse) and the op-by-op plan of an unoptimized graph (one launch per IR op, a real
// `concat` launch, no reuse), which gives the "before" figures of the fusion report.

import type { Activation } from '../ir/graph.js';

/** Bumped whenever a field changes meaning. */
export const PLAN_VERSION = 1;

/** Parameters and arena blocks start on multiples of this many elements (256 bytes). */
export const ALIGN_ELEMENTS = 64;

/** Largest element index a signed 32-bit integer can hold. */
export const MAX_INT32 = 2 ** 31 - 1;

/** Which memory a view points into. */
export type BufferKind = 'arena' | 'input' | 'output';

/**
 * A strided window of one buffer: element (n, c, h, w) lives at
 * `offset + n*strides[0] + c*strides[1] + h*strides[2] + w*strides[3]`.
 * Dense NCHW has strides [C*H*W, H*W, W, 1]; a channel slice [c0, c0+C) of a concat buffer of
 * Ctot channels has offset base + c0*H*W and strides [Ctot*H*W, H*W, W, 1].
 */
export interface TensorView {
  readonly buffer: BufferKind;
  /** 'input' for the input buffer, the output's name for an 'output' buffer, 'arena' otherwise. */
  readonly name: string;
  /** Element offset of (0,0,0,0) inside the buffer. */
  readonly offset: number;
  /** [N, C, H, W] */
  readonly shape: readonly [number, number, number, number];
  /** Element strides [n, c, h, w]. */
  readonly strides: readonly [number, number, number, number];
  /** The IR value this view holds (a node id, or "input"), for debugging and the ONNX backend. */
  readonly value: string;
  /**
   * Set when the view is a channel slice of an in-place concat: the concat's IR value and the
   * first channel of the slice within it. The ONNX backend (which has no aliasing) can rebuild
   * an explicit Concat from these; the GPU backends can ignore it.
   */
  readonly slice?: { readonly of: string; readonly channel: number };
}

/** Where one parameter sits in the packed weight blob. */
export interface WeightRef {
  /** Canonical parameter name (timm naming; folded params keep or take names, see PASSES.md). */
  readonly name: string;
  /** Element offset in the blob; a multiple of ALIGN_ELEMENTS. */
  readonly offset: number;
  /** The parameter's shape (conv weight [Cout, Cin/groups, kh, kw], linear [out, in], ...). */
  readonly shape: readonly number[];
  /** Number of elements (product of shape). */
  readonly numel: number;
}

/** The packed weight blob: every parameter of the graph, each aligned to ALIGN_ELEMENTS. */
export interface WeightsLayout {
  /** Blob length in elements (including alignment padding). */
  readonly totalElements: number;
  /** In blob order (the graph's first-use order). Fill with `packWeights` (src/plan/weights.ts). */
  readonly entries: readonly WeightRef[];
}

/**
 * What a launch computes. Inputs are `Launch.inputs` in the order given here; params are
 * `Launch.params` by role; attributes are the `LaunchAttrs` fields named.
 *
 *   conv        y = act(conv(x, weight) + bias) (+ r)   inputs [x] or [x, r] (residual)
 *               attrs kernel stride pad groups act residual; params weight, bias?
 *   dwconv      same as conv with groups == Cin == Cout (depthwise, multiplier 1)
 *   maxpool     attrs kernel stride pad ceil (PyTorch ceil_mode semantics, pad -inf)
 *   avgpool     attrs kernel stride pad ceil (pad is 0 in every model vovc lowers)
 *   gap         global average pool [N,C,H,W] -> [N,C,1,1]
 *   se_gate     s = act(fc(gap(z)))  input [z] -> [N,C,1,1]; attrs mode act ecaKernel;
 *               mode 'ese': fc is a 1x1 conv C->C with params weight [C,C,1,1] and bias [C];
 *               mode 'eca': fc is a 1-D conv across channels, params weight [1,1,k], zero
 *               padding (k-1)/2, no bias
 *   scale       y = z * s (+ r)  inputs [z, s] or [z, s, r], s is [N,C,1,1]; attrs residual
 *   linear      y = x . weight^T + bias; input [N,F,1,1]; params weight [out,F], bias?
 *   copy        y = x (same shape); a kept concat copy or a flatten
 *   concat      y = inputs concatenated along C, in input order (unoptimized plans only)
 *   batchnorm   y = (x - running_mean) / sqrt(running_var + eps) * weight + bias; attrs eps
 *   relu        y = max(x, 0)
 *   hardsigmoid y = clamp(alpha * x + beta, 0, 1); attrs alpha beta
 *   sigmoid     y = 1 / (1 + exp(-x))
 *   add         y = a + b (equal shapes)
 *   mul         y = a * b, b of a's shape or [N,C,1,1] (broadcast over H, W)
 *   eca_conv1d  1-D conv across channels of [N,C,1,1], params weight [1,1,k]; attrs ecaKernel
 */
export type LaunchKind =
  | 'conv'
  | 'dwconv'
  | 'maxpool'
  | 'avgpool'
  | 'gap'
  | 'se_gate'
  | 'scale'
  | 'linear'
  | 'copy'
  | 'concat'
  | 'batchnorm'
  | 'relu'
  | 'hardsigmoid'
  | 'sigmoid'
  | 'add'
  | 'mul'
  | 'eca_conv1d';

/** Attributes of a launch; which fields a kind uses is listed at LaunchKind. */
export interface LaunchAttrs {
  /** [kh, kw] of a conv or pool window. */
  readonly kernel?: readonly [number, number];
  /** [sh, sw] */
  readonly stride?: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pad?: readonly [number, number, number, number];
  readonly groups?: number;
  /** Pools: PyTorch ceil_mode. */
  readonly ceil?: boolean;
  /** conv / se_gate epilogue activation; 'hardsigmoid' always means clamp(x/6 + 1/2, 0, 1). */
  readonly act?: Activation;
  /** conv: inputs[1] is added after act; scale: inputs[2] is added after the product. */
  readonly residual?: boolean;
  /** batchnorm */
  readonly eps?: number;
  /** hardsigmoid (unfused) */
  readonly alpha?: number;
  readonly beta?: number;
  /** se_gate */
  readonly mode?: 'ese' | 'eca';
  /** se_gate in 'eca' mode and eca_conv1d: the 1-D kernel size (odd). */
  readonly ecaKernel?: number;
}

/** Work and memory traffic of one launch (every figure assumes each tensor moves once). */
export interface LaunchCost {
  /** Floating-point operations: 2 per multiply-accumulate, 1 per elementwise op. */
  readonly flops: number;
  /** Multiply-accumulates of conv / linear / fc (0 for other kinds). */
  readonly macs: number;
  /** Bytes of activations read (every input view once). */
  readonly activationBytesRead: number;
  /** Bytes of parameters read (every param once). */
  readonly weightBytesRead: number;
  /** Bytes written (the output view once). */
  readonly bytesWritten: number;
}

export interface Launch {
  /** Position in `KernelPlan.launches` (0-based). */
  readonly index: number;
  readonly kind: LaunchKind;
  /**
   * The ids of the unoptimized IR nodes this launch computes, in their original order (e.g.
   * ["stem.0.conv", "stem.0.bn", "stem.0.relu"]). The first id, or for a kept copy the
   * concat's id, names the launch. Kept concat copies list the concat node.
   */
  readonly nodes: readonly string[];
  readonly inputs: readonly TensorView[];
  readonly output: TensorView;
  readonly attrs: LaunchAttrs;
  /** Parameters by role: weight, bias (batchnorm also running_mean, running_var). */
  readonly params: Readonly<Record<string, WeightRef>>;
  readonly cost: LaunchCost;
  /**
   * true when some view's largest reachable element index (offset + sum((shape-1)*stride)) or
   * some param's end exceeds MAX_INT32: the backend must index this launch with 64-bit math.
   */
  readonly needs64bit: boolean;
  /** Why the launch exists when that is not obvious (e.g. why a concat copy was kept). */
  readonly note?: string;
}

/** The graph input or one graph output. */
export interface IoDesc {
  /** 'input', or the output's name ('logits', 'stage3', ...). */
  readonly name: string;
  /** The IR value (node id) behind an output; "input" for the input. */
  readonly value: string;
  /** The IR shape (2-D for logits). Buffers are dense, C order. */
  readonly shape: readonly number[];
  readonly elements: number;
}

/** One block of arena memory, as the planner assigned it. */
export interface ArenaBlock {
  /** The IR value owning the block (an in-place concat's value holds all its slices). */
  readonly value: string;
  /** Element offset, a multiple of ALIGN_ELEMENTS. */
  readonly offset: number;
  /** Size in elements (unpadded). */
  readonly elements: number;
  /** First and last launch index (inclusive) at which the block holds live data. */
  readonly firstLaunch: number;
  readonly lastLaunch: number;
}

export interface KernelPlan {
  readonly version: number;
  /** Model (graph) name. */
  readonly model: string;
  /**
   * true when the arena reuses memory between values whose lifetimes do not overlap (the
   * normal plan); false for the "before" figures, where every value has its own block.
   */
  readonly reuse: boolean;
  readonly input: IoDesc;
  readonly outputs: readonly IoDesc[];
  /** Arena size in bytes (f32, a multiple of 256). */
  readonly arenaBytes: number;
  /** The arena's blocks; with `reuse: false` no two blocks overlap. */
  readonly arena: readonly ArenaBlock[];
  readonly weights: WeightsLayout;
  readonly launches: readonly Launch[];
  /** true when the arena, the weight blob or any launch needs 64-bit indices. */
  readonly needs64bit: boolean;
  /** Preprocessing family and class count, copied from the graph's meta for the backends. */
  readonly preprocessing: 'timm' | 'detectron2';
  readonly numClasses: number;
}

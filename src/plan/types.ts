// The kernel-level plan: the one typed hand-off from the compiler to the backends that render
// kernels (CUDA, WGSL). The driver builds it once (src/plan/build.ts), verifies it
// (src/plan/verify.ts) and gives it, with the parameter data, to the backend.
//
// A KernelPlan is a flat, ordered list of kernel launches over the plan's buffers:
//   - the graph input buffer ('input'), read-only;
//   - one buffer per graph output ('output', by output name), written by the launch that
//     produces the output value (and possibly read by later launches);
//   - one arena ('arena') holding every other activation; offsets inside it come from the
//     memory planner (liveness over the launch order + best-fit placement, see
//     docs/PASSES.md), so two values whose lifetimes do not overlap may share bytes;
// plus one packed, read-only weight blob holding every parameter.
//
// Every buffer and view has a dtype and a layout. The dtype is the storage type of the plan's
// precision (f32 for fp32 and tf32, f16, bf16: src/ir/precision.ts), the same for every buffer
// and the weight blob; every layout is NCHW today (the channels-last tensor-core kernels are a
// value of that field, not a new plan shape). Offsets, shapes and strides count ELEMENTS of the view's dtype, never
// bytes, except the fields whose names end in "Bytes". 2-D IR values ([N,F], the classifier's
// logits) are described as [N,F,1,1].
//
// Launches run in array order; a launch may read any view written by an earlier launch.
// Views may be strided: a channel slice of a concat buffer has a batch stride larger than
// C*H*W, and a producer may WRITE through such a view (in-place concat, see
// `TensorView.slice`). Every backend must honour `strides` for inputs and outputs alike.
//
// The same types describe both the optimized plan (fused launches, in-place concats, arena
// reuse) and the op-by-op plan of an unoptimized graph (one launch per IR op, a real
// `concat` launch, no reuse), which gives the "before" figures of the fusion report.

import type { Span } from '../diag/diagnostics.js';
import type { Activation } from '../ir/activations.js';
import type { ConvAttrs, DeformConvAttrs, PoolAttrs } from '../ir/graph.js';
import type { Precision } from '../ir/precision.js';

/** Bumped whenever a field changes meaning. */
export const PLAN_VERSION = 4;

/** Parameters and arena blocks start on multiples of this many elements (256 bytes of f32). */
export const ALIGN_ELEMENTS = 64;

/** Largest element index a signed 32-bit integer can hold. */
export const MAX_INT32 = 2 ** 31 - 1;

/** Element types of buffers and views. */
export type DType = 'f32' | 'f16' | 'bf16';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, f16: 2, bf16: 2 };

/**
 * Which logical dimension each stride of a view belongs to. 'nchw': strides are listed as
 * [n, c, h, w] and a dense tensor has strides [C*H*W, H*W, W, 1]. (The channels-last layout
 * of the tensor-core kernels, 'nhwc', has the same stride order with dense strides
 * [H*W*C, 1, W*C, C]; views stay indexed by (n, c, h, w) whatever the layout.)
 */
export type Layout = 'nchw';

/** Which memory a view points into. */
export type BufferKind = 'arena' | 'input' | 'output';

/** One buffer of the plan. */
export interface BufferDesc {
  readonly kind: BufferKind;
  /** 'input', the output's name for an 'output' buffer, 'arena'. */
  readonly name: string;
  readonly dtype: DType;
  readonly elements: number;
}

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
  readonly dtype: DType;
  readonly layout: Layout;
  /** Element offset of (0,0,0,0) inside the buffer. */
  readonly offset: number;
  /** [N, C, H, W] */
  readonly shape: readonly [number, number, number, number];
  /** Element strides [n, c, h, w]. */
  readonly strides: readonly [number, number, number, number];
  /** The IR value this view holds (a node id, or "input"), for messages and the verifier. */
  readonly value: string;
  /**
   * Set when the view is a channel slice of an in-place concat: the concat's IR value and the
   * first channel of the slice within it (slices nest when concats do).
   */
  readonly slice?: { readonly of: string; readonly channel: number };
}

/** Where one parameter sits in the packed weight blob. */
export interface WeightRef {
  /** Canonical parameter name (timm naming; folded params keep or take names, see PASSES.md). */
  readonly name: string;
  readonly dtype: DType;
  /** Element offset in the blob; a multiple of ALIGN_ELEMENTS. */
  readonly offset: number;
  /** The parameter's shape (conv weight [Cout, Cin/groups, kh, kw], linear [out, in], ...). */
  readonly shape: readonly number[];
  /** Number of elements (product of shape). */
  readonly numel: number;
}

/** The packed weight blob: every parameter of the graph, each aligned to ALIGN_ELEMENTS. */
export interface WeightsLayout {
  readonly dtype: DType;
  /** Blob length in elements (including alignment padding). */
  readonly totalElements: number;
  /** In blob order (the graph's first-use order). Fill with `packWeights` (src/plan/weights.ts). */
  readonly entries: readonly WeightRef[];
}

/** Parameter data by WeightRef.name: null for a parameter without data (a shapes-only build). */
export type WeightData = (name: string) => Float32Array | null | undefined;

/** Work and memory traffic of one launch (every figure assumes each tensor moves once). */
export interface LaunchCost {
  /** Multiply-accumulates (the op table's rule, src/ir/ops.ts). */
  readonly macs: number;
  /** FLOPS_PER_MAC x macs: the one definition of FLOPs. */
  readonly flops: number;
  /** The op table's "other ops" (epilogue, pooling, elementwise work), not in flops. */
  readonly otherOps: number;
  /** Bytes of activations read (every input view once). */
  readonly activationBytesRead: number;
  /** Bytes of parameters read (every param once). */
  readonly weightBytesRead: number;
  /** Bytes written (the output view once). */
  readonly bytesWritten: number;
  /** Bilinearly sampled values of a deformable conv (the op table's `samples`; 0 elsewhere), not in flops. */
  readonly samples: number;
}

/** Convolution geometry and epilogue: the IR's (kernel, stride, pad [top, left, bottom, right], groups, act, residual). */
export type ConvLaunchAttrs = ConvAttrs;

/** A deformable convolution: the IR's geometry plus its offset groups and whether it is modulated (DCNv2). */
export type DeformLaunchAttrs = DeformConvAttrs;

/** Pooling window, PyTorch semantics (ceil_mode; max pads with -inf; average counts the padded window): the IR's. */
export type PoolLaunchAttrs = PoolAttrs;

type NoAttrs = Readonly<Record<string, never>>;

/** The attributes of each launch kind (what the kind computes is at Launch). */
export interface LaunchAttrsOf {
  conv: ConvLaunchAttrs;
  dwconv: ConvLaunchAttrs;
  deform_conv: DeformLaunchAttrs;
  maxpool: PoolLaunchAttrs;
  avgpool: PoolLaunchAttrs;
  gap: NoAttrs;
  /** 'ese': fc is a C x C 1x1 conv with bias; 'eca': a `kernel`-tap conv across channels, no bias. */
  se_gate: { readonly mode: 'ese'; readonly act: Activation } | { readonly mode: 'eca'; readonly act: Activation; readonly kernel: number };
  scale: { readonly residual: boolean };
  linear: NoAttrs;
  copy: NoAttrs;
  concat: NoAttrs;
  batchnorm: { readonly eps: number };
  act: { readonly fn: Activation };
  add: NoAttrs;
  mul: NoAttrs;
  eca_conv1d: { readonly kernel: number };
}

/** The parameters of each launch kind, by role. */
export interface LaunchParamsOf {
  conv: { readonly weight: WeightRef; readonly bias?: WeightRef };
  dwconv: { readonly weight: WeightRef; readonly bias?: WeightRef };
  deform_conv: { readonly weight: WeightRef; readonly bias?: WeightRef };
  maxpool: NoParams;
  avgpool: NoParams;
  gap: NoParams;
  se_gate: { readonly weight: WeightRef; readonly bias?: WeightRef };
  scale: NoParams;
  linear: { readonly weight: WeightRef; readonly bias?: WeightRef };
  copy: NoParams;
  concat: NoParams;
  batchnorm: { readonly weight: WeightRef; readonly bias: WeightRef; readonly running_mean: WeightRef; readonly running_var: WeightRef };
  act: NoParams;
  add: NoParams;
  mul: NoParams;
  eca_conv1d: { readonly weight: WeightRef };
}
type NoParams = Readonly<Record<string, never>>;

/**
 * What a launch computes. Inputs are `Launch.inputs` in the order given here:
 *
 *   conv        y = act(conv(x, weight) + bias) (+ r)   inputs [x] or [x, r] (attrs.residual)
 *   dwconv      the same with groups == Cin == Cout (depthwise, multiplier 1)
 *   deform_conv y = act(deform_conv(x, offsets, weight) + bias)   inputs [x, offsets]: groups 1,
 *               offsets the offset conv's raw output (layout and sampling at the IR's
 *               DeformConvAttrs, src/ir/graph.ts; the mask's sigmoid is this launch's)
 *   maxpool     window max (-inf padding, ceil-mode windows clipped to the input)
 *   avgpool     window mean (count_include_pad: the window clipped to the padded input)
 *   gap         global average pool [N,C,H,W] -> [N,C,1,1]
 *   se_gate     s = act(fc(gap(z)))  input [z] -> [N,C,1,1]
 *   scale       y = z * s (+ r)  inputs [z, s] or [z, s, r], s is [N,C,1,1]
 *   linear      y = x . weight^T + bias; input [N,F,1,1]
 *   copy        y = x (same shape); a kept concat copy, a repeated output or a flatten
 *   concat      y = inputs concatenated along C, in input order (unoptimized plans only)
 *   batchnorm   y = (x - running_mean) / sqrt(running_var + eps) * weight + bias
 *   act         y = fn(x), elementwise
 *   add         y = a + b (equal shapes)
 *   mul         y = a * b, b of a's shape or [N,C,1,1] (broadcast over H, W)
 *   eca_conv1d  1-D conv across channels of [N,C,1,1], zero padding (k-1)/2, no bias
 */
export type LaunchKind = keyof LaunchAttrsOf;

interface LaunchOf<K extends LaunchKind> {
  /** Position in `KernelPlan.launches` (0-based). */
  readonly index: number;
  readonly kind: K;
  /**
   * The ids of the unoptimized IR nodes this launch computes, in their original order (e.g.
   * ["stem.0.conv", "stem.0.bn", "stem.0.relu"]). Kept concat copies list the concat node.
   */
  readonly nodes: readonly string[];
  /** The layer of the first node (Node.layer), for grouping the launch's cost. */
  readonly layer: string;
  /** The DSL text the launch came from (its first node's span), for backend errors. */
  readonly span?: Span;
  readonly inputs: readonly TensorView[];
  readonly output: TensorView;
  readonly attrs: LaunchAttrsOf[K];
  readonly params: LaunchParamsOf[K];
  readonly cost: LaunchCost;
  /**
   * true when some view's largest reachable element index (offset + sum((shape-1)*stride)) or
   * some param's end exceeds MAX_INT32: the backend must index this launch with 64-bit math.
   */
  readonly needs64bit: boolean;
  /** Why the launch exists when that is not obvious (e.g. why a concat copy was kept). */
  readonly note?: string;
}

/** One kernel launch: a discriminated union over `kind`. */
export type Launch = { [K in LaunchKind]: LaunchOf<K> }[LaunchKind];

/** A launch of one kind, for functions that handle only that kind. */
export type LaunchOfKind<K extends LaunchKind> = LaunchOf<K>;

/** The graph input or one graph output. */
export interface IoDesc {
  /** 'input', or the output's name ('logits', 'stage3', ...). */
  readonly name: string;
  /** The IR value (node id) behind an output; "input" for the input. */
  readonly value: string;
  /** The IR shape (2-D for logits). */
  readonly shape: readonly number[];
  /** Logical elements (the product of `shape`); the buffer may hold more (`evenPlanes`). */
  readonly elements: number;
  readonly dtype: DType;
  /**
   * Element strides of the buffer over the shape as [N, C, H, W] (2-D values as [N, F, 1, 1]):
   * dense C order, or with `KernelPlan.evenPlanes` each channel plane padded to an even count.
   */
  readonly strides: readonly [number, number, number, number];
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
  /**
   * The numeric precision (src/ir/precision.ts): every buffer and the weight blob are stored in
   * its storage type; tf32 also rounds the operands of the 'conv' launches to TF32.
   */
  readonly precision: Precision;
  /** Model (graph) name. */
  readonly model: string;
  /**
   * true when the arena reuses memory between values whose lifetimes do not overlap (the
   * normal plan); false for the "before" figures, where every value has its own block.
   */
  readonly reuse: boolean;
  readonly input: IoDesc;
  readonly outputs: readonly IoDesc[];
  /** Every buffer a view may name: the input, each output, the arena. */
  readonly buffers: readonly BufferDesc[];
  /** Arena size in bytes (ALIGN_ELEMENTS elements: a multiple of 256 for f32, 128 for f16 and bf16). */
  readonly arenaBytes: number;
  /** The arena's blocks; with `reuse: false` no two blocks overlap. */
  readonly arena: readonly ArenaBlock[];
  readonly weights: WeightsLayout;
  readonly launches: readonly Launch[];
  /** true when the arena, the weight blob or any launch needs 64-bit indices. */
  readonly needs64bit: boolean;
  /**
   * Every channel plane of every buffer is padded to an even number of elements (H*W rounded up
   * to even; the strides say so), so that each 32-bit word of a 16-bit buffer lies inside one
   * plane: WGSL's packed fp16 storage then gives every word exactly one writing invocation. The
   * padding element of a plane is written as 0 and never read as data.
   */
  readonly evenPlanes: boolean;
  /** Preprocessing family and class count, copied from the graph's meta for the backends. */
  readonly preprocessing: 'timm' | 'detectron2';
  readonly numClasses: number;
}

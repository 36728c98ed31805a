// The op table: for each op, how many inputs it takes, which parameters it needs (and their
// shapes), its shape rule and its cost rule. Shape inference, the verifier, the builder, the
// kernel plan's launch costs and the analyzer all read this one table, so a new op is added
// here once.
//
// The cost conventions, defined here once (docs/ANALYSIS.md states them for users):
// - mult-adds (MACs): multiply-accumulates of conv2d, linear, the eSE fc (a 1x1 conv with
//   bias) and the ECA conv1d. A conv contributes numel(output) * (C_in / groups) * kh * kw, so a
//   grouped or depthwise conv counts only the channels each output reads. Biases add none.
// - FLOPs = 2 x MACs, exactly (FLOPS_PER_MAC); nothing else is added to them.
// - other ops: what BN, pooling and the elementwise ops would add if counted: BN 1 per element
//   (inference BN is one multiply-add per element), max / avg pooling 1 per window element
//   read, global average pooling 1 per input element, every activation, add, mul and the fused
//   scale 1 per output element, a fused epilogue (activation, residual) 1 per output element
//   each. Concat and flatten: none.
// - memory access cost (the paper's eq. 1, general form), in elements: numel(input) +
//   numel(output) + numel(weight) for every conv; conv bias not counted; the eSE fc and the ECA
//   conv1d count as convs; linear, concat, pooling, BN, activations, the gating do not.
// - parameters: learnable elements (conv / linear weights and biases, BN gamma and beta), and
//   the parameter elements an execution reads (those plus BN running statistics).

import { isActivation } from './activations.js';
import type { ConvAttrs, DeformConvAttrs, OpAttrs, OpKind, PoolAttrs, Shape } from './graph.js';

/** FLOPs per multiply-accumulate: the one definition of FLOPs in vovc. */
export const FLOPS_PER_MAC = 2;

/** What the cost rule says about one node, in counts (elements, multiply-accumulates), never bytes. */
export interface Work {
  readonly macs: number;
  readonly otherOps: number;
  /** Memory access cost (eq. 1), elements; 0 for ops that are not convs. */
  readonly memAccess: number;
  /** Learnable parameter elements (weights, biases, BN gamma and beta). */
  readonly params: number;
  /**
   * Bilinearly sampled values of a deformable conv (N * Cin * KH * KW * OH * OW), not in macs
   * or otherOps: the analysis counts SAMPLE_FLOPS per value (docs/ANALYSIS.md). 0 elsewhere.
   */
  readonly samples?: number;
  /** Parameter elements an execution reads (learnable ones plus BN running statistics). */
  readonly paramElements: number;
}

export interface OpRule<K extends OpKind> {
  /** Allowed input counts. */
  readonly arity: (attrs: OpAttrs[K]) => readonly number[];
  /** Required parameter roles and their shapes, given input shapes; optional roles end in '?'. */
  readonly params: (attrs: OpAttrs[K], inputs: readonly Shape[], out: Shape) => Record<string, Shape>;
  /** Output shape, or a string explaining why the inputs are invalid. */
  readonly infer: (attrs: OpAttrs[K], inputs: readonly Shape[]) => Shape | string;
  /**
   * The node's work from shapes and attributes alone (`roles`: the parameter roles it has, for
   * an optional bias). Parameters are sized as `params` defines them, which the verifier checks.
   */
  readonly cost: (attrs: OpAttrs[K], inputs: readonly Shape[], out: Shape, roles: Readonly<Record<string, string>>) => Work;
}

/**
 * Pooled / convolved output size along one axis, PyTorch semantics.
 *
 * ceil mode rounds the window count up, but PyTorch then drops a last window that would
 * start inside the right padding or past the input. Worked example, 3x3 stride 2 on 56:
 * floor((56 - 3 + 1) / 2) + 1 = 28 (floor mode: (56 - 3) / 2 + 1 = 27); on 7: 3; on 3: 1;
 * on 2: floor((2 - 3 + 1) / 2) + 1 = 1 (one window that hangs over the edge).
 */
export function outSize(size: number, k: number, s: number, padLo: number, padHi: number, ceil = false): number {
  const span = size + padLo + padHi - k;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= size + padLo) out -= 1;
  return out;
}

function rank4(s: Shape | undefined): s is readonly [number, number, number, number] {
  return !!s && s.length === 4;
}

/**
 * FLOPs of one bilinearly sampled value of a deformable conv: the 4 neighbour products and 3
 * sums of the interpolation, plus the mask multiply of a modulated (v2) conv. The per-point
 * work (the coordinates, the 4 corner weights, the mask's sigmoid) is shared by the Cin / G
 * channels of a group and not counted.
 */
export const sampleFlops = (modulated: boolean): number => 7 + (modulated ? 1 : 0);

/** Offset-conv channels a deformable conv reads: (dy, dx) and, when modulated, a mask logit per tap and group. */
const deformOffsetChannels = (a: Pick<DeformConvAttrs, 'kernel' | 'deformGroups' | 'modulated'>): number => (a.modulated ? 3 : 2) * a.kernel[0] * a.kernel[1] * a.deformGroups;

const same = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: Shape) => `[${s.join(',')}]`;

function convInfer(a: ConvAttrs, ins: readonly Shape[]): Shape | string {
  const x = ins[0];
  if (!rank4(x)) return `expected a 4-D NCHW input, got ${fmt(x ?? [])}`;
  if (x[1] % a.groups !== 0) return `input channels ${x[1]} not divisible by groups ${a.groups}`;
  const h = outSize(x[2], a.kernel[0], a.stride[0], a.pad[0], a.pad[2]);
  const w = outSize(x[3], a.kernel[1], a.stride[1], a.pad[1], a.pad[3]);
  if (h < 1 || w < 1) return `spatial size ${x[2]}x${x[3]} collapses to ${h}x${w}`;
  return [x[0], -1, h, w]; // channel count comes from the weight; filled by the builder
}

function poolInfer(a: PoolAttrs, ins: readonly Shape[]): Shape | string {
  const x = ins[0];
  if (!rank4(x)) return `expected a 4-D NCHW input, got ${fmt(x ?? [])}`;
  const h = outSize(x[2], a.kernel[0], a.stride[0], a.pad[0], a.pad[2], a.ceil);
  const w = outSize(x[3], a.kernel[1], a.stride[1], a.pad[1], a.pad[3], a.ceil);
  if (h < 1 || w < 1) return `spatial size ${x[2]}x${x[3]} collapses to ${h}x${w}`;
  return [x[0], x[1], h, w];
}

const numel = (s: Shape) => s.reduce((p, d) => p * d, 1);
const NONE: Work = { macs: 0, otherOps: 0, memAccess: 0, params: 0, paramElements: 0 };
const perOutput = (_a: unknown, _i: readonly Shape[], out: Shape): Work => ({ ...NONE, otherOps: numel(out) });
const free = (): Work => NONE;
const poolCost = (a: PoolAttrs, _i: readonly Shape[], out: Shape): Work => ({ ...NONE, otherOps: numel(out) * a.kernel[0] * a.kernel[1] });

/**
 * An attention fc on an [N,C,1,1] input: the eSE fc is a C -> C 1x1 conv with bias (C*C
 * mult-adds per image, C*C weights); the ECA conv1d slides k taps along the channels (C*k
 * mult-adds, k weights, no bias).
 */
function gateWork(eca: boolean, input: Shape, k: number, otherOps: number): Work {
  const [n, c] = input;
  const weight = eca ? k : c * c;
  const bias = eca ? 0 : c;
  return { macs: n * (eca ? c * k : c * c), otherOps, memAccess: 2 * n * c + weight, params: weight + bias, paramElements: weight + bias };
}

export const OPS: { readonly [K in OpKind]: OpRule<K> } = {
  conv2d: {
    arity: (a) => (a.residual ? [2] : [1]),
    params: (a, ins, out) => ({
      weight: [out[1], ins[0][1] / a.groups, a.kernel[0], a.kernel[1]],
      'bias?': [out[1]],
    }),
    infer: (a, ins) => {
      const r = convInfer(a, ins);
      if (typeof r === 'string' || !a.residual) return r;
      const res = ins[1];
      if (!rank4(res) || res[0] !== r[0] || res[2] !== r[2] || res[3] !== r[3]) return `residual shape ${fmt(res ?? [])} does not match the conv output`;
      return r;
    },
    cost: (a, ins, out, roles) => {
      const x = ins[0];
      const n = numel(out);
      const perOut = (x[1] / a.groups) * a.kernel[0] * a.kernel[1];
      const weight = out[1] * perOut;
      const params = weight + (roles.bias ? out[1] : 0);
      // A fused epilogue (optimized graphs) adds its elementwise work to the other ops.
      const epilogue = (a.act !== 'none' ? 1 : 0) + (a.residual ? 1 : 0);
      return { macs: n * perOut, otherOps: epilogue * n, memAccess: numel(x) + n + weight, params, paramElements: params };
    },
  },
  deform_conv2d: {
    arity: () => [2],
    params: (a, ins, out) => ({
      weight: [out[1], ins[0][1] / a.groups, a.kernel[0], a.kernel[1]],
      'bias?': [out[1]],
    }),
    infer: (a, ins) => {
      if (a.residual) return 'a deformable conv takes no residual';
      if (!Number.isInteger(a.deformGroups) || a.deformGroups < 1) return `deformable groups ${a.deformGroups}: expected a positive integer`;
      const r = convInfer(a, ins);
      if (typeof r === 'string') return r;
      if (ins[0][1] % a.deformGroups !== 0) return `input channels ${ins[0][1]} not divisible by the ${a.deformGroups} offset groups`;
      const off = ins[1];
      const want = [r[0], deformOffsetChannels(a), r[2], r[3]];
      if (!rank4(off) || !same(off, want)) return `offsets ${fmt(off ?? [])}: expected ${fmt(want)} (${a.modulated ? '27' : '18'} x ${a.deformGroups} channels at the output size)`;
      return r;
    },
    cost: (a, ins, out, roles) => {
      const x = ins[0];
      const n = numel(out);
      const perOut = (x[1] / a.groups) * a.kernel[0] * a.kernel[1];
      const weight = out[1] * perOut;
      const params = weight + (roles.bias ? out[1] : 0);
      const epilogue = a.act !== 'none' ? 1 : 0;
      const samples = out[0] * x[1] * a.kernel[0] * a.kernel[1] * out[2] * out[3];
      return { macs: n * perOut, otherOps: epilogue * n, memAccess: numel(x) + numel(ins[1]) + n + weight, params, paramElements: params, samples };
    },
  },
  batchnorm: {
    arity: () => [1],
    params: (_a, ins) => {
      const c = [ins[0][1]];
      return { weight: c, bias: c, running_mean: c, running_var: c };
    },
    infer: (_a, ins) => (rank4(ins[0]) ? ins[0] : `expected a 4-D input`),
    cost: (_a, _i, out) => ({ ...NONE, otherOps: numel(out), params: 2 * out[1], paramElements: 4 * out[1] }),
  },
  act: {
    arity: () => [1],
    params: () => ({}),
    infer: (a, ins) => (!isActivation(a.fn) || a.fn === 'none' ? `unknown activation '${a.fn}'` : ins[0]),
    cost: perOutput,
  },
  maxpool: { arity: () => [1], params: () => ({}), infer: poolInfer, cost: poolCost },
  avgpool: { arity: () => [1], params: () => ({}), infer: poolInfer, cost: poolCost },
  global_avg_pool: {
    arity: () => [1],
    params: () => ({}),
    infer: (_a, ins) => (rank4(ins[0]) ? [ins[0][0], ins[0][1], 1, 1] : `expected a 4-D input`),
    cost: (_a, ins) => ({ ...NONE, otherOps: numel(ins[0]) }),
  },
  concat: {
    arity: () => [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50],
    params: () => ({}),
    infer: (_a, ins) => {
      const first = ins[0];
      if (!rank4(first)) return 'expected 4-D inputs';
      let c = 0;
      for (const s of ins) {
        if (!rank4(s) || s[0] !== first[0] || s[2] !== first[2] || s[3] !== first[3]) return `concat inputs ${ins.map(fmt).join(' ')} differ outside the channel axis`;
        c += s[1];
      }
      return [first[0], c, first[2], first[3]];
    },
    cost: free,
  },
  add: {
    arity: () => [2],
    params: () => ({}),
    infer: (_a, ins) => (same(ins[0], ins[1]) ? ins[0] : `add of unequal shapes ${fmt(ins[0])} and ${fmt(ins[1])}`),
    cost: perOutput,
  },
  mul: {
    arity: () => [2],
    params: () => ({}),
    infer: (_a, ins) => {
      const [x, s] = ins;
      if (!rank4(x) || !rank4(s)) return 'expected 4-D inputs';
      if (same(x, s) || (s[0] === x[0] && s[1] === x[1] && s[2] === 1 && s[3] === 1)) return x;
      return `mul of ${fmt(x)} by ${fmt(s)}: expected equal shapes or an [N,C,1,1] scale`;
    },
    cost: perOutput,
  },
  eca_conv1d: {
    arity: () => [1],
    params: (a) => ({ weight: [1, 1, a.kernel] }),
    infer: (_a, ins) => (rank4(ins[0]) && ins[0][2] === 1 && ins[0][3] === 1 ? ins[0] : 'expected an [N,C,1,1] input'),
    cost: (a, ins) => gateWork(true, ins[0], a.kernel, 0),
  },
  flatten: {
    arity: () => [1],
    params: () => ({}),
    infer: (_a, ins) => [ins[0][0], ins[0].slice(1).reduce((p, d) => p * d, 1)],
    cost: free,
  },
  linear: {
    arity: () => [1],
    params: (_a, ins, out) => ({ weight: [out[1], ins[0][1]], 'bias?': [out[1]] }),
    infer: (_a, ins) => {
      const x = ins[0];
      // A 4-D [N,C,1,1] input is accepted so that passes can drop the flatten.
      if (x.length === 2 || (x.length === 4 && x[2] === 1 && x[3] === 1)) return [x[0], -1];
      return `expected [N,C] or [N,C,1,1], got ${fmt(x)}`;
    },
    cost: (_a, ins, out, roles) => {
      const features = numel(ins[0]) / ins[0][0];
      const params = out[1] * features + (roles.bias ? out[1] : 0);
      return { ...NONE, macs: out[0] * out[1] * features, params, paramElements: params };
    },
  },
  se_gate: {
    arity: () => [1],
    params: (a, ins): Record<string, Shape> =>
      a.mode === 'ese' ? { weight: [ins[0][1], ins[0][1], 1, 1], bias: [ins[0][1]] } : { weight: [1, 1, a.kernel] },
    infer: (_a, ins) => (rank4(ins[0]) ? [ins[0][0], ins[0][1], 1, 1] : 'expected a 4-D input'),
    // The fused gate also pools its input and applies the activation.
    cost: (a, ins, out) => gateWork(a.mode === 'eca', out, a.kernel, numel(ins[0]) + numel(out)),
  },
  scale: {
    arity: (a) => (a.residual ? [3] : [2]),
    params: () => ({}),
    infer: (a, ins) => {
      const [x, s, r] = ins;
      if (!rank4(x) || !rank4(s) || s[0] !== x[0] || s[1] !== x[1] || s[2] !== 1 || s[3] !== 1) return `scale of ${fmt(x ?? [])} by ${fmt(s ?? [])}: expected an [N,C,1,1] scale`;
      if (a.residual && !same(x, r)) return `residual ${fmt(r ?? [])} does not match ${fmt(x)}`;
      return x;
    },
    cost: (a, _i, out) => ({ ...NONE, otherOps: numel(out) * (a.residual ? 2 : 1) }),
  },
};

/** The cost rule of a node, from its op, attributes, input shapes, output shape and parameter roles. */
export function workOf(op: OpKind, attrs: unknown, inputs: readonly Shape[], out: Shape, roles: Readonly<Record<string, string>>): Work {
  return (OPS[op] as OpRule<OpKind>).cost(attrs as never, inputs, out, roles);
}

/**
 * Output shape of a node: the op's rule, with the output-channel / feature count taken from
 * the weight parameter where the rule leaves it open (-1).
 */
export function inferShape(op: OpKind, attrs: unknown, inputs: readonly Shape[], weightShape?: Shape): Shape | string {
  const rule = OPS[op] as OpRule<OpKind>;
  const r = rule.infer(attrs as never, inputs);
  if (typeof r === 'string') return r;
  if (r.includes(-1)) {
    if (!weightShape) return 'output channels unknown: no weight';
    return r.map((d) => (d === -1 ? weightShape[0] : d));
  }
  return r;
}

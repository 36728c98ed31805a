// The op table: for each op, how many inputs it takes, which parameters it needs (and their
// shapes), and its shape rule. Shape inference, the verifier and the builder all read this
// one table, so a new op is added here once.

import type { OpAttrs, OpKind, PoolAttrs, ConvAttrs, Shape } from './graph.js';

export interface OpRule<K extends OpKind> {
  /** Allowed input counts. */
  readonly arity: (attrs: OpAttrs[K]) => readonly number[];
  /** Required parameter roles and their shapes, given input shapes; optional roles end in '?'. */
  readonly params: (attrs: OpAttrs[K], inputs: readonly Shape[], out: Shape) => Record<string, Shape>;
  /** Output shape, or a string explaining why the inputs are invalid. */
  readonly infer: (attrs: OpAttrs[K], inputs: readonly Shape[]) => Shape | string;
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

const unary = {
  arity: () => [1],
  params: () => ({}),
  infer: (_a: unknown, ins: readonly Shape[]) => ins[0],
};

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
  },
  batchnorm: {
    arity: () => [1],
    params: (_a, ins) => {
      const c = [ins[0][1]];
      return { weight: c, bias: c, running_mean: c, running_var: c };
    },
    infer: (_a, ins) => (rank4(ins[0]) ? ins[0] : `expected a 4-D input`),
  },
  relu: unary,
  hardsigmoid: unary,
  sigmoid: unary,
  maxpool: { arity: () => [1], params: () => ({}), infer: poolInfer },
  avgpool: { arity: () => [1], params: () => ({}), infer: poolInfer },
  global_avg_pool: {
    arity: () => [1],
    params: () => ({}),
    infer: (_a, ins) => (rank4(ins[0]) ? [ins[0][0], ins[0][1], 1, 1] : `expected a 4-D input`),
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
  },
  add: {
    arity: () => [2],
    params: () => ({}),
    infer: (_a, ins) => (same(ins[0], ins[1]) ? ins[0] : `add of unequal shapes ${fmt(ins[0])} and ${fmt(ins[1])}`),
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
  },
  eca_conv1d: {
    arity: () => [1],
    params: (a) => ({ weight: [1, 1, a.kernel] }),
    infer: (_a, ins) => (rank4(ins[0]) && ins[0][2] === 1 && ins[0][3] === 1 ? ins[0] : 'expected an [N,C,1,1] input'),
  },
  flatten: {
    arity: () => [1],
    params: () => ({}),
    infer: (_a, ins) => [ins[0][0], ins[0].slice(1).reduce((p, d) => p * d, 1)],
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
  },
  se_gate: {
    arity: () => [1],
    params: (a, ins): Record<string, Shape> =>
      a.mode === 'ese' ? { weight: [ins[0][1], ins[0][1], 1, 1], bias: [ins[0][1]] } : { weight: [1, 1, a.kernel] },
    infer: (_a, ins) => (rank4(ins[0]) ? [ins[0][0], ins[0][1], 1, 1] : 'expected a 4-D input'),
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
  },
};

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

// Helpers of the reference-interpreter tests: seeded data, one-op graphs, and naive direct
// implementations of the ops (written from PyTorch's definitions, sharing no code with
// src/runtime) to compare against.
import { expect } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConvAttrs, Graph, GraphMeta, OpAttrs, OpKind, PoolAttrs } from '../../src/ir/graph.js';


export const META: GraphMeta = { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 };

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return (t >>> 0) / 4294967296;
  };
}

export function randn(shape: readonly number[], seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** graph input -> one node of `op` (params given with data) -> output "y". */
export function oneOp<K extends OpKind>(inputShape: readonly number[], op: K, attrs: OpAttrs[K], params: Record<string, { shape: readonly number[]; data: Float32Array }> = {}): Graph {
  const b = new GraphBuilder('t', inputShape, META);
  const roles: Record<string, string> = {};
  for (const [role, p] of Object.entries(params)) roles[role] = b.param(`p.${role}`, p.shape, p.data);
  b.add({ id: 'y', op, inputs: ['input'], attrs, params: roles, scope: 't' });
  b.output('y', 'y');
  return b.build();
}

export function convAttrs(k: [number, number], stride: [number, number], pad: [number, number, number, number], groups = 1, act: ConvAttrs['act'] = 'none', residual = false): ConvAttrs {
  return { kernel: k, stride, pad, groups, act, residual };
}

export function poolAttrs(k: number, s: number, pad: number, ceil: boolean): PoolAttrs {
  return { kernel: [k, k], stride: [s, s], pad: [pad, pad, pad, pad], ceil };
}

function act(v: number, a: ConvAttrs['act']): number {
  if (a === 'relu') return Math.max(0, v);
  if (a === 'hardsigmoid') return Math.min(6, Math.max(0, v + 3)) / 6;
  if (a === 'sigmoid') return 1 / (1 + Math.exp(-v));
  if (a === 'silu') return v / (1 + Math.exp(-v));
  if (a === 'hardswish') return (v * Math.min(6, Math.max(0, v + 3))) / 6;
  return v;
}

/** Direct convolution, PyTorch's Conv2d (cross-correlation), with the fused epilogue. */
export function naiveConv(
  x: Float32Array, xs: readonly number[], w: Float32Array, ws: readonly number[], a: ConvAttrs,
  bias: Float32Array | null = null, res: Float32Array | null = null,
): { shape: number[]; data: Float64Array } {
  const [n, cin, h, wd] = xs;
  const [cout, cg, kh, kw] = ws;
  const [pt, pl, pb, pr] = a.pad;
  const oh = Math.floor((h + pt + pb - kh) / a.stride[0]) + 1;
  const ow = Math.floor((wd + pl + pr - kw) / a.stride[1]) + 1;
  const out = new Float64Array(n * cout * oh * ow);
  const perGroup = cout / a.groups;
  expect(cg * a.groups).toBe(cin);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias ? bias[o] : 0;
          const g = Math.floor(o / perGroup);
          for (let c = 0; c < cg; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * a.stride[0] - pt + i;
                const ix = xx * a.stride[1] - pl + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x[((b * cin + g * cg + c) * h + iy) * wd + ix] * w[((o * cg + c) * kh + i) * kw + j];
              }
          const idx = ((b * cout + o) * oh + y) * ow + xx;
          out[idx] = act(s, a.act) + (res ? res[idx] : 0);
        }
  return { shape: [n, cout, oh, ow], data: out };
}

/** PyTorch's pooled size: ceil mode drops a last window starting in the right padding or beyond. */
function torchPoolSize(size: number, k: number, s: number, p: number, ceil: boolean): number {
  let o = (ceil ? Math.ceil((size + 2 * p - k) / s) : Math.floor((size + 2 * p - k) / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

/** MaxPool2d / AvgPool2d(count_include_pad=True) by enumerating each window. */
export function naivePool(kind: 'max' | 'avg', x: Float32Array, xs: readonly number[], a: PoolAttrs): { shape: number[]; data: Float64Array } {
  const [n, c, h, w] = xs;
  const k = a.kernel[0], s = a.stride[0], p = a.pad[0];
  const oh = torchPoolSize(h, k, s, p, a.ceil);
  const ow = torchPoolSize(w, k, s, p, a.ceil);
  const out = new Float64Array(n * c * oh * ow);
  for (let pl = 0; pl < n * c; pl++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let m = -Infinity, sum = 0, count = 0;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const iy = y * s - p + i, ix = xx * s - p + j;
            if (iy >= -p && iy < h + p && ix >= -p && ix < w + p) count++; // padded extent counts for avg
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(pl * h + iy) * w + ix];
            m = Math.max(m, v);
            sum += v;
          }
        out[(pl * oh + y) * ow + xx] = kind === 'max' ? m : sum / count;
      }
  return { shape: [n, c, oh, ow], data: out };
}

/** |a - e| <= atol + rtol * |e| elementwise, with a readable failure. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (${actual.length} elements)`);
}

// The non-convolution kernels of the reference interpreter: NCHW float32 in, float32 out,
// arithmetic in float64 (JavaScript numbers) and one rounding per stored value. They are
// memory-bound and cheap next to the convolutions, so they run on the calling thread.
// Semantics follow PyTorch's eval-mode modules (named at each function).

import type { PoolAttrs } from '../ir/graph.js';

/** An activation's reference function (src/ir/activations.ts), or null for none. */
export type ActFn = ((v: number) => number) | null;

/** BatchNorm2d in eval mode: (x - mean) / sqrt(var + eps) * gamma + beta. */
export function batchnorm(
  x: Float32Array, out: Float32Array, n: number, c: number, hw: number,
  gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
): void {
  for (let ch = 0; ch < c; ch++) {
    const scale = gamma[ch] / Math.sqrt(variance[ch] + eps);
    const m = mean[ch];
    const shift = beta[ch];
    for (let b = 0; b < n; b++) {
      const o = (b * c + ch) * hw;
      for (let i = o; i < o + hw; i++) out[i] = (x[i] - m) * scale + shift;
    }
  }
}

/** An elementwise activation (the `act` op). */
export function activate(x: Float32Array, out: Float32Array, fn: (v: number) => number): void {
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]);
}

interface Dims {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
}

/**
 * MaxPool2d: padding counts as -inf and a window is clipped to the input, so the ceil-mode
 * windows that hang over the bottom/right edge take the max of what they cover.
 */
export function maxpool(x: Float32Array, out: Float32Array, d: Dims, a: PoolAttrs): void {
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl] = a.pad;
  const { h, w, oh, ow } = d;
  for (let plane = 0; plane < d.n * d.c; plane++) {
    const xo = plane * h * w;
    const oo = plane * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - pt);
      const y1 = Math.min(h, oy * sh - pt + kh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - pl);
        const x1 = Math.min(w, ox * sw - pl + kw);
        let m = -Infinity;
        for (let y = y0; y < y1; y++) {
          const row = xo + y * w;
          for (let xx = x0; xx < x1; xx++) {
            const v = x[row + xx];
            if (v > m || v !== v) m = v; // NaN propagates, as in PyTorch
          }
        }
        out[oo + oy * ow + ox] = m;
      }
    }
  }
}

/**
 * AvgPool2d with count_include_pad=True (PyTorch's default): the divisor is the window
 * clipped to the padded input (so padding counts, but a ceil-mode window's overhang past the
 * padding does not); the sum covers the window clipped to the input.
 */
export function avgpool(x: Float32Array, out: Float32Array, d: Dims, a: PoolAttrs): void {
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl, pb, pr] = a.pad;
  const { h, w, oh, ow } = d;
  for (let plane = 0; plane < d.n * d.c; plane++) {
    const xo = plane * h * w;
    const oo = plane * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - pt;
      const ye = Math.min(ys + kh, h + pb);
      const y0 = Math.max(0, ys);
      const y1 = Math.min(h, ye);
      for (let ox = 0; ox < ow; ox++) {
        const xs = ox * sw - pl;
        const xe = Math.min(xs + kw, w + pr);
        const x0 = Math.max(0, xs);
        const x1 = Math.min(w, xe);
        let s = 0;
        for (let y = y0; y < y1; y++) {
          const row = xo + y * w;
          for (let xx = x0; xx < x1; xx++) s += x[row + xx];
        }
        out[oo + oy * ow + ox] = s / ((ye - ys) * (xe - xs));
      }
    }
  }
}

/** Mean over H x W: [N,C,H,W] -> [N,C,1,1]. */
export function globalAvgPool(x: Float32Array, out: Float32Array, planes: number, hw: number): void {
  for (let p = 0; p < planes; p++) {
    let s = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++) s += x[i];
    out[p] = s / hw;
  }
}

export function add(a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
}

/**
 * out = x * s, s of x's shape or [N,C,1,1] (one factor per plane of hw values), plus `res`
 * (x's shape) when given: mul, and the fused scale op.
 */
export function scale(x: Float32Array, s: Float32Array, res: Float32Array | null, out: Float32Array, hw: number): void {
  if (s.length === x.length) {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * s[i] + (res ? res[i] : 0);
    return;
  }
  for (let p = 0; p < s.length; p++) {
    const f = s[p];
    for (let i = p * hw; i < (p + 1) * hw; i++) out[i] = x[i] * f + (res ? res[i] : 0);
  }
}

/**
 * ECA's Conv1d(1, 1, k, padding=(k-1)/2, bias=False) across the channel axis of [N,C,1,1]
 * (cross-correlation, zero padding), then `act`.
 */
export function ecaConv1d(x: Float32Array, out: Float32Array, n: number, c: number, weight: Float32Array, act: ActFn = null): void {
  const k = weight.length;
  const half = (k - 1) >> 1;
  for (let b = 0; b < n; b++) {
    const o = b * c;
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let j = 0; j < k; j++) {
        const src = ch + j - half;
        if (src >= 0 && src < c) s += weight[j] * x[o + src];
      }
      out[o + ch] = act ? act(s) : s;
    }
  }
}

/** y = act(x W^T + b) for x [N, cin], W [cout, cin]: Linear, and the eSE fc (a 1x1 conv on [N,C,1,1]). */
export function linear(x: Float32Array, out: Float32Array, n: number, cin: number, weight: Float32Array, bias: Float32Array | null, cout: number, act: ActFn = null): void {
  for (let b = 0; b < n; b++) {
    const xo = b * cin;
    for (let o = 0; o < cout; o++) {
      const wo = o * cin;
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < cin; i++) s += weight[wo + i] * x[xo + i];
      out[b * cout + o] = act ? act(s) : s;
    }
  }
}

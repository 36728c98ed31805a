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

/** Geometry of a deformable conv's sampling (the IR's deform_conv2d, groups 1). */
export interface DeformDims {
  n: number;
  cin: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  /** Offset groups. */
  groups: number;
  modulated: boolean;
}

/**
 * The deformable im2col of torchvision.ops.deform_conv2d (and ONNX DeformConv): cols[n][ci *
 * KH*KW + tap][oh][ow] = mask * bilinear(x[n][ci], y, x) with y = oh*SH - PT + i + dy and x =
 * ow*SW - PL + j + dx, (dy, dx) and the mask logit read from `off` (the offset conv's output,
 * layout at src/ir/graph.ts DeformConvAttrs), mask = sigmoid(logit) when modulated, else 1.
 * Bilinear over the 4 integer neighbours, each outside the image contributing 0; a point with
 * y <= -1, y >= H, x <= -1 or x >= W samples 0; the mask multiplies every sample (NaN as in
 * torchvision: a NaN position or mask gives NaN). Arithmetic in float64, one rounding per value.
 */
export function deformIm2col(x: Float32Array, off: Float32Array, cols: Float32Array, d: DeformDims): void {
  const { n, cin, h, w, oh, ow, kh, kw, sh, sw, pt, pl, groups, modulated } = d;
  const taps = kh * kw;
  const ohw = oh * ow;
  const offCh = (modulated ? 3 : 2) * taps * groups;
  const perGroup = cin / groups;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      for (let t = 0; t < taps; t++) {
        const i = Math.floor(t / kw), j = t % kw;
        const dyBase = (b * offCh + 2 * (g * taps + t)) * ohw;
        const dxBase = dyBase + ohw;
        const mBase = (b * offCh + 2 * taps * groups + g * taps + t) * ohw;
        for (let p = 0; p < ohw; p++) {
          const py = Math.floor(p / ow), px = p % ow;
          const y = py * sh - pt + i + off[dyBase + p];
          const xx = px * sw - pl + j + off[dxBase + p];
          const mask = modulated ? 1 / (1 + Math.exp(-off[mBase + p])) : 1;
          // torchvision's test: a point is outside when it is past -1 or H (W); a NaN position is
          // not, and its NaN corner weights make the sample NaN, as there.
          const outside = y <= -1 || y >= h || xx <= -1 || xx >= w;
          const y0 = Math.floor(y), x0 = Math.floor(xx);
          const ly = y - y0, lx = xx - x0;
          const w00 = (1 - ly) * (1 - lx), w01 = (1 - ly) * lx, w10 = ly * (1 - lx), w11 = ly * lx;
          const top = y0 >= 0, bottom = y0 + 1 < h, left = x0 >= 0, right = x0 + 1 < w;
          for (let c = g * perGroup; c < (g + 1) * perGroup; c++) {
            let v = 0;
            if (!outside) {
              const plane = (b * cin + c) * h * w;
              // Every corner weighted, a corner outside the image as 0 (NaN weights stay NaN).
              v = w00 * (top && left ? x[plane + y0 * w + x0] : 0) + w01 * (top && right ? x[plane + y0 * w + x0 + 1] : 0) + w10 * (bottom && left ? x[plane + (y0 + 1) * w + x0] : 0) + w11 * (bottom && right ? x[plane + (y0 + 1) * w + x0 + 1] : 0);
            }
            // The mask multiplies every sample, inside or not (a NaN mask gives NaN, as torchvision).
            cols[((b * cin + c) * taps + t) * ohw + p] = v * mask;
          }
        }
      }
    }
  }
}

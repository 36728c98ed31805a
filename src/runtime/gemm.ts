// Convolution kernels of the reference interpreter, run by the main thread and by the worker
// threads alike. This file must stay self-contained: no imports, no module-level state, no
// calls to anything outside the functions listed in WORKER_FUNCTIONS, because worker.ts ships
// those functions to the workers as source text (Function.prototype.toString). That works the
// same for the compiled dist/ and for the TypeScript that vitest runs.
//
// A convolution is a GEMM per image and group: out[M, N] = W[M, K] * im2col(x)[K, N] with
// M = output channels of the group, K = (input channels of the group) * kh * kw, N = oh * ow.
// The weight already is the A matrix in row-major order (rows are read as four streams, so it
// needs no packing). The B matrix is never materialized whole: columns are packed panel by
// panel, straight from the image (implicit im2col; for 1x1 stride-1 convs a plain strided copy),
// into micro-panels of 4 columns laid out [K][4] so that the 4x4 register tile reads both
// operands sequentially. A panel holds all K rows, so each output element is one float64 dot
// product, rounded to float32 once, with bias, activation and residual applied in the store.
// The 4x4 tile (16 accumulators) is the largest that V8 keeps mostly in the 16 x86-64
// floating-point registers; measured on this machine, 4x8 spills and runs ~30% slower.

/** Activation codes (ConvAttrs.act): 0 none, 1 relu, 2 hardsigmoid (relu6(x + 3) / 6), 3 sigmoid. */
export const ACT_CODE = { none: 0, relu: 1, hardsigmoid: 2, sigmoid: 3 } as const;

/** One convolution with its epilogue, over whole NCHW tensors. */
export interface ConvJob {
  /** input [n, cin, inH, inW] */
  x: Float32Array;
  /** weight [cout, cin / groups, kh, kw] */
  w: Float32Array;
  /** [cout] or null */
  bias: Float32Array | null;
  /** added after the activation, [n, cout, outH, outW], or null */
  res: Float32Array | null;
  /** [n, cout, outH, outW] */
  out: Float32Array;
  n: number;
  cin: number;
  inH: number;
  inW: number;
  cout: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** top and left padding (bottom and right padding only matter to the output size) */
  pt: number;
  pl: number;
  groups: number;
  act: number;
}

/** The activation by code, in float64. */
export function applyAct(v: number, act: number): number {
  if (act === 1) return v > 0 ? v : 0;
  if (act === 2) return v <= -3 ? 0 : v >= 3 ? 1 : (v + 3) / 6;
  if (act === 3) return 1 / (1 + Math.exp(-v));
  return v;
}

/**
 * Packs output columns [j0, j0 + ncols) of image `xOff`'s im2col matrix, channels
 * [c0, c0 + cg), into P as ceil(ncols / 4) micro-panels of [K][4]; columns past ncols are 0.
 */
export function packPanel(job: ConvJob, P: Float32Array, xOff: number, c0: number, cg: number, j0: number, ncols: number): void {
  const { x, inH: H, inW: W, kh, kw, sh, sw, pt, pl, outW: OW } = job;
  const HW = H * W;
  const K = cg * kh * kw;
  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && OW === W && job.outH === H;
  for (let s = 0; s < ncols; s += 4) {
    const sub = s * K; // start of this micro-panel: (s / 4) * K * 4
    if (pointwise && s + 4 <= ncols) {
      // The input already is the B matrix: copy 4 adjacent columns of each row.
      let src = xOff + c0 * HW + j0 + s;
      let p = sub;
      for (let k = 0; k < K; k++) {
        P[p] = x[src];
        P[p + 1] = x[src + 1];
        P[p + 2] = x[src + 2];
        P[p + 3] = x[src + 3];
        p += 4;
        src += HW;
      }
      continue;
    }
    for (let c = 0; c < 4; c++) {
      let p = sub + c;
      if (s + c >= ncols) {
        for (let k = 0; k < K; k++, p += 4) P[p] = 0;
        continue;
      }
      const j = j0 + s + c;
      const oy = (j / OW) | 0;
      const iy0 = oy * sh - pt;
      const ix0 = (j - oy * OW) * sw - pl;
      for (let ci = 0; ci < cg; ci++) {
        const chan = xOff + (c0 + ci) * HW;
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= H) {
            for (let kx = 0; kx < kw; kx++, p += 4) P[p] = 0;
            continue;
          }
          const row = chan + iy * W;
          for (let kx = 0; kx < kw; kx++, p += 4) {
            const ix = ix0 + kx;
            P[p] = ix >= 0 && ix < W ? x[row + ix] : 0;
          }
        }
      }
    }
  }
}

/** t[0..15] = rows a0..a3 of A (K values each) times the [K][4] micro-panel at P[p]. */
export function tile4x4(A: Float32Array, a0: number, a1: number, a2: number, a3: number, P: Float32Array, p: number, K: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < K; k++) {
    const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
    const y0 = P[p], y1 = P[p + 1], y2 = P[p + 2], y3 = P[p + 3];
    p += 4;
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}

/**
 * Computes output channels [m0, m1) x output pixels [j0, j1) of every image of the conv (the
 * unit of work a thread takes). Any group structure is allowed; groups with one input channel
 * (depthwise) are faster with convDepthwise.
 */
export function convGemm(job: ConvJob, m0: number, m1: number, j0: number, j1: number): void {
  const { w: A, bias, res, out, act, groups, kh, kw } = job;
  const mg = job.cout / groups;
  const cg = job.cin / groups;
  const K = cg * kh * kw;
  const OHW = job.outH * job.outW;
  const inSize = job.cin * job.inH * job.inW;
  const outSize = job.cout * OHW;
  const cols = j1 - j0;
  // Panel width: a multiple of 4 columns such that the [K][nc] panel stays within 48 Ki
  // floats (192 KiB, well inside a 512 KiB L2 next to the A rows being streamed).
  let nc = Math.max(4, Math.floor(49152 / K / 4) * 4);
  nc = Math.min(nc, (cols + 3) & ~3);
  const P = new Float32Array(nc * K);
  const t = new Float64Array(16);
  for (let b = 0; b < job.n; b++) {
    const xOff = b * inSize;
    const oOff = b * outSize;
    for (let g = Math.floor(m0 / mg); g * mg < m1; g++) {
      const gm0 = Math.max(m0, g * mg);
      const gm1 = Math.min(m1, (g + 1) * mg);
      for (let pj = j0; pj < j1; pj += nc) {
        const pc = Math.min(nc, j1 - pj);
        packPanel(job, P, xOff, g * cg, cg, pj, pc);
        for (let i = gm0; i < gm1; i += 4) {
          // Rows past gm1 re-read the last valid row; their results are not stored.
          const last = gm1 - 1;
          const a0 = i * K;
          const a1 = Math.min(i + 1, last) * K;
          const a2 = Math.min(i + 2, last) * K;
          const a3 = Math.min(i + 3, last) * K;
          const rows = Math.min(4, gm1 - i);
          for (let s = 0; s < pc; s += 4) {
            tile4x4(A, a0, a1, a2, a3, P, s * K, K, t);
            const ncol = Math.min(4, pc - s);
            for (let r = 0; r < rows; r++) {
              const m = i + r;
              const bv = bias ? bias[m] : 0;
              const o = oOff + m * OHW + pj + s;
              for (let c = 0; c < ncol; c++) {
                let v = t[r * 4 + c] + bv;
                if (act !== 0) v = applyAct(v, act);
                if (res) v += res[o + c];
                out[o + c] = v;
              }
            }
          }
        }
      }
    }
  }
}

/** Output channels [m0, m1) of a conv whose groups each have one input channel (depthwise). */
export function convDepthwise(job: ConvJob, m0: number, m1: number): void {
  const { x, w, bias, res, out, act, kh, kw, sh, sw, pt, pl, inH: H, inW: W, outH: OH, outW: OW } = job;
  const mult = job.cout / job.groups; // output channels per input channel
  const HW = H * W;
  const OHW = OH * OW;
  for (let b = 0; b < job.n; b++) {
    for (let m = m0; m < m1; m++) {
      const chan = (b * job.cin + ((m / mult) | 0)) * HW;
      const wOff = m * kh * kw;
      const o = (b * job.cout + m) * OHW;
      const bv = bias ? bias[m] : 0;
      for (let oy = 0; oy < OH; oy++) {
        const iy0 = oy * sh - pt;
        const ky0 = Math.max(0, -iy0);
        const ky1 = Math.min(kh, H - iy0);
        for (let ox = 0; ox < OW; ox++) {
          const ix0 = ox * sw - pl;
          const kx0 = Math.max(0, -ix0);
          const kx1 = Math.min(kw, W - ix0);
          let acc = 0;
          for (let ky = ky0; ky < ky1; ky++) {
            const row = chan + (iy0 + ky) * W + ix0;
            const wr = wOff + ky * kw;
            for (let kx = kx0; kx < kx1; kx++) acc += w[wr + kx] * x[row + kx];
          }
          let v = acc + bv;
          if (act !== 0) v = applyAct(v, act);
          const oi = o + oy * OW + ox;
          if (res) v += res[oi];
          out[oi] = v;
        }
      }
    }
  }
}

/** A typed array as it crosses to a worker: its shared buffer and the view's position. */
export type SharedView = [SharedArrayBuffer, number, number];

/** Rebuilds a ConvJob from its message form (the arrays as SharedView triples). */
export function decodeJob(m: Record<string, unknown>): ConvJob {
  const view = (v: unknown) => {
    if (v === null) return null;
    const [buf, off, len] = v as SharedView;
    return new Float32Array(buf, off, len);
  };
  return { ...(m as object), x: view(m.x), w: view(m.w), bias: view(m.bias), res: view(m.res), out: view(m.out) } as ConvJob;
}

/** Runs one message of the worker protocol: { kind: 'gemm' | 'dw', job, range }. */
export function runTask(kind: string, job: ConvJob, range: number[]): void {
  if (kind === 'gemm') convGemm(job, range[0], range[1], range[2], range[3]);
  else if (kind === 'dw') convDepthwise(job, range[0], range[1]);
  else throw new Error(`unknown task kind ${kind}`);
}

/** Everything a worker needs, in dependency-free source form (see the header). */
export const WORKER_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [applyAct, packPanel, tile4x4, convGemm, convDepthwise, decodeJob, runTask];

// Convolution kernels of the reference interpreter, run by the main thread and by the worker
// threads alike. This file must stay self-contained: no imports, no module-level state, no
// calls to anything outside the functions listed in WORKER_FUNCTIONS, because worker.ts ships
// those functions to the workers as source text (Function.prototype.toString). That works the
// same for the compiled dist/ and for the TypeScript that vitest runs.
//
// A convolution is a GEMM per image and group: out[M, N] = W[M, K] * im2col(x)[K, N] with
// M = output channels of the group, K = (input channels of the group) * kh * kw, N = oh * ow.
// The im2col matrix is never materialized whole: blocks of KC rows x NC columns are packed
// straight from the image (for 1x1 stride-1 convs a plain row copy) into float64 rows. Each
// thread owns a Workspace holding the weight rows it needs (converted to float64 once per
// conv), the packed block, and a float64 accumulator block. The strip kernel runs a 4x4
// register tile along the block: 4 weight rows against 4 columns at a time, so that one call
// covers a 4-row strip of the output block for one K block.
// Accumulators stay in float64 from the first product to the epilogue (bias, activation,
// residual, one rounding to float32), and every dot product runs in plain k order, so the
// result does not depend on the blocking, the thread split or which kernel ran.
//
// Two strip kernels compute the same float64 operations: a WebAssembly SIMD one (f64x2: two
// columns per instruction, about 3x the JavaScript one on this machine's Zen 3 cores), and
// the JavaScript one, kept for engines without WebAssembly SIMD and as the tests' cross-check.

/** One convolution with its epilogue, over whole NCHW tensors. */
export interface ConvJob {
  /** Unique per conv execution: a thread converts the weight rows once for all its chunks. */
  id: number;
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
  /**
   * The epilogue activation: its position in the activation table (src/ir/activations.ts,
   * ACTIVATION_NAMES; 0 is none), which is what crosses to a worker, and its reference function
   * (null for none), which each thread sets from the position (see decodeJob).
   */
  act: number;
  actFn: ((v: number) => number) | null;
}

/**
 * A thread's scratch memory (float64) and its strip kernel:
 * strip(a, lda, p, ldb, kc, c, ldc, n4) adds, for each of n4 groups of 4 columns, the 4 rows
 * at a, a + lda, a + 2 lda, a + 3 lda (kc values each) times the [kc] x 4 columns of B at p
 * (row stride ldb) into the 4x4 block of C at c (row stride ldc); offsets in f64 elements.
 */
export interface Workspace {
  f64: Float64Array;
  readonly simd: boolean;
  /** Which weight rows f64 starts with: `${job id}:${first row}:${rows}`. */
  aKey: string;
  strip(a: number, lda: number, p: number, ldb: number, kc: number, c: number, ldc: number, n4: number): void;
  /** Makes f64 hold at least n elements (may replace f64). */
  ensure(n: number): void;
}


/** The JavaScript strip kernel (see Workspace.strip). */
export function stripJs(F: Float64Array, a: number, lda: number, p: number, ldb: number, kc: number, c: number, ldc: number, n4: number): void {
  const a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  for (let s = 0; s < n4; s++, p += 4, c += 4) {
    const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    let c00 = F[c], c01 = F[c + 1], c02 = F[c + 2], c03 = F[c + 3];
    let c10 = F[r1], c11 = F[r1 + 1], c12 = F[r1 + 2], c13 = F[r1 + 3];
    let c20 = F[r2], c21 = F[r2 + 1], c22 = F[r2 + 2], c23 = F[r2 + 3];
    let c30 = F[r3], c31 = F[r3 + 1], c32 = F[r3 + 2], c33 = F[r3 + 3];
    for (let k = 0, q = p; k < kc; k++, q += ldb) {
      const x0 = F[a + k], x1 = F[a1 + k], x2 = F[a2 + k], x3 = F[a3 + k];
      const y0 = F[q], y1 = F[q + 1], y2 = F[q + 2], y3 = F[q + 3];
      c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
      c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
      c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
      c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
    }
    F[c] = c00; F[c + 1] = c01; F[c + 2] = c02; F[c + 3] = c03;
    F[r1] = c10; F[r1 + 1] = c11; F[r1 + 2] = c12; F[r1 + 3] = c13;
    F[r2] = c20; F[r2 + 1] = c21; F[r2 + 2] = c22; F[r2 + 3] = c23;
    F[r3] = c30; F[r3 + 1] = c31; F[r3 + 2] = c32; F[r3 + 3] = c33;
  }
}

/**
 * The WebAssembly module of the SIMD strip kernel: imports memory "e"."m", exports
 * strip(a, lda, p, ldb, kc, c, ldc, n4), the same operations as stripJs (f64x2.mul then
 * f64x2.add, never a fused multiply-add, so the results are bit-identical).
 */
export function simdStripModule(): Uint8Array<ArrayBuffer> {
  const leb = (n: number) => {
    const o: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      o.push(b);
    } while (n);
    return o;
  };
  const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const simd = (op: number) => [0xfd, ...leb(op)];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const i32 = (v: number) => [0x41, ...leb(v)]; // constants 0..63 only (signed LEB128 reads 64 as -64)
  const [ADD, SUB, SHL, LOAD, SPLAT64, STORE, F64X2_ADD, F64X2_MUL, LOOP, BR_IF, END] = [
    [0x6a], [0x6b], [0x74], simd(0), simd(10), simd(11), simd(240), simd(242), [0x03, 0x40], [0x0d, 0], [0x0b],
  ];
  // i32 params 0..7: a lda p ldb kc c ldc n4. i32 locals 8..16: a1 a2 a3 (A rows), c1 c2 c3
  // (C rows), q (B row), ko (byte offset of k in an A row), k (countdown). v128 locals
  // 17..24: accumulators (row r: 17 + 2r columns 0-1, 18 + 2r columns 2-3), 25..26: the two
  // halves of a B row, 27: the splatted A value.
  const [A, LDA, P, LDB, KC, C, LDC, N4] = [0, 1, 2, 3, 4, 5, 6, 7];
  const AROW = [A, 8, 9, 10];
  const CROW = [C, 11, 12, 13];
  const [Q, KO, K, ACC, B0, B1, AV] = [14, 15, 16, 17, 25, 26, 27];
  const body: number[][] = [];
  for (const i of [A, LDA, P, LDB, C, LDC]) body.push(get(i), i32(3), SHL, set(i)); // elements -> bytes
  for (let r = 1; r < 4; r++) body.push(get(AROW[r - 1]), get(LDA), ADD, set(AROW[r]), get(CROW[r - 1]), get(LDC), ADD, set(CROW[r]));
  body.push(LOOP); // over groups of 4 columns
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) body.push(get(CROW[r]), LOAD, [4, h * 16], set(ACC + 2 * r + h));
  body.push(get(P), set(Q), i32(0), set(KO), get(KC), set(K));
  body.push(LOOP); // over k
  body.push(get(Q), LOAD, [4, 0], set(B0), get(Q), LOAD, [4, 16], set(B1));
  for (let r = 0; r < 4; r++) {
    body.push(get(AROW[r]), get(KO), ADD, SPLAT64, [3, 0], set(AV));
    for (let h = 0; h < 2; h++) body.push(get(ACC + 2 * r + h), get(AV), get(h ? B1 : B0), F64X2_MUL, F64X2_ADD, set(ACC + 2 * r + h));
  }
  body.push(get(KO), i32(8), ADD, set(KO), get(Q), get(LDB), ADD, set(Q));
  body.push(get(K), i32(1), SUB, [0x22, K], BR_IF, END); // k -= 1; continue while k != 0
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) body.push(get(CROW[r]), get(ACC + 2 * r + h), STORE, [4, h * 16]);
  body.push(get(P), i32(32), ADD, set(P));
  for (let r = 0; r < 4; r++) body.push(get(CROW[r]), i32(32), ADD, set(CROW[r]));
  body.push(get(N4), i32(1), SUB, [0x22, N4], BR_IF, END); // n4 -= 1; continue while n4 != 0
  body.push(END);
  const code = [...vec([[9, 0x7f], [11, 0x7b]]), ...body.flat()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 8 }, () => [0x7f])), 0]])), // type: (i32 x 8) -> ()
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 1]])), // import memory e.m, min 1 page
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(7, vec([[...name('strip'), 0x00, 0]])), // export function 0 as "strip"
    ...section(10, vec([[...leb(code.length), ...code]])),
  ]);
}

/** A workspace with the SIMD strip kernel where WebAssembly SIMD is available (and wanted), else the JavaScript one. */
export function createWorkspace(preferSimd = true): Workspace {
  const bytes = simdStripModule();
  if (preferSimd && typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: memory } });
    const ws: Workspace = {
      f64: new Float64Array(memory.buffer),
      simd: true,
      aKey: '',
      strip: instance.exports.strip as Workspace['strip'],
      ensure(n) {
        const missing = n * 8 - memory.buffer.byteLength;
        if (missing <= 0) return;
        memory.grow(Math.ceil(missing / 65536));
        ws.f64 = new Float64Array(memory.buffer);
      },
    };
    return ws;
  }
  const ws: Workspace = {
    f64: new Float64Array(1 << 16),
    simd: false,
    aKey: '',
    strip: (a, lda, p, ldb, kc, c, ldc, n4) => stripJs(ws.f64, a, lda, p, ldb, kc, c, ldc, n4),
    ensure(n) {
      if (n <= ws.f64.length) return;
      const grown = new Float64Array(Math.max(n, 2 * ws.f64.length));
      grown.set(ws.f64); // keeps the weight rows, as WebAssembly memory.grow does
      ws.f64 = grown;
    },
  };
  return ws;
}

/**
 * Packs rows [k0, k0 + kc) x columns [j0, j0 + ncols) of the im2col matrix of the image at
 * xOff, channels [c0, c0 + cg), into F at `at` as kc rows of ldb values (columns past ncols
 * are 0). Columns are walked as runs along one output row, so that the input row each run
 * reads is found once and only its ends can fall into the padding.
 */
export function packBlock(job: ConvJob, F: Float64Array, at: number, ldb: number, xOff: number, c0: number, k0: number, kc: number, j0: number, ncols: number): void {
  const { x, inH: H, inW: W, kh, kw, sh, sw, pt, pl, outW: OW } = job;
  const HW = H * W;
  const taps = kh * kw;
  if (ncols < ldb) for (let k = 0; k < kc; k++) F.fill(0, at + k * ldb + ncols, at + (k + 1) * ldb);
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && OW === W && job.outH === H) {
    // Pointwise: the input already is the B matrix (rows = channels, columns = pixels).
    for (let k = 0; k < kc; k++) {
      const src = xOff + (c0 + k0 + k) * HW + j0;
      const dst = at + k * ldb;
      for (let q = 0; q < ncols; q++) F[dst + q] = x[src + q];
    }
    return;
  }
  const oyStart = (j0 / OW) | 0;
  const oxStart = j0 - oyStart * OW;
  let ci = (k0 / taps) | 0;
  let ky = ((k0 - ci * taps) / kw) | 0;
  let kx = k0 - ci * taps - ky * kw;
  for (let k = 0; k < kc; k++) {
    const chan = xOff + (c0 + ci) * HW;
    let dst = at + k * ldb;
    // Output columns ox whose input column ox * sw - pl + kx lies in [0, W): [oxLo, oxHi).
    const oxLo = Math.max(0, Math.ceil((pl - kx) / sw));
    const oxHi = Math.min(OW, Math.floor((W - 1 + pl - kx) / sw) + 1);
    for (let oy = oyStart, ox = oxStart, left = ncols; left > 0; oy++, ox = 0) {
      const end = Math.min(OW, ox + left); // this run covers output columns [ox, end) of row oy
      left -= end - ox;
      const iy = oy * sh - pt + ky;
      if (iy < 0 || iy >= H) {
        for (; ox < end; ox++) F[dst++] = 0;
        continue;
      }
      const src = chan + iy * W - pl + kx;
      for (; ox < end && ox < oxLo; ox++) F[dst++] = 0;
      for (const stop = Math.min(end, oxHi); ox < stop; ox++) F[dst++] = x[src + ox * sw];
      for (; ox < end; ox++) F[dst++] = 0;
    }
    if (++kx === kw) {
      kx = 0;
      if (++ky === kh) {
        ky = 0;
        ci++;
      }
    }
  }
}

/**
 * Computes output channels [m0, m1) x output pixels [j0, j1) of every image of the conv (the
 * unit of work a thread takes). Any group structure is allowed; groups with one input channel
 * (depthwise) are faster with convDepthwise.
 */
export function convGemm(job: ConvJob, m0: number, m1: number, j0: number, j1: number, ws: Workspace): void {
  const { w, bias, res, out, actFn, groups, kh, kw } = job;
  const mg = job.cout / groups;
  const cg = job.cin / groups;
  const K = cg * kh * kw;
  const OHW = job.outH * job.outW;
  const inSize = job.cin * job.inH * job.inW;
  // Blocking: a [KC][NC] float64 block of B (256 KiB) stays in L2 while every 4-row strip of A
  // ([4][KC], 8 KiB) sweeps it from L1. A K that is not much more than KC is taken whole.
  const KC = K <= 384 ? K : 256;
  const NC = Math.min(128, (j1 - j0 + 3) & ~3);
  for (let g = Math.floor(m0 / mg); g * mg < m1; g++) {
    const gm0 = Math.max(m0, g * mg);
    const rows = Math.min(m1, (g + 1) * mg) - gm0;
    const rowsP = (rows + 3) & ~3;
    const A = 0;
    const Bk = A + rowsP * K;
    const Cb = Bk + KC * NC;
    ws.ensure(Cb + rowsP * NC);
    const F = ws.f64;
    // A: this group's weight rows in float64, zero rows up to a multiple of 4 (unless this
    // thread's previous chunk of the same conv left them there).
    const key = `${job.id}:${gm0}:${rows}`;
    if (ws.aKey !== key) {
      for (let r = 0; r < rowsP; r++) {
        if (r < rows) for (let k = 0, src = (gm0 + r) * K; k < K; k++) F[A + r * K + k] = w[src + k];
        else F.fill(0, A + r * K, A + (r + 1) * K);
      }
      ws.aKey = key;
    }
    for (let b = 0; b < job.n; b++) {
      const xOff = b * inSize;
      const oOff = b * job.cout * OHW;
      for (let pj = j0; pj < j1; pj += NC) {
        const nc = Math.min(NC, j1 - pj);
        const ldc = (nc + 3) & ~3;
        F.fill(0, Cb, Cb + rowsP * ldc);
        for (let k0 = 0; k0 < K; k0 += KC) {
          const kc = Math.min(KC, K - k0);
          packBlock(job, F, Bk, ldc, xOff, g * cg, k0, kc, pj, nc);
          for (let i = 0; i < rowsP; i += 4) ws.strip(A + i * K + k0, K, Bk, ldc, kc, Cb + i * ldc, ldc, ldc >> 2);
        }
        for (let r = 0; r < rows; r++) {
          const m = gm0 + r;
          const bv = bias ? bias[m] : 0;
          const o = oOff + m * OHW + pj;
          const c = Cb + r * ldc;
          for (let q = 0; q < nc; q++) {
            let v = F[c + q] + bv;
            if (actFn) v = actFn(v);
            if (res) v += res[o + q];
            out[o + q] = v;
          }
        }
      }
    }
  }
}

/**
 * Output channels [m0, m1) of a conv whose groups each have one input channel (depthwise):
 * direct, one output row at a time, each tap swept along the row (every pixel sums its taps
 * in ky, kx order, so the result equals a per-pixel loop's).
 */
export function convDepthwise(job: ConvJob, m0: number, m1: number): void {
  const { x, w, bias, res, out, actFn, kh, kw, sh, sw, pt, pl, inH: H, inW: W, outH: OH, outW: OW } = job;
  const mult = job.cout / job.groups; // output channels per input channel
  const HW = H * W;
  const acc = new Float64Array(OW);
  for (let b = 0; b < job.n; b++) {
    for (let m = m0; m < m1; m++) {
      const chan = (b * job.cin + ((m / mult) | 0)) * HW;
      const bv = bias ? bias[m] : 0;
      for (let oy = 0; oy < OH; oy++) {
        acc.fill(0);
        const iy0 = oy * sh - pt;
        for (let ky = Math.max(0, -iy0); ky < Math.min(kh, H - iy0); ky++) {
          const row = chan + (iy0 + ky) * W;
          for (let kx = 0; kx < kw; kx++) {
            const wv = w[(m * kh + ky) * kw + kx];
            // Output columns whose input column ox * sw - pl + kx lies in [0, W).
            const lo = Math.max(0, Math.ceil((pl - kx) / sw));
            const hi = Math.min(OW, Math.floor((W - 1 + pl - kx) / sw) + 1);
            for (let ox = lo, src = row + lo * sw - pl + kx; ox < hi; ox++, src += sw) acc[ox] += wv * x[src];
          }
        }
        const o = ((b * job.cout + m) * OH + oy) * OW;
        for (let ox = 0; ox < OW; ox++) {
          let v = acc[ox] + bv;
          if (actFn) v = actFn(v);
          if (res) v += res[o + ox];
          out[o + ox] = v;
        }
      }
    }
  }
}

/** A typed array as it crosses to a worker: its shared buffer and the view's position. */
export type SharedView = [SharedArrayBuffer, number, number];

/**
 * Rebuilds a ConvJob from its message form (the arrays as SharedView triples, the activation as
 * its table position): `acts` is the activation table's reference functions by position.
 */
export function decodeJob(m: Record<string, unknown>, acts: readonly (((v: number) => number) | null)[]): ConvJob {
  const view = (v: unknown) => {
    if (v === null) return null;
    const [buf, off, len] = v as SharedView;
    return new Float32Array(buf, off, len);
  };
  return { ...(m as object), x: view(m.x), w: view(m.w), bias: view(m.bias), res: view(m.res), out: view(m.out), actFn: acts[m.act as number] ?? null } as ConvJob;
}

/**
 * Runs chunks of a conv until none is left: each thread (the caller and the workers) takes
 * the next chunk index from the shared counter, so a thread that gets less CPU takes fewer.
 * A chunk is [m0, m1, j0, j1] for 'gemm', [m0, m1] for 'dw'.
 */
export function runChunks(kind: string, job: ConvJob, chunks: readonly (readonly number[])[], counter: Int32Array, ws: Workspace): void {
  for (let i = Atomics.add(counter, 0, 1); i < chunks.length; i = Atomics.add(counter, 0, 1)) {
    const c = chunks[i];
    if (kind === 'gemm') convGemm(job, c[0], c[1], c[2], c[3], ws);
    else if (kind === 'dw') convDepthwise(job, c[0], c[1]);
    else throw new Error(`unknown task kind ${kind}`);
  }
}

/** Everything a worker needs, in dependency-free source form (see the header). */
export const WORKER_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [stripJs, simdStripModule, createWorkspace, packBlock, convGemm, convDepthwise, decodeJob, runChunks];

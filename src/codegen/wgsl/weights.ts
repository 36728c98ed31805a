// The WGSL artifact's own weight blob (weights.bin). It differs from the plan's packed blob in
// one way: the weight of every groups == 1 convolution is stored as the B operand of the
// implicit GEMM the conv shader runs, so that the shader reads it as vec4 along output channels:
//
//   'kxn'    conv weight [Cout, Cin, kh, kw] stored as [K, N4]: K = Cin*kh*kw in (ci, ky, kx)
//            order, N4 = Cout rounded up to a multiple of 4, element (k, co) at k*N4 + co, the
//            columns co >= Cout zero;
//   'dense'  every other parameter exactly as the checkpoint holds it (C order).
//
// Entries follow the launches' first use; each starts on a multiple of ALIGN_ELEMENTS (64
// elements: 256 bytes of fp32, 128 of fp16, so vec4 indexing and weight chunks line up) and the
// blob length is a multiple of it too. Gaps are zero. Elements are the plan's weight dtype:
// little-endian float32, or float16 (binary16, rounded to nearest even) for fp16, which the
// shaders read as packed pairs. weights.json in the artifact lists every entry.

import { fail } from '../../diag/diagnostics.js';
import { HOST_LITTLE_ENDIAN } from '../../io/dtype.js';
import { f32BitsToF16 } from '../../ir/precision.js';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { alignUp } from '../../plan/arena.js';
import { DTYPE_BYTES, type DType, type KernelPlan, type Launch, type WeightRef } from '../../plan/types.js';
import { isGemmConv } from '../cstyle/kernels.js';

export type Packing = 'dense' | 'kxn';

export interface WgslWeightEntry {
  /** Canonical parameter name (the plan's WeightRef.name). */
  readonly name: string;
  readonly packing: Packing;
  /** The parameter's own shape (as in the checkpoint). */
  readonly shape: readonly number[];
  /** Element offset in the blob, a multiple of 64. */
  readonly offset: number;
  /** Stored elements (for 'kxn': K * N4). */
  readonly numel: number;
}

export interface WgslWeightLayout {
  /** Element type of the blob (the plan's weight dtype: f32, or f16 for fp16). */
  readonly dtype: DType;
  readonly totalElements: number;
  readonly entries: readonly WgslWeightEntry[];
}

/** How launch `l` reads its parameter of role `role` (the GEMM conv shader wants its weight as 'kxn'). */
function packingOf(l: Launch, role: string): Packing {
  return role === 'weight' && isGemmConv(l) ? 'kxn' : 'dense';
}

export const entryKey = (name: string, packing: Packing): string => `${packing}:${name}`;

/** K and N4 of a 'kxn' entry of shape [Cout, Cin, kh, kw]. */
export function kxnDims(shape: readonly number[]): { cout: number; k: number; n4: number } {
  const [cout, ...rest] = shape;
  return { cout, k: rest.reduce((a, b) => a * b, 1), n4: Math.ceil(cout / 4) * 4 };
}

/** The blob layout of `plan`: one entry per (parameter, packing) a launch reads. */
export function wgslWeightLayout(plan: KernelPlan): WgslWeightLayout {
  const entries: WgslWeightEntry[] = [];
  const seen = new Set<string>();
  let off = 0;
  for (const l of plan.launches) {
    for (const [role, p] of Object.entries(l.params as Readonly<Record<string, WeightRef>>)) {
      const packing = packingOf(l, role);
      if (seen.has(entryKey(p.name, packing))) continue;
      seen.add(entryKey(p.name, packing));
      if (packing === 'kxn' && p.shape.length !== 4) fail('E5109', `wgsl: conv weight '${p.name}' has shape [${p.shape.join(', ')}], expected [Cout, Cin, kh, kw]`);
      const numel = packing === 'kxn' ? kxnDims(p.shape).k * kxnDims(p.shape).n4 : p.numel;
      entries.push({ name: p.name, packing, shape: p.shape, offset: off, numel });
      off = alignUp(off + numel);
    }
  }
  return { dtype: plan.weights.dtype, totalElements: Math.max(off, alignUp(1)), entries };
}

/**
 * Rows k0..k1 of the [K, N4] operand from a [Cout, K] weight: out[(kk - k0) * n4 + co] =
 * d[co * k + kk] (columns co >= cout are left as they are: zero). One small function, called
 * once per output channel block, so that V8 optimizes it after a few calls instead of running
 * one long loop in the interpreter (whose boxed float loads grow the young generation).
 */
function transposeRows(d: Float32Array, k: number, cout: number, n4: number, k0: number, k1: number, out: Float32Array): void {
  for (let co = 0; co < cout; co++) copyColumn(d, co * k + k0, k1 - k0, out, co, n4);
}

function copyColumn(src: Float32Array, from: number, n: number, dst: Float32Array, at: number, stride: number): void {
  for (let i = 0; i < n; i++) dst[at + i * stride] = src[from + i];
}

function checkLength(e: WgslWeightEntry, d: Float32Array): void {
  const expected = e.shape.reduce((a, b) => a * b, 1);
  if (d.length !== expected) fail('E5304', `wgsl: parameter '${e.name}' holds ${d.length} values, its shape [${e.shape.join(', ')}] needs ${expected}`);
}

/**
 * One entry's values as they lie in the blob: `d` itself when dense, else repacked [K, N4] into
 * `into` (zeroed, e.numel long) or a new array.
 */
function entryValues(e: WgslWeightEntry, d: Float32Array, into: Float32Array | undefined): Float32Array {
  checkLength(e, d);
  if (e.packing === 'dense') return d;
  const { cout, k, n4 } = kxnDims(e.shape);
  const out = into ?? new Float32Array(e.numel);
  transposeRows(d, k, cout, n4, 0, k, out);
  return out;
}

type DataOf = (name: string) => Float32Array | null | undefined;

function dataOf(e: WgslWeightEntry, data: DataOf): Float32Array | null {
  const d = data(e.name);
  if (d === undefined) fail('E5301', `wgsl: the plan names parameter '${e.name}', which the optimized graph lacks`);
  return d;
}

/** Bytes of the blob of `layout`. */
export const blobBytes = (layout: WgslWeightLayout): number => layout.totalElements * DTYPE_BYTES[layout.dtype];

/** Stores float32 values `v` at element `at` of a blob of `dtype` (little-endian; f16 rounded to nearest even). */
function putValues(view: DataView, dtype: DType, at: number, v: Float32Array): void {
  if (dtype === 'f32') {
    for (let i = 0; i < v.length; i++) view.setFloat32((at + i) * 4, v[i], true);
    return;
  }
  if (dtype !== 'f16') throw new Error(`internal: the WGSL weight blob has no ${dtype} elements`);
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  for (let i = 0; i < u.length; i++) view.setUint16((at + i) * 2, f32BitsToF16(u[i]), true);
}

/**
 * Fills the blob of `layout` (its dtype, little-endian) from parameter data by name. A parameter
 * without data (a shape-only build) leaves zeros: the artifact's weights.bin can be replaced later.
 */
export function packWgslWeights(layout: WgslWeightLayout, data: DataOf): ArrayBuffer {
  const blob = new ArrayBuffer(blobBytes(layout));
  const view = new DataView(blob);
  const direct = layout.dtype === 'f32' && HOST_LITTLE_ENDIAN ? new Float32Array(blob) : undefined;
  for (const e of layout.entries) {
    const d = dataOf(e, data);
    if (!d) continue;
    if (direct) {
      // A repacked entry is written in place; a dense one is copied in.
      const at = direct.subarray(e.offset, e.offset + e.numel);
      const v = entryValues(e, d, at);
      if (v !== at) at.set(v);
    } else putValues(view, layout.dtype, e.offset, entryValues(e, d, undefined));
  }
  return blob;
}

/** The bytes of float32 values `a` as blob elements of `dtype` (the scratch `into` when it fits). */
function encodeAs(a: Float32Array, dtype: DType, into: Uint16Array): Uint8Array {
  if (dtype === 'f32') return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const h = a.length <= into.length ? into.subarray(0, a.length) : new Uint16Array(a.length);
  for (let i = 0; i < u.length; i++) h[i] = f32BitsToF16(u[i]);
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

/** Floats of the scratch buffer writeWgslWeights repacks through (1 MiB). */
const SCRATCH_FLOATS = 1 << 18;

/**
 * Writes packWgslWeights' blob to `path` entry by entry: dense fp32 entries straight from the
 * parameters' memory, repacked ones a block of [K, N4] rows at a time through one 1 MiB scratch
 * buffer (fp16 through one more for the conversion), so a build holds no second copy of the
 * weights (nor its garbage).
 */
export function writeWgslWeights(path: string, layout: WgslWeightLayout, data: DataOf): void {
  if (!HOST_LITTLE_ENDIAN) {
    writeFileSync(path, new Uint8Array(packWgslWeights(layout, data)));
    return;
  }
  const fd = openSync(path, 'w');
  const halves = new Uint16Array(layout.dtype === 'f32' ? 0 : SCRATCH_FLOATS);
  try {
    const put = (a: Float32Array): void => {
      for (let i = 0; i < a.length; i += SCRATCH_FLOATS) {
        const b = encodeAs(a.subarray(i, Math.min(a.length, i + SCRATCH_FLOATS)), layout.dtype, halves);
        for (let at = 0; at < b.length; ) at += writeSync(fd, b, at);
      }
    };
    const scratch = new Float32Array(SCRATCH_FLOATS);
    const zeros = (n: number): void => {
      scratch.fill(0);
      for (; n > 0; n -= SCRATCH_FLOATS) put(scratch.subarray(0, Math.min(n, SCRATCH_FLOATS)));
    };
    let at = 0;
    for (const e of layout.entries) {
      const d = dataOf(e, data);
      if (e.offset > at) zeros(e.offset - at);
      at = e.offset + e.numel;
      if (!d) zeros(e.numel);
      else if (e.packing === 'dense') put(entryValues(e, d, undefined));
      else {
        checkLength(e, d);
        const { cout, k, n4 } = kxnDims(e.shape);
        const rows = Math.max(1, Math.floor(SCRATCH_FLOATS / n4));
        const block = rows * n4 <= SCRATCH_FLOATS ? scratch : new Float32Array(n4);
        for (let k0 = 0; k0 < k; k0 += rows) {
          const k1 = Math.min(k, k0 + rows);
          const out = block.subarray(0, (k1 - k0) * n4).fill(0);
          transposeRows(d, k, cout, n4, k0, k1, out);
          put(out);
        }
      }
    }
    if (layout.totalElements > at) zeros(layout.totalElements - at);
  } finally {
    closeSync(fd);
  }
}

/** weights.json: the blob's layout, for anyone who fills weights.bin without vovc. */
export function describeLayout(layout: WgslWeightLayout, chunks: Record<string, [number, number]>, precision: string, origin: string): string {
  return `${JSON.stringify(
    {
      format: 'vovc-wgsl-weights',
      version: 1,
      precision,
      origin,
      dtype: layout.dtype === 'f16' ? 'float16 little-endian (binary16, rounded to nearest even)' : 'float32 little-endian',
      elements: layout.totalElements,
      bytes: blobBytes(layout),
      packings: {
        dense: 'the parameter as stored in the checkpoint (C order)',
        kxn: 'conv weight [Cout, Cin, kh, kw] transposed to [K, N4]: K = Cin*kh*kw in (ci, ky, kx) order, N4 = Cout rounded up to 4, element (k, co) at k*N4 + co, columns co >= Cout zero',
      },
      note: `offsets and sizes count ${layout.dtype === 'f16' ? 'float16' : 'float32'} elements; gaps between entries are zero`,
      chunks: Object.fromEntries(Object.entries(chunks).map(([name, [b, e]]) => [name, { firstByte: b, endByte: e }])),
      entries: layout.entries.map((e) => ({ name: e.name, packing: e.packing, shape: e.shape, offset: e.offset, elements: e.numel })),
    },
    null,
    1,
  )}\n`;
}

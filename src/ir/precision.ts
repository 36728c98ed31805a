// Numeric precision of a compiled model: what `--precision fp32|tf32|fp16|bf16` means, the
// storage type it gives every buffer, and the exact roundings the reference interpreter
// emulates (docs/PRECISION.md).
//
// The semantics, the same on every target:
//   - BatchNorm is folded in fp32; then every parameter is rounded once to the storage type;
//   - every stored activation (each op's output, the model input after conversion) is
//     rounded to the storage type; every accumulation is fp32;
//   - tf32 keeps fp32 storage and rounds the two operands of each dense convolution (the
//     implicit-GEMM ones: groups 1) to TF32 as PTX `cvt.rna.tf32.f32` does: 10 mantissa bits,
//     round to nearest, ties away from zero.
// fp32 changes nothing (bit for bit what vovc computed before precisions existed).

export type Precision = 'fp32' | 'tf32' | 'fp16' | 'bf16';

export const PRECISIONS: readonly Precision[] = ['fp32', 'tf32', 'fp16', 'bf16'];

/** The element type buffers are stored in. */
export type StorageType = 'f32' | 'f16' | 'bf16';

export const STORAGE: Readonly<Record<Precision, StorageType>> = { fp32: 'f32', tf32: 'f32', fp16: 'f16', bf16: 'bf16' };

export const isPrecision = (s: string): s is Precision => (PRECISIONS as readonly string[]).includes(s);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bit pattern of a float32 bit pattern, round to nearest even (overflow -> inf, NaN stays NaN). */
export function f32BitsToF16(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): the value is m * 2^(exp-150) with the hidden bit; h = value / 2^-24.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  // A carry out of the mantissa moves to the next binade, or to infinity: both correct.
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 value of a binary16 bit pattern (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

let halfTable: Float32Array | undefined;
const table = (): Float32Array => {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = f16BitsToF32(h);
  }
  return halfTable;
};

/** bfloat16 bit pattern (the upper half of float32), round to nearest even; NaN stays a quiet NaN. */
function f32BitsToBf16(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return ((u | 0x400000) >>> 16) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** TF32 as cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest with ties away from zero; NaN and inf stay. */
export function f32BitsToTf32(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000) return u & 0x7fffff ? (u | 0x400000) >>> 0 : u;
  return ((u + 0x1000) & 0xffffe000) >>> 0;
}

/** The float32 value nearest to `x` in the given type. */
export function roundTo(x: number, to: StorageType | 'tf32'): number {
  f32[0] = x;
  switch (to) {
    case 'f32':
      return f32[0];
    case 'f16':
      return table()[f32BitsToF16(u32[0])];
    case 'bf16':
      u32[0] = f32BitsToBf16(u32[0]) << 16;
      return f32[0];
    case 'tf32':
      u32[0] = f32BitsToTf32(u32[0]);
      return f32[0];
  }
}

/** Rounds every element of `a` in place to the given type (no-op for f32). */
export function roundArray(a: Float32Array, to: StorageType | 'tf32'): void {
  if (to === 'f32') return;
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  if (to === 'f16') {
    const t = table();
    for (let i = 0; i < u.length; i++) a[i] = t[f32BitsToF16(u[i])];
  } else if (to === 'bf16') {
    for (let i = 0; i < u.length; i++) u[i] = f32BitsToBf16(u[i]) << 16;
  } else {
    for (let i = 0; i < u.length; i++) u[i] = f32BitsToTf32(u[i]);
  }
}

/** A rounded copy of `a`. */
export function rounded(a: Float32Array, to: StorageType | 'tf32'): Float32Array {
  const c = new Float32Array(a);
  roundArray(c, to);
  return c;
}

/** binary16 bit patterns of a float32 array (round to nearest even). */
export function toF16Bits(a: Float32Array): Uint16Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToF16(u[i]);
  return out;
}

/** bfloat16 bit patterns of a float32 array (round to nearest even). */
export function toBf16Bits(a: Float32Array): Uint16Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToBf16(u[i]);
  return out;
}

/** float32 values of binary16 bit patterns. */
export function fromF16Bits(h: Uint16Array): Float32Array {
  const t = table();
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = t[h[i]];
  return out;
}

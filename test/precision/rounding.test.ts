// The roundings of src/ir/precision.ts against values worked out by hand from the IEEE 754
// formats (and, for every float16 pattern, the exact decode): round to nearest even for
// float16 and bfloat16, ties away from zero for TF32 (PTX cvt.rna.tf32.f32).
import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32BitsToF16, f32BitsToTf32, roundArray, roundTo, toBf16Bits, toF16Bits } from '../../src/ir/precision.js';

const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

describe('float16', () => {
  it('is exact on every representable value (all 63488 finite patterns round-trip)', () => {
    for (let h = 0; h < 65536; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      expect(f32BitsToF16(bits(x))).toBe(h);
    }
  });
  it('rounds to nearest, ties to even, overflow to infinity, tiny values to zero', () => {
    expect(roundTo(1 + 2 ** -11, 'f16')).toBe(1); // tie: 1 (even) wins over 1 + 2^-10
    expect(roundTo(1 + 3 * 2 ** -11, 'f16')).toBe(1 + 2 ** -9); // tie: the even neighbour is above
    expect(roundTo(1 + 2 ** -11 + 2 ** -20, 'f16')).toBe(1 + 2 ** -10); // above the tie
    expect(roundTo(65504, 'f16')).toBe(65504);
    expect(roundTo(65519, 'f16')).toBe(65504); // below the midpoint to 2^16
    expect(roundTo(65520, 'f16')).toBe(Infinity); // the midpoint ties to even: 2^16 = inf
    expect(roundTo(-1e6, 'f16')).toBe(-Infinity);
    expect(roundTo(2 ** -24, 'f16')).toBe(2 ** -24); // smallest subnormal
    expect(roundTo(2 ** -25, 'f16')).toBe(0); // tie with zero: even
    expect(roundTo(2 ** -25 * 1.5, 'f16')).toBe(2 ** -24);
    expect(roundTo(3 * 2 ** -25, 'f16')).toBe(2 ** -23); // tie between 1 and 2 ulps: even (2)
    expect(Object.is(roundTo(-1e-10, 'f16'), -0)).toBe(true);
    expect(roundTo(NaN, 'f16')).toBeNaN();
    expect(roundTo(2 ** -14 - 2 ** -26, 'f16')).toBe(2 ** -14); // subnormal rounding up into the normals
  });
});

describe('bfloat16 and tf32', () => {
  it('bfloat16: 8 mantissa bits, ties to even, NaN kept', () => {
    expect(roundTo(1 + 2 ** -8, 'bf16')).toBe(1);
    expect(roundTo(1 + 3 * 2 ** -8, 'bf16')).toBe(1 + 2 ** -6);
    expect(roundTo(1 + 2 ** -8 + 2 ** -20, 'bf16')).toBe(1 + 2 ** -7);
    expect(roundTo(3.4e38, 'bf16')).toBe(Infinity);
    expect(roundTo(NaN, 'bf16')).toBeNaN();
    expect([...toBf16Bits(new Float32Array([1, -2, 0.5]))]).toEqual([0x3f80, 0xc000, 0x3f00]);
  });
  it('tf32: 10 mantissa bits, ties AWAY from zero (cvt.rna), storage stays float32', () => {
    expect(roundTo(1 + 2 ** -11, 'tf32')).toBe(1 + 2 ** -10); // the tie goes away from zero
    expect(roundTo(-(1 + 2 ** -11), 'tf32')).toBe(-(1 + 2 ** -10));
    expect(roundTo(1 + 2 ** -11 - 2 ** -20, 'tf32')).toBe(1);
    expect(roundTo(0x1000 * 2 ** -149, 'tf32')).toBe(0x2000 * 2 ** -149); // a subnormal tie, away from zero
    expect(roundTo(0xfff * 2 ** -149, 'tf32')).toBe(0);
    expect(f32BitsToTf32(bits(Infinity))).toBe(bits(Infinity));
    expect(roundTo(NaN, 'tf32')).toBeNaN();
  });
  it('roundArray is the scalar rounding applied to each element, and idempotent', () => {
    const a = new Float32Array(4096).map((_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 13) - 6));
    for (const to of ['f16', 'bf16', 'tf32'] as const) {
      const r = new Float32Array(a);
      roundArray(r, to);
      r.forEach((v, i) => expect(v).toBe(roundTo(a[i], to)));
      const again = new Float32Array(r);
      roundArray(again, to);
      expect([...again]).toEqual([...r]);
    }
    expect([...toF16Bits(new Float32Array([1, -2, 65504]))]).toEqual([0x3c00, 0xc000, 0x7bff]);
  });
});

// The differential mode's oracle (fuzz/diff.mjs): the comparison rule (finite elements within
// atol = rtol = 1e-4 of the reference, NaN / +Inf / -Inf at the same positions; for ONNX on a
// non-finite input the non-finite reference elements only counted as a known difference), the
// .npy files it writes and reads, and the inputs it makes. The runs on every target are in
// driver.test.ts.
import { describe, expect, it } from 'vitest';
import { caseSeed, one } from '../../fuzz/cases.mjs';
import { compare, diffCaseAt, makeInput, readNpy, writeNpy } from '../../fuzz/diff.mjs';
import { SEED } from './api.js';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('the differential comparison', () => {
  it('finite elements within 1e-4 + 1e-4 |r| pass, others fail, and the first is named by its coordinates', () => {
    const r = f32([1, 100, 0, -2]);
    expect(compare(r, f32([1.00005, 100.009, 0.00009, -2]), [1, 1, 2, 2])).toMatchObject({ bad: 0 });
    const m = compare(r, f32([1, 100.03, 0, -2]), [1, 1, 2, 2]);
    expect(m).toMatchObject({ bad: 1, n: 4 });
    expect(m.first).toMatch(/^\[0,0,0,1\]: 100.0299/);
  });

  it('NaN, +Inf and -Inf must be at the same positions', () => {
    const r = f32([NaN, Infinity, -Infinity, 1]);
    expect(compare(r, f32([NaN, Infinity, -Infinity, 1]), [4])).toMatchObject({ bad: 0, masks: { NaN: 1, '+Inf': 1, '-Inf': 1 } });
    expect(compare(r, f32([0, Infinity, -Infinity, 1]), [4]).bad).toBe(1);
    expect(compare(r, f32([NaN, -Infinity, -Infinity, 1]), [4]).bad).toBe(1);
    expect(compare(r, f32([NaN, Infinity, -Infinity, NaN]), [4]).bad).toBe(1);
    expect(compare(r, f32([NaN, Infinity, -Infinity, Infinity]), [4]).bad).toBe(1);
  });

  it('lenient (ONNX, non-finite input): a differing non-finite reference element is a known difference, a finite one still fails', () => {
    const r = f32([NaN, NaN, 3]);
    expect(compare(r, f32([9, NaN, 3]), [3], true)).toMatchObject({ bad: 0, known: 1 });
    expect(compare(r, f32([9, NaN, NaN]), [3], true)).toMatchObject({ bad: 1, known: 1 });
  });
});

describe('differential cases', () => {
  it('.npy round trip, 4-D float32 with NaN and Inf', () => {
    const x = f32([1.5, NaN, Infinity, -Infinity, -0, 3, 7, 8]);
    const back = readNpy(writeNpy([1, 2, 2, 2], x));
    expect(back.shape).toEqual([1, 2, 2, 2]);
    expect([...back.data]).toEqual([...x]);
  });

  it('inputs are seeded normal values with NaN / Inf where the mode says, all NaN for all-nan', () => {
    const cases = Array.from({ length: 60 }, (_, i) => diffCaseAt(one, caseSeed, SEED, i));
    const modes = new Set(cases.map((c) => c.mode));
    expect([...modes].sort()).toEqual(['+inf', '-inf', 'all-nan', 'finite', 'mixed', 'nan']);
    for (const c of cases) {
      const x = makeInput(c);
      expect(x.length).toBe(c.input.reduce((a: number, d: number) => a * d, 1));
      const nan = x.filter((v) => Number.isNaN(v)).length;
      const inf = x.filter((v) => v === Infinity || v === -Infinity).length;
      if (c.mode === 'finite') expect(nan + inf).toBe(0);
      else if (c.mode === 'all-nan') expect(nan).toBe(x.length);
      else expect(nan + inf).toBeGreaterThan(0);
      expect(c.input[1]).toBe(3);
      expect(Math.min(c.input[2], c.input[3])).toBeGreaterThanOrEqual(16);
      expect(Math.max(c.input[2], c.input[3])).toBeLessThanOrEqual(40);
    }
    // The same case twice is the same input (a failure replays).
    expect([...makeInput(cases[3])]).toEqual([...makeInput(diffCaseAt(one, caseSeed, SEED, 3))]);
  });
});

// The deformable sampling itself against torchvision.ops.deform_conv2d on cases built to expose
// plausible mistakes (test/fixtures/dcn/ops: asymmetric offsets with 2 offset groups, points at
// and past every image border, DCNv1 with stride 2 and batch 2). The interpreter's kernel
// (deformIm2col + a GEMM) must match; each mistake, applied to the same kernel's input or made
// in a second sampler written here, must fail on at least one case, so that the network
// fixtures and these cases would catch it in any backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deformIm2col, type DeformDims } from '../../src/runtime/kernels.js';
import { REPO, compare, readNpyF32 } from '../helpers/fixtures.js';

interface OpCase {
  name: string;
  x: { shape: number[]; data: Float32Array };
  /** Offsets then (v2) mask logits: the layout the IR's deform_conv2d reads. */
  off: Float32Array;
  weight: { shape: number[]; data: Float32Array };
  out: { shape: number[]; data: Float32Array };
  dims: DeformDims;
}

function load(name: string): OpCase {
  const dir = join(REPO, 'test/fixtures/dcn/ops', name);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  const x = readNpyF32(join(dir, 'x.npy'));
  const offset = readNpyF32(join(dir, 'offset.npy'));
  const weight = readNpyF32(join(dir, 'weight.npy'));
  const out = readNpyF32(join(dir, 'out.npy'));
  const [n, cin, h, w] = x.shape;
  const [, , oh, ow] = out.shape;
  const taps = 9;
  const groups = offset.shape[1] / (2 * taps);
  let off = offset.data;
  if (meta.modulated) {
    // The fixtures give the mask as probabilities; the IR reads logits (sigmoid(+-inf) = 1, 0).
    const mask = readNpyF32(join(dir, 'mask.npy')).data;
    const ohw = oh * ow;
    const perImage = (2 + 1) * taps * groups * ohw;
    off = new Float32Array(n * perImage);
    for (let b = 0; b < n; b++) {
      off.set(offset.data.subarray(b * 2 * taps * groups * ohw, (b + 1) * 2 * taps * groups * ohw), b * perImage);
      for (let i = 0; i < taps * groups * ohw; i++) {
        const m = mask[b * taps * groups * ohw + i];
        off[b * perImage + 2 * taps * groups * ohw + i] = Math.log(m / (1 - m));
      }
    }
  }
  const dims: DeformDims = { n, cin, h, w, oh, ow, kh: 3, kw: 3, sh: meta.stride, sw: meta.stride, pt: meta.padding, pl: meta.padding, groups, modulated: meta.modulated };
  return { name, x, off, weight, out, dims };
}

const CASES = ['asym', 'edges', 'v1-stride2'].map(load);

/** out = W [Cout, Cin*9] x cols [Cin*9, OH*OW] per image, in float64. */
function gemm(c: OpCase, cols: Float32Array): { shape: number[]; data: Float32Array } {
  const { n, cin, oh, ow } = c.dims;
  const cout = c.weight.shape[0];
  const k = cin * 9, p = oh * ow;
  const y = new Float32Array(n * cout * p);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let q = 0; q < p; q++) {
        let s = 0;
        for (let r = 0; r < k; r++) s += c.weight.data[o * k + r] * cols[(b * k + r) * p + q];
        y[(b * cout + o) * p + q] = s;
      }
  return { shape: [n, cout, oh, ow], data: y };
}

const run = (c: OpCase, off = c.off, dims = c.dims) => {
  const cols = new Float32Array(dims.n * dims.cin * 9 * dims.oh * dims.ow);
  deformIm2col(c.x.data, off, cols, dims);
  return gemm(c, cols);
};
const ok = (c: OpCase, got: { shape: number[]; data: Float32Array }) => compare(got, c.out, 1e-4, 1e-4).ok;

/** A second sampler, with one mistake switched on at a time. */
type Mistake = 'none' | 'clamp' | 'round' | 'truncate' | 'all-four-inside' | 'inside-only';
function sampler(c: OpCase, mistake: Mistake): Float32Array {
  const { n, cin, h, w, oh, ow, sh, sw, pt, pl, groups, modulated } = c.dims;
  const ohw = oh * ow, offCh = (modulated ? 3 : 2) * 9 * groups;
  const cols = new Float32Array(n * cin * 9 * ohw);
  const at = (b: number, ch: number, yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? c.x.data[((b * cin + ch) * h + yy) * w + xx] : 0);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < cin; ch++) {
      const g = Math.floor(ch / (cin / groups));
      for (let t = 0; t < 9; t++)
        for (let p = 0; p < ohw; p++) {
          const o = (k: number) => c.off[(b * offCh + k) * ohw + p];
          let y = Math.floor(p / ow) * sh - pt + Math.floor(t / 3) + o(2 * (g * 9 + t));
          let x = (p % ow) * sw - pl + (t % 3) + o(2 * (g * 9 + t) + 1);
          const m = modulated ? 1 / (1 + Math.exp(-o(18 * groups + g * 9 + t))) : 1;
          let v = 0;
          if (mistake === 'clamp') {
            y = Math.min(Math.max(y, 0), h - 1);
            x = Math.min(Math.max(x, 0), w - 1);
          }
          if (mistake === 'round') v = at(b, ch, Math.round(y), Math.round(x));
          else if (y > -1 && y < h && x > -1 && x < w && !(mistake === 'inside-only' && (y < 0 || x < 0 || y > h - 1 || x > w - 1))) {
            const y0 = mistake === 'truncate' ? Math.trunc(y) : Math.floor(y), x0 = mistake === 'truncate' ? Math.trunc(x) : Math.floor(x);
            const ly = y - y0, lx = x - x0;
            const corners = [at(b, ch, y0, x0), at(b, ch, y0, x0 + 1), at(b, ch, y0 + 1, x0), at(b, ch, y0 + 1, x0 + 1)];
            const inside = y0 >= 0 && x0 >= 0 && y0 + 1 < h && x0 + 1 < w;
            if (mistake !== 'all-four-inside' || inside) v = (1 - ly) * (1 - lx) * corners[0] + (1 - ly) * lx * corners[1] + ly * (1 - lx) * corners[2] + ly * lx * corners[3];
          }
          cols[((b * cin + ch) * 9 + t) * ohw + p] = v * m;
        }
    }
  return cols;
}

describe('deformable sampling vs torchvision.ops.deform_conv2d', () => {
  for (const c of CASES) {
    it(`${c.name}: the interpreter's deformable im2col + GEMM within 1e-4`, () => {
      const r = compare(run(c), c.out, 1e-4, 1e-4);
      expect(r, `max |diff| ${r.maxAbs}`).toMatchObject({ ok: true });
    });
    it(`${c.name}: the second sampler without a mistake agrees`, () => {
      expect(ok(c, gemm(c, sampler(c, 'none')))).toBe(true);
    });
  }

  const fails = (f: (c: OpCase) => { shape: number[]; data: Float32Array }) => CASES.filter((c) => !ok(c, f(c))).map((c) => c.name);
  it('offsets read as (dx, dy) instead of (dy, dx) fail', () => {
    const swapped = (c: OpCase) => {
      const off = c.off.slice();
      const { n, oh, ow, groups, modulated } = c.dims;
      const ohw = oh * ow, per = (modulated ? 3 : 2) * 9 * groups * ohw;
      for (let b = 0; b < n; b++) for (let k = 0; k < 9 * groups; k++) {
        off.set(c.off.subarray(b * per + (2 * k + 1) * ohw, b * per + (2 * k + 2) * ohw), b * per + 2 * k * ohw);
        off.set(c.off.subarray(b * per + 2 * k * ohw, b * per + (2 * k + 1) * ohw), b * per + (2 * k + 1) * ohw);
      }
      return run(c, off);
    };
    expect(fails(swapped)).toEqual(['asym', 'edges', 'v1-stride2']);
  });
  it('a mask ignored (DCNv2 run as v1) fails', () => {
    expect(fails((c) => run(c, c.off, { ...c.dims, modulated: false }))).toEqual(['asym', 'edges']);
  });
  it("group 0's offsets and mask applied to every group fail (where there are groups)", () => {
    const firstGroupOnly = (c: OpCase) => {
      const off = c.off.slice();
      const { n, oh, ow, groups, modulated } = c.dims;
      const ohw = oh * ow, per = (modulated ? 3 : 2) * 9 * groups * ohw;
      for (let b = 0; b < n; b++) for (let g = 1; g < groups; g++) {
        off.set(c.off.subarray(b * per, b * per + 18 * ohw), b * per + g * 18 * ohw);
        if (modulated) off.set(c.off.subarray(b * per + 18 * groups * ohw, b * per + (18 * groups + 9) * ohw), b * per + (18 * groups + 9 * g) * ohw);
      }
      return run(c, off);
    };
    expect(fails(firstGroupOnly)).toEqual(['asym', 'v1-stride2']);
  });
  for (const [mistake, expected] of [
    ['round', ['asym', 'edges', 'v1-stride2']],
    ['clamp', ['asym', 'edges', 'v1-stride2']],
    ['truncate', ['asym', 'edges', 'v1-stride2']],
    ['all-four-inside', ['asym', 'edges', 'v1-stride2']],
    ['inside-only', ['asym', 'edges', 'v1-stride2']],
  ] as const) {
    it(`sampling points ${mistake === 'round' ? 'rounded instead of bilinear' : mistake === 'clamp' ? 'clamped into the image instead of zero-weighted' : mistake === 'truncate' ? 'truncated toward zero instead of floored' : mistake === 'all-four-inside' ? 'zeroed unless all four neighbours are inside' : 'in (-1, 0) or (H-1, H) zeroed instead of weighted by their inside neighbours'} fail`, () => {
      expect(fails((c) => gemm(c, sampler(c, mistake)))).toEqual(expected);
    });
  }
});

// NaN and Inf as PyTorch has them (the hostile-inputs issue, item 4): inputs with a NaN, +Inf or
// -Inf pixel, all NaN, or a mix (test/fixtures/nonfinite, made by the shared fixture
// generator's PyTorch model with the shared cases' weights) give PyTorch's NaN and Inf masks on
// reference, cuda-emu and wgsl at fp32: identical NaN, +Inf and -Inf positions, the other
// elements within 1e-4. A bare max pooling (NaN anywhere in a window wins) is checked alone:
// in the nets the next convolution would hide a max that drops NaN.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../src/ir/parse.js';
import { REPO, readNpyF32, vovc } from '../helpers/fixtures.js';
import { runTarget } from '../helpers/targets.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

process.env.EGL_PLATFORM ??= 'surfaceless';
const ROOT = join(REPO, 'test/fixtures/nonfinite');
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'ops')
  .map((d) => {
    const dir = join(ROOT, d.name);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
    const outputs = { ...c.outputs, ...(c.extra_outputs ?? {}) } as Record<string, string>;
    return { name: d.name as string, dir, model: join(REPO, 'test/models', `${c.base_case}.vov`), weights: join(dir, c.weights), input: join(dir, c.input), outputs };
  });

/** NaN, +Inf and -Inf at the same positions; every other element finite and within 1e-4. */
function sameMasks(a: Float32Array, e: Float32Array): { nan: number; inf: number; bad: number; first?: string } {
  let nan = 0, inf = 0, bad = 0, first: string | undefined;
  for (let i = 0; i < e.length; i++) {
    const x = a[i], y = e[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Number.isFinite(x) && Math.abs(x - y) <= 1e-4 + 1e-4 * Math.abs(y);
    if (Number.isNaN(y)) nan++;
    else if (!Number.isFinite(y)) inf++;
    if (!ok) {
      bad++;
      first ??= `element ${i}: got ${x}, expected ${y}`;
    }
  }
  return { nan, inf, bad, ...(first ? { first } : {}) };
}

describe('non-finite inputs give PyTorch\'s NaN and Inf masks', () => {
  it('holds the ten cases (two nets x nan, +inf, -inf pixel, all NaN, mixed)', () => {
    expect(CASES).toHaveLength(10);
  });
  const out = mkdtempSync(join(tmpdir(), 'vovc-nonfinite-'));
  for (const c of CASES) {
    for (const target of ['reference', 'cuda-emu', 'wgsl']) {
      it(`${c.name} on ${target}`, async () => {
        const save = join(out, `${c.name}-${target}`);
        const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', target, '--save', save, '--outputs', Object.keys(c.outputs).join(','), '-q'], { env: { EGL_PLATFORM: 'surfaceless' } });
        expect(r.code, r.stderr).toBe(0);
        // vovc run says the input is not finite (W8006).
        expect(r.stderr).toMatch(/warning W8006: the input holds \d+ NaN, \d+ \+Inf and \d+ -Inf/);
        for (const [name, file] of Object.entries(c.outputs)) {
          const m = sameMasks(readNpyF32(join(save, `${name}.npy`)).data, readNpyF32(join(c.dir, file)).data);
          expect(m, `${c.name}/${name} on ${target}`).toMatchObject({ bad: 0 });
        }
      }, 300_000);
    }
  }

  const op = join(ROOT, 'ops/maxpool-nan');
  const x = readNpyF32(join(op, 'x.npy'));
  const want = readNpyF32(join(op, 'out.npy'));
  const g = parseGraph(`graph maxpool_nan(%input: f32[${x.shape.join(',')}]) naming=timm\n  %pool = maxpool(%input) {k=3x3 s=2x2 p=0,0,0,0 ceil} : [${want.shape.join(',')}]\n  return out=%pool\n`);
  for (const target of ['reference', 'cuda-emu', 'wgsl']) {
    it(`max pooling 3x3 /2 ceil on ${target}: NaN anywhere in a window wins, -Inf only when the window is all -Inf`, async () => {
      const r = await runTarget(target, g, x, ['out']);
      expect(sameMasks(r.get('out')!.data, want.data)).toMatchObject({ bad: 0, nan: 3 });
    }, 300_000);
  }
});

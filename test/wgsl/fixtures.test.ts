// Every shared fixture through the WGSL backend in Node (Dawn via the `webgpu` package), on
// whatever adapter exists: llvmpipe through Dawn's OpenGL backend on a machine without a GPU
// (needs Mesa's libegl1 libegl-mesa0 libgl1-mesa-dri and EGL_PLATFORM=surfaceless, which this
// file sets when unset).
// (Shader validation on Dawn's null backend lives in validate.test.ts: one Dawn backend per process.)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWgsl } from '../../src/codegen/wgsl/index.js';
import { runTarget, targetContext } from '../helpers/targets.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { seedParams } from '../../src/model/init.js';
import { lowerSpec } from '../../src/model/lower.js';
import { runReferenceSync } from '../../src/runtime/reference.js';
import { compare, compareReduced, fixtureCases, readNpyF32 } from '../helpers/fixtures.js';
import { testInput } from '../onnx/util.js';
import { fixtureGraph, wgslOf } from './load.js';
import { GoldenOutputs } from '../helpers/golden-outputs.js';
import { writeNpy } from '../../src/io/npy.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const golden = new GoldenOutputs('wgsl');
const saved = mkdtempSync(join(tmpdir(), 'vovc-wgsl-fx-'));

process.env.EGL_PLATFORM ??= 'surfaceless';
const cases = fixtureCases();

describe('wgsl backend on the shared fixtures', () => {
  for (const c of cases) {
    it(`${c.name}: outputs within atol ${c.atol}, rtol ${c.rtol}`, async () => {
      const g = await fixtureGraph(c);
      const out = await runTarget('wgsl', g, readNpyF32(c.input), [...c.outputs.keys()]);
      for (const [name, file] of c.outputs) {
        const t = out.get(name)!;
        const npy = join(saved, `${c.name}.${name}.npy`);
        writeFileSync(npy, writeNpy(t));
        golden.add(c.name, name, t.data, npy);
        const r = compare(t, readNpyF32(file), c.atol, c.rtol);
        expect({ name, ...r }).toMatchObject({ name, ok: true });
      }
    }, 300_000);
  }
  it.skipIf(!!golden.skipReason())(`every output byte-identical to test/golden/outputs/wgsl.json${golden.skipReason() ? ` (skipped: ${golden.skipReason()})` : ''}`, () => {
    expect(golden.finish()).toEqual([]);
  });
});

describe('wgsl weight chunks', () => {
  // vovnet57's weights exceed one 128 MiB binding; a 64 KiB chunk limit gives this small model
  // the same multi-chunk layout (weight and bias of a launch in different chunks included).
  it('tiny-timm-a with the weight blob split into 64 KiB chunks', async () => {
    const c = cases.find((k) => k.name === 'tiny-timm-a')!;
    const g = await fixtureGraph(c);
    const ctx = targetContext(g, 'plan');
    const { rendered } = wgslOf(g, { chunkBytes: 64 * 1024 });
    expect(Object.keys(rendered.chunks).length).toBeGreaterThan(3);
    const out = await runWgsl(ctx, readNpyF32(c.input), [...c.outputs.keys()], { chunkBytes: 64 * 1024 });
    for (const [name, file] of c.outputs) expect({ name, ...compare(out.get(name)!, readNpyF32(file), c.atol, c.rtol) }).toMatchObject({ name, ok: true });
  }, 300_000);
});

describe('wgsl packed fp16 edge cases', () => {
  // Odd channel counts, batch 2 and odd planes (21x27 input: planes of 11x14, 5x7, 3x4 ...,
  // padded to even), and tiny-v1-residual's 5x7 stage: the packed run agrees with the
  // reference interpreter at fp16 (the same roundings; only the accumulation order and f16
  // rounding ties differ) and passes the fp16 rule against fp32.
  const models = [
    { name: 'odd-channels', graph: async () => seedParams(lowerSpec(loadModel(join(import.meta.dirname, 'odd-channels.vov')).spec)) },
    { name: 'tiny-v1-residual', graph: () => fixtureGraph(cases.find((k) => k.name === 'tiny-v1-residual')!) },
  ];
  for (const m of models) {
    it(`${m.name}: fp16 packed vs the reference at fp16 and fp32`, async () => {
      const g = await m.graph();
      const { plan } = wgslOf(g, { precision: 'fp16' });
      // The case must exercise padded planes: some plane with an odd element count.
      expect(plan.launches.some((l) => (l.output.shape[2] * l.output.shape[3]) % 2 === 1 && l.output.shape[2] * l.output.shape[3] > 1)).toBe(true);
      const x = testInput(g.input.shape);
      const got = (await runTarget('wgsl', g, x, ['logits'], {}, 'fp16')).get('logits')!;
      const ref16 = (await runTarget('reference', g, x, ['logits'], { opt: true }, 'fp16')).get('logits')!;
      const ref32 = runReferenceSync(g, x).get('logits')!;
      const near = compareReduced(got, ref16, 'fp16');
      expect(near.relMax, `vs reference fp16: ${near.relMax.toExponential(2)}`).toBeLessThan(2e-3);
      expect(compareReduced(got, ref32, 'fp16').ok).toBe(true);
      // --io native: the module takes and gives binary16 bits; vovc converts with the module's
      // own helpers, so the result is bit for bit the float32-I/O run's.
      const native = (await runTarget('wgsl', g, x, ['logits'], { io: 'native' }, 'fp16')).get('logits')!;
      expect(Buffer.from(native.data.buffer, native.data.byteOffset, native.data.byteLength).equals(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength))).toBe(true);
    }, 300_000);
  }
});

describe('wgsl conv GEMM edge cases', () => {
  it('odd channel counts, batch 2, odd input: the unoptimized graph in the reference interpreter agrees', async () => {
    const g = seedParams(lowerSpec(loadModel(join(import.meta.dirname, 'odd-channels.vov')).spec));
    const { plan } = wgslOf(g);
    // The model must exercise what it is for: GEMM convs whose Cout is not a multiple of 4.
    expect(plan.launches.some((l) => l.kind === 'conv' && l.output.shape[1] % 4 !== 0)).toBe(true);
    const x = testInput(g.input.shape);
    const ref = runReferenceSync(g, x);
    const out = await runTarget('wgsl', g, x, ['logits']);
    expect(compare(out.get('logits')!, ref.get('logits')!)).toMatchObject({ ok: true });
  }, 300_000);
});

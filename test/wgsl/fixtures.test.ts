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
import { compare, fixtureCases, readNpyF32 } from '../helpers/fixtures.js';
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

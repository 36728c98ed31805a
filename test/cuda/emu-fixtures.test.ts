// Acceptance of the CUDA backend without a GPU: the exact .cu files of the artifact, compiled
// by g++ with the CPU shim (`vovc run --target cuda-emu`), match every shared PyTorch fixture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';
import { GoldenOutputs } from '../helpers/golden-outputs.js';

const golden = new GoldenOutputs('cuda-emu');

const out = mkdtempSync(join(tmpdir(), 'vovc-cuda-emu-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('vovc run --target cuda-emu matches the PyTorch fixtures', () => {
  for (const c of fixtureCases()) {
    it(c.name, { timeout: 600_000 }, async () => {
      const save = join(out, c.name);
      const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'cuda-emu', '--save', save, '--outputs', [...c.outputs.keys()].join(',')], { timeoutMs: 590_000 });
      expect(r.code, r.stderr).toBe(0);
      for (const [name, file] of c.outputs) {
        const got = readNpyF32(join(save, `${name}.npy`));
        golden.add(c.name, name, got.data, join(save, `${name}.npy`));
        const cmp = compare(got, readNpyF32(file), c.atol, c.rtol);
        expect(cmp, `${c.name}/${name}: max |diff| ${cmp.maxAbs}`).toMatchObject({ ok: true });
      }
    });
  }

  it.skipIf(!!golden.skipReason())(`every output byte-identical to test/golden/outputs/cuda-emu.json${golden.skipReason() ? ` (skipped: ${golden.skipReason()})` : ''}`, () => {
    expect(golden.finish()).toEqual([]);
  });
});

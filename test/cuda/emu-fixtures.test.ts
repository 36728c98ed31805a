// Acceptance of the CUDA backend without a GPU: the exact .cu files of the artifact, compiled
// by g++ with the CPU shim (`vovc run --target cuda-emu`), match every shared PyTorch fixture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'vovc-cuda-emu-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('vovc run --target cuda-emu matches the PyTorch fixtures', () => {
  for (const c of fixtureCases()) {
    it(c.name, { timeout: 600_000 }, async () => {
      const save = join(out, c.name);
      const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'cuda-emu', '--save', save, '--outputs', [...c.outputs.keys()].join(',')], { timeoutMs: 590_000 });
      expect(r.code, r.stderr).toBe(0);
      for (const [name, file] of c.outputs) {
        const cmp = compare(readNpyF32(join(save, `${name}.npy`)), readNpyF32(file), c.atol, c.rtol);
        expect(cmp, `${c.name}/${name}: max |diff| ${cmp.maxAbs}`).toMatchObject({ ok: true });
      }
    });
  }
});

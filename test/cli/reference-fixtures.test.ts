// Acceptance of the foundation and checkpoint issues, as a user runs it: every shared
// fixture through `vovc run --target reference` (the compiled CLI), compared with the
// PyTorch outputs by the fixtures' own rule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';
import { GoldenOutputs } from '../helpers/golden-outputs.js';

const golden = { plain: new GoldenOutputs('reference'), opt: new GoldenOutputs('reference-opt') };

const out = mkdtempSync(join(tmpdir(), 'vovc-ref-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('vovc run --target reference matches the PyTorch fixtures', () => {
  for (const c of fixtureCases()) {
    for (const opt of [false, true]) {
      it(`${c.name}${opt ? ' (optimized IR)' : ''}`, async () => {
        const save = join(out, c.name + (opt ? '-opt' : ''));
        const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'reference', '--save', save, '--outputs', [...c.outputs.keys()].join(','), ...(opt ? ['--opt'] : [])]);
        expect(r.stderr).not.toMatch(/internal error/);
        expect(r.code, r.stderr).toBe(0);
        for (const [name, file] of c.outputs) {
          const got = readNpyF32(join(save, `${name}.npy`));
          golden[opt ? 'opt' : 'plain'].add(c.name, name, got.data, join(save, `${name}.npy`));
          const cmp = compare(got, readNpyF32(file), c.atol, c.rtol);
          expect(cmp, `${c.name}/${name}: max |diff| ${cmp.maxAbs}`).toMatchObject({ ok: true });
        }
      });
    }
  }

  for (const g of Object.values(golden)) {
    it.skipIf(!!g.skipReason())(`${g.target}: every output byte-identical to test/golden/outputs/${g.target}.json${g.skipReason() ? ` (skipped: ${g.skipReason()})` : ''}`, () => {
      expect(g.finish()).toEqual([]);
    });
  }
});

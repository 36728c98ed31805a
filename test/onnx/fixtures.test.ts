// Acceptance of the ONNX backend as a user runs it (the compiled CLI): every shared PyTorch
// fixture, in both graph modes, through `vovc run --target onnx` and through the file that
// `vovc build --target onnx` writes, loaded in onnxruntime at optimization levels 'all' and
// 'disabled', compared by the fixtures' own rule (atol = rtol = 1e-4). Also: the same build
// command writes byte-identical files.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, runSession } from '../../src/codegen/onnx/index.js';
import { fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';
import { checkStructure, decode, expectClose } from './util.js';
import { GoldenOutputs } from '../helpers/golden-outputs.js';

const golden = { optimized: new GoldenOutputs('onnx'), faithful: new GoldenOutputs('onnx-faithful') };

const out = mkdtempSync(join(tmpdir(), 'vovc-onnx-fx-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const cases = fixtureCases();

describe('the ONNX files match the PyTorch fixtures', () => {
  for (const c of cases) {
    for (const faithful of [false, true]) {
      const mode = faithful ? 'faithful' : 'optimized';
      const flags = faithful ? ['--faithful'] : [];
      it(`${c.name}, ${mode}: vovc run`, async () => {
        const save = join(out, `${c.name}-${mode}-run`);
        const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'onnx', ...flags, '--save', save, '--outputs', [...c.outputs.keys()].join(',')]);
        expect(r.code, r.stderr).toBe(0);
        for (const [name, file] of c.outputs) {
          const got = readNpyF32(join(save, `${name}.npy`));
          golden[mode].add(c.name, name, got.data, join(save, `${name}.npy`));
          expectClose(got, readNpyF32(file), `${c.name}/${name}`, c.atol, c.rtol);
        }
      }, 60_000);

      it(`${c.name}, ${mode}: vovc build, then onnxruntime at levels all and disabled`, async () => {
        const dir = join(out, `${c.name}-${mode}-build`);
        const r = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'onnx', ...flags, '--out', dir]);
        expect(r.code, r.stderr).toBe(0);
        // The model file, beside the folder's manifest (.vovc-manifest.json: which files vovc wrote).
        const files = readdirSync(dir).filter((f) => f !== '.vovc-manifest.json');
        expect(files).toHaveLength(1);
        const path = join(dir, files[0]);
        const m = decode(readFileSync(path));
        checkStructure(m, 17);
        expect(new Map(m.metadataProps.map((p) => [p.key, p.value])).get('weights')).toBe('checkpoint');
        expect(m.graph!.output.map((o) => o.name)).toEqual([...c.outputs.keys()]);
        const x = readNpyF32(c.input);
        for (const level of ['all', 'disabled'] as const) {
          const s = await createSession(path, level);
          const got = await runSession(s, x, [...c.outputs.keys()]);
          await s.release();
          for (const [name, file] of c.outputs) expectClose(got.get(name)!, readNpyF32(file), `${c.name}/${name} (${level})`, c.atol, c.rtol);
        }
      }, 60_000);
    }
  }

  it('the same build command writes a byte-identical file', async () => {
    const c = cases[0];
    const files: Buffer[] = [];
    for (const k of [0, 1]) {
      const dir = join(out, `same-${k}`);
      const r = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'onnx', '--dynamic-batch', '--out', dir]);
      expect(r.code, r.stderr).toBe(0);
      const [name] = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
      files.push(readFileSync(join(dir, name)));
    }
    expect(files[0].length).toBeGreaterThan(1000);
    expect(files[0].equals(files[1])).toBe(true);
  }, 60_000);

  for (const g of Object.values(golden)) {
    it.skipIf(!!g.skipReason())(`${g.target}: every output of vovc run byte-identical to test/golden/outputs/${g.target}.json${g.skipReason() ? ` (skipped: ${g.skipReason()})` : ''}`, () => {
      expect(g.finish()).toEqual([]);
    });
  }
});

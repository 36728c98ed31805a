// Reduced precision as a user runs it (the compiled CLI): every shared PyTorch fixture (fp32
// expected outputs) through `vovc run --precision P`, judged by ../shared/fixtures/compare.py's
// rule for P (max|diff| <= k * max|expected|, cosine >= c; test/helpers/fixtures.ts). Also: what
// the targets refuse, the fp16 ONNX file (half the size, float16 inside, Casts at the ends,
// --io native), and that fp32 stays what it was.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, runSession } from '../../src/codegen/onnx/index.js';
import { compareReduced, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';
import { checkStructure, decode } from '../onnx/util.js';

const out = mkdtempSync(join(tmpdir(), 'vovc-precision-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const cases = fixtureCases();

const RUNS = [
  { target: 'reference', precision: 'fp16' },
  { target: 'reference', precision: 'bf16' },
  { target: 'reference', precision: 'tf32' },
  { target: 'onnx', precision: 'fp16' },
  // Packed fp16 on Dawn in Node (llvmpipe on a machine without a GPU).
  { target: 'wgsl', precision: 'fp16' },
] as const;

describe('reduced precision passes compare.py on every fixture', () => {
  for (const c of cases) {
    for (const r of RUNS) {
      it(`${c.name}: ${r.target} --precision ${r.precision}`, async () => {
        const save = join(out, `${c.name}-${r.target}-${r.precision}`);
        const res = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', r.target, '--precision', r.precision, '--save', save, '--outputs', [...c.outputs.keys()].join(','), '-q']);
        expect(res.code, res.stderr).toBe(0);
        for (const [name, file] of c.outputs) {
          const got = readNpyF32(join(save, `${name}.npy`));
          const cmp = compareReduced(got, readNpyF32(file), r.precision);
          expect(cmp.ok, `${c.name}/${name}: max|diff|/max|exp| ${cmp.relMax.toExponential(2)}, cosine ${cmp.cosine.toFixed(6)}`).toBe(true);
          // Rounding happened: an fp16 run is not the fp32 result.
          expect(cmp.relMax).toBeGreaterThan(0);
        }
      }, 120_000);
    }
  }
});

describe('the fp16 ONNX file', () => {
  const c = cases.find((x) => x.name === 'vovnet27_slim-64')!;
  const build = async (dir: string, extra: string[]) => {
    const r = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'onnx', '--out', dir, '-q', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return join(dir, readdirSync(dir).find((f) => f.endsWith('.onnx'))!);
  };

  it('is float16 inside with float32 ends, half the fp32 size, and says so in its metadata', async () => {
    const f32 = await build(join(out, 'b-fp32'), []);
    const f16 = await build(join(out, 'b-fp16'), ['--precision', 'fp16']);
    const ratio = statSync(f16).size / statSync(f32).size;
    expect(ratio).toBeGreaterThan(0.49);
    expect(ratio).toBeLessThan(0.51);
    const m = decode(readFileSync(f16));
    checkStructure(m, 17);
    const meta = new Map(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta.get('precision')).toBe('fp16');
    expect(meta.get('io_type')).toBe('float32');
    const g = m.graph!;
    expect(g.initializer.every((t) => t.dataType === 10 || t.dataType === 7)).toBe(true);
    expect(g.input[0].type!.tensorType!.elemType).toBe(1);
    expect(g.output.map((o) => o.type!.tensorType!.elemType)).toEqual([1]);
    expect(g.valueInfo.every((v) => v.type!.tensorType!.elemType === 10)).toBe(true);
    expect(g.node[0].opType).toBe('Cast');
    expect(g.node[g.node.length - 1].opType).toBe('Cast');
  }, 60_000);

  it('--io native: float16 input and outputs, no Casts; the Cast file\'s values', async () => {
    const native = await build(join(out, 'b-native'), ['--precision', 'fp16', '--io', 'native']);
    const cast = await build(join(out, 'b-fp16-cast'), ['--precision', 'fp16']);
    const m = decode(readFileSync(native));
    expect(m.graph!.input[0].type!.tensorType!.elemType).toBe(10);
    expect(m.graph!.node.some((n) => n.opType === 'Cast')).toBe(false);
    expect(new Map(m.metadataProps.map((p) => [p.key, p.value])).get('io_type')).toBe('float16');
    const x = readNpyF32(c.input);
    const s1 = await createSession(native);
    const a = (await runSession(s1, x, ['logits'], 'float16')).get('logits')!;
    await s1.release();
    const s2 = await createSession(cast);
    const b = (await runSession(s2, x, ['logits'])).get('logits')!;
    await s2.release();
    // The same model; onnxruntime may drop a Cast pair around an op it computes in fp32 on the CPU,
    // so the float32 file's outputs need not be float16 values: equal up to float16 rounding.
    const scale = Math.max(...b.data.map(Math.abs));
    a.data.forEach((v, i) => expect(Math.abs(v - b.data[i])).toBeLessThanOrEqual(2 ** -10 * scale));
  }, 60_000);
});

describe('what is refused', () => {
  const c = cases[0];
  for (const [target, precision] of [['onnx', 'bf16'], ['onnx', 'tf32'], ['wgsl', 'bf16']] as const) {
    it(`${target} --precision ${precision}: E8005, exit 1`, async () => {
      const r = await vovc(['build', c.model, '--target', target, '--precision', precision, '--out', join(out, `refused-${target}-${precision}`)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('E8005');
      expect(r.stderr).toContain(`does not compute in ${precision}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('an unknown precision and --faithful with fp16', async () => {
    const a = await vovc(['run', c.model, '--input', c.input, '--target', 'reference', '--precision', 'fp8']);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("unknown precision 'fp8'");
    const b = await vovc(['build', c.model, '--target', 'onnx', '--faithful', '--precision', 'fp16', '--out', join(out, 'faithful-fp16')]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('E7107');
  });
});

// The bugs the fuzzer found (FUZZING.md), each kept as the input that showed it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import { seedParams } from '../../src/model/init.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { readZip, writeZip } from '../../fuzz/weights.mjs';
import { compare, readNpy, writeNpy } from '../../fuzz/diff.mjs';
import { FIXTURES, vovc } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'vovc-regress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const vov = (body: string) => {
  const f = join(tmp, `m${Math.random().toString(36).slice(2)}.vov`);
  writeFileSync(f, `model m\n  input 1x3x32x32\n  stem: conv 3x3 3->8 /2\n${body}\n  head: classifier 10\n`);
  return f;
};

/** The diagnostics a call throws (it must throw a VovcError). */
function diagnostics(f: () => unknown) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VovcError);
    return (e as VovcError).diagnostics;
  }
  throw new Error('expected a VovcError');
}

describe('fuzzer findings', () => {
  it('a block count of 10^20 is E1108, not a hang of the lowering', () => {
    const ds = diagnostics(() => loadModel(vov('  stage2: osa 8 -> 16 x99999999999999999999, layers 1')));
    expect(ds.map((d) => d.code)).toEqual(['E1108']);
    expect(ds[0].message).toContain('up to 64');
    expect(diagnostics(() => loadModel('vovnet39', { set: ['layers=99999999999'] }))[0].code).toBe('E1108');
  });

  it('an OSA block of more than 49 layers is E1108 (its concat must fit the IR), a dense stage of 60 layers compiles', () => {
    expect(diagnostics(() => loadModel(vov('  stage2: osa 8 -> 16 x1, layers 112')))[0].message).toContain('up to 49');
    const g = lowerSpec(loadModel(vov('  stage2: dense growth 2 x60')).spec);
    expect(verify(g)).toEqual([]);
  });

  it('a --set argument with a newline is reported on one line', () => {
    const [d] = diagnostics(() => loadModel('vovnet39', { set: ['classes=a\nb'] }));
    expect(d.code).toBe('E1201');
    expect(d.message).toBe("--set expects key=value, got 'classes=a\\nb'");
  });

  it('a refused pickle global made of kilobytes of junk is named in one short line', async () => {
    const pth = readFileSync(join(FIXTURES, 'tiny-v1-residual/weights.pth'));
    const z = readZip(pth)!;
    const entries = z.entries.map((e: { name: string; data: Buffer }) => ({ name: e.name, data: Buffer.from(e.data) }));
    const pkl = entries.find((e: { name: string }) => e.name.endsWith('/data.pkl'))!;
    pkl.data = Buffer.from(pkl.data.toString('latin1').replace('collections\n', `x\r${'A'.repeat(5000)}\n`), 'latin1');
    const file = join(tmp, 'junk.pth');
    writeFileSync(file, writeZip(entries));
    const err = await loadCheckpoint(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VovcError);
    const [d] = (err as VovcError).diagnostics;
    expect(d.code).toBe('E4132');
    expect(d.message).not.toMatch(/[\r\n]/);
    expect(d.message.length).toBeLessThan(300);
  });

  it('seeding a model of 10^11 parameters is E2004 at the DSL line of the largest one, not a RangeError', () => {
    const g = lowerSpec(loadModel(vov('  stage2: osa 100000 -> 100000 x1, layers 1')).spec);
    const [d] = diagnostics(() => seedParams(g));
    expect(d.code).toBe('E2004');
    expect(d.span?.line).toBe(4);
  });

  // Open finding 11 (FUZZING.md; differential mode, replay diff:141, diff:403 with seed
  // 20240601): in a DCN v2 layer, a NaN mask logit at a sampling point outside the image (or
  // at a NaN position) gives 0 in vovc's sampler (reference, CUDA, WGSL: the mask multiplies
  // only in-image samples), NaN in torchvision.ops.deform_conv2d (mask * bilinear(...), always)
  // and in onnxruntime's DeformConv. One NaN pixel: ONNX has 152 NaN, the reference 88.
  // Fixed: the sampler follows torchvision (outside only past -1 or H, the mask on every sample).
  it('DCN v2 with one NaN input pixel: the reference has the NaN positions of torchvision (onnxruntime DeformConv agrees with it)', async () => {
    const dir = join(tmp, 'dcn-nan');
    const model = join(tmp, 'dcn-nan.vov');
    writeFileSync(model, 'model dcn-nan\n  input 1x3x12x12\n  stem: conv 3x3 3->4\n  stage2: osa 4 -> 4, layers 1, deform v2\n  head: backbone\n');
    const x = new Float32Array(3 * 144).map((_, i) => Math.sin(i * 0.7));
    x[5 * 12 + 5] = NaN;
    writeFileSync(join(tmp, 'x.npy'), writeNpy([1, 3, 12, 12], x));
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const t of ['reference', 'onnx', 'cuda-emu', 'wgsl']) {
      const r = await vovc(['run', model, '--seed', '1', '--input', join(tmp, 'x.npy'), '--target', t, '--save', join(dir, t), '--quiet'], { env: { EGL_PLATFORM: 'surfaceless' } });
      expect(r.code, r.stderr).toBe(0);
      out[t] = readNpy(readFileSync(join(dir, t, 'stage2.npy')));
    }
    for (const t of ['onnx', 'cuda-emu', 'wgsl']) expect(compare(out[t].data, out.reference.data, out[t].shape), t).toMatchObject({ bad: 0 });
  });
});

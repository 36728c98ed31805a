// Deformable convolution (centermask2's DCN backbones) on every target against independent
// references: the two shared cases made by centermask2's own vovnet.py (../shared/fixtures-dcn)
// and the offset-groups (G = 2) cases made here with torchvision (test/fixtures/dcn), at
// atol = rtol = 1e-4; fp16 by compare.py's reduced-precision rule.
import { describe, expect, it } from 'vitest';
import { countParams } from '../../src/ir/graph.js';
import { workOf } from '../../src/ir/ops.js';
import { valueShape } from '../../src/ir/graph.js';
import { DCN_FIXTURES, compare, compareReduced, fixtureCases, readNpyF32, type FixtureCase } from '../helpers/fixtures.js';
import { runTarget } from '../helpers/targets.js';
import { fixtureGraph } from '../wgsl/load.js';
import type { Precision } from '../../src/ir/precision.js';
import type { FlagValues } from '../../src/targets/contract.js';

process.env.EGL_PLATFORM ??= 'surfaceless';
const cases = fixtureCases(DCN_FIXTURES);

async function check(c: FixtureCase, target: string, flags: FlagValues = {}, precision: Precision = 'fp32'): Promise<void> {
  const g = await fixtureGraph(c);
  const out = await runTarget(target, g, readNpyF32(c.input), [...c.outputs.keys()], flags, precision);
  for (const [name, file] of c.outputs) {
    const got = out.get(name)!;
    const want = readNpyF32(file);
    if (precision === 'fp32') {
      const r = compare(got, want, c.atol, c.rtol);
      expect({ name, ...r }, `${c.name}/${name} on ${target}: max |diff| ${r.maxAbs}`).toMatchObject({ name, ok: true });
    } else {
      const r = compareReduced(got, want, precision as 'fp16');
      expect({ name, ...r }, `${c.name}/${name} on ${target} ${precision}: ${r.relMax}`).toMatchObject({ name, ok: true });
    }
  }
}

describe('DCN fixtures', () => {
  it('holds the two centermask2 cases and the two G = 2 cases', () => {
    expect(cases.map((c) => [c.name, c.dcn?.modulated, c.dcn?.deformable_groups])).toEqual([
      ['dcn-v1-V-19-slim-eSE-40-b2', false, 1],
      ['dcn-v1-g2-tiny', false, 2],
      ['dcn-v2-V-19-slim-eSE-48x64', true, 1],
      ['dcn-v2-g2-tiny', true, 2],
    ]);
  });

  for (const c of cases) {
    describe(c.name, () => {
      it('has the case\'s parameter and multiply-accumulate counts (offset convs and the deformable GEMM, not the sampling)', async () => {
        const g = await fixtureGraph(c);
        expect(countParams(g)).toBe(c.params);
        const macs = g.nodes.reduce((s, n) => s + workOf(n.op, n.attrs, n.inputs.map((v) => valueShape(g, v)), n.shape, n.params).macs, 0);
        expect(macs).toBe(c.macs);
      });
      it('reference (unoptimized graph)', () => check(c, 'reference'), 120_000);
      it('reference --opt (BN folded into the deformable conv, ReLU fused)', () => check(c, 'reference', { opt: true }), 120_000);
      it('onnx: DeformConv (opset 19)', () => check(c, 'onnx'), 120_000);
      it('onnx --faithful: DeformConv without bias, BatchNormalization kept', () => check(c, 'onnx', { faithful: true }), 120_000);
      it('onnx --deform-lowering decompose (GridSample, opset 17)', () => check(c, 'onnx', { 'deform-lowering': 'decompose', opset: '17' }), 120_000);
      it('onnx --opset 20 --deform-lowering decompose (GridSample mode linear)', () => check(c, 'onnx', { 'deform-lowering': 'decompose', opset: '20' }), 120_000);
      it('cuda-emu (sampling in the implicit-GEMM B tile)', () => check(c, 'cuda-emu'), 300_000);
      it('wgsl (sampling in the implicit-GEMM A tile; Dawn)', () => check(c, 'wgsl'), 300_000);
    });
  }

  const v2 = cases.find((c) => c.name === 'dcn-v2-g2-tiny')!;
  for (const [target, precision] of [['reference', 'fp16'], ['reference', 'bf16'], ['reference', 'tf32'], ['onnx', 'fp16'], ['cuda-emu', 'fp16'], ['cuda-emu', 'bf16'], ['cuda-emu', 'tf32'], ['wgsl', 'fp16']] as const) {
    it(`${v2.name} at ${precision} on ${target} passes compare.py --precision ${precision}`, () => check(v2, target, target === 'reference' ? { opt: true } : {}, precision), 300_000);
  }
});

describe('analysis of a DCN backbone', () => {
  it('V-39-eSE-DCN: the offset convs are exactly the parameters DCN adds; the sampling is counted apart from the FLOPs', async () => {
    const { analyzeGraph } = await import('../../src/analysis/analyze.js');
    const { loadModel } = await import('../../src/dsl/zoo.js');
    const { lowerSpec } = await import('../../src/model/lower.js');
    const dcn = analyzeGraph(lowerSpec(loadModel('V-39-eSE-DCN').spec));
    const plain = analyzeGraph(lowerSpec(loadModel('V-39-eSE').spec));
    const d = dcn.totals.deform!;
    expect(plain.totals.deform).toBeNull();
    // stages 3-5 of V-39: 1 + 2 + 2 blocks of 5 layers
    expect(d.layers).toBe(25);
    expect(d.offsetParams).toBe(26_957_731 - 25_184_128);
    expect(dcn.totals.params - plain.totals.params).toBe(d.offsetParams);
    // the deformable GEMMs replace the plain 3x3 convs one for one; the offset convs come on top
    expect(dcn.totals.macs - plain.totals.macs).toBe(d.offsetMacs);
    // every sampled value of every deformable conv: Cin * 9 per output pixel; 8 FLOPs each (DCNv2)
    expect(d.sampleFlops).toBe(8 * d.samples);
    expect(dcn.totals.flops).toBe(plain.totals.flops + 2 * d.offsetMacs);
  });
});

// Key mapping across conventions: detection of naming and prefix, the report of missing /
// unexpected / mismatched keys with closest candidates, strictness, and the CLI's weights
// inspect / convert on real fixture files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { conventionKeys } from '../../src/model/naming.js';
import { seededParam } from '../../src/model/init.js';
import { bindCheckpoint, matchCheckpoint, type CheckpointTensor } from '../../src/weights/mapping.js';
import { FIXTURES, REPO, vovc } from '../helpers/fixtures.js';

const g27 = lowerSpec(loadModel('vovnet27_slim').spec);
const gDw = lowerSpec(loadModel('V-19-slim-dw-eSE').spec);

/** A checkpoint of `g` in `naming` with `prefix`, values seeded (num_batches_tracked added like torch). */
function ckpt(g: typeof g27, naming: 'timm' | 'vovnet-pytorch' | 'detectron2', prefix = ''): CheckpointTensor[] {
  const keys = conventionKeys(g.params.keys(), naming);
  const out: CheckpointTensor[] = [];
  for (const [name, p] of g.params) {
    out.push({ key: prefix + keys.get(name)!, dtype: 'float32', shape: p.shape, data: seededParam(name, p.shape, 7) });
    if (name.endsWith('running_var') && naming !== 'detectron2') out.push({ key: prefix + keys.get(name)!.replace(/running_var$/, 'num_batches_tracked'), dtype: 'int64', shape: [], data: null });
  }
  return out;
}

describe('convention and prefix detection', () => {
  for (const [naming, prefix] of [['timm', ''], ['vovnet-pytorch', 'module.'], ['timm', 'model.backbone.'], ['vovnet-pytorch', 'img_backbone.']] as const) {
    it(`${naming} with prefix '${prefix}'`, () => {
      const r = bindCheckpoint(g27, ckpt(g27, naming, prefix));
      expect(r.report.naming).toBe(naming);
      expect(r.report.prefix).toBe(prefix);
      expect(r.report.matched).toBe(g27.params.size);
      expect(r.report.missing).toEqual([]);
      expect(r.report.unexpected).toEqual([]);
      const name = 'stages.3.blocks.0.conv_concat.conv.weight';
      expect(r.graph.params.get(name)!.data).toEqual(seededParam(name, g27.params.get(name)!.shape, 7));
    });
  }
  it('detectron2 separable names (dw_conv3x3 / pw_conv1x1 / pw_norm), eSE fc, backbone.bottom_up. with other detector keys around', () => {
    const extra: CheckpointTensor[] = [{ key: 'backbone.fpn_lateral3.weight', dtype: 'float32', shape: [2], data: new Float32Array(2) }, { key: 'roi_heads.box_predictor.cls_score.weight', dtype: 'float32', shape: [2], data: new Float32Array(2) }];
    const r = bindCheckpoint(gDw, [...ckpt(gDw, 'detectron2', 'backbone.bottom_up.'), ...extra]);
    expect(r.report).toMatchObject({ naming: 'detectron2', prefix: 'backbone.bottom_up.', matched: gDw.params.size, outside: 2 });
    const keys = conventionKeys(gDw.params.keys(), 'detectron2');
    expect(keys.get('stem.1.conv_dw.weight')).toBe('stem.stem_2/dw_conv3x3.weight');
    expect(keys.get('stem.1.bn.running_var')).toBe('stem.stem_2/pw_norm.running_var');
    expect(keys.get('stages.1.blocks.0.conv_reduction.conv.weight')).toBe('stage3.OSA3_1.conv_reduction.OSA3_1_reduction_0/conv.weight');
    expect(keys.get('stages.0.blocks.0.attn.fc.bias')).toBe('stage2.OSA2_1.ese.fc.bias');
  });
  it('an explicit --weights-format / --weights-prefix is obeyed', () => {
    expect(() => bindCheckpoint(g27, ckpt(g27, 'timm'), { naming: 'vovnet-pytorch' })).toThrow(/no tensor matches/);
    expect(() => bindCheckpoint(g27, ckpt(g27, 'timm', 'module.'), { prefix: '' })).toThrow(VovcError);
  });
});

describe('the mismatch report', () => {
  it('missing keys are an error, grouped, with the closest unexpected key', () => {
    const c = ckpt(g27, 'timm').map((t) => (t.key === 'stages.1.blocks.0.conv_mid.2.conv.weight' ? { ...t, key: 'stages.1.blocks.0.conv_mid.2.conv.wieght' } : t));
    try {
      bindCheckpoint(g27, c, { file: 'w.safetensors' });
      expect.unreachable();
    } catch (e) {
      const text = (e as VovcError).diagnostics.map((d) => [d.message, ...(d.notes ?? [])].join('\n')).join('\n');
      expect(text).toMatch(/1 of \d+ parameters of 'vovnet27_slim' are missing/);
      expect(text).toMatch(/'stages.1.blocks.0.conv_mid.2.conv.weight' might be 'stages.1.blocks.0.conv_mid.2.conv.wieght'/);
      expect(text).toMatch(/unexpected: stages.1.blocks.0.conv_mid.2.conv.wieght/);
    }
  });
  it('--allow-missing turns missing keys into a warning and reports which', () => {
    const c = ckpt(g27, 'timm').filter((t) => !t.key.startsWith('head.'));
    const r = bindCheckpoint(g27, c, { allowMissing: true });
    expect(r.missingNames.sort()).toEqual(['head.fc.bias', 'head.fc.weight']);
    expect(r.report.diagnostics.map((d) => d.severity)).toEqual(['warning']);
  });
  it('shape mismatches name both shapes', () => {
    const c = ckpt(g27, 'timm').map((t) => (t.key === 'head.fc.weight' ? { ...t, shape: [10, 512], data: new Float32Array(5120) } : t));
    expect(() => bindCheckpoint(g27, c)).toThrow(/shape mismatch for 'head.fc.weight': checkpoint \[10, 512\], model 'vovnet27_slim' expects \[1000, 512\]/);
  });
  it('matchCheckpoint reports without throwing', () => {
    expect(matchCheckpoint(g27, []).report.diagnostics[0].code).toBe('E4001');
  });
});

describe('vovc weights', () => {
  const out = mkdtempSync(join(tmpdir(), 'vovc-weights-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('inspect names the convention, prefix, wrapper and every zoo model the file fits', async () => {
    const r = await vovc(['weights', 'inspect', join(FIXTURES, 'vovnet27_slim-64/weights.safetensors')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/naming: vovnet-pytorch/);
    expect(r.stdout).toMatch(/fits .*: vovnet27_slim/);
    const d2 = await vovc(['weights', 'inspect', join(FIXTURES, 'tiny-dw-ese-all-backbone/weights.pth'), '--json']);
    const info = JSON.parse(d2.stdout);
    expect(info).toMatchObject({ format: 'pth', wrapper: ['model'], prefix: 'backbone.bottom_up.' });
  });

  it('a vovnet39-shaped checkpoint fits both vovnet39 and vovnet39a (same parameters)', async () => {
    const conv = join(out, 'v39.safetensors');
    // Seeded vovnet39 weights under their canonical (timm) names.
    const g = lowerSpec(loadModel('vovnet39').spec);
    const { writeSafetensors } = await import('../../src/weights/safetensors.js');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(conv, writeSafetensors([...g.params].map(([k, p]) => ({ key: k, shape: p.shape, data: seededParam(k, p.shape) }))));
    const r = await vovc(['weights', 'inspect', conv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fits [^\n]*vovnet39,[^\n]*vovnet39a|fits [^\n]*vovnet39a[^\n]*vovnet39\b/);
  });

  it('convert rewrites a detectron2 .pth into timm-named safetensors that load back', async () => {
    const to = join(out, 'tiny.safetensors');
    const vov = join(REPO, 'test/models/tiny-dw-ese-all-backbone.vov');
    const r = await vovc(['weights', 'convert', join(FIXTURES, 'tiny-dw-ese-all-backbone/weights.pth'), '--model', vov, '--to', to]);
    expect(r.code, r.stderr).toBe(0);
    const back = await vovc(['weights', 'inspect', to, '--json']);
    expect(JSON.parse(back.stdout)).toMatchObject({ format: 'safetensors', convention: 'timm', prefix: '' });
    const bad = await vovc(['weights', 'convert', join(FIXTURES, 'tiny-dw-ese-all-backbone/weights.pth'), '--model', vov, '--to', to, '--naming', 'vovnet-pytorch', '--force']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot represent/);
  });
});

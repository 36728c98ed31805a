// Every weight file of the shared PyTorch fixtures loads, with the layout case.json documents.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findNonFinite, loadCheckpoint } from '../../src/weights/checkpoint.js';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');
const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'generator')
  .map((d) => ({ dir: join(FIXTURES, d.name), spec: JSON.parse(readFileSync(join(FIXTURES, d.name, 'case.json'), 'utf-8')) }));

// Counted with an independent reader (numpy + Python's pickle) of the same files.
const KEY_COUNTS: Record<string, number> = {
  'vovnet27_slim-64': 164,
  'ese_vovnet19b_dw-64': 162,
  'tiny-v1-residual': 188,
  'tiny-dw-ese-all-backbone': 156,
  'tiny-timm-a': 230,
};

const SHAPES: Record<string, Record<string, number[]>> = {
  'vovnet27_slim-64': { 'stem.stem_1/conv.weight': [64, 3, 3, 3], 'stage2.OSA2_1.concat.OSA2_1_concat/conv.weight': [128, 448, 1, 1], 'classifier.weight': [1000, 512] },
  'ese_vovnet19b_dw-64': { 'stem.1.conv_dw.weight': [64, 1, 3, 3], 'stem.1.conv_pw.weight': [64, 64, 1, 1], 'head.fc.weight': [1000, 1024], 'stem.0.bn.num_batches_tracked': [] },
  'tiny-v1-residual': { 'module.stem.stem_1/conv.weight': [16, 3, 3, 3], 'module.classifier.weight': [10, 80] },
  'tiny-dw-ese-all-backbone': { 'backbone.bottom_up.stem.stem_2/dw_conv3x3.weight': [16, 1, 3, 3], 'backbone.bottom_up.stage2.OSA2_1.ese.fc.weight': [32, 32, 1, 1] },
  'tiny-timm-a': { 'stem.0.conv.weight': [16, 3, 3, 3], 'head.fc.weight': [7, 56] },
};

describe('fixture checkpoints', () => {
  it('covers the five cases', () => expect(cases.map((c) => c.spec.name).sort()).toEqual(Object.keys(KEY_COUNTS).sort()));

  for (const { dir, spec } of cases) {
    it(`${spec.name}: ${spec.weights}`, async () => {
      const ck = await loadCheckpoint(join(dir, spec.weights));
      expect(ck.format).toBe(spec.weights.endsWith('.pth') ? 'pth' : 'safetensors');
      expect(ck.wrapperPath).toEqual(spec.wrapper ? [spec.wrapper] : []);
      expect(ck.tensors.length).toBe(KEY_COUNTS[spec.name]);
      const byKey = new Map(ck.tensors.map((t) => [t.key, t]));
      expect(byKey.size).toBe(ck.tensors.length);
      for (const [key, shape] of Object.entries(SHAPES[spec.name])) expect(byKey.get(key)?.shape, key).toEqual(shape);
      for (const t of ck.tensors) expect(t.key.startsWith(spec.key_prefix)).toBe(true);

      // Learnable parameters (no running statistics, no counters) add up to case.json's count.
      const params = ck.tensors.filter((t) => t.data && !/running_(mean|var)$/.test(t.key)).reduce((a, t) => a + t.data!.length, 0);
      expect(params).toBe(spec.params);
      for (const t of ck.tensors) expect((t.data ?? t.int)!.length).toBe(t.shape.reduce((a, b) => a * b, 1));

      // num_batches_tracked: int64, 0-d, in timm and VoVNet.pytorch files; absent in detectron2's.
      const counters = ck.tensors.filter((t) => t.key.endsWith('num_batches_tracked'));
      if (spec.convention === 'detectron2') expect(counters).toEqual([]);
      else {
        expect(counters.length).toBeGreaterThan(0);
        for (const t of counters) {
          expect(t).toMatchObject({ dtype: 'int64', shape: [], data: null });
          expect(t.int).toBeInstanceOf(BigInt64Array);
        }
      }
      // Running variances are positive, so a wrong byte offset or dtype would show here.
      for (const t of ck.tensors.filter((t) => t.key.endsWith('running_var'))) expect(Math.min(...t.data!)).toBeGreaterThan(0);
      expect(findNonFinite(ck.tensors)).toEqual([]);
      if (ck.format === 'safetensors') expect(ck.metadata).toEqual({ format: 'pt' });
    });
  }
});

// "might be" suggestions of the key report pair tensors of one shape only (the tools issue:
// 'OSA3_2.layers.0' was suggested for 'OSA3_1.layers.3', tensors of different shapes).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { matchCheckpoint } from '../../src/weights/mapping.js';
import { FIXTURES, REPO } from '../helpers/fixtures.js';

describe('rename suggestions', () => {
  it('suggest a same-shape tensor, never a closer name of another shape', async () => {
    const g = lowerSpec(loadModel(join(REPO, 'test/models/tiny-timm-a.vov')).spec);
    const ck = await loadCheckpoint(join(FIXTURES, 'tiny-timm-a/weights.safetensors'));
    const byKey = new Map(ck.tensors.map((t) => [t.key, t]));
    // Two weights of different shapes; each renamed to a near-miss of the other's position.
    const keys = [...byKey.keys()].filter((k) => /conv_mid\.\d+\.conv\.weight$/.test(k));
    const [a, b] = keys.filter((k, i, all) => all.findIndex((x) => byKey.get(x)!.shape.join() !== byKey.get(k)!.shape.join()) >= 0).slice(0, 1).concat(keys.filter((k) => byKey.get(k)!.shape.join() !== byKey.get(keys[0])!.shape.join()).slice(0, 1));
    expect(byKey.get(a)!.shape).not.toEqual(byKey.get(b)!.shape);
    // 'a' goes missing: its tensor reappears under a typo of its own name (same shape), and 'b''s
    // tensor under a typo of 'a''s name too (another shape, a closer-looking name).
    const renamed = ck.tensors.flatMap((t) => (t.key === a ? [{ ...t, key: a.replace('conv.weight', 'conv.weigth') }] : [t]));
    const r = matchCheckpoint(g, [...renamed, { ...byKey.get(b)!, key: a.replace('conv.weight', 'conv.weight_') }], { allowMissing: true }).report;
    const m = r.missing.find((x) => x.key === a)!;
    expect(m.closest).toBe(a.replace('conv.weight', 'conv.weigth'));
  });
});

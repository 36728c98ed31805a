// Acceptance: the paper's DenseNet-40 vs OSA comparison (VoVNet section 3.2: total memory
// access cost 3.7M -> 2.5M), on the model files of models/cifar (docs/DENSENET-OSA.md).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../src/analysis/analyze.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO } from '../helpers/fixtures.js';

const analyse = (file: string, set: string[] = []) => analyzeGraph(lowerSpec(loadModel(resolve(REPO, 'models/cifar', file), { set }).spec), { groupBy: ['stage'] });

/** eq. 1 of a stride-1 "same" conv: h*w*(cin + cout) + k^2 * cin * cout. */
const eq1 = (hw: number, cin: number, cout: number, k: number) => hw * (cin + cout) + k * k * cin * cout;

describe('DenseNet-40 vs OSA (5 layers x 43 channels)', () => {
  it('DenseNet-40 equals the layer-by-layer sum of eq. 1 and lands within 2% of 3.7M', () => {
    let want = eq1(1024, 3, 16, 3); // stem
    let c = 16;
    [1024, 256, 64].forEach((hw, block) => {
      for (let l = 0; l < 12; l++, c += 12) want += eq1(hw, c, 12, 3);
      if (block < 2) want += eq1(hw, c, c, 1); // transition keeps the channels
    });
    const a = analyse('densenet40.vov');
    expect(a.totals.memAccess).toBe(want);
    expect(Math.abs(a.totals.memAccess / 3.7e6 - 1)).toBeLessThan(0.02);
    expect(a.input).toEqual([1, 3, 32, 32]);
  });

  it('the OSA counterpart equals its eq. 1 sum and lands within 10% of 2.5M', () => {
    let want = eq1(1024, 3, 16, 3);
    let c = 16;
    for (const hw of [1024, 256, 64]) {
      want += eq1(hw, c, 43, 3) + 4 * eq1(hw, 43, 43, 3);
      const cat = c + 5 * 43;
      want += eq1(hw, cat, cat, 1); // the aggregation keeps the concatenated width
      c = cat;
    }
    const a = analyse('osa40.vov');
    expect(a.totals.memAccess).toBe(want);
    expect(Math.abs(a.totals.memAccess / 2.5e6 - 1)).toBeLessThan(0.1);
  });

  it('the alternative layout (aggregation squeezed to the DenseNet widths) falls short, as the doc says', () => {
    const a = analyse('osa40.vov', ['stage2.out=160', 'stage3.out=304', 'stage4.out=448']);
    expect(a.totals.memAccess).toBe(2_021_836);
  });
});

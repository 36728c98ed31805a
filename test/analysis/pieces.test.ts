// Piecewise analysis (stem, stages, head lowered and cached separately) equals the analysis
// of the whole graph, at every level, for every zoo model, the CIFAR models and a sweep.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../src/analysis/analyze.js';
import { findGpu } from '../../src/hw/gpus.js';
import { PiecewiseAnalyzer } from '../../src/analysis/pieces.js';
import { analyzeVariants } from '../../src/driver/analyze.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO } from '../helpers/fixtures.js';

const opts = { gpu: findGpu('A100-SXM-40GB') };

/** Sums taken in another order can differ in the last bits of the seconds; counts must be exact. */
function expectSame(a: unknown, b: unknown, where: string): void {
  if (typeof a === 'number' && typeof b === 'number' && !Number.isInteger(a)) {
    expect(a, where).toBeCloseTo(b, 12 - Math.max(0, Math.ceil(Math.log10(Math.abs(b) || 1))));
    return;
  }
  if (a && b && typeof a === 'object') {
    expect(Object.keys(a as object), where).toEqual(Object.keys(b as object));
    for (const k of Object.keys(a as object)) expectSame((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
    return;
  }
  expect(a, where).toEqual(b);
}

describe('piecewise analysis', () => {
  it('equals the whole-graph analysis for every zoo model and the CIFAR models', () => {
    const pieces = new PiecewiseAnalyzer(lowerSpec, opts);
    const models = [...zooNames(), resolve(REPO, 'models/cifar/densenet40.vov'), resolve(REPO, 'models/cifar/osa40.vov')];
    for (const name of models) {
      const spec = loadModel(name, { inputShape: name.endsWith('.vov') ? undefined : [1, 3, 97, 131] }).spec;
      expectSame(pieces.analyze(spec), analyzeGraph(lowerSpec(spec), opts), name);
    }
  });

  it('lowers each distinct piece once across a sweep', () => {
    const jobs = [];
    for (const b of [1, 2, 3]) for (const m of [96, 128]) jobs.push({ model: 'vovnet39', set: [`stage4.blocks=${b}`, `stage3.mid=${m}`], inputShape: [1, 3, 64, 64], verify: false });
    const pieces = new PiecewiseAnalyzer(lowerSpec, opts);
    for (const j of jobs) {
      const spec = loadModel(j.model, { set: j.set, inputShape: j.inputShape }).spec;
      expectSame(pieces.analyze(spec), analyzeGraph(lowerSpec(spec), opts), j.set.join(' '));
    }
    // stem, stage2, stage5 and head once; stage3 once per mid; stage4 once per block count (its
    // input, stage3's output, has the same shape whatever the mid width)
    expect(pieces.lowered).toBe(1 + 1 + 2 + 3 + 1 + 1);
    const out = analyzeVariants(jobs, { groupBy: ['stage'], precision: 'fp32', fusion: false });
    expect(out.map((a) => a.totals.params)).toEqual(jobs.map((j) => analyzeGraph(lowerSpec(loadModel(j.model, { set: j.set, inputShape: j.inputShape }).spec)).totals.params));
  });
});

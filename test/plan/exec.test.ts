// The optimized plan (fused launches, in-place concats, reused arena) computes what the
// op-by-op plan of the unoptimized graph computes, on the naive plan executor.
import { describe, expect, test } from 'vitest';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import { lower, randomInput, TINY, tinyDense, withData } from '../passes/specs.js';
import { executePlan } from './exec.js';

function maxViolation(a: Float32Array, b: Float32Array, atol = 1e-4, rtol = 1e-4): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(a[i]));
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

describe('plan execution', () => {
  for (const [name, c] of Object.entries(TINY)) {
    test(`${name}: optimized plan == op-by-op plan within atol = rtol = 1e-4`, () => {
      const g = withData(lower(c, name), 5);
      const x = randomInput(g.input.shape, 11);
      const before = executePlan(buildPlan(g, { reuse: false }), g, x).outputs;
      const opt = optimize(g).graph;
      const after = executePlan(buildPlan(opt), opt, x).outputs;
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [k, v] of before) {
        expect(v.every(Number.isFinite)).toBe(true);
        expect(maxViolation(v, after.get(k)!), k).toBeLessThanOrEqual(1);
      }
    });
  }

  test('tiny DenseNet (nested in-place concats, BNs that cannot fold): optimized plan == op-by-op plan', () => {
    const g = withData(tinyDense(), 5);
    const x = randomInput(g.input.shape, 11);
    const before = executePlan(buildPlan(g, { reuse: false }), g, x).outputs.get('logits')!;
    const opt = optimize(g).graph;
    // The stage's last concat (8 + 3x4 channels at 12x12) holds every earlier one as a slice:
    // layer 0's conv writes channels 8..11 of concat 0, which is channels 0..11 of concat 1, ...
    const p = buildPlan(opt);
    const l0 = p.launches.find((l) => l.nodes.includes('stages.0.layers.0.conv'))!;
    expect(l0.output.slice).toEqual({ of: 'stages.0.layers.0.concat', channel: 8 });
    expect(l0.output.strides).toEqual([20 * 144, 144, 12, 1]);
    expect(p.launches.filter((l) => l.kind === 'copy' || l.kind === 'concat')).toEqual([]);
    const after = executePlan(p, opt, x).outputs.get('logits')!;
    expect(maxViolation(before, after)).toBeLessThanOrEqual(1);
  });

  test('the comparison can fail: a plan whose weights were not folded differs', () => {
    const c = TINY['tiny-eca'];
    const g = withData(lower(c, 'e'), 5);
    const x = randomInput(g.input.shape, 11);
    const before = executePlan(buildPlan(g, { reuse: false }), g, x).outputs.get('logits')!;
    const opt = optimize(g).graph;
    // Same optimized structure, but the unfolded conv weights.
    const stale = { ...opt, params: new Map([...opt.params].map(([k, p]) => [k, g.params.get(k) ?? p])) };
    const after = executePlan(buildPlan(stale), stale, x).outputs.get('logits')!;
    expect(maxViolation(before, after)).toBeGreaterThan(1);
  });
});

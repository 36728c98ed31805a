// The acceptance check of the pipeline: the optimized IR, run by the reference interpreter,
// matches the unoptimized IR within atol = rtol = 1e-4 on every zoo model (at 1x3x32x32, the
// smallest input whose stage5 is not empty, to keep the suite fast: the cost is in the tens of
// millions of weights, not in the pixels) and on the tiny fixture structures.
import { describe, expect, test } from 'vitest';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';
import { runReference } from '../../src/runtime/reference.js';
import { lower, randomInput, TINY, tinyDense, withData } from './specs.js';

/** Largest |a - b| / (atol + rtol |a|) over all outputs; <= 1 passes. */
async function compare(g: Graph): Promise<{ worst: number; optimized: Graph }> {
  const x = { shape: [...g.input.shape], data: randomInput(g.input.shape) };
  const before = await runReference(g, x);
  const optimized = optimize(g, { verifyEach: true }).graph;
  const after = await runReference(optimized, x);
  expect([...after.keys()]).toEqual([...before.keys()]);
  let worst = 0;
  for (const [name, a] of before) {
    const b = after.get(name)!;
    expect(b.shape).toEqual(a.shape);
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i] - b.data[i]) / (1e-4 + 1e-4 * Math.abs(a.data[i]));
      worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
    }
  }
  return { worst, optimized };
}

describe('optimized == unoptimized (reference interpreter, atol = rtol = 1e-4)', () => {
  for (const name of zooNames()) {
    test(`zoo ${name} at 1x3x32x32`, async () => {
      const g = withData(lowerSpec(loadModel(name, { inputShape: [1, 3, 32, 32] }).spec));
      const { worst, optimized } = await compare(g);
      expect(worst).toBeLessThanOrEqual(1);
      const ops = optimized.nodes.map((n) => n.op);
      expect(ops.filter((o) => o === 'batchnorm' || o === 'act' || o === 'flatten')).toEqual([]);
    }, 120_000);
  }

  for (const [name, c] of Object.entries(TINY)) {
    test(`tiny structure ${name}`, async () => {
      const { worst } = await compare(withData(lower(c, name), 2));
      expect(worst).toBeLessThanOrEqual(1);
    });
  }

  test('tiny DenseNet (nested in-place concats, kept pre-activation BNs)', async () => {
    const { worst, optimized } = await compare(withData(tinyDense(), 2));
    expect(worst).toBeLessThanOrEqual(1);
    expect(optimized.nodes.filter((n) => n.op === 'concat').every((n) => (n.attrs as { inplace: boolean }).inplace)).toBe(true);
  });

  test('the check can fail: dropping the residual of a fused conv is caught', async () => {
    const g = withData(lower(TINY['tiny-v1-residual'], 't'), 2);
    const x = { shape: [...g.input.shape], data: randomInput(g.input.shape) };
    const good = optimize(g).graph;
    // Break one fused residual conv: forget its shortcut.
    const i = good.nodes.findIndex((n) => n.op === 'conv2d' && (n.attrs as { residual: boolean }).residual);
    const n = good.nodes[i];
    const bad: Graph = { ...good, nodes: good.nodes.map((m, j) => (j === i ? { ...n, inputs: [n.inputs[0]], attrs: { ...(n.attrs as object), residual: false } } : m)) as Graph['nodes'] };
    const a = (await runReference(good, x)).get('logits')!.data;
    const b = (await runReference(bad, x)).get('logits')!.data;
    expect(a.some((v, k) => Math.abs(v - b[k]) > 1e-4 + 1e-4 * Math.abs(v))).toBe(true);
  });
});

// needs64bit in the kernel plan at the shape (vovnet57, 64x3x1024x1024, shape-only):
// which launches are flagged, that the flag is exactly "some view reaches past int32", that
// every view lies in its buffer, and the boundary (one past the last element must fit).
import { describe, expect, test } from 'vitest';
import { zooNames } from '../../src/dsl/zoo.js';
import { numel } from '../../src/ir/graph.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan, Launch, TensorView } from '../../src/plan/types.js';
import { builder, op } from '../passes/ir.js';
import { BIG, INT32_MAX, optimizedPlan, viewEnd, zooGraph } from './helpers.js';

const views = (l: Launch): TensorView[] => [...l.inputs, l.output];
const reachesPast = (l: Launch) => views(l).some((v) => viewEnd(v) > INT32_MAX) || Object.values(l.params).some((p) => BigInt(p.offset + p.numel) > INT32_MAX);

/** Every view inside its buffer; arena views inside a block that is live at the launch. */
function checkBounds(plan: KernelPlan): void {
  const outputs = new Map(plan.outputs.map((o) => [o.name, o.elements]));
  for (const l of plan.launches) {
    for (const v of views(l)) {
      const start = BigInt(v.offset);
      const end = viewEnd(v);
      if (v.buffer === 'input') expect(end <= BigInt(plan.input.elements), `launch ${l.index} input view`).toBe(true);
      else if (v.buffer === 'output') expect(end <= BigInt(outputs.get(v.name)!), `launch ${l.index} output view ${v.name}`).toBe(true);
      else {
        const home = plan.arena.find((b) => BigInt(b.offset) <= start && end <= BigInt(b.offset + b.elements) && b.firstLaunch <= l.index && l.index <= b.lastLaunch);
        expect(home, `launch ${l.index} (${l.nodes[0]}): view of ${v.value} at ${v.offset} lies in no live arena block`).toBeDefined();
      }
    }
  }
}

function expectExactFlags(plan: KernelPlan): Launch[] {
  const wrong = plan.launches.filter((l) => l.needs64bit !== reachesPast(l)).map((l) => `${l.index} ${l.nodes[0]} flagged=${l.needs64bit}`);
  expect(wrong).toEqual([]);
  return plan.launches.filter((l) => l.needs64bit);
}

describe('needs64bit at 64x3x1024x1024 (vovnet57)', () => {
  const graph = zooGraph('vovnet57', BIG);
  const plan = buildPlan(optimize(graph, { log: () => {} }).graph);

  test('the tensors that pass 2^31 elements: only stage2\'s concat, 64 x (128 + 5*128) x 256 x 256', () => {
    const big = graph.nodes.filter((n) => BigInt(numel(n.shape)) > INT32_MAX);
    expect(big.map((n) => [n.id, n.shape])).toEqual([['stages.0.blocks.0.concat', [64, 768, 256, 256]]]);
    // The stem output has 2^30 elements: 4 GiB, past 2^31 *bytes* but within int32 element indices.
    const stem = graph.nodes.find((n) => n.id === 'stem.0.conv')!;
    expect(numel(stem.shape)).toBe(2 ** 30);
  });

  test('flagged launches are exactly those with a view (offset included) past 2^31 - 1', () => {
    const flagged = expectExactFlags(plan);
    expect(plan.needs64bit).toBe(true);
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length).toBeLessThan(plan.launches.length);
    // Every launch that touches the big concat is among them.
    const concat = 'stages.0.blocks.0.concat';
    const touching = plan.launches.filter((l) => views(l).some((v) => v.value === concat || v.slice?.of === concat));
    expect(touching.map((l) => l.nodes[0])).toEqual([
      'stem.2.conv',
      ...[0, 1, 2, 3, 4].map((k) => `stages.0.blocks.0.conv_mid.${k}.conv`),
      'stages.0.blocks.0.conv_concat.conv',
    ]);
    for (const l of touching) expect(l.needs64bit, l.nodes[0]).toBe(true);
    // The arena runs past int32 (17 GiB), so small views placed high in it are flagged too.
    expect(plan.arenaBytes / 4).toBeGreaterThan(Number(INT32_MAX));
  });

  test('every view lies inside its buffer and a live arena block', () => {
    checkBounds(plan);
  });

  test('the op-by-op plan: the explicit concat launch is flagged, flags exact, views in bounds', () => {
    const ops = buildPlan(graph, { reuse: false });
    const flagged = expectExactFlags(ops);
    expect(flagged.some((l) => l.kind === 'concat' && l.nodes[0] === 'stages.0.blocks.0.concat')).toBe(true);
    checkBounds(ops);
  });

  test("index64 'always' marks every launch (for testing the 64-bit kernels on small shapes)", () => {
    const forced = optimizedPlan('vovnet27_slim', [1, 3, 64, 64], { index64: 'always' });
    expect(forced.needs64bit).toBe(true);
    expect(forced.launches.every((l) => l.needs64bit)).toBe(true);
  });
});

describe('needs64bit elsewhere', () => {
  test('no launch of any zoo model is flagged at 1x3x224x224', () => {
    for (const name of zooNames()) {
      const plan = optimizedPlan(name, [1, 3, 224, 224]);
      expect(plan.needs64bit, name).toBe(false);
      expect(plan.launches.filter((l) => l.needs64bit).map((l) => l.nodes[0]), name).toEqual([]);
    }
  });

  // relu over one dense tensor, input and output each in their own buffer at offset 0.
  const reluPlan = (h: number, w: number) => {
    const b = builder([1, 1, h, w]);
    b.output('y', op(b, 'r', 'relu', ['input']));
    return buildPlan(b.build());
  };

  test('boundary: 2^31 elements (last index 2^31 - 1) is 64-bit, since the element count no longer fits', () => {
    const at = reluPlan(32768, 65536);
    expect(at.input.elements).toBe(2 ** 31);
    expect(at.launches[0].needs64bit).toBe(true);
    expect(at.needs64bit).toBe(true);
    const below = reluPlan(65535, 32768);
    expect(below.input.elements).toBe(2 ** 31 - 32768);
    expect(below.launches[0].needs64bit).toBe(false);
    expect(below.needs64bit).toBe(false);
  });

  test('bytes are not indices: a 2^30-element (4 GiB) tensor stays 32-bit', () => {
    const p = reluPlan(32768, 32768);
    expect(p.input.elements * 4).toBeGreaterThan(Number(INT32_MAX));
    expect(p.launches[0].needs64bit).toBe(false);
  });
});

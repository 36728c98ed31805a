import { describe, expect, test } from 'vitest';
import { numel } from '../../src/ir/graph.js';
import { optimize } from '../../src/passes/manager.js';
import { assignArena } from '../../src/plan/arena.js';
import { buildPlan } from '../../src/plan/build.js';
import { packWeights } from '../../src/plan/weights.js';
import { ALIGN_ELEMENTS, MAX_INT32 } from '../../src/plan/types.js';
import { builder, concat, conv } from '../passes/ir.js';
import { lower, TINY, withData, zoo } from '../passes/specs.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { verifyPlan } from '../../src/plan/verify.js';

describe('buildPlan', () => {
  test('an OSA block at batch 2: producers write channel slices with a batch stride of the whole concat', () => {
    const g = optimize(lower({ ...TINY['tiny-timm-a'], input: [2, 3, 33, 33] }, 't')).graph;
    const plan = buildPlan(g);
    const mid = plan.launches.find((l) => l.nodes[0] === 'stages.0.blocks.0.conv_mid.1.conv')!;
    const agg = plan.launches.find((l) => l.nodes[0] === 'stages.0.blocks.0.conv_concat.conv')!;
    // stage2: input 32 (stem) + 4 layers x 16 = 96 channels at 9x9.
    expect(agg.inputs[0].shape).toEqual([2, 96, 9, 9]);
    expect(agg.inputs[0].strides).toEqual([96 * 81, 81, 9, 1]);
    expect(mid.output).toMatchObject({ buffer: 'arena', shape: [2, 16, 9, 9], strides: [96 * 81, 81, 9, 1], slice: { of: 'stages.0.blocks.0.concat', channel: 48 } });
    expect(mid.output.offset).toBe(agg.inputs[0].offset + 48 * 81);
    expect(mid.nodes).toEqual(['stages.0.blocks.0.conv_mid.1.conv', 'stages.0.blocks.0.conv_mid.1.bn', 'stages.0.blocks.0.conv_mid.1.relu']);
    expect(mid.kind).toBe('conv');
    expect(mid.attrs).toEqual({ kernel: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1], groups: 1, act: 'relu', residual: false });
    expect(Object.keys(mid.params)).toEqual(['weight', 'bias']);
    // No launch for the concat itself.
    expect(plan.launches.some((l) => l.nodes.includes('stages.0.blocks.0.concat'))).toBe(false);
  });

  test('input and outputs are their own buffers; the last launch writes the logits', () => {
    const g = optimize(lower(TINY['tiny-v1-residual'], 't')).graph;
    const plan = buildPlan(g);
    expect(plan.input).toEqual({ name: 'input', value: 'input', shape: [2, 3, 40, 56], elements: 2 * 3 * 40 * 56, dtype: 'f32', strides: [3 * 40 * 56, 40 * 56, 56, 1] });
    expect(plan.outputs).toEqual([{ name: 'logits', value: 'head.fc', shape: [2, 10], elements: 20, dtype: 'f32', strides: [10, 1, 1, 1] }]);
    expect(plan.launches[0].inputs[0]).toMatchObject({ buffer: 'input', name: 'input', offset: 0 });
    const last = plan.launches.at(-1)!;
    expect(last).toMatchObject({ kind: 'linear', nodes: ['head.flatten', 'head.fc'], output: { buffer: 'output', name: 'logits', shape: [2, 10, 1, 1], strides: [10, 1, 1, 1] } });
    expect(last.inputs[0].shape).toEqual([2, 80, 1, 1]);
    // Residual blocks: the shortcut is the block input, read from its slice of the concat.
    const res = plan.launches.find((l) => l.kind === 'conv' && l.attrs.residual)!;
    expect(res.kind).toBe('conv');
    expect(res.inputs[1].slice).toEqual({ of: res.nodes[0].replace(/conv_concat\.conv$/, 'concat'), channel: 0 });
  });

  test('a graph input, a graph output and a shared value feeding a concat are copied, with the reason', () => {
    const b = builder([1, 4, 6, 6]);
    const x = conv(b, 'x', 'input', 4);
    const cat = concat(b, 'cat', ['input', x]);
    b.output('x', x);
    b.output('y', conv(b, 'y', cat, 4, { k: 1 }));
    b.output('y2', 'y');
    const g = optimize(b.build()).graph;
    const plan = buildPlan(g);
    expect(plan.launches.map((l) => [l.kind, l.nodes.join('+'), l.note ?? ''])).toEqual([
      ['conv', 'x', ''],
      ['copy', 'cat', 'kept concat copy: the graph input is a separate, read-only buffer'],
      ['copy', 'cat', "kept concat copy: 'x' is graph output 'x', which lives in its own buffer"],
      ['conv', 'y', ''],
      ['copy', 'y', "graph output 'y2' repeats value 'y', which another output buffer holds"],
    ]);
    expect(plan.launches[2].inputs[0]).toMatchObject({ buffer: 'output', name: 'x' });
    expect(plan.launches[4].output).toMatchObject({ buffer: 'output', name: 'y2' });
  });

  test('a concat that is a graph output: its producers write into slices of the output buffer', () => {
    const b = builder([2, 4, 6, 6]);
    const p = conv(b, 'p', 'input', 4);
    const q = conv(b, 'q', p, 6);
    b.output('cat', concat(b, 'cat', [p, q]));
    const plan = buildPlan(optimize(b.build()).graph);
    expect(plan.launches.map((l) => [l.kind, l.output.buffer, l.output.name, l.output.offset, l.output.strides[0]])).toEqual([
      ['conv', 'output', 'cat', 0, 10 * 36],
      ['conv', 'output', 'cat', 4 * 36, 10 * 36],
    ]);
    expect(plan.arenaBytes).toBe(0);
  });

  test('weights: one blob, every parameter at a 64-element aligned offset, in graph order', () => {
    const g = withData(optimize(lower(TINY['tiny-eca'], 't')).graph);
    const plan = buildPlan(g);
    const e = plan.weights.entries;
    expect(e.map((x) => x.name)).toEqual([...g.params.keys()]);
    let end = 0;
    for (const x of e) {
      expect(x.offset % ALIGN_ELEMENTS).toBe(0);
      expect(x.offset).toBeGreaterThanOrEqual(end);
      expect(x.numel).toBe(numel(x.shape));
      end = x.offset + x.numel;
    }
    const blob = packWeights(plan, (name) => g.params.get(name)?.data);
    expect(blob.length).toBe(plan.weights.totalElements);
    const w = e.find((x) => x.name === 'head.fc.weight')!;
    expect(blob.subarray(w.offset, w.offset + w.numel)).toEqual(g.params.get('head.fc.weight')!.data);
    const bare = lower(TINY['tiny-eca'], 't');
    expect(() => packWeights(plan, (name) => bare.params.get(name)?.data)).toThrow(/has no data \(shape-only graph\)/);
  });

  test('costs: a conv reads its input and weights once and writes its output once', () => {
    const g = optimize(zoo('vovnet27_slim')).graph;
    const l = buildPlan(g).launches[0];
    // stem.0: 3 -> 64, 3x3 stride 2, 64x64 -> 32x32
    expect(l.cost).toEqual({
      macs: 64 * 32 * 32 * 27,
      flops: 2 * 64 * 32 * 32 * 27,
      // the fused ReLU (the bias adds none, as in the analysis)
      otherOps: 64 * 32 * 32,
      activationBytesRead: 4 * 3 * 64 * 64,
      weightBytesRead: 4 * (64 * 27 + 64),
      bytesWritten: 4 * 64 * 32 * 32,
      samples: 0,
    });
  });

  test('costs: a deformable conv counts its GEMM as mult-adds and its bilinear samples apart', () => {
    const g = optimize(lowerSpec(loadModel('V-39-eSE-DCN', { set: ['input=1x3x64x64'] }).spec)).graph;
    const plan = buildPlan(g);
    expect(verifyPlan(plan)).toEqual([]);
    const l = plan.launches.find((x) => x.kind === 'deform_conv')!;
    expect(l.inputs.map((v) => v.value)).toEqual(['stages.1.pool', 'stages.1.blocks.0.conv_mid.0.conv_offset']);
    // stage3's first 3x3: 256 -> 160 channels at 8x8, offsets 27 channels
    expect(l.inputs[1].shape).toEqual([1, 27, 8, 8]);
    expect(l.cost).toMatchObject({ macs: 160 * 8 * 8 * 256 * 9, samples: 256 * 9 * 8 * 8 });
    expect(l.attrs).toMatchObject({ deformGroups: 1, modulated: true, act: 'relu' });
    expect(l.params.bias).toBeDefined();
  });

  test('needs64bit marks launches whose views reach past 2^31 - 1 elements', () => {
    const small = buildPlan(optimize(zoo('vovnet27_slim')).graph);
    expect(small.needs64bit).toBe(false);
    expect(small.launches.some((l) => l.needs64bit)).toBe(false);
    const big = buildPlan(optimize(zoo('vovnet27_slim', [256, 3, 1024, 1024])).graph);
    expect(big.needs64bit).toBe(true);
    const stem0 = big.launches[0];
    expect(256 * 64 * 512 * 512).toBeGreaterThan(MAX_INT32);
    expect(stem0.needs64bit).toBe(true);
    // The head works on [256, 512, 1, 1]: small views, but they may sit high in the arena.
    const fc = big.launches.at(-1)!;
    expect(fc.needs64bit).toBe(fc.inputs[0].offset + 256 * 512 > MAX_INT32);
  });

  test('op-by-op plan: one launch per IR op, a real concat launch, no reuse', () => {
    const g = lower(TINY['tiny-timm-a'], 't');
    const plan = buildPlan(g, { reuse: false });
    expect(plan.launches.map((l) => l.nodes)).toEqual(g.nodes.map((n) => [n.id]));
    expect(plan.launches.filter((l) => l.kind === 'concat').length).toBe(g.nodes.filter((n) => n.op === 'concat').length);
    // No two arena blocks share bytes.
    const blocks = [...plan.arena].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i].offset).toBeGreaterThanOrEqual(blocks[i - 1].offset + blocks[i - 1].elements);
  });
});

describe('assignArena (greedy by size, best fit)', () => {
  test('a block goes into the tightest gap that fits, not the first one', () => {
    // Placed largest first. B and D die after launch 1 and leave holes of 960 and 448
    // elements between A, C and E; F (300, launches 3..4) takes the 448 hole.
    const r = assignArena(
      [
        { elements: 1000, first: 0, last: 5 }, // A @0
        { elements: 900, first: 0, last: 1 }, // B @1024
        { elements: 800, first: 0, last: 5 }, // C @1984
        { elements: 400, first: 0, last: 1 }, // D @2816
        { elements: 350, first: 0, last: 5 }, // E @3264
        { elements: 300, first: 3, last: 4 }, // F
      ],
      true,
    );
    expect(r.offsets).toEqual([0, 1024, 1984, 2816, 3264, 2816]);
    expect(r.totalElements).toBe(3648);
    expect(assignArena([{ elements: 1000, first: 0, last: 0 }, { elements: 10, first: 1, last: 1 }], false)).toEqual({ offsets: [0, 1024], totalElements: 1088 });
  });

  test('random blocks: blocks alive together never overlap; no reuse means disjoint ranges', () => {
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 6; trial++) {
      const blocks = Array.from({ length: 40 }, () => {
        const first = Math.floor(rnd() * 30);
        return { elements: 1 + Math.floor(rnd() * 5000), first, last: first + Math.floor(rnd() * 6) };
      });
      for (const reuse of [true, false]) {
        const { offsets, totalElements } = assignArena(blocks, reuse);
        blocks.forEach((a, i) => {
          expect(offsets[i] % ALIGN_ELEMENTS).toBe(0);
          expect(offsets[i] + a.elements).toBeLessThanOrEqual(totalElements);
          blocks.forEach((b, j) => {
            if (j <= i || (reuse && (a.last < b.first || b.last < a.first))) return;
            expect(offsets[i] + a.elements <= offsets[j] || offsets[j] + b.elements <= offsets[i]).toBe(true);
          });
        });
      }
    }
  });
});

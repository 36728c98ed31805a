// The cost rules, one small hand-built graph per rule, against figures worked out by hand.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { REPO } from '../helpers/fixtures.js';
import { costNodes } from '../../src/analysis/cost.js';
import { analyzeGraph } from '../../src/analysis/analyze.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { numel, valueShape, type ConvAttrs, type GraphMeta } from '../../src/ir/graph.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { optimize } from '../../src/passes/manager.js';
import { OPS } from '../../src/ir/ops.js';
import { lowerSpec } from '../../src/model/lower.js';
import type { ModelSpec } from '../../src/model/spec.js';

const META: GraphMeta = { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 };
const conv = (k: number, s = 1, groups = 1): ConvAttrs => {
  const p = Math.floor(k / 2);
  return { kernel: [k, k], stride: [s, s], pad: [p, p, p, p], groups, act: 'none', residual: false };
};

/** One node after an input of `shape`; returns its cost. */
function one(shape: number[], build: (b: GraphBuilder) => string) {
  const b = new GraphBuilder('t', shape, META);
  const id = build(b);
  b.output('y', id);
  const g = b.build();
  return costNodes(g)[g.nodes.findIndex((n) => n.id === id)];
}

function convNode(b: GraphBuilder, x: string, cout: number, k: number, s = 1, groups = 1, bias = false): string {
  const cin = b.shape(x)[1];
  b.param('c.weight', [cout, cin / groups, k, k], null);
  const params: Record<string, string> = { weight: 'c.weight' };
  if (bias) params.bias = b.param('c.bias', [cout], null);
  return b.add({ id: 'c', op: 'conv2d', inputs: [x], attrs: conv(k, s, groups), params, scope: 'stem' });
}

describe('cost rules', () => {
  it('every op of the op table has a cost rule', () => {
    for (const [op, rule] of Object.entries(OPS)) expect([op, typeof rule.cost]).toEqual([op, 'function']);
  });

  it('conv 3x3: mult-adds out x cin x k^2, memory access in + out + weight', () => {
    const c = one([1, 8, 10, 10], (b) => convNode(b, 'input', 16, 3));
    expect(c.macs).toBe(16 * 100 * 8 * 9);
    expect(c.memAccess).toBe(800 + 1600 + 16 * 8 * 9);
    expect(c.params).toBe(16 * 8 * 9);
    expect(c.activations).toBe(1600);
    expect(c.elementsRead).toBe(800 + 1152);
    expect(c.elementsWritten).toBe(1600);
  });

  it('stride 2 counts the output positions only', () => {
    const c = one([1, 8, 10, 10], (b) => convNode(b, 'input', 16, 3, 2));
    expect(c.macs).toBe(16 * 25 * 8 * 9);
    expect(c.memAccess).toBe(800 + 16 * 25 + 1152);
  });

  it('grouped and depthwise convs count C_in / groups per output', () => {
    const g = one([1, 8, 10, 10], (b) => convNode(b, 'input', 16, 3, 1, 2));
    expect(g.macs).toBe(1600 * 4 * 9);
    expect(g.memAccess).toBe(800 + 1600 + 16 * 4 * 9);
    const dw = one([1, 8, 10, 10], (b) => convNode(b, 'input', 8, 3, 1, 8));
    expect(dw.macs).toBe(800 * 9);
    expect(dw.memAccess).toBe(800 + 800 + 72);
  });

  it('conv bias: a parameter, not in the memory access cost nor the mult-adds', () => {
    const c = one([1, 8, 1, 1], (b) => convNode(b, 'input', 8, 1, 1, 1, true));
    expect(c.params).toBe(64 + 8);
    expect(c.macs).toBe(64);
    expect(c.memAccess).toBe(8 + 8 + 64);
  });

  it('batch N scales activations and mult-adds, not weights', () => {
    const c = one([3, 8, 10, 10], (b) => convNode(b, 'input', 16, 3));
    expect(c.macs).toBe(3 * 16 * 100 * 8 * 9);
    expect(c.memAccess).toBe(3 * 800 + 3 * 1600 + 1152);
  });

  it('linear: mult-adds, but no memory access cost (eq. 1 counts convs)', () => {
    const c = one([2, 8, 1, 1], (b) => {
      const f = b.add({ id: 'f', op: 'flatten', inputs: ['input'], attrs: {}, scope: 'head' });
      b.param('fc.weight', [10, 8], null);
      b.param('fc.bias', [10], null);
      return b.add({ id: 'fc', op: 'linear', inputs: [f], attrs: {}, params: { weight: 'fc.weight', bias: 'fc.bias' }, scope: 'head' });
    });
    expect(c.macs).toBe(2 * 80);
    expect(c.memAccess).toBe(0);
    expect(c.params).toBe(90);
  });

  it('ECA conv1d and the fused se_gate count as convs', () => {
    const eca = one([1, 8, 1, 1], (b) => {
      b.param('e.weight', [1, 1, 3], null);
      return b.add({ id: 'e', op: 'eca_conv1d', inputs: ['input'], attrs: { kernel: 3 }, params: { weight: 'e.weight' }, scope: 's' });
    });
    expect([eca.macs, eca.memAccess, eca.params]).toEqual([24, 8 + 8 + 3, 3]);
    const ese = one([1, 8, 4, 4], (b) => {
      b.param('g.weight', [8, 8, 1, 1], null);
      b.param('g.bias', [8], null);
      return b.add({ id: 'g', op: 'se_gate', inputs: ['input'], attrs: { mode: 'ese', kernel: 1, act: 'hardsigmoid' }, params: { weight: 'g.weight', bias: 'g.bias' }, scope: 's' });
    });
    expect([ese.macs, ese.memAccess, ese.params]).toEqual([64, 8 + 8 + 64, 72]);
    // the fused gate also pools (128 inputs) and applies the activation (8 outputs)
    expect(ese.otherOps).toBe(128 + 8);
  });

  it('BN: gamma and beta are parameters, running statistics are read but not counted', () => {
    const c = one([1, 8, 10, 10], (b) => {
      for (const l of ['weight', 'bias', 'running_mean', 'running_var']) b.param(`bn.${l}`, [8], null);
      return b.add({ id: 'bn', op: 'batchnorm', inputs: ['input'], attrs: { eps: 1e-5 }, params: { weight: 'bn.weight', bias: 'bn.bias', running_mean: 'bn.running_mean', running_var: 'bn.running_var' }, scope: 's' });
    });
    expect([c.params, c.macs, c.memAccess, c.otherOps, c.activations]).toEqual([16, 0, 0, 800, 0]);
    expect(c.elementsRead).toBe(800 + 32);
  });

  it('pools count window reads as other ops; concat nothing but its copy', () => {
    const p = one([1, 8, 7, 7], (b) => b.add({ id: 'p', op: 'maxpool', inputs: ['input'], attrs: { kernel: [3, 3], stride: [2, 2], pad: [0, 0, 0, 0], ceil: true }, scope: 's' }));
    expect([p.macs, p.memAccess, p.otherOps]).toEqual([0, 0, 8 * 3 * 3 * 9]);
    const gap = one([1, 8, 7, 7], (b) => b.add({ id: 'p', op: 'global_avg_pool', inputs: ['input'], attrs: {}, scope: 's' }));
    expect(gap.otherOps).toBe(392);
    const cat = one([1, 8, 7, 7], (b) => b.add({ id: 'c', op: 'concat', inputs: ['input', 'input'], attrs: { axis: 1, inplace: false }, scope: 's' }));
    expect([cat.macs, cat.memAccess, cat.otherOps, cat.elementsRead, cat.elementsWritten]).toEqual([0, 0, 0, 784, 784]);
  });
});

const base = { naming: 'timm' as const, preprocessing: 'timm' as const, bnEps: 1e-5, activation: 'relu' as const, source: 'test', head: { kind: 'classifier' as const, classes: 10 }, outputs: ['logits'] };

describe('parameter sizes of the rules', () => {
  it('agree with the graph\'s parameters on every node of every zoo model, unoptimized and optimized', () => {
    for (const name of zooNames()) {
      const g0 = lowerSpec(loadModel(name, { inputShape: [1, 3, 64, 64] }).spec);
      for (const g of [g0, optimize(g0, { log: () => {} }).graph]) {
        const costs = costNodes(g);
        g.nodes.forEach((n, i) => {
          const sizes = Object.entries(n.params).map(([role, p]) => [role, numel(g.params.get(p)!.shape)] as const);
          const learnable = sizes.filter(([r]) => !r.startsWith('running_')).reduce((s, [, e]) => s + e, 0);
          const all = sizes.reduce((s, [, e]) => s + e, 0);
          const inputs = n.inputs.reduce((s, v) => s + numel(valueShape(g, v)), 0);
          expect([costs[i].params, costs[i].elementsRead], `${name} ${n.id}`).toEqual([learnable, inputs + all]);
        });
      }
    }
  });
});

describe('grouping', () => {
  it('layers (set at lowering) are conv units, attention modules, the head, or single nodes', () => {
    const layerOf = (model: string) => new Map(lowerSpec(loadModel(model, { inputShape: [1, 3, 64, 64] }).spec).nodes.map((n) => [n.id, n.layer]));
    const v = layerOf('ese_vovnet19b_dw');
    expect(v.get('stem.0.conv')).toBe('stem.0');
    expect(v.get('stem.0.relu')).toBe('stem.0');
    expect(v.get('stem.1.conv_dw')).toBe('stem.1');
    expect(v.get('stem.1.conv_pw')).toBe('stem.1');
    expect(v.get('stages.1.blocks.0.conv_mid.2.bn')).toBe('stages.1.blocks.0.conv_mid.2');
    expect(v.get('stages.1.pool')).toBe('stages.1.pool');
    expect(v.get('stages.0.blocks.0.concat')).toBe('stages.0.blocks.0.concat');
    expect(v.get('stages.3.blocks.0.attn.fc')).toBe('stages.3.blocks.0.attn');
    expect(v.get('stages.3.blocks.0.attn.gate')).toBe('stages.3.blocks.0.attn');
    expect(v.get('head.fc')).toBe('head');
    const d = new Map(lowerSpec(loadModel(resolve(REPO, 'models/cifar/densenet40.vov')).spec).nodes.map((n) => [n.id, n.layer]));
    expect(d.get('stages.0.layers.3.norm')).toBe('stages.0.layers.3');
    expect(d.get('stages.0.layers.3.concat')).toBe('stages.0.layers.3.concat');
  });

  it('every level sums to the totals; a separable conv is one layer of two convs', () => {
    const spec: ModelSpec = {
      ...base,
      name: 'mix',
      input: [1, 3, 32, 32],
      stem: [
        { kind: 'conv', kernel: 3, stride: 2, out: 16 },
        { kind: 'sepconv', kernel: 3, stride: 1, out: 24 },
      ],
      stages: [
        { kind: 'osa', name: 'stage2', mid: 16, out: 32, layers: 2, blocks: 2, residual: 'after-first', depthwise: true, attention: 'ese', attentionWhere: 'all' },
        { kind: 'dense', name: 'stage3', growth: 8, layers: 3, bottleneck: 16, transition: { out: 24, pool: true } },
      ],
    };
    const g = lowerSpec(spec);
    const a = analyzeGraph(g);
    const keys = ['params', 'macs', 'otherOps', 'memAccess', 'activations', 'bytesOps', 'nodes'] as const;
    for (const level of ['layer', 'block', 'stage', 'op'] as const) {
      for (const k of keys) expect(a.groups[level]!.reduce((s, r) => s + r[k], 0), `${level} ${k}`).toBe(a.totals[k]);
    }
    const sep = a.groups.layer!.find((r) => r.key === 'stem.1')!;
    // dw 3x3 on 16 channels at 16x16, then pw 16 -> 24: two convs in eq. 1
    expect(sep.memAccess).toBe(16 * 256 + 16 * 256 + 16 * 9 + (16 * 256 + 24 * 256 + 24 * 16));
    expect(sep.macs).toBe(16 * 256 * 9 + 24 * 256 * 16);
    expect(a.groups.stage!.map((r) => r.key)).toEqual(['stem', 'stage2', 'stage3', 'head']);
    expect(a.groups.block!.map((r) => r.key)).toContain('stage3.transition');
    expect(a.groups.op!.map((r) => r.key)).toEqual(expect.arrayContaining(['conv2d 3x3', 'conv2d depthwise', 'conv2d 1x1', 'linear', 'batchnorm']));
    expect(a.totals.flops).toBe(2 * a.totals.macs);
    expect(a.totals.bytesFused).toBeNull();
    expect(a.roofline).toBeNull();
  });
});

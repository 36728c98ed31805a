// The graph IR core: shape inference (ceil-mode pooling at odd sizes, convs), the builder's
// errors, the verifier on hand-broken graphs, the printer.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConvAttrs, Graph, Node } from '../../src/ir/graph.js';
import { outSize } from '../../src/ir/ops.js';
import { printGraph } from '../../src/ir/printer.js';
import { verify } from '../../src/ir/verify.js';
import { VovcError } from '../../src/diag/diagnostics.js';

const META = { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 } as const;
const conv = (k: number, s: number, g = 1): ConvAttrs => ({ kernel: [k, k], stride: [s, s], pad: [k >> 1, k >> 1, k >> 1, k >> 1], groups: g, act: 'none', residual: false });
const pool = (ceil: boolean) => ({ kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], pad: [0, 0, 0, 0] as [number, number, number, number], ceil });

describe('shape inference', () => {
  it('max-pool 3x3/2 in ceil mode follows PyTorch at odd and even sizes', () => {
    // PyTorch MaxPool2d(3, 2, ceil_mode=True): 56 -> 28, 28 -> 14, 14 -> 7, 7 -> 3, 3 -> 1,
    // 2 -> 1 (one window hanging over the edge), 16 -> 8, 33 -> 16, 17 -> 8, 8 -> 4, 4 -> 2, 5 -> 2.
    const want: Record<number, number> = { 56: 28, 28: 14, 14: 7, 7: 3, 3: 1, 2: 1, 16: 8, 33: 16, 17: 8, 8: 4, 4: 2, 5: 2, 6: 3, 9: 4 };
    for (const [i, o] of Object.entries(want)) expect(outSize(Number(i), 3, 2, 0, 0, true), `in ${i}`).toBe(o);
    // floor mode differs exactly where the last window would hang over: 56 -> 27, 16 -> 7
    expect(outSize(56, 3, 2, 0, 0, false)).toBe(27);
    expect(outSize(16, 3, 2, 0, 0, false)).toBe(7);
    // a window that would start in the padding is dropped: k2 s2 pad 1 on 3 -> 2 (not 3)
    expect(outSize(3, 2, 2, 1, 1, true)).toBe(2);
  });

  it('builder infers conv, pool, concat, gap, linear shapes', () => {
    const b = new GraphBuilder('t', [2, 3, 45, 61], META);
    b.param('c.weight', [8, 3, 3, 3], null);
    const c = b.add({ id: 'c', op: 'conv2d', inputs: ['input'], attrs: conv(3, 2), params: { weight: 'c.weight' }, scope: 's' });
    expect(b.shape(c)).toEqual([2, 8, 23, 31]);
    const p = b.add({ id: 'p', op: 'maxpool', inputs: [c], attrs: pool(true), scope: 's' });
    expect(b.shape(p)).toEqual([2, 8, 11, 15]);
    b.param('d.weight', [8, 1, 3, 3], null);
    const d = b.add({ id: 'd', op: 'conv2d', inputs: [p], attrs: conv(3, 1, 8), params: { weight: 'd.weight' }, scope: 's' });
    const cat = b.add({ id: 'cat', op: 'concat', inputs: [p, d], attrs: { axis: 1, inplace: false }, scope: 's' });
    expect(b.shape(cat)).toEqual([2, 16, 11, 15]);
    const gap = b.add({ id: 'gap', op: 'global_avg_pool', inputs: [cat], attrs: {}, scope: 's' });
    b.param('fc.weight', [5, 16], null);
    const fc = b.add({ id: 'fc', op: 'linear', inputs: [gap], attrs: {}, params: { weight: 'fc.weight' }, scope: 's' });
    expect(b.shape(fc)).toEqual([2, 5]);
    b.output('logits', fc);
    expect(verify(b.build())).toEqual([]);
  });

  it('a spatial size that collapses is a diagnostic naming the node', () => {
    const b = new GraphBuilder('t', [1, 3, 2, 2], META);
    const p = b.add({ id: 'p', op: 'maxpool', inputs: ['input'], attrs: pool(true), scope: 's' });
    expect(b.shape(p)).toEqual([1, 3, 1, 1]);
    expect(() => b.add({ id: 'q', op: 'maxpool', inputs: [p], attrs: { ...pool(false) }, scope: 's' })).toThrow(VovcError);
    try {
      b.add({ id: 'q', op: 'maxpool', inputs: [p], attrs: { ...pool(false) }, scope: 's' });
    } catch (e) {
      expect((e as VovcError).diagnostics[0].message).toMatch(/maxpool 'q': spatial size 1x1 collapses to 0x0/);
    }
  });
});

function small(): Graph {
  const b = new GraphBuilder('t', [1, 4, 8, 8], META);
  b.param('a.weight', [4, 4, 3, 3], null);
  const a = b.add({ id: 'a', op: 'conv2d', inputs: ['input'], attrs: conv(3, 1), params: { weight: 'a.weight' }, scope: 's' });
  const r = b.add({ id: 'r', op: 'act', inputs: [a], attrs: { fn: 'relu' }, scope: 's' });
  const s = b.add({ id: 's', op: 'add', inputs: [r, 'input'], attrs: {}, scope: 's' });
  b.output('out', s);
  return b.build();
}

describe('verifier', () => {
  it('accepts a well-formed graph', () => expect(verify(small())).toEqual([]));

  const broken: [string, (g: Graph) => Graph, RegExp][] = [
    ['dangling input', (g) => ({ ...g, nodes: g.nodes.map((n) => (n.id === 'r' ? { ...n, inputs: ['nowhere'] } : n)) }), /relu 'r': reads 'nowhere', not defined before it/],
    ['nodes out of order', (g) => ({ ...g, nodes: [g.nodes[1], g.nodes[0], g.nodes[2]] }), /reads 'a', not defined before it/],
    ['wrong recorded shape', (g) => ({ ...g, nodes: g.nodes.map((n) => (n.id === 'r' ? { ...n, shape: [1, 4, 8, 9] } : n)) }), /recorded shape \[1,4,8,9\] but inference gives \[1,4,8,8\]/],
    ['param of the wrong shape', (g) => ({ ...g, params: new Map([['a.weight', { shape: [4, 4, 1, 1], data: null }]]) }), /parameter 'a.weight' has shape \[4,4,1,1\], expected \[4,4,3,3\]/],
    ['missing param', (g) => ({ ...g, params: new Map() }), /refers to 'a.weight', which the graph does not hold/],
    ['wrong arity', (g) => ({ ...g, nodes: g.nodes.map((n) => (n.id === 's' ? { ...n, inputs: ['r'] } : n)) }), /add 's': takes 2 inputs, has 1/],
    ['duplicate id', (g) => ({ ...g, nodes: [...g.nodes, g.nodes[2]] }), /duplicate node id/],
    ['output to nowhere', (g) => ({ ...g, outputs: [{ name: 'out', value: 'ghost' }] }), /graph output 'out' refers to undefined value 'ghost'/],
    ['data length', (g) => ({ ...g, params: new Map([['a.weight', { shape: [4, 4, 3, 3], data: new Float32Array(3) }]]) }), /holds 3 values/],
  ];
  for (const [what, mutate, msg] of broken) {
    it(`reports ${what}`, () => {
      const errs = verify(mutate(small()));
      expect(errs.length).toBeGreaterThan(0);
      expect(errs.map((e) => e.message).join('\n')).toMatch(msg);
    });
  }

  it('points at the DSL span of the offending node', () => {
    const g = small();
    const span = { file: 'm.vov', line: 3, col: 5, endLine: 3, endCol: 9 };
    const bad = { ...g, nodes: g.nodes.map((n): Node => (n.id === 'r' ? { ...n, span, shape: [9] } : n)) };
    expect(verify(bad)[0].span).toEqual(span);
  });
});

describe('printer', () => {
  it('prints one line per node with attributes, params and shapes', () => {
    expect(printGraph(small())).toBe(
      [
        'graph t(%input: f32[1,4,8,8]) naming=timm',
        '  %a = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=a.weight : [1,4,8,8]',
        '  %r = relu(%a) : [1,4,8,8]',
        '  %s = add(%r, %input) : [1,4,8,8]',
        '  return out=%s',
        '',
      ].join('\n'),
    );
  });
});

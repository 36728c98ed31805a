import { describe, expect, test } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import { verify } from '../../src/ir/verify.js';
import { aliasedParams, foldBn } from '../../src/passes/fold-bn.js';
import { optimize } from '../../src/passes/manager.js';
import { body, bn, builder, conv, op, runPass } from './ir.js';
import { withData } from './specs.js';

function convBnRelu(opts: { bias?: boolean } = {}): Graph {
  const b = builder([1, 4, 6, 6]);
  const c = conv(b, 'l.conv', 'input', 8, { bias: opts.bias });
  const n = bn(b, 'l.bn', c);
  b.output('y', op(b, 'l.relu', 'relu', [n]));
  return b.build();
}

describe('fold-bn', () => {
  test('conv -> bn -> relu becomes a conv with a bias; the weight keeps its name', () => {
    const r = runPass(foldBn, convBnRelu());
    expect(body(r.before)).toBe(
      [
        '%l.conv = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=l.conv.weight : [1,8,6,6]',
        '%l.bn = batchnorm(%l.conv) {eps=0.00001} w=l.bn.weight b=l.bn.bias running_mean=l.bn.running_mean running_var=l.bn.running_var : [1,8,6,6]',
        '%l.relu = relu(%l.bn) : [1,8,6,6]',
        'return y=%l.relu',
      ].join('\n'),
    );
    expect(body(r.after)).toBe(['%l.conv = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=l.conv.weight b=l.conv.bias : [1,8,6,6]', '%l.relu = relu(%l.conv) : [1,8,6,6]', 'return y=%l.relu'].join('\n'));
    expect([...r.g.params.keys()]).toEqual(['l.conv.weight', 'l.conv.bias']);
    expect(r.g.nodes[0].fused).toEqual(['l.conv', 'l.bn']);
    expect(r.records).toEqual([expect.objectContaining({ kind: 'fused', nodes: ['l.conv', 'l.bn'], into: 'l.conv' })]);
    expect(verify(r.g)).toEqual([]);
  });

  test('shape-only graphs fold to null data with the right shapes', () => {
    const r = runPass(foldBn, convBnRelu());
    const w = r.g.params.get('l.conv.weight')!;
    const bias = r.g.params.get('l.conv.bias')!;
    expect([w.shape, w.data, bias.shape, bias.data]).toEqual([[8, 4, 3, 3], null, [8], null]);
  });

  test('folded values follow w*gamma/sqrt(var+eps) and beta-mean*scale (+ b*scale), rounded once to f32', () => {
    for (const withBias of [false, true]) {
      const g = withData(convBnRelu({ bias: withBias }), 3);
      const r = runPass(foldBn, g);
      const P = (n: string) => g.params.get(n)!.data!;
      const [w, gamma, beta, mean, vr] = ['l.conv.weight', 'l.bn.weight', 'l.bn.bias', 'l.bn.running_mean', 'l.bn.running_var'].map(P);
      const b0 = withBias ? P('l.conv.bias') : undefined;
      const fw = r.g.params.get('l.conv.weight')!.data!;
      const fb = r.g.params.get('l.conv.bias')!.data!;
      for (let o = 0; o < 8; o++) {
        const s = gamma[o] / Math.sqrt(vr[o] + 1e-5);
        for (let i = 0; i < 36; i++) expect(fw[o * 36 + i]).toBe(Math.fround(w[o * 36 + i] * s));
        expect(fb[o]).toBe(Math.fround(beta[o] - mean[o] * s + (b0 ? b0[o] * s : 0)));
      }
      // The input graph is untouched (passes are pure).
      expect(g.params.get('l.conv.weight')!.data).toBe(w);
    }
  });

  test('separable conv: the BN after the pointwise conv folds into the pointwise conv', () => {
    const b = builder([1, 4, 6, 6]);
    const dw = conv(b, 'u.conv_dw', 'input', 4, { groups: 4 });
    const pw = conv(b, 'u.conv_pw', dw, 8, { k: 1 });
    b.output('y', bn(b, 'u.bn', pw));
    const r = runPass(foldBn, b.build());
    expect(body(r.after)).toBe(
      [
        '%u.conv_dw = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=4} w=u.conv_dw.weight : [1,4,6,6]',
        '%u.conv_pw = conv2d(%u.conv_dw) {k=1x1 s=1x1 p=0,0,0,0 g=1} w=u.conv_pw.weight b=u.conv_pw.bias : [1,8,6,6]',
        'return y=%u.conv_pw',
      ].join('\n'),
    );
  });

  test('a BN whose conv output has another reader, or that follows no conv, is kept and the report says why', () => {
    const b = builder([1, 4, 6, 6]);
    const c = conv(b, 'a.conv', 'input', 4);
    const n = bn(b, 'a.bn', c);
    const s = op(b, 'a.add', 'add', [n, c]);
    const r1 = op(b, 'b.relu', 'relu', [s]);
    b.output('y', bn(b, 'b.norm', r1));
    const r = runPass(foldBn, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records.map((x) => x.detail)).toEqual([
      "kept batchnorm 'a.bn': the unnormalized conv output is still needed: 'a.conv' is also read by 'a.add'",
      "kept batchnorm 'b.norm': its input 'b.relu' is a relu, not a conv",
    ]);
  });

  test('a conv that is a graph output keeps its BN', () => {
    const b = builder([1, 4, 6, 6]);
    const c = conv(b, 'a.conv', 'input', 4);
    b.output('y', bn(b, 'a.bn', c));
    b.output('raw', c);
    const r = runPass(foldBn, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records[0].detail).toContain("'a.conv' is a graph output");
  });

  test('a BN after a conv that already has an epilogue is kept', () => {
    const b = builder([1, 4, 6, 6]);
    const c = conv(b, 'a.conv', 'input', 4, { act: 'relu' });
    b.output('y', bn(b, 'a.bn', c));
    const r = runPass(foldBn, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records[0].detail).toContain('already applies relu');
  });

  test('a BN on the graph input is kept', () => {
    const b = builder([1, 4, 6, 6]);
    b.output('y', bn(b, 'a.bn', 'input'));
    const r = runPass(foldBn, b.build());
    expect(r.records[0].detail).toContain('graph input');
  });

  describe('buffer donation (OptimizeOptions.donateParams)', () => {
    /** A copy of `g` whose parameters each own a fresh array (what a caller could donate). */
    const fresh = (g: Graph): Graph => ({ ...g, params: new Map([...g.params].map(([k, p]) => [k, { shape: p.shape, data: p.data && p.data.slice() }])) });
    const weightOf = (g: Graph) => g.params.get('l.conv.weight')!.data!;

    test('without donation the input graph is untouched', () => {
      const g = withData(convBnRelu());
      const before = weightOf(g).slice();
      const out = foldBn.run(g, { record: () => {} });
      expect(weightOf(g)).toEqual(before);
      expect(weightOf(out)).not.toBe(weightOf(g));
    });

    test('donated: the folded weight is written over the conv weight, with the same values', () => {
      const g = withData(convBnRelu());
      const want = weightOf(foldBn.run(fresh(g), { record: () => {} }));
      const donated = fresh(g);
      const array = weightOf(donated);
      const out = foldBn.run(donated, { record: () => {}, donatedParams: true });
      expect(weightOf(out)).toBe(array);
      expect(weightOf(out)).toEqual(want);
      expect(out.params.get('l.conv.bias')!.data).toEqual(foldBn.run(fresh(g), { record: () => {} }).params.get('l.conv.bias')!.data);
    });

    test('donated, but another parameter views the same bytes: a new array', () => {
      const g = withData(convBnRelu());
      const w = weightOf(g);
      // One storage holding the weight and, overlapping its tail, the BN scale (a .pth may alias).
      const gamma = g.params.get('l.bn.weight')!;
      const storage = new Float32Array(w.length + 4);
      storage.set(w);
      const shared = new Map(g.params);
      shared.set('l.conv.weight', { shape: g.params.get('l.conv.weight')!.shape, data: storage.subarray(0, w.length) });
      shared.set('l.bn.weight', { shape: gamma.shape, data: storage.subarray(w.length - 4, w.length + 4) });
      const aliased = { ...g, params: shared };
      expect([...aliasedParams(aliased)].sort()).toEqual(['l.bn.weight', 'l.conv.weight']);
      const copy = storage.slice();
      const out = foldBn.run(aliased, { record: () => {}, donatedParams: true });
      expect(storage).toEqual(copy);
      expect(weightOf(out)).not.toBe(shared.get('l.conv.weight')!.data);
    });

    test('adjacent (not overlapping) views of one buffer are not aliases', () => {
      const buf = new Float32Array(8);
      const g = { ...convBnRelu(), params: new Map([['a', { shape: [4], data: buf.subarray(0, 4) }], ['b', { shape: [4], data: buf.subarray(4) }], ['c', { shape: [0], data: buf.subarray(4, 4) }]]) } as Graph;
      expect(aliasedParams(g).size).toBe(0);
    });

    test('optimize passes donation to the pipeline; the optimized graph is the same either way', () => {
      const g = withData(convBnRelu());
      const a = optimize(fresh(g), { log: () => {} }).graph;
      const donated = fresh(g);
      const array = weightOf(donated);
      const b = optimize(donated, { log: () => {}, donateParams: true }).graph;
      expect(weightOf(b)).toBe(array);
      expect(weightOf(b)).toEqual(weightOf(a));
    });
  });
});

// Op-by-op checks of the reference interpreter against naive direct implementations.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConvAttrs, PoolAttrs } from '../../src/ir/graph.js';
import { convGemm, createWorkspace, type ConvJob } from '../../src/runtime/gemm.js';
import { runReferenceSync } from '../../src/runtime/reference.js';
import { META, convAttrs, expectClose, naiveConv, naivePool, oneOp, poolAttrs, randn } from './util.js';

const run1 = (g: ReturnType<typeof oneOp>, x: Float32Array) => runReferenceSync(g, { shape: g.input.shape, data: x }).get('y')!;

describe('conv2d', () => {
  const cases: { name: string; xs: number[]; cout: number; a: ConvAttrs; bias?: boolean }[] = [
    { name: '3x3 s1 p1, batch 2, bias, relu', xs: [2, 5, 9, 11], cout: 7, a: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 1, 'relu'), bias: true },
    { name: '3x3 s2 p1 at odd sizes (channel and pixel tails)', xs: [1, 4, 13, 10], cout: 6, a: convAttrs([3, 3], [2, 2], [1, 1, 1, 1]) },
    { name: '1x1 s1 (pointwise path), 35 pixels', xs: [1, 17, 7, 5], cout: 9, a: convAttrs([1, 1], [1, 1], [0, 0, 0, 0]), bias: true },
    { name: '1x1 s2', xs: [1, 6, 9, 9], cout: 5, a: convAttrs([1, 1], [2, 2], [0, 0, 0, 0]) },
    { name: '1x1 with bottom/right padding', xs: [1, 3, 4, 5], cout: 4, a: convAttrs([1, 1], [1, 1], [0, 0, 1, 2]) },
    { name: 'groups 2', xs: [1, 6, 8, 7], cout: 4, a: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 2), bias: true },
    { name: 'depthwise groups=C, s2, hardsigmoid', xs: [2, 8, 11, 9], cout: 8, a: convAttrs([3, 3], [2, 2], [1, 1, 1, 1], 8, 'hardsigmoid'), bias: true },
    { name: 'depthwise multiplier 2', xs: [1, 4, 7, 7], cout: 8, a: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 4) },
    { name: 'asymmetric kernel, stride and padding, sigmoid', xs: [1, 3, 10, 8], cout: 5, a: convAttrs([3, 2], [2, 1], [0, 1, 2, 0], 1, 'sigmoid'), bias: true },
    { name: '5x5 no padding', xs: [1, 2, 9, 6], cout: 3, a: convAttrs([5, 5], [1, 1], [0, 0, 0, 0]) },
    { name: 'K = 2700 (K blocks that start inside a channel)', xs: [1, 300, 6, 7], cout: 10, a: convAttrs([3, 3], [1, 1], [1, 1, 1, 1]) },
    { name: '1x1 with K = 400 (pointwise K blocks), 300 pixels (column panels)', xs: [1, 400, 15, 20], cout: 6, a: convAttrs([1, 1], [1, 1], [0, 0, 0, 0]) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ws = [c.cout, c.xs[1] / c.a.groups, c.a.kernel[0], c.a.kernel[1]];
      const w = randn(ws, 1);
      const bias = c.bias ? randn([c.cout], 2) : null;
      const x = randn(c.xs, 3);
      const g = oneOp(c.xs, 'conv2d', c.a, { weight: { shape: ws, data: w }, ...(bias ? { bias: { shape: [c.cout], data: bias } } : {}) });
      const want = naiveConv(x, c.xs, w, ws, c.a, bias);
      const got = run1(g, x);
      expect(got.shape).toEqual(want.shape);
      expectClose(got.data, want.data);
    });
  }

  it('adds the residual after the activation', () => {
    const xs = [1, 4, 6, 5];
    const ws = [4, 4, 3, 3];
    const w = randn(ws, 4);
    const bias = randn([4], 5);
    const b = new GraphBuilder('t', xs, META);
    b.param('w', ws, w);
    b.param('b', [4], bias);
    b.add({ id: 'r', op: 'act', inputs: ['input'], attrs: { fn: 'relu' }, scope: 't' });
    b.add({ id: 'y', op: 'conv2d', inputs: ['input', 'r'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 1, 'relu', true), params: { weight: 'w', bias: 'b' }, scope: 't' });
    b.output('y', 'y');
    const x = randn(xs, 6);
    const res = x.map((v) => Math.max(0, v));
    const want = naiveConv(x, xs, w, ws, convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 1, 'relu', true), bias, res);
    expectClose(runReferenceSync(b.build(), { shape: xs, data: x }).get('y')!.data, want.data);
  });
});

describe('pooling', () => {
  const cases: { name: string; hw: [number, number]; a: PoolAttrs; out: [number, number] }[] = [
    { name: '2x2 input, 3x3/s2 ceil: one window over the edge', hw: [2, 2], a: poolAttrs(3, 2, 0, true), out: [1, 1] },
    { name: '7 -> 3 (3x3/s2 ceil)', hw: [7, 7], a: poolAttrs(3, 2, 0, true), out: [3, 3] },
    { name: '8 -> 4 (ceil keeps a clipped window; floor gives 3)', hw: [8, 8], a: poolAttrs(3, 2, 0, true), out: [4, 4] },
    { name: '33 -> 17 (3x3/s2 pad 1 ceil)', hw: [33, 33], a: poolAttrs(3, 2, 1, true), out: [17, 17] },
    { name: '9x6 floor mode', hw: [9, 6], a: poolAttrs(3, 2, 0, false), out: [4, 2] },
    { name: '6x5 3x3/s2 pad 1 floor', hw: [6, 5], a: poolAttrs(3, 2, 1, false), out: [3, 3] },
    { name: '5x5 2x2/s2 ceil', hw: [5, 5], a: poolAttrs(2, 2, 0, true), out: [3, 3] },
    { name: '6x6 3x3/s2 pad 1 ceil', hw: [6, 6], a: poolAttrs(3, 2, 1, true), out: [4, 4] },
    { name: '5x5 2x2/s2 pad 1 ceil (a 4th window would start in the padding: dropped)', hw: [5, 5], a: poolAttrs(2, 2, 1, true), out: [3, 3] },
  ];
  for (const kind of ['max', 'avg'] as const) {
    for (const c of cases) {
      it(`${kind}pool ${c.name}`, () => {
        const xs = [2, 3, ...c.hw];
        const x = randn(xs, 7, -2, 2);
        const want = naivePool(kind, x, xs, c.a);
        expect(want.shape.slice(2)).toEqual(c.out);
        const got = run1(oneOp(xs, kind === 'max' ? 'maxpool' : 'avgpool', c.a), x);
        expect(got.shape).toEqual(want.shape);
        expectClose(got.data, want.data);
      });
    }
  }

  it('global_avg_pool', () => {
    const xs = [2, 3, 5, 7];
    const x = randn(xs, 8);
    const got = run1(oneOp(xs, 'global_avg_pool', {}), x);
    expect(got.shape).toEqual([2, 3, 1, 1]);
    const want = Array.from({ length: 6 }, (_, p) => x.subarray(p * 35, (p + 1) * 35).reduce((s, v) => s + v, 0) / 35);
    expectClose(got.data, want);
  });
});

describe('elementwise and head ops', () => {
  const xs = [2, 4, 3, 5];
  const x = randn(xs, 9, -5, 5);

  it('batchnorm (inference)', () => {
    const c = xs[1];
    const [gamma, beta, mean] = [randn([c], 10, 0.5, 1.5), randn([c], 11), randn([c], 12)];
    const variance = randn([c], 13, 0.1, 2);
    const g = oneOp(xs, 'batchnorm', { eps: 1e-3 }, {
      weight: { shape: [c], data: gamma }, bias: { shape: [c], data: beta }, running_mean: { shape: [c], data: mean }, running_var: { shape: [c], data: variance },
    });
    const want = Array.from(x, (v, i) => {
      const ch = Math.floor(i / 15) % c;
      return ((v - mean[ch]) / Math.sqrt(variance[ch] + 1e-3)) * gamma[ch] + beta[ch];
    });
    expectClose(run1(g, x).data, want);
  });

  it('every activation: relu, sigmoid, hardsigmoid, silu, hardswish (PyTorch formulas)', () => {
    // Scaled so that the hard clips at -3 and 3 are crossed.
    const y = Float32Array.from(x, (v) => 4 * v);
    const want = {
      relu: (v: number) => Math.max(v, 0),
      sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
      hardsigmoid: (v: number) => Math.min(6, Math.max(0, v + 3)) / 6,
      silu: (v: number) => v * (1 / (1 + Math.exp(-v))),
      hardswish: (v: number) => (v * Math.min(6, Math.max(0, v + 3))) / 6,
    };
    expect(y.some((v) => v < -3) && y.some((v) => v > 3)).toBe(true);
    for (const [fn, f] of Object.entries(want)) expectClose(run1(oneOp(xs, 'act', { fn: fn as keyof typeof want }), y).data, Array.from(y, f));
  });

  it('eca_conv1d across channels, zero padded (k 3 and 5)', () => {
    for (const k of [3, 5]) {
      const s = [2, 7, 1, 1];
      const v = randn(s, 14);
      const w = randn([k], 15);
      const got = run1(oneOp(s, 'eca_conv1d', { kernel: k }, { weight: { shape: [1, 1, k], data: w } }), v);
      const want: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 7; c++) {
          let acc = 0;
          for (let j = 0; j < k; j++) {
            const src = c + j - (k - 1) / 2;
            if (src >= 0 && src < 7) acc += w[j] * v[b * 7 + src];
          }
          want.push(acc);
        }
      expectClose(got.data, want);
    }
  });

  it('flatten and linear ([N,C] and [N,C,1,1] inputs)', () => {
    const s = [3, 6, 1, 1];
    const v = randn(s, 16);
    const w = randn([4, 6], 17);
    const bias = randn([4], 18);
    const want: number[] = [];
    for (let b = 0; b < 3; b++) for (let o = 0; o < 4; o++) want.push(bias[o] + [0, 1, 2, 3, 4, 5].reduce((acc, i) => acc + w[o * 6 + i] * v[b * 6 + i], 0));
    const direct = run1(oneOp(s, 'linear', {}, { weight: { shape: [4, 6], data: w }, bias: { shape: [4], data: bias } }), v);
    expect(direct.shape).toEqual([3, 4]);
    expectClose(direct.data, want);

    const b = new GraphBuilder('t', [3, 2, 1, 3], META);
    b.param('w', [4, 6], w);
    b.add({ id: 'f', op: 'flatten', inputs: ['input'], attrs: {}, scope: 't' });
    b.add({ id: 'y', op: 'linear', inputs: ['f'], attrs: {}, params: { weight: 'w' }, scope: 't' });
    b.output('f', 'f');
    b.output('y', 'y');
    const r = runReferenceSync(b.build(), { shape: [3, 2, 1, 3], data: v });
    expect(r.get('f')!.shape).toEqual([3, 6]);
    expect(Array.from(r.get('f')!.data)).toEqual(Array.from(v));
    expectClose(r.get('y')!.data, want.map((t, i) => t - bias[i % 4]));
  });
});

describe('multi-input ops (inputs made by other nodes, read back through `outputs`)', () => {
  const xs = [2, 3, 4, 5];
  const x = randn(xs, 19, -2, 2);

  function build(add: (b: GraphBuilder) => void, outs: string[]) {
    const b = new GraphBuilder('t', xs, META);
    b.param('wa', [2, 3, 1, 1], randn([2, 3, 1, 1], 20));
    b.param('wb', [3, 3, 3, 3], randn([3, 3, 3, 3], 21));
    b.add({ id: 'a', op: 'conv2d', inputs: ['input'], attrs: convAttrs([1, 1], [1, 1], [0, 0, 0, 0]), params: { weight: 'wa' }, scope: 't' });
    b.add({ id: 'b', op: 'conv2d', inputs: ['input'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1]), params: { weight: 'wb' }, scope: 't' });
    b.add({ id: 's', op: 'global_avg_pool', inputs: ['b'], attrs: {}, scope: 't' });
    add(b);
    b.output('y', 'y');
    const r = runReferenceSync(b.build(), { shape: xs, data: x }, { outputs: ['y', ...outs] });
    return (name: string) => r.get(name)!.data;
  }

  it('concat on channels (plain, in place, graph input, repeated input)', () => {
    for (const inplace of [false, true]) {
      const v = build((b) => b.add({ id: 'y', op: 'concat', inputs: ['a', 'input', 'b', 'a'], attrs: { axis: 1, inplace }, scope: 't' }), ['a', 'b']);
      const want: number[] = [];
      const parts: [Float32Array, number][] = [[v('a'), 2], [x, 3], [v('b'), 3], [v('a'), 2]];
      for (let n = 0; n < 2; n++) for (const [t, c] of parts) want.push(...t.subarray(n * c * 20, (n + 1) * c * 20));
      expect(Array.from(v('y'))).toEqual(want);
    }
  });

  it('add, mul (equal shapes and [N,C,1,1]), scale with and without residual', () => {
    const add = build((b) => b.add({ id: 'y', op: 'add', inputs: ['input', 'b'], attrs: {}, scope: 't' }), ['b']);
    expectClose(add('y'), Array.from(x, (t, i) => t + add('b')[i]));
    const mul = build((b) => b.add({ id: 'y', op: 'mul', inputs: ['input', 'b'], attrs: {}, scope: 't' }), ['b']);
    expectClose(mul('y'), Array.from(x, (t, i) => t * mul('b')[i]));
    const bc = build((b) => b.add({ id: 'y', op: 'mul', inputs: ['b', 's'], attrs: {}, scope: 't' }), ['b', 's']);
    expectClose(bc('y'), Array.from(bc('b'), (t, i) => t * bc('s')[Math.floor(i / 20)]));
    const sc = build((b) => b.add({ id: 'y', op: 'scale', inputs: ['b', 's'], attrs: { residual: false }, scope: 't' }), ['b', 's']);
    expectClose(sc('y'), Array.from(sc('b'), (t, i) => t * sc('s')[Math.floor(i / 20)]));
    const sr = build((b) => b.add({ id: 'y', op: 'scale', inputs: ['b', 's', 'input'], attrs: { residual: true }, scope: 't' }), ['b', 's']);
    expectClose(sr('y'), Array.from(sr('b'), (t, i) => t * sr('s')[Math.floor(i / 20)] + x[i]));
  });

  it('se_gate ese: act(W gap(z) + b), W [C,C,1,1]', () => {
    const w = randn([3, 3, 1, 1], 22);
    const bias = randn([3], 23);
    const v = build((b) => {
      b.param('fw', [3, 3, 1, 1], w);
      b.param('fb', [3], bias);
      b.add({ id: 'y', op: 'se_gate', inputs: ['b'], attrs: { mode: 'ese', kernel: 1, act: 'hardsigmoid' }, params: { weight: 'fw', bias: 'fb' }, scope: 't' });
    }, ['s']);
    const s = v('s');
    const want: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 3; o++) {
        let t = bias[o];
        for (let c = 0; c < 3; c++) t += w[o * 3 + c] * s[n * 3 + c];
        want.push(Math.min(6, Math.max(0, t + 3)) / 6);
      }
    expectClose(v('y'), want);
  });

  it('se_gate eca: sigmoid(conv1d_k(gap(z)))', () => {
    const w = randn([3], 24);
    const v = build((b) => {
      b.param('cw', [1, 1, 3], w);
      b.add({ id: 'y', op: 'se_gate', inputs: ['b'], attrs: { mode: 'eca', kernel: 3, act: 'sigmoid' }, params: { weight: 'cw' }, scope: 't' });
    }, ['s']);
    const s = v('s');
    const want: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) {
        let t = 0;
        for (let j = 0; j < 3; j++) if (c + j - 1 >= 0 && c + j - 1 < 3) t += w[j] * s[n * 3 + c + j - 1];
        want.push(1 / (1 + Math.exp(-t)));
      }
    expectClose(v('y'), want);
  });
});

describe('GEMM tile kernels', () => {
  it('WebAssembly SIMD and JavaScript tiles give bit-identical convs, whatever the work split', () => {
    const simd = createWorkspace(true);
    const js = createWorkspace(false);
    expect(simd.simd).toBe(true); // Node >= 16.4 has WebAssembly SIMD
    expect(js.simd).toBe(false);
    const [n, cin, h, w, cout] = [2, 24, 9, 13, 10];
    const x = randn([n, cin, h, w], 40);
    let id = 0;
    const job = (out: Float32Array): ConvJob => ({
      id: id++, x, w: randn([cout, cin / 2, 3, 3], 41), bias: randn([cout], 42), res: null, out,
      n, cin, inH: h, inW: w, cout, outH: 5, outW: 7, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, groups: 2, act: 1, actFn: (v) => (v > 0 ? v : 0),
    });
    const a = new Float32Array(n * cout * 35);
    const b = new Float32Array(n * cout * 35);
    convGemm(job(a), 0, cout, 0, 35, simd);
    // The JavaScript tile over three pieces: channel ranges that cut a group, pixel ranges off the 4-column grid.
    convGemm(job(b), 0, 3, 0, 35, js);
    convGemm(job(b), 3, cout, 0, 17, js);
    convGemm(job(b), 3, cout, 17, 35, js);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(a.some((v) => v !== 0)).toBe(true);
  });
});

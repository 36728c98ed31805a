// Whole-graph behaviour of the reference interpreter: fused ops against their unfused
// compositions, threads=1 against threads=2, liveness (no output lost), and its errors.
import { describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { runReference, runReferenceSync } from '../../src/runtime/reference.js';
import { getPool } from '../../src/runtime/worker.js';
import { META, convAttrs, expectClose, poolAttrs, randn } from './util.js';

const input = (g: Graph, seed = 1) => ({ shape: g.input.shape, data: randn(g.input.shape, seed, -2, 2) });

describe('fused ops equal their unfused compositions', () => {
  const xs = [2, 6, 7, 5];

  it('conv2d(bias, relu, residual) = relu(conv2d(bias)) + r', () => {
    const build = (fused: boolean) => {
      const b = new GraphBuilder('t', xs, META);
      b.param('w', [6, 6, 3, 3], randn([6, 6, 3, 3], 2));
      b.param('b', [6], randn([6], 3));
      b.add({ id: 'r', op: 'act', inputs: ['input'], attrs: { fn: 'sigmoid' }, scope: 't' });
      if (fused) b.add({ id: 'y', op: 'conv2d', inputs: ['input', 'r'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 1, 'relu', true), params: { weight: 'w', bias: 'b' }, scope: 't' });
      else {
        b.add({ id: 'c', op: 'conv2d', inputs: ['input'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1]), params: { weight: 'w', bias: 'b' }, scope: 't' });
        b.add({ id: 'a', op: 'act', inputs: ['c'], attrs: { fn: 'relu' }, scope: 't' });
        b.add({ id: 'y', op: 'add', inputs: ['a', 'r'], attrs: {}, scope: 't' });
      }
      b.output('y', 'y');
      return b.build();
    };
    const x = input(build(true));
    expectClose(runReferenceSync(build(true), x).get('y')!.data, runReferenceSync(build(false), x).get('y')!.data, 1e-6, 1e-6);
  });

  it('conv2d(act hardsigmoid / sigmoid) = activation op after the conv', () => {
    for (const [act, unfused] of [['hardsigmoid', 'hardsigmoid'], ['sigmoid', 'sigmoid']] as const) {
      const build = (fused: boolean) => {
        const b = new GraphBuilder('t', xs, META);
        b.param('w', [4, 6, 1, 1], randn([4, 6, 1, 1], 4));
        b.add({ id: fused ? 'y' : 'c', op: 'conv2d', inputs: ['input'], attrs: convAttrs([1, 1], [1, 1], [0, 0, 0, 0], 1, fused ? act : 'none'), params: { weight: 'w' }, scope: 't' });
        if (!fused) {
          if (unfused === 'hardsigmoid') b.add({ id: 'y', op: 'act', inputs: ['c'], attrs: { fn: 'hardsigmoid' }, scope: 't' });
          else b.add({ id: 'y', op: 'act', inputs: ['c'], attrs: { fn: 'sigmoid' }, scope: 't' });
        }
        b.output('y', 'y');
        return b.build();
      };
      const x = input(build(true));
      expectClose(runReferenceSync(build(true), x).get('y')!.data, runReferenceSync(build(false), x).get('y')!.data, 1e-6, 1e-6);
    }
  });

  it('se_gate + scale(residual) = gap, fc / eca, gate, mul, add', () => {
    for (const mode of ['ese', 'eca'] as const) {
      const build = (fused: boolean) => {
        const b = new GraphBuilder('t', xs, META);
        if (mode === 'ese') {
          b.param('fw', [6, 6, 1, 1], randn([6, 6, 1, 1], 5));
          b.param('fb', [6], randn([6], 6));
        } else b.param('cw', [1, 1, 3], randn([1, 1, 3], 7));
        b.add({ id: 'z', op: 'act', inputs: ['input'], attrs: { fn: 'relu' }, scope: 't' });
        const params: Record<string, string> = mode === 'ese' ? { weight: 'fw', bias: 'fb' } : { weight: 'cw' };
        const act = mode === 'ese' ? 'hardsigmoid' : 'sigmoid';
        if (fused) {
          b.add({ id: 's', op: 'se_gate', inputs: ['z'], attrs: { mode, kernel: mode === 'ese' ? 1 : 3, act }, params, scope: 't' });
          b.add({ id: 'y', op: 'scale', inputs: ['z', 's', 'input'], attrs: { residual: true }, scope: 't' });
        } else {
          b.add({ id: 'gap', op: 'global_avg_pool', inputs: ['z'], attrs: {}, scope: 't' });
          if (mode === 'ese') {
            b.add({ id: 'fc', op: 'conv2d', inputs: ['gap'], attrs: convAttrs([1, 1], [1, 1], [0, 0, 0, 0]), params, scope: 't' });
            b.add({ id: 's', op: 'act', inputs: ['fc'], attrs: { fn: 'hardsigmoid' }, scope: 't' });
          } else {
            b.add({ id: 'fc', op: 'eca_conv1d', inputs: ['gap'], attrs: { kernel: 3 }, params, scope: 't' });
            b.add({ id: 's', op: 'act', inputs: ['fc'], attrs: { fn: 'sigmoid' }, scope: 't' });
          }
          b.add({ id: 'm', op: 'mul', inputs: ['z', 's'], attrs: {}, scope: 't' });
          b.add({ id: 'y', op: 'add', inputs: ['m', 'input'], attrs: {}, scope: 't' });
        }
        b.output('y', 'y');
        b.output('s', 's');
        return b.build();
      };
      const x = input(build(true));
      const [f, u] = [runReferenceSync(build(true), x), runReferenceSync(build(false), x)];
      expectClose(f.get('s')!.data, u.get('s')!.data, 1e-6, 1e-6);
      expectClose(f.get('y')!.data, u.get('y')!.data, 1e-6, 1e-6);
    }
  });

  it('linear on [N,C,1,1] = flatten then linear; in-place concat = concat', () => {
    const build = (fused: boolean) => {
      const b = new GraphBuilder('t', [1, 6, 7, 5], META);
      b.param('w1', [3, 6, 3, 3], randn([3, 6, 3, 3], 8));
      b.param('w2', [2, 3, 3, 3], randn([2, 3, 3, 3], 9));
      b.param('lw', [4, 11], randn([4, 11], 10));
      b.add({ id: 'c1', op: 'conv2d', inputs: ['input'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1], 1, 'relu'), params: { weight: 'w1' }, scope: 't' });
      b.add({ id: 'c2', op: 'conv2d', inputs: ['c1'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1]), params: { weight: 'w2' }, scope: 't' });
      b.add({ id: 'r2', op: 'act', inputs: ['c2'], attrs: { fn: 'relu' }, scope: 't' });
      b.add({ id: 'cat', op: 'concat', inputs: ['input', 'c1', 'r2'], attrs: { axis: 1, inplace: fused }, scope: 't' });
      b.add({ id: 'gap', op: 'global_avg_pool', inputs: ['cat'], attrs: {}, scope: 't' });
      if (fused) b.add({ id: 'y', op: 'linear', inputs: ['gap'], attrs: {}, params: { weight: 'lw' }, scope: 't' });
      else {
        b.add({ id: 'f', op: 'flatten', inputs: ['gap'], attrs: {}, scope: 't' });
        b.add({ id: 'y', op: 'linear', inputs: ['f'], attrs: {}, params: { weight: 'lw' }, scope: 't' });
      }
      b.output('y', 'y');
      b.output('cat', 'cat');
      b.output('c1', 'c1');
      return b.build();
    };
    const x = input(build(true));
    const [f, u] = [runReferenceSync(build(true), x), runReferenceSync(build(false), x)];
    for (const name of ['y', 'cat', 'c1']) expect(Array.from(f.get(name)!.data)).toEqual(Array.from(u.get(name)!.data));
    expect(Array.from(f.get('cat')!.data.subarray(0, 6 * 35))).toEqual(Array.from(x.data));
  });
});

describe('threads', () => {
  // Each conv is above the size where work goes to the workers, and covers one way of splitting it.
  function net(): Graph {
    const b = new GraphBuilder('t', [1, 16, 64, 64], META);
    const conv = (id: string, x: string, cin: number, cout: number, k: number, s: number, groups = 1, act: 'relu' | 'none' = 'relu', res?: string) => {
      b.param(`${id}.w`, [cout, cin / groups, k, k], randn([cout, cin / groups, k, k], id.length * 7 + cout, -0.3, 0.3));
      b.param(`${id}.b`, [cout], randn([cout], cin + cout));
      const p = (k - 1) >> 1;
      return b.add({ id, op: 'conv2d', inputs: res ? [x, res] : [x], attrs: convAttrs([k, k], [s, s], [p, p, p, p], groups, act, !!res), params: { weight: `${id}.w`, bias: `${id}.b` }, scope: 't' });
    };
    const pool = (id: string, x: string) => b.add({ id, op: 'maxpool', inputs: [x], attrs: poolAttrs(3, 2, 0, true), scope: 't' });
    let y = conv('pixels', 'input', 16, 64, 3, 1); // 4096 pixels: split by pixels
    y = conv('dw', y, 64, 64, 3, 1, 64); // depthwise: split by channels
    y = conv('grouped', y, 64, 64, 3, 1, 4, 'relu', 'pixels'); // groups within a pixel split
    y = pool('pool3', pool('pool2', pool('pool1', y))); // 64 -> 32 -> 16 -> 8
    y = conv('channels', y, 64, 260, 3, 1); // 64 pixels: split by output channels (M tail)
    y = conv('grouped2', y, 260, 260, 3, 1, 4); // a channel split that cuts a group
    y = conv('point', y, 260, 260, 1, 1, 1, 'none');
    b.output('out', y);
    b.output('pixels', 'pixels');
    return b.build();
  }

  it('threads=2 gives bit-identical results to threads=1 (and to the sync entry point)', async () => {
    const g = net();
    const x = input(g, 11);
    const one = await runReference(g, x, { threads: 1 });
    const before = getPool(1).dispatched;
    const two = await runReference(g, x, { threads: 2 });
    expect(getPool(1).dispatched - before).toBe(6); // every conv of the net was shared with the worker
    const sync = runReferenceSync(g, x);
    for (const name of ['out', 'pixels']) {
      expect(two.get(name)!.shape).toEqual(one.get(name)!.shape);
      expect(Buffer.from(two.get(name)!.data.buffer).equals(Buffer.from(one.get(name)!.data.buffer))).toBe(true);
      expect(Buffer.from(sync.get(name)!.data.buffer).equals(Buffer.from(one.get(name)!.data.buffer))).toBe(true);
    }
    // Three threads split differently again (ranges not aligned to the two-way split).
    const three = await runReference(g, x, { threads: 3 });
    expect(Buffer.from(three.get('out')!.data.buffer).equals(Buffer.from(one.get('out')!.data.buffer))).toBe(true);
  });
});

describe('liveness: every requested value survives', () => {
  // A backbone: stage outputs are both graph outputs and inputs of later nodes.
  function backbone(): Graph {
    const b = new GraphBuilder('bb', [1, 3, 12, 12], META);
    let x = 'input';
    for (let s = 0; s < 3; s++) {
      const cin = s === 0 ? 3 : 4;
      b.param(`s${s}.w`, [4, cin, 3, 3], randn([4, cin, 3, 3], 30 + s));
      const c = b.add({ id: `s${s}.conv`, op: 'conv2d', inputs: [x], attrs: convAttrs([3, 3], [2, 2], [1, 1, 1, 1]), params: { weight: `s${s}.w` }, scope: 't' });
      x = b.add({ id: `stage${s}`, op: 'act', inputs: [c], attrs: { fn: 'relu' }, scope: 't' });
      b.output(`stage${s}`, x);
    }
    b.output('again', 'stage1');
    return b.build();
  }

  it('returns stage outputs that later nodes read, and one value under two names', async () => {
    const g = backbone();
    const x = input(g, 12);
    const r = await runReference(g, x, { threads: 1 });
    expect([...r.keys()]).toEqual(['stage0', 'stage1', 'stage2', 'again']);
    expect(r.get('stage0')!.shape).toEqual([1, 4, 6, 6]);
    expect(r.get('stage2')!.shape).toEqual([1, 4, 2, 2]);
    expect(Array.from(r.get('again')!.data)).toEqual(Array.from(r.get('stage1')!.data));
    // The same values when each is computed alone (a pruned run), and intermediate values on request.
    for (const name of ['stage0', 'stage1', 'stage2']) {
      const alone = runReferenceSync(g, x, { outputs: [name] });
      expect([...alone.keys()]).toEqual([name]);
      expect(Array.from(alone.get(name)!.data)).toEqual(Array.from(r.get(name)!.data));
    }
    const mid = runReferenceSync(g, x, { outputs: ['s1.conv', 'input'] });
    expect(Array.from(mid.get('s1.conv')!.data).map((v) => Math.max(0, v))).toEqual(Array.from(r.get('stage1')!.data));
    expect(Array.from(mid.get('input')!.data)).toEqual(Array.from(x.data));
  });

  it('frees each value after its last reader: a chain of 30 ops keeps at most 2 tensors alive', async () => {
    const b = new GraphBuilder('chain', [1, 4, 16, 16], META);
    let v = 'input';
    for (let i = 0; i < 30; i++) v = b.add({ id: `n${i}`, op: 'act', inputs: [v], attrs: { fn: i % 2 ? 'relu' : 'sigmoid' }, scope: 't' });
    b.output('y', v);
    const g = b.build();
    const bytes = 4 * 16 * 16 * 4;
    for (const threads of [1, 2]) {
      const live: number[] = [];
      await runReference(g, input(g), { threads, onNode: (_n, _ms, liveBytes) => live.push(liveBytes) });
      expect(live.length).toBe(30);
      expect(live[0]).toBe(bytes); // after the first node: its result only (the input's last reader ran)
      expect(Math.max(...live)).toBe(bytes);
    }
  });

  it('returns standalone copies (results do not alias one another or the input)', () => {
    const g = backbone();
    const x = input(g, 13);
    const r = runReferenceSync(g, x, { outputs: ['input', 'stage1', 'again'] });
    expect(r.get('input')!.data).not.toBe(x.data);
    expect(r.get('again')!.data.buffer).not.toBe(r.get('stage1')!.data.buffer);
  });
});

describe('errors', () => {
  const g = (() => {
    const b = new GraphBuilder('small', [1, 2, 4, 4], META);
    b.param('conv.weight', [3, 2, 3, 3], null);
    b.param('ok.weight', [3, 2, 1, 1], randn([3, 2, 1, 1], 1));
    b.add({ id: 'conv', op: 'conv2d', inputs: ['input'], attrs: convAttrs([3, 3], [1, 1], [1, 1, 1, 1]), params: { weight: 'conv.weight' }, scope: 't' });
    b.add({ id: 'ok', op: 'conv2d', inputs: ['input'], attrs: convAttrs([1, 1], [1, 1], [0, 0, 0, 0]), params: { weight: 'ok.weight' }, scope: 't' });
    b.output('logits', 'conv');
    b.output('side', 'ok');
    return b.build();
  })();
  const x = { shape: [1, 2, 4, 4], data: new Float32Array(32) };

  function error(f: () => unknown): VovcError {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(VovcError);
      return e as VovcError;
    }
    throw new Error('expected a VovcError');
  }

  it('names a parameter without data, unless its node is not needed', () => {
    const e = error(() => runReferenceSync(g, x));
    expect(e.diagnostics[0].message).toMatch(/parameter 'conv\.weight' .*has no data/);
    expect(runReferenceSync(g, x, { outputs: ['side'] }).get('side')!.shape).toEqual([1, 3, 4, 4]);
  });

  it('rejects an input of another shape or length', () => {
    expect(error(() => runReferenceSync(g, { shape: [1, 2, 5, 4], data: new Float32Array(40) }, { outputs: ['side'] })).message).toBe(
      "input shape [1,2,5,4] does not match the model's [1,2,4,4]",
    );
    expect(error(() => runReferenceSync(g, { shape: [1, 2, 4, 4], data: new Float32Array(31) }, { outputs: ['side'] })).message).toMatch(/holds 31 values/);
  });

  it('rejects unknown outputs with a suggestion, and bad thread counts', async () => {
    const e = error(() => runReferenceSync(g, x, { outputs: ['sid'] }));
    expect(e.message).toMatch(/no output or value 'sid'/);
    expect(e.diagnostics[0].notes).toEqual(["did you mean 'side'?"]);
    await expect(runReference(g, x, { outputs: ['side'], threads: 0 })).rejects.toThrow(/threads must be an integer/);
    await expect(runReference(g, x, { outputs: ['side'], threads: 1.5 })).rejects.toBeInstanceOf(VovcError);
  });

  it('rejects a graph that does not verify', () => {
    const bad: Graph = { ...g, nodes: g.nodes.map((n) => (n.id === 'ok' ? { ...n, inputs: ['missing'] } : n)) };
    expect(error(() => runReferenceSync(bad, x, { outputs: ['side'] })).message).toMatch(/missing/);
  });
});

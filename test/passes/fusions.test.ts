// Unit tests of the fusion passes on hand-written IR: before/after IR text and records.
import { describe, expect, test } from 'vitest';
import { verify } from '../../src/ir/verify.js';
import { dce } from '../../src/passes/dce.js';
import { dropFlatten } from '../../src/passes/drop-flatten.js';
import { fuseConvAct } from '../../src/passes/fuse-conv-act.js';
import { fuseResidual } from '../../src/passes/fuse-residual.js';
import { fuseScale } from '../../src/passes/fuse-scale.js';
import { fuseSeGate } from '../../src/passes/fuse-se-gate.js';
import { body, builder, conv, op, runPass } from './ir.js';

describe('dce', () => {
  test('drops what no output needs, keeps the rest in order', () => {
    const b = builder();
    const c = conv(b, 'a', 'input', 4);
    op(b, 'dead1', 'relu', [c]);
    op(b, 'dead2', 'sigmoid', ['dead1']);
    b.output('y', op(b, 'live', 'relu', [c]));
    const r = runPass(dce, b.build());
    expect(body(r.after)).toBe(['%a = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=a.weight : [1,4,6,6]', '%live = relu(%a) : [1,4,6,6]', 'return y=%live'].join('\n'));
    expect(r.records.map((x) => x.nodes[0])).toEqual(['dead1', 'dead2']);
  });

  test('returns the same graph when nothing is dead', () => {
    const b = builder();
    b.output('y', conv(b, 'a', 'input', 4));
    const g = b.build();
    expect(dce.run(g)).toBe(g);
  });
});

describe('fuse-conv-act', () => {
  test('relu and sigmoid join the conv epilogue; the value keeps the conv id', () => {
    const b = builder();
    const c1 = conv(b, 'c1', 'input', 4, { bias: true });
    const r1 = op(b, 'c1.relu', 'relu', [c1]);
    const c2 = conv(b, 'c2', r1, 4);
    b.output('y', op(b, 'c2.sig', 'sigmoid', [c2]));
    const r = runPass(fuseConvAct, b.build());
    expect(body(r.after)).toBe(
      [
        '%c1 = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1 act=relu} w=c1.weight b=c1.bias : [1,4,6,6]',
        '%c2 = conv2d(%c1) {k=3x3 s=1x1 p=1,1,1,1 g=1 act=sigmoid} w=c2.weight : [1,4,6,6]',
        'return y=%c2',
      ].join('\n'),
    );
    expect(r.g.nodes.map((n) => n.fused)).toEqual([['c1', 'c1.relu'], ['c2', 'c2.sig']]);
  });

  test('every activation of the table fuses (hard-sigmoid, SiLU, Hardswish too)', () => {
    for (const fn of ['hardsigmoid', 'silu', 'hardswish'] as const) {
      const b = builder();
      const c = conv(b, 'fc', 'input', 4, { k: 1, bias: true });
      b.output('y', op(b, 'gate', fn, [c]));
      const r = runPass(fuseConvAct, b.build());
      expect(body(r.after)).toBe([`%fc = conv2d(%input) {k=1x1 s=1x1 p=0,0,0,0 g=1 act=${fn}} w=fc.weight b=fc.bias : [1,4,6,6]`, 'return y=%fc'].join('\n'));
      expect(r.records[0].detail).toBe(`fused ${fn} 'gate' into conv 'fc' (act ${fn})`);
    }
  });

  test('a conv read by another node keeps its separate relu', () => {
    const b = builder();
    const c = conv(b, 'c', 'input', 4);
    const r1 = op(b, 'r', 'relu', [c]);
    b.output('y', op(b, 'sum', 'add', [r1, c]));
    const r = runPass(fuseConvAct, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records[0].detail).toContain("'c' is also read by 'sum'");
  });
});

describe('fuse-se-gate', () => {
  test('eSE: gap -> 1x1 conv (bias, hardsigmoid epilogue) becomes se_gate; ECA: gap -> conv1d -> sigmoid too', () => {
    const b = builder([1, 8, 5, 5]);
    const gap = op(b, 'attn.gap', 'global_avg_pool', ['input']);
    const fc = conv(b, 'attn.fc', gap, 8, { k: 1, bias: true, act: 'hardsigmoid' });
    const z = op(b, 'attn.mul', 'mul', ['input', fc]);
    const gap2 = op(b, 'eca.gap', 'global_avg_pool', [z]);
    b.param('eca.conv.weight', [1, 1, 5], null);
    const e = b.add({ id: 'eca.conv', op: 'eca_conv1d', inputs: [gap2], attrs: { kernel: 5 }, params: { weight: 'eca.conv.weight' }, scope: 's' });
    const s = op(b, 'eca.gate', 'sigmoid', [e]);
    b.output('y', op(b, 'eca.mul', 'mul', [z, s]));
    const r = runPass(fuseSeGate, b.build());
    expect(body(r.after)).toBe(
      [
        '%attn.fc = se_gate(%input) {act=hardsigmoid kernel=1 mode=ese} w=attn.fc.weight b=attn.fc.bias : [1,8,1,1]',
        '%attn.mul = mul(%input, %attn.fc) : [1,8,5,5]',
        '%eca.conv = se_gate(%attn.mul) {act=sigmoid kernel=5 mode=eca} w=eca.conv.weight : [1,8,1,1]',
        '%eca.mul = mul(%attn.mul, %eca.conv) : [1,8,5,5]',
        'return y=%eca.mul',
      ].join('\n'),
    );
    expect(r.g.nodes[2].fused).toEqual(['eca.gap', 'eca.conv', 'eca.gate']);
    expect(verify(r.g)).toEqual([]);
  });

  test('a 1x1 conv that changes the width, or a gap with other readers, is not a gate', () => {
    const b = builder([1, 8, 5, 5]);
    const gap = op(b, 'gap', 'global_avg_pool', ['input']);
    const fc = conv(b, 'fc', gap, 4, { k: 1, bias: true });
    const gap2 = op(b, 'gap2', 'global_avg_pool', ['input']);
    const fc2 = conv(b, 'fc2', gap2, 8, { k: 1, bias: true });
    b.output('a', fc);
    b.output('b', op(b, 'm', 'add', [fc2, gap2]));
    const r = runPass(fuseSeGate, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records.map((x) => x.detail)).toEqual(["kept 'gap' and 'fc' apart: conv 'fc' maps 8 to 4 channels (eSE keeps the width)", "kept 'gap2' and 'fc2' apart: 'gap2' is also read by 'm'"]);
  });
});

describe('fuse-scale', () => {
  test('mul(z, s) + add(x) becomes one scale{residual}, whichever side of the add the product is on', () => {
    const b = builder([1, 8, 5, 5]);
    const z = conv(b, 'z', 'input', 8);
    const s = op(b, 's', 'global_avg_pool', [z]);
    const m = op(b, 'm', 'mul', [z, s]);
    b.output('y', op(b, 'add', 'add', ['input', m]));
    const r = runPass(fuseScale, b.build());
    expect(body(r.after).split('\n').slice(2)).toEqual(['%m = scale(%z, %s, %input) {residual} : [1,8,5,5]', 'return y=%m']);
    expect(r.g.nodes[2].fused).toEqual(['m', 'add']);
  });

  test('a product that is also an output keeps its add', () => {
    const b = builder([1, 8, 5, 5]);
    const s = op(b, 's', 'global_avg_pool', ['input']);
    const m = op(b, 'm', 'mul', ['input', s]);
    b.output('y', op(b, 'add', 'add', [m, 'input']));
    b.output('gated', m);
    const r = runPass(fuseScale, b.build());
    expect(body(r.after).split('\n').slice(1)).toEqual(['%m = scale(%input, %s) : [1,8,5,5]', '%add = add(%m, %input) : [1,8,5,5]', 'return y=%add, gated=%m']);
    expect(r.records[0].detail).toBe("kept add 'add' apart from 'm': 'm' is a graph output");
  });

  test('a full-size elementwise mul is not a gate', () => {
    const b = builder([1, 8, 5, 5]);
    b.output('y', op(b, 'm', 'mul', ['input', 'input']));
    const g = b.build();
    expect(fuseScale.run(g)).toBe(g);
  });
});

describe('fuse-residual', () => {
  test('add(conv(x), r) moves into the conv epilogue with inputs [x, r]', () => {
    const b = builder();
    const a = conv(b, 'a', 'input', 4, { act: 'relu' });
    const c = conv(b, 'c', a, 4, { k: 1, bias: true, act: 'relu' });
    b.output('y', op(b, 'add', 'add', [a, c]));
    const r = runPass(fuseResidual, b.build());
    expect(body(r.after).split('\n').slice(1)).toEqual(['%c = conv2d(%a, %a) {k=1x1 s=1x1 p=0,0,0,0 g=1 act=relu residual} w=c.weight b=c.bias : [1,4,6,6]', 'return y=%c']);
    expect(r.records[0].detail).toBe("fused residual add 'add' into conv 'c' (adds 'a' after relu)");
    expect(verify(r.g)).toEqual([]);
  });

  test('a conv whose output is read elsewhere keeps the add', () => {
    const b = builder();
    const c = conv(b, 'c', 'input', 4);
    const s = op(b, 'add', 'add', [c, 'input']);
    b.output('y', op(b, 'm', 'add', [s, c]));
    const r = runPass(fuseResidual, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records.map((x) => x.detail)).toEqual(["kept add 'add': 'c' is also read by 'm'", "kept add 'm': 'c' is also read by 'add'"]);
  });
});

describe('drop-flatten', () => {
  test('flatten of [N,C,1,1] before linear goes; linear reads the pooled tensor', () => {
    const b = builder([2, 8, 3, 3]);
    const gap = op(b, 'head.gap', 'global_avg_pool', ['input']);
    const f = op(b, 'head.flatten', 'flatten', [gap]);
    b.param('head.fc.weight', [5, 8], null);
    b.output('logits', b.add({ id: 'head.fc', op: 'linear', inputs: [f], attrs: {}, params: { weight: 'head.fc.weight' }, scope: 'head' }));
    const r = runPass(dropFlatten, b.build());
    expect(body(r.after)).toBe(['%head.gap = global_avg_pool(%input) : [2,8,1,1]', '%head.fc = linear(%head.gap) w=head.fc.weight : [2,5]', 'return logits=%head.fc'].join('\n'));
    expect(r.g.nodes[1].fused).toEqual(['head.flatten', 'head.fc']);
  });

  test('a flatten of a spatial tensor stays', () => {
    const b = builder([2, 8, 3, 3]);
    b.output('y', op(b, 'f', 'flatten', ['input']));
    const r = runPass(dropFlatten, b.build());
    expect(r.after).toBe(r.before);
    expect(r.records[0].detail).toBe("kept flatten 'f': its input [2,8,3,3] is not [N,C,1,1]");
  });
});

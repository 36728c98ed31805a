// Every pass on IR text: a graph written as text before the pass, and the text expected after
// it (the parser reads the first, the printer writes what the pass made). One case per rule.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/printer.js';
import { PIPELINE } from '../../src/passes/manager.js';

const pass = (name: string) => PIPELINE.find((p) => p.name === name)!;

/** `before` and `expected` are graph bodies; the header and return lines are the same for both. */
function check(name: string, header: string, before: string, expected: string): void {
  const g = parseGraph(`${header}\n${before}`, 'before.ir');
  const body = (t: string) => t.trim().split('\n').map((l) => l.trim()).join('\n');
  expect(body(printGraph(pass(name).run(g)).split('\n').slice(1).join('\n'))).toBe(body(expected));
}

const H = 'graph t(%input: f32[1,4,6,6]) naming=timm';

describe('passes, before and expected IR text', () => {
  it('dce: nodes no output needs go', () => {
    check('dce', H, `
      %a = relu(%input) : [1,4,6,6]
      %dead = sigmoid(%a) : [1,4,6,6]
      return y=%a`, `
      %a = relu(%input) : [1,4,6,6]
      return y=%a`);
  });

  it('fold-bn: BN into the conv before it, which gains a bias', () => {
    check('fold-bn', H, `
      %c = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=c.weight : [1,4,6,6]
      %bn = batchnorm(%c) {eps=0.00001} w=bn.weight b=bn.bias running_mean=bn.running_mean running_var=bn.running_var : [1,4,6,6]
      return y=%bn`, `
      %c = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=c.weight b=c.bias : [1,4,6,6]
      return y=%c`);
  });

  it('fuse-conv-act: the activation joins the conv epilogue (SiLU here)', () => {
    check('fuse-conv-act', H, `
      %c = conv2d(%input) {k=1x1 s=1x1 p=0,0,0,0 g=1} w=c.weight b=c.bias : [1,4,6,6]
      %a = silu(%c) : [1,4,6,6]
      return y=%a`, `
      %c = conv2d(%input) {k=1x1 s=1x1 p=0,0,0,0 g=1 act=silu} w=c.weight b=c.bias : [1,4,6,6]
      return y=%c`);
  });

  it('fuse-se-gate: global pool, fc and gate become one se_gate', () => {
    check('fuse-se-gate', H, `
      %z = relu(%input) : [1,4,6,6]
      %g = global_avg_pool(%z) : [1,4,1,1]
      %fc = conv2d(%g) {k=1x1 s=1x1 p=0,0,0,0 g=1 act=hardsigmoid} w=fc.weight b=fc.bias : [1,4,1,1]
      %m = mul(%z, %fc) : [1,4,6,6]
      return y=%m`, `
      %z = relu(%input) : [1,4,6,6]
      %fc = se_gate(%z) {act=hardsigmoid kernel=1 mode=ese} w=fc.weight b=fc.bias : [1,4,1,1]
      %m = mul(%z, %fc) : [1,4,6,6]
      return y=%m`);
  });

  it('fuse-scale: the gating multiply and the shortcut add become one scale', () => {
    check('fuse-scale', H, `
      %s = sigmoid(%input) : [1,4,6,6]
      %g = global_avg_pool(%s) : [1,4,1,1]
      %m = mul(%s, %g) : [1,4,6,6]
      %add = add(%m, %input) : [1,4,6,6]
      return y=%add`, `
      %s = sigmoid(%input) : [1,4,6,6]
      %g = global_avg_pool(%s) : [1,4,1,1]
      %m = scale(%s, %g, %input) {residual} : [1,4,6,6]
      return y=%m`);
  });

  it('fuse-residual: the shortcut add joins the conv epilogue', () => {
    check('fuse-residual', H, `
      %c = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1 act=relu} w=c.weight b=c.bias : [1,4,6,6]
      %add = add(%c, %input) : [1,4,6,6]
      return y=%add`, `
      %c = conv2d(%input, %input) {k=3x3 s=1x1 p=1,1,1,1 g=1 act=relu residual} w=c.weight b=c.bias : [1,4,6,6]
      return y=%c`);
  });

  it('concat-inplace: the OSA concat is marked in place', () => {
    check('concat-inplace', H, `
      %a = relu(%input) : [1,4,6,6]
      %b = sigmoid(%a) : [1,4,6,6]
      %cat = concat(%a, %b) {axis=1} : [1,8,6,6]
      return y=%cat`, `
      %a = relu(%input) : [1,4,6,6]
      %b = sigmoid(%a) : [1,4,6,6]
      %cat = concat(%a, %b) {axis=1 inplace} : [1,8,6,6]
      return y=%cat`);
  });

  it('drop-flatten: linear reads the pooled [N,C,1,1] tensor', () => {
    check('drop-flatten', H, `
      %g = global_avg_pool(%input) : [1,4,1,1]
      %f = flatten(%g) : [1,4]
      %fc = linear(%f) w=fc.weight b=fc.bias : [1,10]
      return logits=%fc`, `
      %g = global_avg_pool(%input) : [1,4,1,1]
      %fc = linear(%g) w=fc.weight b=fc.bias : [1,10]
      return logits=%fc`);
  });
});

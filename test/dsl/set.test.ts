// --set overrides: every documented key applied to a model, and the errors of bad keys/values.

import { describe, expect, test } from 'vitest';
import { SET_KEYS } from '../../src/dsl/resolve.js';
import { loadModel } from '../../src/dsl/zoo.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { DENSENET40, dense, loadErrors, osa, vovFile } from './helpers.js';

const denseNet = vovFile(DENSENET40);
/** A model whose stage2 overrides the 'osa:' defaults, to show that global keys win over both. */
const mixed = vovFile(`
model mixed
  stem: conv 3x3 64 /2, conv 3x3 64, conv 3x3 128 /2
  osa: layers 5, residual after-first, attention ese on last
  stage2: osa 64 -> 128 x2, layers 3, residual all, attention eca kernel 3 on all, depthwise false
  stage3: maxpool 3x3 /2 ceil, osa 80 -> 256 x2
  head: classifier 1000
`);

type Case = [model: string, set: string[], check: (s: ModelSpec) => void];

const CASES: Case[] = [
  ['vovnet57', ['stage4.blocks=6'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.blocks : 0))).toEqual([1, 1, 6, 3])],
  ['vovnet39', ['stage3.mid=192', 'stage3.out=512'], (s) => expect([osa(s, 'stage3').mid, osa(s, 'stage3').out]).toEqual([192, 512])],
  [mixed, ['layers=3'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.layers : 0))).toEqual([3, 3])],
  [mixed, ['blocks=4'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.blocks : 0))).toEqual([4, 4])],
  ['vovnet39', ['stage2.layers=4'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.layers : 0))).toEqual([4, 5, 5, 5])],
  [mixed, ['attention=eca'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.attention : ''))).toEqual(['eca', 'eca'])],
  [mixed, ['attention.where=all'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.attentionWhere : ''))).toEqual(['all', 'all'])],
  [mixed, ['attention=eca', 'attention.kernel=7'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.ecaKernel : 0))).toEqual([7, 7])],
  [mixed, ['residual=none'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.residual : ''))).toEqual(['none', 'none'])],
  [mixed, ['depthwise=true'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.depthwise : ''))).toEqual([true, true])],
  ['vovnet39', ['classes=10'], (s) => expect([s.head, s.outputs]).toMatchObject([{ kind: 'classifier', classes: 10 }, ['logits']])],
  ['vovnet39', ['head=backbone'], (s) => expect([s.head.kind, s.outputs]).toEqual(['backbone', ['stage2', 'stage3', 'stage4', 'stage5']])],
  ['V-39-eSE', ['head=classifier 5'], (s) => expect([s.head, s.outputs]).toMatchObject([{ kind: 'classifier', classes: 5 }, ['logits']])],
  ['V-39-eSE', ['outputs=stage3,stage4,stage5'], (s) => expect(s.outputs).toEqual(['stage3', 'stage4', 'stage5'])],
  ['vovnet39', ['outputs=stem, stage5, logits'], (s) => expect(s.outputs).toEqual(['stem', 'stage5', 'logits'])],
  ['vovnet39', ['input=1x3x320x320'], (s) => expect(s.input).toEqual([1, 3, 320, 320])],
  ['vovnet39', ['bn.eps=1e-3'], (s) => expect(s.bnEps).toBe(1e-3)],
  ['vovnet39', ['activation=silu'], (s) => expect(s.activation).toBe('silu')],
  ['vovnet39', ['naming=timm'], (s) => expect([s.naming, s.preprocessing]).toEqual(['timm', 'timm'])],
  ['vovnet39', ['naming=detectron2'], (s) => expect([s.naming, s.preprocessing]).toEqual(['detectron2', 'detectron2'])],
  ['V-39-eSE', ['preprocessing=timm'], (s) => expect([s.naming, s.preprocessing]).toEqual(['detectron2', 'timm'])],
  ['vovnet39', ['stem.2.stride=1'], (s) => expect(s.stem.map((l) => l.stride)).toEqual([2, 1, 1])],
  ['vovnet39', ['stem.1.out=32'], (s) => expect(s.stem.map((l) => l.out)).toEqual([64, 32, 128])],
  ['ese_vovnet19b_dw', ['stem.1.kind=conv'], (s) => expect(s.stem.map((l) => l.kind)).toEqual(['conv', 'conv', 'sepconv'])],
  ['vovnet39', ['stem.0.kernel=7x7'], (s) => expect(s.stem.map((l) => l.kernel)).toEqual([7, 3, 3])],
  ['vovnet39', ['stem=conv 3x3 32 /2, sepconv 3x3 64 /2'], (s) => expect(s.stem.map((l) => `${l.kind} ${l.out}/${l.stride}`)).toEqual(['conv 32/2', 'sepconv 64/2'])],
  ['vovnet39', ['stage4=osa 192 -> 768 x6'], (s) => expect([osa(s, 'stage4').blocks, osa(s, 'stage4').pool?.ceil]).toEqual([6, true])],
  [mixed, ['stage4=maxpool 3x3 /2 ceil, osa 96 -> 384'], (s) => expect([s.stages.length, osa(s, 'stage4').layers, s.outputs]).toEqual([3, 5, ['logits']])],
  ['vovnet39', ['stage2.residual=none'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.residual : ''))).toEqual(['none', 'after-first', 'after-first', 'after-first'])],
  ['vovnet39', ['stage5.depthwise=true'], (s) => expect(osa(s, 'stage5').depthwise).toBe(true)],
  ['vovnet39', ['stage5.attention=eca kernel 3 on all'], (s) => expect(osa(s, 'stage5')).toMatchObject({ attention: 'eca', ecaKernel: 3, attentionWhere: 'all' })],
  ['ese_vovnet39b', ['stage5.attention.where=all'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.attentionWhere : ''))).toEqual(['last', 'last', 'last', 'all'])],
  ['eca_vovnet39b', ['stage5.attention.kernel=3'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.ecaKernel : 0))).toEqual([undefined, undefined, undefined, 3])],
  ['vovnet39', ['stage3.pool=none'], (s) => expect(osa(s, 'stage3').pool).toBeUndefined()],
  ['vovnet39', ['stage2.pool=2x2'], (s) => expect(osa(s, 'stage2').pool).toMatchObject({ kernel: 2, stride: 2, ceil: false })],
  ['vovnet39', ['stage3.pool.ceil=false'], (s) => expect(osa(s, 'stage3').pool).toMatchObject({ kernel: 3, stride: 2, ceil: false })],
  ['vovnet39', ['stage3.pool.kernel=2'], (s) => expect(osa(s, 'stage3').pool).toMatchObject({ kernel: 2, stride: 2, ceil: true })],
  ['vovnet39', ['stage3.pool.stride=1'], (s) => expect(osa(s, 'stage3').pool).toMatchObject({ kernel: 3, stride: 1, ceil: true })],
  [denseNet, ['stage2.growth=16'], (s) => expect(dense(s, 'stage2').growth).toBe(16)],
  [denseNet, ['stage3.layers=6'], (s) => expect(dense(s, 'stage3').layers).toBe(6)],
  [denseNet, ['stage2.bottleneck=48'], (s) => expect(dense(s, 'stage2').bottleneck).toBe(48)],
  [denseNet, ['stage4.transition=1x1 -> 224 avgpool 2x2'], (s) => expect(dense(s, 'stage4').transition).toEqual({ out: 224, pool: true })],
  [denseNet, ['stage3.transition=none'], (s) => expect(dense(s, 'stage3').transition).toBeUndefined()],
  [denseNet, ['stage2.transition.pool=false'], (s) => expect(dense(s, 'stage2').transition).toEqual({ out: 160, pool: false })],
  [denseNet, ['stage3=osa 64 -> 256 x2, layers 3'], (s) => expect([s.stages.map((x) => x.kind), osa(s, 'stage3').blocks]).toEqual([['dense', 'osa', 'dense'], 2])],
  ['V-39-eSE', ['stage4.deform=v2'], (s) => expect(s.stages.map((x) => (x.kind === 'osa' ? x.deform ?? 'none' : ''))).toEqual(['none', 'none', 'v2', 'none'])],
  ['V-39-eSE-DCN', ['deform=v1'], (s) => expect([s.stages.map((x) => (x.kind === 'osa' ? x.deform : '')), s.deformGroups]).toEqual([['v1', 'v1', 'v1', 'v1'], 1])],
  ['V-39-eSE-DCN', ['deform.groups=4'], (s) => expect(s.deformGroups).toBe(4)],
  ['vovnet39', ['stage4.blocks=2', 'stage4.blocks=3'], (s) => expect(osa(s, 'stage4').blocks).toBe(3)],
];

/** The documented template of a concrete key: stage4.blocks -> stageN.blocks, stem.1.out -> stem.I.out. */
const template = (key: string) => key.replace(/^stage\d(?=\.|$)/, 'stageN').replace(/^stem\.\d+\./, 'stem.I.');

describe('--set', () => {
  test.each(CASES.map((c, i) => [`${i}: ${c[1].join(' ')}`, c] as const))('%s', (_, [model, set, check]) => {
    const { spec } = loadModel(model, { set });
    check(spec);
  });

  test('the cases above exercise every key of SET_KEYS', () => {
    const used = new Set(CASES.flatMap((c) => c[1].map((s) => template(s.slice(0, s.indexOf('='))))));
    expect(SET_KEYS.map((k) => k.key).filter((k) => !used.has(k))).toEqual([]);
  });

  test('the model without overrides differs where the overrides apply (the checks can fail)', () => {
    const base = loadModel('vovnet57').spec;
    expect(osa(base, 'stage4').blocks).toBe(4);
    expect(loadModel(mixed).spec.stages.map((x) => (x.kind === 'osa' ? x.layers : 0))).toEqual([3, 5]);
  });

  test('inputShape (from a .npy) overrides the model and --set input', () => {
    const { spec } = loadModel('vovnet39', { set: ['input=1x3x320x320'], inputShape: [2, 3, 64, 48] });
    expect(spec.input).toEqual([2, 3, 64, 48]);
  });

  test('inputShape must be four positive integers', () => {
    const d = loadErrors('vovnet39', { inputShape: [3, 64, 64] });
    expect(d.map((x) => x.code)).toEqual(['E1205']);
    expect(d[0].message).toBe('input shape [3, 64, 64] is not NCHW: expected four positive integers');
  });

  test('inputShape with one channel breaks the RGB stem of the zoo models', () => {
    const d = loadErrors('vovnet39', { inputShape: [1, 1, 64, 64] });
    expect(d.map((x) => [x.code, x.message])).toEqual([['E1106', 'channel mismatch: stem.0 declares 3 input channels but receives 1']]);
    expect(d[0].notes).toEqual(['the input shape 1x1x64x64 has 1 channel']);
  });

  test('errors: unknown keys with a suggestion, bad values saying what was expected', () => {
    const d = loadErrors('vovnet57', { set: ['stage4.blocs=6', 'stage4.blocks=six', 'attention=se', 'residual=al', 'depthwise=maybe', 'naming=tim', 'stage6.blocks=2', 'stem.3.out=8', 'nonsense'] });
    expect(d.map((x) => x.code)).toEqual(['E1202', 'E1203', 'E1203', 'E1203', 'E1203', 'E1203', 'E1202', 'E1202', 'E1201']);
    expect(d[0].notes?.[0]).toBe("did you mean 'stage4.blocks'?");
    expect(d[1].message).toBe("bad value 'six' for stage4.blocks: expected a positive integer");
    expect(d[3].message).toBe("bad value 'al' for residual: expected none, after-first or all");
    expect(d[5].message).toBe("bad value 'tim' for naming: expected timm, vovnet-pytorch, detectron2");
    expect(d[7].notes).toContain('the stem has 3 layers: stem.0 .. stem.2');
    // spans point into the --set pseudo-file, one argument per line
    expect(d.map((x) => [x.span?.file, x.span?.line])).toEqual(d.map((_, i) => ['--set', i + 1]));
  });

  test('errors: semantic problems caused by overrides are reported at the override', () => {
    const d = loadErrors('vovnet39', { set: ['stage2.residual=all', 'classes=0', 'stage3.growth=12'] });
    expect(d.map((x) => x.code).sort()).toEqual(['E1107', 'E1108', 'E1110']);
    expect(d.every((x) => x.span?.file === '--set')).toBe(true);
    // vovnet27_slim's stage2 maps 128 -> 128, so 'residual all' is legal there
    expect(osa(loadModel('vovnet27_slim', { set: ['stage2.residual=all'] }).spec, 'stage2').residual).toBe('all');
  });

  test('errors: dense keys on OSA stages and OSA keys on dense stages', () => {
    expect(loadErrors(denseNet, { set: ['stage2.mid=8'] }).map((x) => x.message)).toEqual(["'stage2.mid' is an OSA-stage setting; stage2 is a dense stage"]);
    expect(loadErrors('vovnet39', { set: ['stage2.bottleneck=8'] }).map((x) => x.message)).toEqual(["'stage2.bottleneck' is a dense-stage setting; stage2 is an OSA stage"]);
  });

  test('a head change drops inherited outputs, but not outputs set alongside it', () => {
    const s = loadModel('vovnet39', { set: ['outputs=stage4,stage5', 'head=backbone'] }).spec;
    expect(s.outputs).toEqual(['stage4', 'stage5']);
  });
});

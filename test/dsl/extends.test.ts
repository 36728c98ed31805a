// 'extends': chains inside a file, into the zoo and through it; what is inherited, what a
// derived model overrides, and how lookups choose between a file and the zoo.

import { describe, expect, test } from 'vitest';
import { loadModel } from '../../src/dsl/zoo.js';
import { DENSENET40, dense, loadErrors, osa, vovFile } from './helpers.js';

const blocks = (s: { stages: readonly { kind: string; blocks?: number }[] }) => s.stages.map((x) => (x.kind === 'osa' ? (x as { blocks: number }).blocks : 0));

describe('extends', () => {
  test("the brief's example: vovnet57 with 6 blocks in stage 4, from a user file", () => {
    const f = vovFile('model vovnet57_deep4 extends vovnet57\n  stage4: blocks 6\n');
    const { spec } = loadModel(f);
    const base = loadModel('vovnet57').spec;
    expect(spec.name).toBe('vovnet57_deep4');
    expect(spec.source).toBe(f);
    expect(blocks(spec)).toEqual([1, 1, 6, 3]);
    expect({ ...spec, name: '', source: '', span: undefined, stages: [] }).toEqual({ ...base, name: '', source: '', span: undefined, stages: [] });
    expect(spec.stages.filter((s) => s.name !== 'stage4')).toEqual(base.stages.filter((s) => s.name !== 'stage4'));
    // the span of the model is the derived header; the stage keeps its defining line in the zoo
    expect(spec.span?.file).toBe(f);
    expect(osa(spec, 'stage4').span?.file).toMatch(/vovnet_v1\.vov$/);
  });

  test('a chain through three zoo files resolves every layer (V-99-eSE)', () => {
    // V-99-eSE -> V-39-eSE -> ese_vovnet39b -> vovnet39 -> vovnet27_slim
    const s = loadModel('V-99-eSE').spec;
    expect(blocks(s)).toEqual([1, 3, 9, 3]);
    expect(s.stages.map((x) => (x.kind === 'osa' ? `${x.mid}->${x.out} ${x.attention}/${x.attentionWhere} ${x.residual}` : ''))).toEqual([
      '128->256 ese/all after-first',
      '160->512 ese/all after-first',
      '192->768 ese/all after-first',
      '224->1024 ese/all after-first',
    ]);
    expect([s.naming, s.preprocessing, s.head.kind]).toEqual(['detectron2', 'detectron2', 'backbone']);
  });

  test("'osa:' defaults cascade: a derived default changes the stages that do not set their own", () => {
    const f = vovFile(`
model base
  stem: conv 3x3 32 /2
  osa: layers 5
  stage2: osa 32 -> 64 x1, layers 2
  stage3: maxpool 3x3 /2 ceil, osa 48 -> 96 x1
  head: classifier 10

model derived extends base
  osa: layers 3, attention ese
`);
    const s = loadModel(`${f}:derived`).spec;
    expect(s.stages.map((x) => (x.kind === 'osa' ? [x.layers, x.attention] : []))).toEqual([
      [2, 'ese'],
      [3, 'ese'],
    ]);
  });

  test('a stage line in a derived model merges into the inherited stage; a new stage is added', () => {
    const f = vovFile(`
model three extends vovnet39a
  stage3: osa 192 -> 512
  stage5: maxpool 3x3 /2 ceil, osa 256 -> 1024 x1, layers 3
`);
    const s = loadModel(f).spec;
    expect(osa(s, 'stage3')).toMatchObject({ mid: 192, out: 512, blocks: 1, layers: 5, residual: 'none', pool: { kernel: 3, stride: 2, ceil: true } });
    expect(osa(s, 'stage5')).toMatchObject({ mid: 256, layers: 3, blocks: 1 });
  });

  test('changing a stage kind starts the stage over', () => {
    const f = vovFile(`${DENSENET40}
model hybrid extends densenet40
  stage3: osa 64 -> 256 x2, layers 3
`);
    const s = loadModel(`${f}:hybrid`).spec;
    expect(s.stages.map((x) => x.kind)).toEqual(['dense', 'osa', 'dense']);
    expect(osa(s, 'stage3')).toMatchObject({ mid: 64, out: 256, blocks: 2, layers: 3, residual: 'none', attention: 'none' });
    expect(dense(s, 'stage2').transition).toEqual({ out: 160, pool: true });
  });

  test('a derived backbone drops the outputs its classifier base chose', () => {
    const f = vovFile(`
model cls
  stem: conv 3x3 32 /2
  osa: layers 2
  stage2: osa 32 -> 64 x1
  stage3: maxpool 3x3 /2 ceil, osa 48 -> 96 x1
  head: classifier 10
  outputs stage3, logits

model bb extends cls
  head: backbone

model bb3 extends cls
  head: backbone
  outputs stage3
`);
    expect(loadModel(`${f}:cls`).spec.outputs).toEqual(['stage3', 'logits']);
    expect(loadModel(`${f}:bb`).spec.outputs).toEqual(['stage2', 'stage3']);
    expect(loadModel(`${f}:bb3`).spec.outputs).toEqual(['stage3']);
  });

  test("the file's own models come before the zoo, and zoo models only see the zoo", () => {
    const f = vovFile(`
model vovnet39
  stem: conv 3x3 16 /2
  osa: layers 2
  stage2: osa 16 -> 32 x1
  head: classifier 3

model mine extends vovnet39
  naming detectron2

model other extends vovnet57
`);
    expect(loadModel(`${f}:mine`).spec.stem.map((l) => l.out)).toEqual([16]);
    // the zoo's vovnet57 extends the zoo's vovnet39, not the file's
    expect(loadModel(`${f}:other`).spec.stem.map((l) => l.out)).toEqual([64, 64, 128]);
  });

  test('a file with several models loads the first by default, or the one named after the colon', () => {
    const f = vovFile('model a\n  stem: conv 3x3 8\n  stage2: osa 8 -> 16, layers 1\n  head: classifier 2\nmodel b extends a\n  head: classifier 3\n');
    expect(loadModel(f).spec.name).toBe('a');
    const b = loadModel(`${f}:b`).spec;
    expect([b.name, b.head.kind === 'classifier' && b.head.classes]).toEqual(['b', 3]);
  });

  test('errors: unknown base, cycles and the model picked from a file', () => {
    const f = vovFile('model a extends b\nmodel b extends a\nmodel c extends vovnet_39\n');
    expect(loadErrors(`${f}:a`).map((d) => d.message)).toEqual(["'extends' cycle: a -> b -> a"]);
    const unknown = loadErrors(`${f}:c`);
    expect(unknown.map((d) => [d.code, d.message, d.notes])).toEqual([['E1102', "unknown model 'vovnet_39'", ["did you mean 'vovnet39'?"]]]);
    expect(loadErrors(`${f}:d`).map((d) => d.code)).toEqual(['E1302']);
    expect(loadErrors(vovFile('# nothing here\n')).map((d) => d.code)).toEqual(['E1303']);
    expect(loadErrors('/nonexistent/dir/x.vov').map((d) => d.message)).toEqual(["cannot read model file '/nonexistent/dir/x.vov': no such file"]);
  });
});

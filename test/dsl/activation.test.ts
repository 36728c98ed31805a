// The model-level 'activation' statement and the --set activation key: parsing, the default,
// inheritance through 'extends', overrides, and the diagnostics of bad values and duplicates.

import { describe, expect, test } from 'vitest';
import type { Diagnostic } from '../../src/diag/diagnostics.js';
import { Parser } from '../../src/dsl/parser.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { CONV_ACTIVATIONS } from '../../src/model/spec.js';
import { loadErrors, vovFile } from './helpers.js';

const TINY = `
model tiny
  input 1x3x32x32
  activation silu
  stem: conv 3x3 3->16 /2
  osa: layers 2
  stage2: osa 16 -> 32 x1
  head: classifier 10
`;

describe('activation', () => {
  test('parses with or without the colon, with its span from keyword to value', () => {
    const diags: Diagnostic[] = [];
    const ast = Parser.parseFile('model m\n  activation silu\nmodel n\n  activation: hardswish\n', 'f.vov', diags);
    expect(diags).toEqual([]);
    const [a, b] = ast.models.map((m) => m.statements[0]);
    expect(a).toEqual({ kind: 'activation', value: 'silu', span: { file: 'f.vov', line: 2, col: 3, endLine: 2, endCol: 18 } });
    expect(b).toMatchObject({ kind: 'activation', value: 'hardswish' });
  });

  test('every choice resolves into ModelSpec.activation', () => {
    expect(CONV_ACTIVATIONS).toEqual(['relu', 'silu', 'hardswish']);
    for (const act of CONV_ACTIVATIONS) expect(loadModel(vovFile(TINY.replace('activation silu', `activation ${act}`))).spec.activation).toBe(act);
  });

  test('the default is relu, for every zoo model and for a file that does not say', () => {
    for (const name of zooNames()) expect(loadModel(name).spec.activation, name).toBe('relu');
    expect(loadModel(vovFile(TINY.replace('  activation silu\n', ''))).spec.activation).toBe('relu');
  });

  test("is inherited through 'extends' (from the file and from the zoo) and a derived model may override it", () => {
    const f = vovFile(`${TINY}
model child extends tiny
  head: classifier 5

model grandchild extends child
  activation hardswish

model zoo_silu extends vovnet39a
  activation silu

model zoo_silu_child extends zoo_silu
  stage4: blocks 3
`);
    const act = (name: string) => loadModel(`${f}:${name}`).spec.activation;
    expect([act('tiny'), act('child'), act('grandchild'), act('zoo_silu'), act('zoo_silu_child')]).toEqual(['silu', 'silu', 'hardswish', 'silu', 'silu']);
    // only the activation changes: the rest of the spec is vovnet39a's
    const base = loadModel('vovnet39a').spec;
    const derived = loadModel(`${f}:zoo_silu`).spec;
    const strip = (s: typeof base) => ({ ...s, name: '', source: '', span: undefined, activation: 'relu' });
    expect(strip(derived)).toEqual(strip(base));
  });

  test('--set activation overrides the file and the inherited value; a later --set wins', () => {
    const f = vovFile(TINY);
    expect(loadModel(f, { set: ['activation=hardswish'] }).spec.activation).toBe('hardswish');
    expect(loadModel(f, { set: ['activation=relu'] }).spec.activation).toBe('relu');
    expect(loadModel('ese_vovnet39b', { set: ['activation=silu', 'activation=hardswish'] }).spec.activation).toBe('hardswish');
  });

  test('a bad value in a file is an unknown choice with a "did you mean"', () => {
    const d = loadErrors(vovFile(TINY.replace('activation silu', 'activation sliu')));
    expect(d.map((x) => [x.code, x.message, x.span?.line, x.span?.col])).toEqual([['E1006', "unknown activation 'sliu'", 4, 14]]);
    expect(d[0].notes).toEqual(["did you mean 'silu'?", 'expected one of: relu, silu, hardswish']);
    expect(loadErrors(vovFile(TINY.replace('activation silu', 'activation: hard-swish')))[0].notes?.[0]).toBe("did you mean 'hardswish'?");
    // a word that is not a value at all, and a missing value
    expect(loadErrors(vovFile(TINY.replace('activation silu', 'activation 3'))).map((x) => [x.code, x.message])).toEqual([['E1004', "expected an activation (relu, silu, hardswish), found '3'"]]);
    expect(loadErrors(vovFile(TINY.replace('activation silu', 'activation'))).map((x) => x.code)).toEqual(['E1004']);
  });

  test('a bad --set value says what was expected; a misspelt key suggests activation', () => {
    const d = loadErrors(vovFile(TINY), { set: ['activation=swish', 'activaton=silu', 'activation=silu relu'] });
    expect(d.map((x) => [x.code, x.message])).toEqual([
      ['E1203', "bad value 'swish' for activation: expected relu, silu, hardswish"],
      ['E1202', "unknown --set key 'activaton'"],
      ['E1203', "bad value 'silu relu' for activation: expected relu, silu, hardswish"],
    ]);
    expect(d[1].notes?.[0]).toBe("did you mean 'activation'?");
    expect(d.map((x) => [x.span?.file, x.span?.line])).toEqual([
      ['--set', 1],
      ['--set', 2],
      ['--set', 3],
    ]);
  });

  test('twice in one model is a duplicate statement', () => {
    const d = loadErrors(vovFile(TINY.replace('activation silu', 'activation silu\n  activation: relu')));
    expect(d.map((x) => [x.code, x.message, x.span?.line])).toEqual([['E1104', "duplicate 'activation' in model 'tiny'", 5]]);
    expect(d[0].notes?.[0]).toMatch(/^first set at .*\.vov:4:3$/);
  });

  test('on a stage line or in the osa: defaults it is reported as the model-level statement it is', () => {
    for (const line of ['stage2: osa 16 -> 32 x1, activation silu', 'osa: layers 2, activation silu']) {
      const text = TINY.replace('  activation silu\n', '').replace(line.startsWith('osa') ? 'osa: layers 2' : 'stage2: osa 16 -> 32 x1', line);
      const d = loadErrors(vovFile(text));
      expect(d.map((x) => [x.code, x.message])).toEqual([['E1003', "unknown keyword 'activation'"]]);
      expect(d[0].notes).toEqual(["'activation' is a statement of its own that applies to the whole model: write it on its own line, e.g. 'activation silu'"]);
    }
  });
});

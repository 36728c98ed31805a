// The seeded initialization is an interface (docs/WEIGHTS.md): the test vectors printed there
// and the properties it states are checked here.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { seededParam } from '../../src/model/init.js';
import { REPO } from '../dsl/reference.js';

const first3 = (name: string, shape: number[], seed?: number) => Array.from(seededParam(name, shape, seed).slice(0, 3)).map((v) => v.toPrecision(9));

describe('seeded initialization', () => {
  test('the test vectors of docs/WEIGHTS.md', () => {
    const doc = readFileSync(resolve(REPO, 'docs/WEIGHTS.md'), 'utf8').replace(/\s+/g, ' ');
    const conv = first3('stem.0.conv.weight', [64, 3, 3, 3]);
    const bn = first3('stem.0.bn.weight', [64]);
    const seed1 = first3('stem.0.conv.weight', [64, 3, 3, 3], 1);
    expect(conv).toEqual(['0.293977350', '0.0842747539', '-0.322559088']);
    expect(bn).toEqual(['1.06503141', '1.07175016', '0.975125372']);
    expect(seed1).toEqual(['-0.255129218', '0.0580579415', '0.124932744']);
    for (const v of [conv, bn, seed1]) expect(doc).toContain(v.join(', '));
  });

  test('ranges per parameter kind', () => {
    const within = (a: Float32Array, lo: number, hi: number) => a.every((v) => v >= lo && v <= hi);
    expect(within(seededParam('stages.0.blocks.0.conv_concat.bn.running_var', [256]), 0.8, 1.2)).toBe(true);
    expect(within(seededParam('stages.0.layers.1.norm.weight', [40]), 0.8, 1.2)).toBe(true);
    expect(within(seededParam('head.fc.bias', [1000]), -0.1, 0.1)).toBe(true);
    expect(within(seededParam('stem.1.bn.running_mean', [64]), -0.1, 0.1)).toBe(true);
    const a = Math.sqrt(3 / (64 * 9));
    const w = seededParam('stem.1.conv.weight', [64, 64, 3, 3]);
    expect(within(w, -a, a)).toBe(true);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * a);
    expect(within(seededParam('stages.3.blocks.1.attn.conv.weight', [1, 1, 5]), -Math.sqrt(3 / 5), Math.sqrt(3 / 5))).toBe(true);
  });

  test('values depend on the name, the fan-in and the seed only', () => {
    expect(first3('stem.0.conv.weight', [32, 3, 3, 3])).toEqual(first3('stem.0.conv.weight', [64, 3, 3, 3]));
    expect(Array.from(seededParam('stem.0.conv.weight', [64, 3, 3, 3]).slice(0, 864))).toEqual(Array.from(seededParam('stem.0.conv.weight', [32, 3, 3, 3])));
    expect(first3('stem.0.conv.weight', [64, 3, 3, 3], NaN)).toEqual(first3('stem.0.conv.weight', [64, 3, 3, 3], 0));
    expect(first3('stem.0.conv.weight', [64, 3, 3, 3], 2 ** 32 + 1)).toEqual(first3('stem.0.conv.weight', [64, 3, 3, 3], 1));
    expect(first3('stem.1.conv.weight', [64, 3, 3, 3])).not.toEqual(first3('stem.0.conv.weight', [64, 3, 3, 3]));
  });
});

// The documentation of the model language is checked against the code: every diagnostic of
// the catalog is in DIAGNOSTICS.md, every --set key in DSL.md, every ```vov example of DSL.md
// loads, lowers and verifies, and the printed error shown there is what vovc prints.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { VovcError, formatDiagnostic } from '../../src/diag/diagnostics.js';
import { MSG } from '../../src/dsl/messages.js';
import { SET_KEYS } from '../../src/dsl/resolve.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import { vovFile } from './helpers.js';
import { REPO } from './reference.js';

const dslMd = readFileSync(resolve(REPO, 'docs/DSL.md'), 'utf8');
const diagMd = readFileSync(resolve(REPO, 'docs/DIAGNOSTICS.md'), 'utf8');

describe('docs', () => {
  test('DIAGNOSTICS.md lists every code of the catalog with its name and summary', () => {
    for (const [name, e] of Object.entries(MSG)) expect(diagMd).toContain(`| ${e.code} | \`${name}\` | ${e.summary} |`);
    const codes = Object.values(MSG).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  test('DSL.md documents exactly the --set keys', () => {
    const section = dslMd.slice(dslMd.indexOf('## --set keys'), dslMd.indexOf('## The zoo'));
    const documented = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(SET_KEYS.map((k) => k.key));
  });

  const blocks = [...dslMd.matchAll(/```vov\n([\s\S]*?)```/g)].map((m) => m[1]);
  test.each(blocks.map((b, i) => [i, b] as const))('example %i of DSL.md loads, lowers and verifies', (_, text) => {
    const file = vovFile(text);
    const names = [...text.matchAll(/^model (\S+)/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const { spec } = loadModel(`${file}:${name}`);
      expect(verify(lowerSpec(spec)), name).toEqual([]);
    }
  });

  test('the --set error shown in DSL.md is what vovc prints', () => {
    const shown = /```\n(--set:1:1: [\s\S]*?)```/.exec(dslMd)?.[1];
    expect(shown).toBeDefined();
    try {
      loadModel('vovnet57', { set: ['stage4.blcks=6'] });
      expect.unreachable();
    } catch (e) {
      const err = e as VovcError;
      const printed = err.diagnostics.map((d) => formatDiagnostic(d, err.sources)).join('\n');
      expect(`${printed}\n`).toBe(shown);
    }
  });
});

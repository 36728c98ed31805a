// model.js.hbs is derived from model.ts.hbs when vovc is built (so that artifact builds never
// load the TypeScript compiler). The committed file must be current, and rendering it must give
// exactly what transpiling the rendered model.ts gives.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ts } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { wgslOf } from './load.js';
import { deriveJsTemplate } from '../../src/codegen/wgsl/host-template.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { seedParams } from '../../src/model/init.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO } from '../helpers/fixtures.js';

const transpile = (s: string): string => ts.transpileModule(s, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: false } }).outputText;

/** The JS tokens of `s` (kind and text), comments and whitespace left out: the TS printer
 * re-spaces array and object literals, which changes no token. */
function tokens(s: string): string[] {
  const sc = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, s);
  const out: string[] = [];
  const open: number[] = []; // per open template substitution: braces opened inside it
  for (let k = sc.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = sc.scan()) {
    if (k === ts.SyntaxKind.OpenBraceToken && open.length) open[open.length - 1]++;
    else if (k === ts.SyntaxKind.CloseBraceToken && open.length) {
      // The '}' that ends a `${...}` continues the template literal.
      if (open[open.length - 1] === 0) {
        k = sc.reScanTemplateToken(false);
        if (k === ts.SyntaxKind.TemplateTail) open.pop();
      } else open[open.length - 1]--;
    }
    if (k === ts.SyntaxKind.TemplateHead) open.push(0);
    out.push(`${k}:${sc.getTokenText()}`);
  }
  return out;
}

describe('wgsl host module template', () => {
  it('templates/wgsl/model.js.hbs and templates/precompiled.cjs are current (scripts/templates.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/templates.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(['vovnet27_slim', 'ese_vovnet19b_dw'])('%s: the rendered model.js is the transpiled model.ts, token for token', (name) => {
    const g = seedParams(lowerSpec(loadModel(name, { inputShape: [1, 3, 32, 32] }).spec));
    const { rendered } = wgslOf(g);
    const want = tokens(transpile(rendered.hostTs));
    expect(want.length).toBeGreaterThan(1000);
    expect(tokens(rendered.hostJs)).toEqual(want);
    expect(rendered.hostJs).toContain('export async function createModel(device, weights, options = {})');
  });

  it('derivation keeps every template expression, in code and in comments', () => {
    const tpl = '// {{version}} of {{model}}\nexport const a: number[] = {{{json}}};\nconst b = {{n}} as number;\n';
    expect(deriveJsTemplate(tpl, transpile)).toBe('// {{version}} of {{model}}\nexport const a = {{{json}}};\nconst b = {{n}};\n');
  });

  it('refuses a transpiler that drops an expression', () => {
    expect(() => deriveJsTemplate('const a = {{x}};\nconst b = {{y}};\n', () => 'const a = __vovc_hb_0__;\n')).toThrow(/kept 1 of its 2/);
  });
});

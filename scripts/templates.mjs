// Derives templates/wgsl/model.js.hbs from templates/wgsl/model.ts.hbs (see
// src/codegen/wgsl/host-template.ts). Run after editing the TS template: npm run templates
// (--check: exit 1 when the committed file is stale, writing nothing).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ts } from 'ts-morph';
import { DERIVED_HEADER, deriveJsTemplate } from '../dist/src/codegen/wgsl/host-template.js';

const TRANSPILE = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: false };
const dir = new URL('../templates/wgsl/', import.meta.url).pathname;
const file = join(dir, 'model.js.hbs');
const derived = DERIVED_HEADER + deriveJsTemplate(readFileSync(join(dir, 'model.ts.hbs'), 'utf8'), (s) => ts.transpileModule(s, { compilerOptions: TRANSPILE }).outputText);
const current = (() => { try { return readFileSync(file, 'utf8'); } catch { return ''; } })();
if (process.argv.includes('--check')) {
  if (current !== derived) {
    console.error('templates/wgsl/model.js.hbs is stale: run `npm run templates`');
    process.exit(1);
  }
} else if (current !== derived) {
  writeFileSync(file + '.tmp', derived);
  renameSync(file + '.tmp', file);
  console.log('wrote templates/wgsl/model.js.hbs');
}

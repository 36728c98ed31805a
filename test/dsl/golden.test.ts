// Golden diagnostics: each test/dsl/golden/NAME.vov is loaded and the printed diagnostics are
// compared exactly with NAME.expected. Header comments of a case steer the load:
//   # set: KEY=VALUE     (repeatable) a --set argument
//   # model: NAME        load FILE.vov:NAME instead of the first model
// Refresh the expected files with UPDATE_GOLDEN=1 npx vitest run test/dsl/golden.test.ts
// (then read the diff: these files are the specification of the messages).

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { VovcError, formatDiagnostic } from '../../src/diag/diagnostics.js';
import { loadModel } from '../../src/dsl/zoo.js';

const dir = join(import.meta.dirname, 'golden');
const cases = readdirSync(dir).filter((f) => f.endsWith('.vov')).sort();

function run(file: string): string {
  const text = readFileSync(join(dir, file), 'utf8');
  const set = [...text.matchAll(/^# set: (.*)$/gm)].map((m) => m[1]);
  const model = /^# model: (.*)$/m.exec(text)?.[1];
  const path = relative(process.cwd(), join(dir, file)).split('\\').join('/');
  try {
    const { spec } = loadModel(model ? `${path}:${model}` : path, { set });
    return `no error: model '${spec.name}' loaded\n`;
  } catch (e) {
    if (!(e instanceof VovcError)) throw e;
    return `exit code ${e.exitCode}\n\n${e.diagnostics.map((d) => formatDiagnostic(d, e.sources)).join('\n\n')}\n`;
  }
}

describe('golden diagnostics', () => {
  test('there are at least 15 malformed inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });
  for (const file of cases) {
    test(file, () => {
      const actual = run(file);
      const expectedFile = join(dir, file.replace(/\.vov$/, '.expected'));
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedFile, actual);
      expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
      expect(actual).toMatch(/^exit code 1\n/);
    });
  }
});

// The one diagnostics catalog (src/diag/codes.ts) against the sources and the docs: every code
// the sources raise is catalogued, sits in its stage's range and is documented with its
// summary; every catalogued code is raised somewhere; no two stages share a range.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, RENUMBERED, STAGES } from '../../src/diag/codes.js';
import { REPO } from '../helpers/fixtures.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every code literal of src/ and cli/, with where it is. */
const raised = new Map<string, string>();
for (const f of [...files(join(REPO, 'src')), ...files(join(REPO, 'cli'))]) {
  if (f.endsWith('src/diag/codes.ts')) continue;
  for (const m of readFileSync(f, 'utf8').matchAll(/['"`]([EW]\d{4})['"`]/g)) raised.set(m[1], relative(REPO, f));
}
const docs = readFileSync(join(REPO, 'docs/DIAGNOSTICS.md'), 'utf8');
const num = (code: string) => Number(code.slice(1));

describe('the diagnostics catalog', () => {
  it('holds every code the sources raise', () => {
    expect([...raised].filter(([c]) => !CODES[c]).map(([c, f]) => `${c} (${f})`)).toEqual([]);
  });

  it('holds no code that nothing raises', () => {
    expect(Object.keys(CODES).filter((c) => !raised.has(c))).toEqual([]);
  });

  it("puts every code in its stage's range, and no two ranges overlap", () => {
    for (const [c, info] of Object.entries(CODES)) {
      const s = STAGES[info.stage];
      expect(num(c) >= s.first && num(c) <= s.last, `${c} in ${info.stage} ${s.first}..${s.last}`).toBe(true);
    }
    const ranges = Object.values(STAGES).sort((a, b) => a.first - b.first);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].first, ranges[i].name).toBeGreaterThan(ranges[i - 1].last);
  });

  it('is documented: every code with its summary, every stage range, every renumbering', () => {
    for (const [c, info] of Object.entries(CODES)) {
      if (info.stage === 'dsl') expect(docs, c).toMatch(new RegExp(`\\| ${c} \\| \`\\w+\` \\| ${info.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\|`));
      else expect(docs, c).toContain(`| ${c} | ${info.stage} | ${info.summary} |`);
    }
    for (const s of Object.values(STAGES)) expect(docs).toContain(`| E${s.first}..E${s.last} | ${s.name} |`);
    for (const [a, b] of Object.entries(RENUMBERED)) {
      expect(docs).toContain(`| ${a} | ${b} |`);
      expect(CODES[b], `${a} -> ${b}`).toBeDefined();
      expect(raised.has(a), `old code ${a} is still raised`).toBe(false);
    }
  });
});

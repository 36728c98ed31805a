// The scaling generators of the fuzzer (the CI slice of `npm run fuzz`): programs with
// thousands of items on a line, thousands of lines or models in an extends chain, numbers of
// thousands of digits, shapes near 2^31, blocks and layers at their caps, huge --set arguments;
// checkpoints whose views amplify one storage, pickles at the memo / stack / item caps, deep
// nesting, thousands of tensors under long keys. vovc answers each within the fuzz budgets
// (fuzz/oracle.mjs BUDGETS: the time here, the printed output in the oracle).
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { weightFixtures } from '../../fuzz/cases.mjs';
import { scaledProgram } from '../../fuzz/dsl.mjs';
import { BUDGETS, runDslCase, runWeightsCase } from '../../fuzz/oracle.mjs';
import { buildScaledWeights, safetensorsKeys, scaledWeightsCase } from '../../fuzz/weights.mjs';
import { REPO } from '../helpers/fixtures.js';
import { SEED, api } from './api.js';

const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-scale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Measure = { ms?: number; printed?: number };

/** The first sample of each kind (sub) of an arbitrary: one case per generator, whatever the seed. */
function onePerKind<T>(arb: fc.Arbitrary<T>, kindOf: (x: T) => string, kinds: number, skip: (x: T) => boolean = () => false): T[] {
  const byKind = new Map<string, T>();
  for (const x of fc.sample(arb, { seed: SEED, numRuns: 400 })) {
    if (!byKind.has(kindOf(x)) && !skip(x)) byKind.set(kindOf(x), x);
    if (byKind.size === kinds) break;
  }
  return [...byKind.values()];
}

describe('scaling .vov programs', () => {
  const cases = onePerKind(scaledProgram, (c: { sub: string }) => c.sub, 8);
  it('cover every generator', () => {
    expect(cases.map((c: { sub: string }) => c.sub).sort()).toEqual(['caps', 'extends', 'line', 'lines', 'numbers', 'set', 'shape', 'token']);
  });
  for (const c of cases) {
    it(`${c.sub}: compiles or diagnoses within the time and output budgets`, () => {
      const m: Measure = {};
      const outcome = runDslCase(api, c, join(tmp, 'case.vov'), m);
      expect(['ok', 'diag']).toContain(outcome);
      expect(m.ms).toBeLessThan(BUDGETS.timeMs);
      expect(m.printed).toBeLessThanOrEqual(BUDGETS.outputBytes);
    });
  }

  it('a stem line of 3000 layers compiles; 20,000 unknown statements print at most 50 diagnostics', () => {
    const body = '  input 1x3x32x32\n  stage2: osa 8 -> 16, layers 2\n  head: classifier 10\n';
    const m: Measure = {};
    expect(runDslCase(api, { text: `model m\n  stem: ${Array(3000).fill('conv 3x3 8').join(', ')}\n${body}` }, join(tmp, 'a.vov'), m)).toBe('ok');
    expect(runDslCase(api, { text: `model m\n  stem: conv 3x3 8\n${body}${Array(20000).fill('  frobnicate 3').join('\n')}\n` }, join(tmp, 'b.vov'), m)).toBe('diag');
    expect(m.printed).toBeLessThan(20_000);
  });
});

describe('scaling checkpoints', () => {
  const f = weightFixtures(REPO).find((x: { name: string }) => x.name === 'tiny-timm-a');
  const keys = safetensorsKeys(f.bytes);
  const graph = api.lowerSpec(api.loadModel(f.model, { inputShape: f.inputShape }).spec);
  // A safetensors header nested thousands deep overflows the stack in vovc's error message
  // (open finding 10, FUZZING.md): tested below as a known failure, not here.
  const deepHeader = (c: { kind: string; huge?: number; depth?: number }) => c.kind === 'st-header' && (c.huge ?? 9) <= 1 && (c.depth ?? 0) >= 2000;
  const cases = onePerKind(scaledWeightsCase, (c: { kind: string }) => c.kind, 8, deepHeader);
  it('cover every generator', () => {
    expect(cases.map((c: { kind: string }) => c.kind).sort()).toEqual(['dict', 'list', 'many', 'memo', 'nested', 'st-header', 'stack', 'views']);
  });
  for (const c of cases) {
    it(`${c.kind}: loads and binds or diagnoses within the budgets (${JSON.stringify(c).slice(0, 90)})`, async () => {
      const bytes = buildScaledWeights(c, keys);
      expect(bytes.length).toBeLessThan(8 << 20);
      const m: Measure = {};
      expect(['ok', 'diag']).toContain(await runWeightsCase(api, bytes, join(tmp, bytes[0] === 0x50 ? 'w.pth' : 'w.safetensors'), graph, m));
      expect(m.ms).toBeLessThan(BUDGETS.timeMs);
    });
  }

  it('one storage viewed 400 times (transposed) is refused past the decoding budget, not decoded into 400 copies', async () => {
    const bytes = buildScaledWeights({ kind: 'views', log2: 18, views: 400, layout: 0, wrap: 0, huge: 1, seed: 1 }, keys);
    const file = join(tmp, 'views.pth');
    await expect(runWeightsCase(api, bytes, file, graph)).resolves.toBe('diag');
    const ck = await api.loadCheckpoint(file);
    expect(() => api.findNonFinite(ck.tensors)).toThrow(/would expand the checkpoint's tensors past/);
  });

  it('a list of 2^22 + 1 items (batches of APPENDS) or a stack of 2^22 + 1 values is E4131', async () => {
    for (const c of [{ kind: 'list', batch: 1 << 21, total: (1 << 22) + 1, single: false }, { kind: 'stack', n: (1 << 22) + 1, op: 0, end: 0 }]) {
      const file = join(tmp, 'cap.pth');
      await runWeightsCase(api, buildScaledWeights(c, keys), file, graph);
      await expect(api.loadCheckpoint(file)).rejects.toThrow(/more than 4194304/);
    }
  });

  // Finding 10 of FUZZING.md (fixed): the E4120 / E4121 message quoted the value with
  // JSON.stringify, which overflowed the stack for a "shape", "data_offsets" or "dtype" nested a
  // few thousand deep; it now quotes a shortened rendering.
  it('a safetensors "shape" nested 10^6 deep is a diagnostic (was a RangeError)', async () => {
    const bytes = buildScaledWeights({ kind: 'st-header', depth: 1_000_000, huge: 1, seed: 1 }, keys);
    expect(await runWeightsCase(api, bytes, join(tmp, 'deep.safetensors'), graph)).toBe('diag');
  });
});

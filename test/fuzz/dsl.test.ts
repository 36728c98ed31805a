// Property tests of the DSL front end (the CI slice of `npm run fuzz`): generated programs and
// mutated model files either compile and verify or fail with well-formed diagnostics.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dslContext } from '../../fuzz/cases.mjs';
import { grammarProgram, inputShape, mutateText, mutation, setArgs, smallValidProgram, validProgram, zooDerived } from '../../fuzz/dsl.mjs';
import { runDslCase } from '../../fuzz/oracle.mjs';
import { REPO } from '../helpers/fixtures.js';
import { SEED, api } from './api.js';

const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-test-'));
const file = join(tmp, 'case.vov');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (c: Record<string, unknown>) => runDslCase(api, c, file);
const opts = (numRuns: number) => ({ numRuns, seed: SEED });

describe('generated .vov programs', () => {
  it('every valid program compiles and verifies', () => {
    fc.assert(fc.property(validProgram, (c) => void run({ ...(c as object), mustCompile: true })), opts(150));
  });

  it('the small programs of the differential mode compile and verify, for their own input shape', () => {
    let deform = 0;
    fc.assert(
      fc.property(smallValidProgram, (c) => {
        const { text, input } = c as { text: string; input: number[] };
        if (/deform v[12]/.test(text)) deform++;
        void run({ text, inputShape: input, mustCompile: true });
      }),
      opts(100),
    );
    // DCN is not rare among them (the differential mode compares it on every target).
    expect(deform).toBeGreaterThan(10);
  });

  it('programs deriving from zoo models compile and verify', () => {
    fc.assert(fc.property(zooDerived(api.zooNames()), (c) => void run({ ...(c as object), mustCompile: true })), opts(30));
  });

  it('grammar-valid programs with any values compile or fail with diagnostics', () => {
    const outcomes = new Set<string>();
    fc.assert(fc.property(grammarProgram, (c) => void outcomes.add(run(c as Record<string, unknown>))), opts(150));
    // Both ends are reached: the generator is neither all-valid nor all-broken.
    expect([...outcomes].sort()).toEqual(['diag', 'ok']);
  });

  it('random --set arguments and input shapes on zoo models compile or fail with diagnostics', () => {
    fc.assert(fc.property(fc.constantFrom(...api.zooNames()), setArgs, inputShape, (zoo, set, shape) => void run({ zoo, set, inputShape: shape })), opts(80));
  });
});

describe('mutated .vov files', () => {
  const { arbs } = dslContext(REPO, api.zooNames());
  it('zoo, test and generated files after byte flips, token and line edits, number changes, truncation', () => {
    fc.assert(fc.property(arbs.mutated, (c) => void run(c as Record<string, unknown>)), opts(200));
  });

  it('the mutations change the text (the test is not vacuous)', () => {
    const text = 'model m\n  stem: conv 3x3 3->16 /2\n  stage2: osa 16 -> 32 x1, layers 2\n  head: classifier 10\n';
    const changed = fc.sample(fc.array(mutation, { minLength: 1, maxLength: 4 }), { seed: SEED, numRuns: 50 }).filter((m) => mutateText(text, m) !== text);
    expect(changed.length).toBeGreaterThan(40);
  });
});

// Property tests of the checkpoint loaders and the key mapping (the CI slice of `npm run fuzz`):
// the shared fixtures' weight files, mutated where their formats are fragile, load and bind
// or fail with well-formed diagnostics.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { weightFixtures } from '../../fuzz/cases.mjs';
import { runWeightsCase } from '../../fuzz/oracle.mjs';
import { mutateWeights, readZip, scanPickle, weightMutation } from '../../fuzz/weights.mjs';
import { REPO } from '../helpers/fixtures.js';
import { SEED, api } from './api.js';

const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The three small fixtures (under 2 MB): one .safetensors and two .pth layouts.
const fixtures = weightFixtures(REPO)
  .filter((f: { bytes: Buffer }) => f.bytes.length < 2 << 20)
  .map((f: { model: string; inputShape: number[]; weights: string; name: string; bytes: Buffer }) => ({ ...f, graph: api.lowerSpec(api.loadModel(f.model, { inputShape: f.inputShape }).spec) })) as { model: string; inputShape: number[]; weights: string; name: string; bytes: Buffer; graph: unknown }[];

describe.each(fixtures)('mutated $name', (f) => {
  const file = join(tmp, `${f.name}${extname(f.weights)}`);

  it('the unmutated file loads and binds', async () => {
    expect(await runWeightsCase(api, f.bytes, file, f.graph)).toBe('ok');
  });

  it('loads and binds, or fails with a diagnostic, after mutations', async () => {
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(weightMutation, { minLength: 1, maxLength: 3 }), async (muts) => void outcomes.add(await runWeightsCase(api, mutateWeights(f.bytes, muts), file, f.graph))),
      { numRuns: 60, seed: SEED },
    );
    expect(outcomes.has('diag')).toBe(true);
  });
});

describe('the mutators know the formats', () => {
  const pth = fixtures.find((f: { weights: string }) => f.weights.endsWith('.pth'));
  it('a torch zip is parsed into its records and its pickle into opcodes ending in STOP', () => {
    const z = readZip(pth.bytes)!;
    const pkl = z.entries.find((e: { name: string }) => e.name.endsWith('/data.pkl'))!;
    const ops = scanPickle(pkl.data);
    expect(ops[0].op).toBe(0x80);
    expect(ops[ops.length - 1].op).toBe(0x2e);
    expect(ops[ops.length - 1].pos + 1).toBe(pkl.data.length);
  });
});

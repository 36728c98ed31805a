// Fuzz cases as a pure function of (campaign seed, case index): any case of a campaign can be
// regenerated alone (node fuzz/run.mjs --replay dsl:1234). The mix of DSL case kinds repeats
// every 21 cases (one of them a scaling program); weight cases pick a fixture file with a bias
// towards the small ones, and every 8th is a scaling checkpoint built from scratch.
import fc from 'fast-check';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { grammarProgram, inputShape, mutatedProgram, scaledProgram, setArgs, validProgram, zooDerived } from './dsl.mjs';
import { buildScaledWeights, mutateWeights, safetensorsKeys, scaledWeightsCase, weightsCase } from './weights.mjs';

/** Case kinds of the DSL campaign, one per slot of a 20-case cycle. */
const DSL_MIX = [
  ...Array(4).fill('valid'),
  'zoo-derived',
  ...Array(6).fill('grammar'),
  ...Array(7).fill('mutated'),
  ...Array(2).fill('set'),
  'scale',
];

/** Every WEIGHT_SCALE_EVERY-th weight case is a scaling checkpoint (weights.mjs scaledWeightsCase). */
const WEIGHT_SCALE_EVERY = 8;
/** The fixture whose keys the scaling checkpoints carry and whose model they bind to. */
const SCALE_FIXTURE = 'tiny-timm-a';

/** Fixture weight files from small to large, and how often each is picked (out of the sum). */
const WEIGHT_SHARES = [3, 3, 3, 1, 1];

/** A case's own seed: the campaign seed and the index mixed (splitmix32-like). */
export function caseSeed(seed, index) {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}

export const one = (arb, seed) => fc.sample(arb, { seed, numRuns: 1 })[0];

function vovFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? vovFiles(join(dir, e.name)) : e.name.endsWith('.vov') ? [join(dir, e.name)] : []));
}

/**
 * What case generation needs from the repository: the corpus of .vov texts to mutate (zoo,
 * test models, golden error files) and the zoo names.
 */
export function dslContext(repo, zooNames) {
  const corpus = [...vovFiles(join(repo, 'models')), ...vovFiles(join(repo, 'test'))].sort().map((f) => readFileSync(f, 'utf8'));
  return {
    zooNames,
    arbs: {
      valid: validProgram,
      'zoo-derived': zooDerived(zooNames),
      grammar: grammarProgram,
      mutated: mutatedProgram(corpus),
      scale: scaledProgram,
      set: fc.record({ base: fc.oneof(fc.constantFrom(...zooNames).map((zoo) => ({ zoo })), validProgram), set: setArgs, inputShape }).map(({ base, set, inputShape }) => ({ ...base, set, inputShape })),
    },
  };
}

/** DSL case `index`: { kind, text?, pick?, zoo?, set?, inputShape?, mustCompile }; scaling programs are kind 'scale-SUB'. */
export function dslCase(ctx, seed, index) {
  const kind = DSL_MIX[index % DSL_MIX.length];
  const c = one(ctx.arbs[kind], caseSeed(seed, index));
  return { kind: kind === 'scale' ? `scale-${c.sub}` : kind, ...c, mustCompile: kind === 'valid' || kind === 'zoo-derived' };
}

/** The shared fixtures with a weight file, small files first: { name, weights, model, inputShape }. */
export function weightFixtures(repo) {
  const dir = resolve(repo, '../shared/fixtures');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, 'case.json')))
    .map((d) => {
      const c = JSON.parse(readFileSync(join(dir, d, 'case.json'), 'utf8'));
      const weights = join(dir, d, c.weights);
      return { name: d, weights, model: c.model ?? join(repo, 'test/models', `${d}.vov`), inputShape: c.input_shape, bytes: readFileSync(weights) };
    })
    .sort((a, b) => a.bytes.length - b.bytes.length || (a.name < b.name ? -1 : 1));
}

/**
 * Weights case `index`: { fixture (index into weightFixtures), muts } for a mutated fixture
 * file, { fixture: -1, scale } for a scaling checkpoint (weightsBytes resolves both).
 */
export function weightsCaseAt(fixtureCount, seed, index) {
  if (index % WEIGHT_SCALE_EVERY === WEIGHT_SCALE_EVERY - 1) return { fixture: -1, scale: one(scaledWeightsCase, caseSeed(seed ^ 0x5ca1e, index)) };
  const c = one(weightsCase, caseSeed(seed ^ 0x5eed, index));
  const shares = WEIGHT_SHARES.slice(0, fixtureCount);
  while (shares.length < fixtureCount) shares.push(1);
  const total = shares.reduce((a, b) => a + b, 0);
  let r = c.file % total;
  let fixture = 0;
  while (r >= shares[fixture]) r -= shares[fixture++];
  return { fixture, muts: c.muts };
}

/**
 * The file of a weights case and the fixture it binds to: { f, bytes, ext, kind, input } (input: what
 * a failure report needs to rebuild the file). Scaling checkpoints bind to SCALE_FIXTURE.
 */
export function weightsBytes(fixtures, c) {
  if (c.scale) {
    const f = fixtures.find((x) => x.name === SCALE_FIXTURE) ?? fixtures.find((x) => x.weights.endsWith('.safetensors'));
    f.keys ??= safetensorsKeys(f.bytes);
    const bytes = buildScaledWeights(c.scale, f.keys);
    return { f, bytes, ext: bytes[0] === 0x50 ? '.pth' : '.safetensors', kind: `scale-${c.scale.kind}`, input: { fixture: f.name, scale: c.scale } };
  }
  const f = fixtures[c.fixture];
  return { f, bytes: mutateWeights(f.bytes, c.muts), ext: extname(f.weights), kind: f.name, input: { fixture: f.name, muts: c.muts } };
}

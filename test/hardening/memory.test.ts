// Build memory: `vovc build MODEL --weights FILE` peaks under 2 x the checkpoint's size plus the
// resident memory of `vovc --version` (GNU time's maximum resident set size of the process).
// The build donates the graph it bound to the backend (BN folding rescales the weights where
// they lie, the WGSL blob is repacked entry by entry), so it holds one copy of the weights.
//
// Checked here on vovnet57 (147 MB of weights). The five smallest zoo models (5.6-14.1 MB of
// weights) exceed the bound on some targets: what a build process holds beyond `vovc --version`
// whatever the model (12-18 MB: the compiler's modules and their heap) is more than one copy of
// their weights. BENCHMARKS.md ("Build memory") has every zoo model and target.
//
// A second test checks that donation changes no byte of any artifact.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/driver/targets.js';
import { targetContext } from '../helpers/targets.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { seedParams } from '../../src/model/init.js';
import { lowerSpec } from '../../src/model/lower.js';
import { writeSafetensors } from '../../src/weights/safetensors.js';
import { REPO, fixtureCases } from '../helpers/fixtures.js';
import { fixtureGraph } from '../wgsl/load.js';
import { TARGETS, contents, tempDir, type Target } from './util.js';

const TIME = '/usr/bin/time';
const root = tempDir('memory');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Peak resident bytes of `node dist/cli/vovc.js ...args` (exit status must be 0). */
function peakRss(args: string[]): number {
  const r = spawnSync(TIME, ['-v', process.execPath, join(REPO, 'dist/cli/vovc.js'), ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  return Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]) * 1024;
}

describe('vovc build memory', () => {
  it.for(TARGETS)('vovnet57 --target %s with a 147 MB checkpoint: peak RSS <= 2 x weights + RSS of vovc --version', { timeout: 120_000 }, (target: Target, { skip }) => {
    skip(!existsSync(TIME), `${TIME} (Debian package 'time') is not installed`);
    const file = join(root, 'vovnet57.safetensors');
    if (!existsSync(file)) {
      const g = seedParams(lowerSpec(loadModel('vovnet57').spec));
      writeFileSync(file, writeSafetensors([...g.params].map(([key, p]) => ({ key, shape: p.shape, data: p.data }))));
    }
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(140e6);
    const version = [0, 1, 2].map(() => peakRss(['--version'])).sort((a, b) => a - b)[1];
    const out = join(root, `out-${target}`);
    const peak = peakRss(['build', 'vovnet57', '--target', target, '--weights', file, '--out', out, '--quiet']);
    const bound = 2 * size + version;
    expect(peak, `peak ${(peak / 1e6).toFixed(1)} MB, bound ${(bound / 1e6).toFixed(1)} MB`).toBeLessThanOrEqual(bound);
    // The build did write the weights (not a shape-only artifact).
    const biggest = Math.max(...Object.keys(contents(out)).map((f) => statSync(join(out, f)).size));
    expect(biggest).toBeGreaterThan(size * 0.95);
    rmSync(out, { recursive: true, force: true });
  });

  it.each(TARGETS)('--target %s: a build that donates the weights writes the same bytes as one that does not', async (target: Target) => {
    const c = fixtureCases().find((k) => k.name === 'tiny-timm-a')!;
    const t = resolveTarget(target, {});
    const impl = await t.load();
    const dirs = ['kept', 'donated'].map((d) => join(root, `${target}-${d}`));
    const g = await fixtureGraph(c);
    // Without donation first: the donating build rewrites g's conv weights.
    for (const [i, dir] of dirs.entries()) {
      mkdirSync(dir, { recursive: true });
      await impl.build!(targetContext(g, t.stage, { pipeline: { donateParams: i === 1 } }), t.options, dir);
    }
    const [kept, donated] = dirs.map(contents);
    expect(Object.keys(kept).length).toBeGreaterThan(0);
    expect(donated).toEqual(kept);
    // ... and the donation did happen: conv weights of g now hold the folded values.
    const fresh = await fixtureGraph(c);
    const rewritten = [...g.params].filter(([k, p]) => p.data && p.data.some((v, i) => v !== fresh.params.get(k)!.data![i]));
    expect(rewritten.length).toBeGreaterThan(0);
  });
});

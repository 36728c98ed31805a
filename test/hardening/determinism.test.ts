// Determinism: the same command gives byte-identical artifacts, for every target that builds
// here, with the fixture's PyTorch weights and with seeded weights, whatever DIR is called.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';
import { MODEL, TARGETS, buildArgs, contents, targetInfo, tempDir, type Target } from './util.js';

const root = tempDir('determinism');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(TARGETS)('vovc build --target %s', (target: Target) => {
  it('twice with the same weights: the same files, byte for byte', async ({ skip }) => {
    const info = await targetInfo(target);
    skip(!info.ok, info.why);
    // Different folder names and depths: no path of DIR may end up in the artifact.
    const a = join(root, target, 'a');
    const b = join(root, target, 'second', 'build-b');
    const logs: string[] = [];
    for (const out of [a, b]) {
      const r = await vovc([...buildArgs(target, out)].filter((x) => x !== '--quiet'));
      expect(r.code, r.stderr).toBe(0);
      logs.push(r.stderr);
    }
    const first = contents(a);
    expect(Object.keys(first).length).toBeGreaterThan(0);
    expect(contents(b), logs.join('\n')).toEqual(first);
  });

  it('twice with seeded weights: the same files, byte for byte', async ({ skip }) => {
    const info = await targetInfo(target);
    skip(!info.ok, info.why);
    const a = join(root, target, 'seeded-a');
    const b = join(root, target, 'seeded-b');
    for (const out of [a, b]) {
      const r = await vovc(['build', MODEL, '--target', target, '--input-shape', '1,3,33,33', '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(contents(b)).toEqual(contents(a));
  });
});

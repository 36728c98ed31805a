// `vovc list` shows every zoo model with exactly the published parameter count (VOVNET.md),
// and the CLI contract's exit codes hold.
import { describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

// Published parameter counts (../shared/docs/VOVNET.md): classifiers with 1000 classes,
// detectron2 models backbone-only with eSE in every block.
const PUBLISHED: Record<string, number> = {
  vovnet27_slim: 3_525_736,
  vovnet39: 22_600_296,
  vovnet57: 36_640_296,
  vovnet39a: 22_600_296,
  vovnet57a: 36_640_296,
  ese_vovnet19b_slim_dw: 1_897_752,
  ese_vovnet19b_dw: 6_543_080,
  ese_vovnet19b_slim: 3_166_136,
  ese_vovnet39b: 24_568_936,
  ese_vovnet57b: 38_608_936,
  ese_vovnet99b: 63_199_272,
  eca_vovnet39b: 22_600_316,
  'V-19-slim-dw-eSE': 1_384_752,
  'V-19-dw-eSE': 5_518_080,
  'V-19-slim-eSE': 2_653_136,
  'V-19-eSE': 10_180_416,
  'V-39-eSE': 25_184_128,
  'V-57-eSE': 41_454_912,
  'V-99-eSE': 69_523_520,
};

describe('vovc list', () => {
  it('prints every zoo model with its published parameter count', async () => {
    const r = await vovc(['list']);
    expect(r.code, r.stderr).toBe(0);
    const rows = new Map(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string]));
    for (const [name, params] of Object.entries(PUBLISHED)) expect(rows.get(name), name).toBe(String(params));
  });
});

describe('CLI contract', () => {
  it('unknown model: exit 1 with a did-you-mean, no stack trace', async () => {
    const r = await vovc(['check', 'vovnet58']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vovnet57/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('malformed command line: exit 2', async () => {
    expect((await vovc(['check', 'vovnet57', '--no-such-flag'])).code).toBe(2);
    expect((await vovc(['frobnicate'])).code).toBe(2);
    expect((await vovc(['run', 'vovnet57', '--target', 'nowhere', '--input', 'x.npy'])).code).toBe(2);
  });
  it('check prints a summary; --set applies overrides', async () => {
    const r = await vovc(['check', 'vovnet57', '--set', 'stage4.blocks=6']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/vovnet57/);
    const base = await vovc(['check', 'vovnet57']);
    const params = (s: string) => Number(/(\d+) parameters/.exec(s)![1]);
    expect(params(r.stdout)).toBeGreaterThan(params(base.stdout));
  });
  it('a missing input file is a one-line user error', async () => {
    const r = await vovc(['run', 'vovnet27_slim', '--input', '/nonexistent/x.npy']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

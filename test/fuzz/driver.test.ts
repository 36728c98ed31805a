// The fuzz driver itself (fuzz/run.mjs on the compiled CLI, as `npm run fuzz` runs it, with
// small counts): a clean slice of every campaign passes, and a case that never ends is caught
// by the per-case time-out, reported as a hang, and the campaign goes on after it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'vovc-fuzz-driver-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function driver(args: string[], env: Record<string, string> = {}, dir = out): Promise<{ code: number | null; stderr: string; summary: any }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(REPO, 'fuzz/run.mjs'), ...args, '--out', dir, '--quiet'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stderr, summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) }));
  });
}

describe('fuzz/run.mjs', () => {
  it('a slice of every campaign (API and CLI) runs without failures', async () => {
    const r = await driver(['--dsl', '60', '--weights', '12', '--cli-dsl', '4', '--cli-weights', '2', '--workers', '1', '--timeout', '120']);
    expect(r.summary.failures).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.summary.stats;
    expect([s.dsl.cases, s.weights.cases, s['cli-dsl'].cases, s['cli-weights'].cases]).toEqual([60, 12, 4, 2]);
    expect(s.dsl.ok + s.dsl.diag).toBe(60);
    expect(s.dsl.ok).toBeGreaterThan(0);
    expect(s.dsl.diag).toBeGreaterThan(0);
  });

  it('a case that never ends is reported as a hang and the others still run', async () => {
    const dir = join(out, 'hang');
    const r = await driver(['--dsl', '6', '--weights', '0', '--cli-dsl', '0', '--cli-weights', '0', '--workers', '1', '--timeout', '1'], { VOVC_FUZZ_HANG_AT: 'dsl:3' }, dir);
    expect(r.code).toBe(1);
    expect(r.summary.failures).toEqual([{ task: 'dsl', index: 3, kind: 'hang', message: 'no result within 3 s (hang)' }]);
    expect(r.summary.stats.dsl.cases).toBe(6);
    expect(r.summary.stats.dsl.bug).toBe(1);
  });
});

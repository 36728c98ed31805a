// The fuzz driver itself (fuzz/run.mjs on the compiled CLI, as `npm run fuzz` runs it, with
// small counts): a clean slice of every campaign passes; a case that never ends is caught by
// the per-case time-out, reported as a hang, and the campaign goes on after it; cases over the
// time and memory budgets are re-run alone and named 'budget: time' / 'budget: memory', one
// printing past the output budget 'budget: output'; the differential mode runs small models on
// every target the machine has and compares them with the reference.
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
    const r = await driver(['--dsl', '60', '--weights', '16', '--cli-dsl', '4', '--cli-weights', '2', '--diff', '0', '--workers', '1', '--timeout', '120']);
    expect(r.summary.failures).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.summary.stats;
    expect([s.dsl.cases, s.weights.cases, s['cli-dsl'].cases, s['cli-weights'].cases]).toEqual([60, 16, 4, 2]);
    // Index 20 and 41 are scaling programs, 7 and 15 scaling checkpoints.
    expect(Object.keys(s.dsl.byKind).some((k) => k.startsWith('scale-'))).toBe(true);
    expect(Object.keys(s.weights.byKind).some((k) => k.startsWith('scale-'))).toBe(true);
    expect(s.dsl.ok + s.dsl.diag).toBe(60);
    expect(s.dsl.ok).toBeGreaterThan(0);
    expect(s.dsl.diag).toBeGreaterThan(0);
  });

  it('a case that never ends is reported as a hang and the others still run', async () => {
    const dir = join(out, 'hang');
    const r = await driver(['--dsl', '6', '--weights', '0', '--cli-dsl', '0', '--cli-weights', '0', '--diff', '0', '--workers', '1', '--timeout', '1'], { VOVC_FUZZ_HANG_AT: 'dsl:3' }, dir);
    expect(r.code).toBe(1);
    expect(r.summary.failures).toEqual([{ task: 'dsl', index: 3, kind: 'hang', message: 'no result within 3 s (hang)' }]);
    expect(r.summary.stats.dsl.cases).toBe(6);
    expect(r.summary.stats.dsl.bug).toBe(1);
  });

  it('cases over the time, memory and output budgets are failures named by the budget', async () => {
    const dir = join(out, 'budgets');
    // dsl:1 holds 100 MB more than a 400 MB budget, dsl:2 takes a second more than a 1 s budget
    // (both valid programs); every diagnostic printed is past a 100-byte output budget.
    const r = await driver(['--dsl', '8', '--weights', '0', '--cli-dsl', '0', '--cli-weights', '0', '--diff', '0', '--workers', '1', '--time-budget', '1', '--memory-budget', '400', '--output-budget', '0.1'], { VOVC_FUZZ_SLOW_AT: 'dsl:2', VOVC_FUZZ_HOG_AT: 'dsl:1' }, dir);
    expect(r.code).toBe(1);
    const f = r.summary.failures as { index: number; kind: string; message: string }[];
    expect(f.filter((x) => x.kind === 'budget: time' || x.kind === 'budget: memory').map((x) => [x.index, x.kind])).toEqual([[1, 'budget: memory'], [2, 'budget: time']]);
    expect(f.find((x) => x.kind === 'budget: memory')!.message).toMatch(/peak resident set \d+ MiB with the case alone \(budget 400 MiB/);
    const output = f.filter((x) => x.kind === 'budget: output');
    expect(output.length).toBeGreaterThan(0);
    expect(output.length).toBe(r.summary.stats.dsl.byKind.grammar?.bug ?? 0);
    expect(r.summary.stats.dsl.cases).toBe(8);
    expect(r.summary.stats.dsl.bug).toBe(f.length);
  });

  it('the differential mode: small models with NaN / Inf inputs agree on every target the machine has', async () => {
    const dir = join(out, 'diff');
    // Seed 9: cases 0-2 are an all-NaN input (a DCN model), a finite input and one with NaN pixels (DCN).
    const r = await driver(['--dsl', '0', '--weights', '0', '--cli-dsl', '0', '--cli-weights', '0', '--diff', '3', '--seed', '9', '--workers', '2'], {}, dir);
    expect(r.summary.failures).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.stats.diff.cases).toBe(3);
    expect(r.summary.diff.modes).toEqual({ 'all-nan': 1, finite: 1, nan: 1 });
    expect(r.summary.diff.targets[0]).toBe('reference');
    // Every target either ran or says why not.
    expect([...r.summary.diff.targets, ...Object.keys(r.summary.diff.skipped)].sort()).toEqual(['cuda-emu', 'onnx', 'reference', 'wgsl']);
  }, 300_000);
});

// vovc analyze end to end (the built CLI in dist/): formats, --out, comparisons, sweeps,
// and the exit codes of the CLI contract.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

describe('vovc analyze', () => {
  it('json: the versioned schema with exact totals and fused bytes', async () => {
    const r = await vovc(['analyze', 'vovnet27_slim', '--format', 'json', '--gpu', 'titan-x']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('vovc.analysis/1');
    expect(j.groupBy).toBe('layer');
    expect(j.fused).toBe(true);
    expect(j.roofline.gpu).toBe('TITAN-X-Pascal');
    const t = j.models[0].totals;
    expect([t.params, t.macs, t.memAccess]).toEqual([3_525_736, 2_176_695_296, 12_641_504]);
    expect(t.bytesFused).toBeLessThan(t.bytesOps);
    expect(t.efficiency).toBeGreaterThan(0);
  });

  it('--out writes the file atomically and prints nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vovc-analyze-'));
    const out = join(dir, 'sub', 'cmp.csv');
    const r = await vovc(['analyze', 'vovnet27_slim', 'ese_vovnet19b_slim_dw', '--format', 'csv', '--out', out, '--input-shape', '1,3,64,64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const csv = readFileSync(out, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^model,variant,input,group_by,group,params,/);
    expect(csv).toContain('ese_vovnet19b_slim_dw,,1x3x64x64,stage,stage2,');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['cmp.csv']);
  });

  it('a sweep: every combination, without fused bytes unless asked', async () => {
    const r = await vovc(['analyze', 'vovnet27_slim', '--sweep', 'stage4.blocks=1..3', '--sweep', 'stage3.mid=64,96', '--format', 'json', '--input-shape', '1,3,64,64']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.fused).toBe(false);
    expect(j.groupBy).toBe('stage');
    expect(j.models.map((m: { set: Record<string, string> }) => `${m.set['stage4.blocks']}/${m.set['stage3.mid']}`)).toEqual(['1/64', '1/96', '2/64', '2/96', '3/64', '3/96']);
    const params = j.models.map((m: { totals: { params: number } }) => m.totals.params);
    expect(params[2]).toBeGreaterThan(params[0]);
    expect(j.models[5].deltas.params.abs).toBe(params[5] - params[0]);
  });

  it('stdout through a pipe holds the whole report (more than a pipe buffer)', async () => {
    const r = await vovc(['analyze', 'vovnet27_slim', '--sweep', 'stage4.blocks=1..60', '--format', 'json', '--input-shape', '1,3,64,64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(65_536);
    expect(JSON.parse(r.stdout).models).toHaveLength(60);
  });

  it('table: a comparison with deltas', async () => {
    const r = await vovc(['analyze', 'vovnet39', 'vovnet57', '--input-shape', '1,3,64,64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/== Deltas against vovnet39 ==/);
    expect(r.stdout).toMatch(/vovnet57 +\+14,040,000 \(\+62\.1%\)/);
  });

  it('malformed command lines exit 2; bad models, GPUs and --set values exit 1 without a stack', async () => {
    for (const args of [['--format', 'xml'], ['--group', 'module'], ['--sweep', 'stage4.blocks'], ['--precision', 'fp8'], ['--fusion', 'maybe'], ['--no-such-flag']]) {
      const r = await vovc(['analyze', 'vovnet27_slim', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect((await vovc(['analyze'])).code).toBe(2);
    const gpu = await vovc(['analyze', 'vovnet27_slim', '--gpu', 'h300']);
    expect(gpu.code).toBe(1);
    expect(gpu.stderr).toMatch(/unknown GPU 'h300'/);
    expect(gpu.stderr).not.toMatch(/\n\s+at /);
    const bad = await vovc(['analyze', 'vovnet27_slim', '--sweep', 'stage4.blocks=0..1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/stage4/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

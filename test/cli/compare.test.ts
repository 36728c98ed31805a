// vovc compare against PyTorch hook dumps (test/fixtures/compare, made by make_dumps.py from the
// shared fixture generator's model with each naming's module semantics; checked there against
// the real timm and VoVNet.pytorch code): every module passes; a dump with one module 1% off
// fails there first and names it.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, readNpyF32, vovc } from '../helpers/fixtures.js';

const ROOT = join(REPO, 'test/fixtures/compare');
const tmp = mkdtempSync(join(tmpdir(), 'vovc-compare-'));

for (const name of ['tiny-timm-a', 'tiny-v1-residual']) {
  const dir = join(ROOT, name);
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const args = (ref: string, extra: string[] = []) => ['compare', join(REPO, 'test/models', `${name}.vov`), '--weights', join(dir, c.weights), '--input', join(dir, 'input.npy'), '--reference', ref, ...extra];
  describe(`vovc compare: ${name} (${c.naming} naming)`, () => {
    it('every module of the hook dump passes, in network order', async () => {
      const r = await vovc([...args(join(dir, 'dump')), '--json', '-q']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.naming).toBe(c.naming);
      expect(j.failed).toBe(0);
      expect(j.passed).toBe(c.modules.length);
      expect(j.rows.filter((x: { status: string }) => x.status === 'pass').map((x: { module: string }) => x.module)).toEqual(c.modules.map((m: { path: string }) => m.path));
    }, 120_000);
    it('one module 1% off: fails there first, names it and what it is; exit 1', async () => {
      const off = join(tmp, `${name}-off`);
      cpSync(join(dir, 'dump'), off, { recursive: true });
      const file = join(off, `${c.off_module.replace(/\//g, '%2F')}.npy`);
      const raw = readFileSync(file);
      const t = readNpyF32(file);
      const header = raw.subarray(0, raw.length - t.data.length * 4);
      writeFileSync(file, Buffer.concat([header, Buffer.from(t.data.map((v) => v * c.off_factor).buffer)]));
      const r = await vovc([...args(off), '-q']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`first failing module: ${c.off_module.replace(/[.]/g, '\\.')} \\(`));
      // Every module before it passes.
      const lines = r.stdout.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${c.off_module} `) || l.startsWith(c.off_module.slice(0, 70)));
      expect(lines.slice(2, at).every((l) => l.endsWith('pass'))).toBe(true);
    }, 120_000);
  });
}

it('the .npz form of a dump gives the same table', async () => {
  const dir = join(ROOT, 'tiny-timm-a');
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const r = await vovc(['compare', join(REPO, 'test/models/tiny-timm-a.vov'), '--weights', join(dir, c.weights), '--input', join(dir, 'input.npy'), '--reference', join(dir, 'dump.npz'), '--json', '-q']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ failed: 0, passed: c.modules.length });
}, 120_000);

it('--opt: fused intermediates are not observable, the rest passes', async () => {
  const dir = join(ROOT, 'tiny-v1-residual');
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const r = await vovc(['compare', join(REPO, 'test/models/tiny-v1-residual.vov'), '--weights', join(dir, c.weights), '--input', join(dir, 'input.npy'), '--reference', join(dir, 'dump'), '--opt', '--json', '-q']);
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.graph).toBe('optimized');
  expect(j.rows.some((x: { status: string; module: string }) => x.status === 'not observable' && x.module.endsWith('/conv'))).toBe(true);
  expect(j.rows.find((x: { module: string }) => x.module === 'classifier').status).toBe('pass');
}, 120_000);

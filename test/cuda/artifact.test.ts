// The artifact's files: deterministic builds, the weight blob's documented header, and the
// runtime's rejection of a corrupt blob (through the emulated demo program).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureCases, vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-art-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193);
  return h >>> 0;
}

describe('cuda artifact', () => {
  it('building twice gives byte-identical files', { timeout: 120_000 }, async () => {
    const dirs = [join(work, 'a'), join(work, 'b')];
    for (const d of dirs) {
      const r = await vovc(['build', 'vovnet27_slim', '--target', 'cuda', '--input-shape', '1,3,64,64', '--out', d, '-q']);
      expect(r.code, r.stderr).toBe(0);
    }
    const files = readdirSync(dirs[0]).sort();
    expect(files).toEqual(readdirSync(dirs[1]).sort());
    expect(files).toEqual(expect.arrayContaining(['CMakeLists.txt', 'README.md', 'vovc.h', 'vovc_demo.cu', 'vovc_kernels.cuh', 'vovc_model.cu', 'vovc_runtime.cu', 'weights.bin']));
    for (const f of files) expect(readFileSync(join(dirs[0], f)).equals(readFileSync(join(dirs[1], f))), f).toBe(true);
  });

  it('weights.bin carries the documented header', () => {
    const blob = readFileSync(join(work, 'a', 'weights.bin'));
    expect(blob.subarray(0, 8).toString('latin1')).toBe('VOVCWTS\0');
    expect(blob.readUInt32LE(8)).toBe(1);
    expect(blob.readUInt32LE(12)).toBe(32);
    const count = Number(blob.readBigUInt64LE(16));
    expect(blob.length).toBe(32 + 4 * count);
    expect(blob.readUInt32LE(24)).toBe(fnv1a(blob.subarray(32)));
    expect(readFileSync(join(work, 'a', 'README.md'), 'utf8')).toContain(`| 16-23 | u64 element count E (${count} for this model) |`);
  });

  it('--no-weights leaves the blob out', { timeout: 120_000 }, async () => {
    const r = await vovc(['build', 'vovnet27_slim', '--target', 'cuda', '--no-weights', '--input-shape', '1,3,64,64', '--out', join(work, 'c'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(work, 'c'))).not.toContain('weights.bin');
  });

  it('the runtime rejects a corrupt blob and a wrong input shape with a one-line error', { timeout: 600_000 }, async () => {
    const c = fixtureCases().find((f) => f.name === 'tiny-timm-a')!;
    const dir = join(work, 'emu');
    const b = await vovc(['build', c.model, '--input-shape', c.inputShape.join(','), '--target', 'cuda-emu', '--out', dir, '-q']);
    expect(b.code, b.stderr).toBe(0);
    const cc = spawnSync('g++', ['-std=c++20', '-O0', '-pthread', '-x', 'c++', '-I', dir, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', '-o', 'demo'], { cwd: dir, encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    mkdirSync(join(dir, 'out'));
    const blob = readFileSync(join(dir, 'weights.bin'));
    blob[blob.length - 1] ^= 0x40;
    writeFileSync(join(dir, 'bad.bin'), blob);
    const bad = spawnSync(join(dir, 'demo'), [c.input, 'out', '--weights', 'bad.bin'], { cwd: dir, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.bin: weights: checksum mismatch/);
    const other = fixtureCases().find((f) => f.name === 'vovnet27_slim-64')!;
    const shape = spawnSync(join(dir, 'demo'), [other.input, 'out'], { cwd: dir, encoding: 'utf8' });
    expect(shape.status).toBe(1);
    expect(shape.stderr).toMatch(/input shape \[1,3,64,64\], this artifact was built for \[1,3,33,33\]/);
  });
});

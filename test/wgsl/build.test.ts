// The WGSL artifact: its file list, byte-identical rebuilds, and the shaders' WebGPU limits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkWeights } from '../../src/codegen/wgsl/chunks.js';
import { buildTarget } from '../helpers/targets.js';
import { fixtureCases } from '../helpers/fixtures.js';
import { fixtureGraph, wgslOf } from './load.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function build(name: string, flags: Record<string, string> = {}, precision: 'fp32' | 'fp16' = 'fp32'): Promise<{ dir: string; files: string[] }> {
  const c = fixtureCases().find((k) => k.name === name)!;
  const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-build-'));
  dirs.push(dir);
  const files = await buildTarget('wgsl', await fixtureGraph(c), dir, flags, true, precision);
  return { dir, files };
}

describe('wgsl build', () => {
  it('writes shaders, host module (.ts, .js, .d.ts), demo page and blobs; twice byte-identical', async () => {
    const a = await build('tiny-dw-ese-all-backbone');
    const b = await build('tiny-dw-ese-all-backbone');
    expect(a.files).toEqual(b.files);
    for (const f of ['model.ts', 'model.js', 'model.d.ts', 'index.html', 'weights.bin', 'weights.json', 'sample_input.bin']) expect(a.files).toContain(f);
    // The artifact records its precision and its I/O type.
    expect(JSON.parse(readFileSync(join(a.dir, 'weights.json'), 'utf8')).precision).toBe('fp32');
    expect(readFileSync(join(a.dir, 'model.js'), 'utf8')).toMatch(/export const precision = "fp32";[^]*export const ioType = "float32";/);
    expect(a.files.filter((f) => f.startsWith('shaders/') && f.endsWith('.wgsl')).length).toBeGreaterThan(10);
    for (const f of a.files) expect(readFileSync(join(b.dir, f)).equals(readFileSync(join(a.dir, f))), f).toBe(true);
    const js = readFileSync(join(a.dir, 'model.js'), 'utf8');
    expect(js).toContain('export async function createModel(device, weights, options = {})');
    expect(js).not.toMatch(/: GPUDevice|: string\[\]/);
  }, 120_000);

  it('fp16: packed shaders and their shader-f16 variants, a binary16 weight blob half the fp32 size, the precision and I/O type recorded', async () => {
    const f32 = await build('tiny-dw-ese-all-backbone');
    const f16 = await build('tiny-dw-ese-all-backbone', {}, 'fp16');
    const native = await build('tiny-dw-ese-all-backbone', { io: 'native' }, 'fp16');
    const size = (d: string, f: string) => readFileSync(join(d, f)).length;
    expect(size(f16.dir, 'weights.bin') * 2).toBe(size(f32.dir, 'weights.bin'));
    const meta = JSON.parse(readFileSync(join(f16.dir, 'weights.json'), 'utf8'));
    expect(meta).toMatchObject({ precision: 'fp16', bytes: size(f16.dir, 'weights.bin') });
    expect(meta.dtype).toMatch(/^float16/);
    const shaders = f16.files.filter((f) => f.startsWith('shaders/'));
    const variants = shaders.filter((f) => f.endsWith('.f16.wgsl'));
    // One shader-f16 variant per GEMM conv, each enabling f16 and multiplying in it.
    expect(variants.length).toBe(shaders.filter((f) => /_conv\.wgsl$/.test(f) && readFileSync(join(f16.dir, f), 'utf8').includes('Tiled implicit-GEMM')).length);
    expect(variants.length).toBeGreaterThan(3);
    for (const v of variants) expect(readFileSync(join(f16.dir, v), 'utf8')).toMatch(/^enable f16;[^]*vec4<f32>\(a0 \* b0\)/);
    // Packed storage everywhere: no f32 storage array in any fp16 shader.
    for (const s of shaders) expect(readFileSync(join(f16.dir, s), 'utf8')).not.toMatch(/var<storage[^>]*> \w+: array<(f32|vec4<f32>)>/);
    const js = readFileSync(join(f16.dir, 'model.js'), 'utf8');
    expect(js).toMatch(/export const precision = "fp16";[^]*export const ioType = "float32";/);
    expect(readFileSync(join(native.dir, 'model.js'), 'utf8')).toMatch(/export const ioType = "float16";/);
    expect(readFileSync(join(native.dir, 'model.d.ts'), 'utf8')).toContain('run(input: Uint16Array)');
    // The sample input in the I/O type: binary16 bits under --io native.
    expect(size(native.dir, 'sample_input.bin') * 2).toBe(size(f16.dir, 'sample_input.bin'));
  }, 120_000);

  it('binds at most 8 storage buffers per shader and never one buffer both read-only and writable', async () => {
    const c = fixtureCases().find((k) => k.name === 'tiny-dw-ese-all-backbone')!;
    const { rendered } = wgslOf(await fixtureGraph(c));
    for (const s of rendered.shaders) {
      const decls = [...s.code.matchAll(/var<storage, (read|read_write)> (\w+)/g)];
      expect(decls.length).toBeLessThanOrEqual(8);
      expect(new Set(decls.map((d) => d[2])).size).toBe(decls.length);
      // The arena is read and written by the same launch (in-place concat), so it is read_write.
      for (const d of decls) if (d[2] === 'arena') expect(d[1]).toBe('read_write');
    }
    for (const d of rendered.dispatches) expect(d.groups[0]).toBeLessThanOrEqual(65535);
  }, 60_000);

  it('splits the weight blob at parameter boundaries below the binding limit', async () => {
    const c = fixtureCases().find((k) => k.name === 'tiny-timm-a')!;
    const { rendered } = wgslOf(await fixtureGraph(c));
    const limit = 64 * 1024; // bytes: small enough to force several chunks on this model
    const { starts, ends } = chunkWeights(rendered.weights, limit);
    expect(starts.length).toBeGreaterThan(1);
    for (let k = 0; k < starts.length; k++) expect((ends[k] - starts[k]) * 4).toBeLessThanOrEqual(limit);
    // vec4 bindings need chunks on 16-byte boundaries (entries are 64-element aligned).
    for (const s of starts) expect(s % 4).toBe(0);
    for (const e of rendered.weights.entries) {
      const k = starts.findLastIndex((s) => s <= e.offset);
      expect(e.offset + e.numel).toBeLessThanOrEqual(ends[k]);
    }
  }, 60_000);
});

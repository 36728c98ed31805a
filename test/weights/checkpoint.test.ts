import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { findNonFinite, loadCheckpoint } from '../../src/weights/checkpoint.js';
import { writeSafetensors } from '../../src/weights/safetensors.js';
import { progressBar } from '../../src/util/progress.js';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'vovc-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadCheckpoint', () => {
  it('tells formats apart by their bytes, not the file name', async () => {
    const st = join(tmp, 'actually-safetensors.pth');
    const pt = join(tmp, 'actually-torch.safetensors');
    copyFileSync(join(FIXTURES, 'tiny-timm-a', 'weights.safetensors'), st);
    copyFileSync(join(FIXTURES, 'tiny-v1-residual', 'weights.pth'), pt);
    expect((await loadCheckpoint(st)).format).toBe('safetensors');
    expect((await loadCheckpoint(pt)).format).toBe('pth');
  });

  it('reports progress up to the file size', async () => {
    const file = join(FIXTURES, 'tiny-v1-residual', 'weights.pth');
    const seen: [number, number][] = [];
    await loadCheckpoint(file, { onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toEqual([1266185, 1266185]);
  });

  it('names a missing file', async () => {
    const missing = join(tmp, 'nope.pth');
    await expect(loadCheckpoint(missing)).rejects.toThrow(new VovcError({ severity: 'error', code: 'E4101', message: `${missing}: cannot read: no such file` }));
    await expect(loadCheckpoint(tmp)).rejects.toThrow(/cannot read/);
  });
});

describe('findNonFinite', () => {
  it('counts NaN and infinities per tensor, in a file too', async () => {
    const file = join(tmp, 'bad.safetensors');
    writeFileSync(file, writeSafetensors([
      { key: 'ok', shape: [3], data: new Float32Array([0, -1e38, 3.4e38]) },
      { key: 'nan', shape: [4], data: new Float32Array([NaN, 1, NaN, 2]) },
      { key: 'inf', shape: [2], data: new Float32Array([Infinity, -Infinity]) },
      { key: 'count', shape: [], data: null, int: new BigInt64Array([1n]) },
    ]));
    const ck = await loadCheckpoint(file);
    expect(findNonFinite(ck.tensors)).toEqual([{ key: 'nan', count: 2 }, { key: 'inf', count: 2 }]);
    expect(findNonFinite(ck.tensors.filter((t) => t.key === 'ok'))).toEqual([]);
  });
});

describe('progress bar', () => {
  const fakeTerminal = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, columns: 80, write: (s: string) => out.push(s) } };
  };

  it('draws bytes, total and rate on a terminal, then erases itself', () => {
    const { out, stream } = fakeTerminal(true);
    let t = 0;
    const bar = progressBar('loading w.pth', { stream, now: () => t });
    t = 1000;
    bar.update(60e6, 120e6);
    t = 1050;
    bar.update(70e6, 120e6); // within 100 ms of the last drawing: skipped
    t = 2000;
    bar.update(120e6, 120e6);
    bar.finish();
    expect(out.length).toBe(3);
    expect(out[0]).toMatch(/^\rloading w\.pth \[#+\.+\] 60\.0\/120\.0 MB {2}60 MB\/s$/);
    const [, filled, empty] = /\[(#*)(\.*)\]/.exec(out[0])!;
    expect(filled.length).toBe(empty.length); // half done
    expect(out[1]).toContain('120.0/120.0 MB  60 MB/s');
    expect(out[2]).toBe('\r\x1b[K');
  });

  it('stays quiet off a terminal and for small files', () => {
    for (const [isTTY, total] of [[false, 500e6], [true, 10e6]] as const) {
      const { out, stream } = fakeTerminal(isTTY);
      const bar = progressBar('x', { stream });
      bar.update(total, total);
      bar.finish();
      expect(out).toEqual([]);
    }
  });
});

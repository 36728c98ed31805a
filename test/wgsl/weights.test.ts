// The WGSL weight blob (conv weights repacked as the GEMM's [K, N4] operand) and the conv GEMM
// tile choice. Pure functions: no WebGPU needed.
import { describe, expect, it } from 'vitest';
import { wgslOf } from './load.js';
import { MAX_INVOCATIONS_PER_WORKGROUP, MAX_WORKGROUP_STORAGE_BYTES } from '../../src/codegen/wgsl/limits.js';
import { gemmTile } from '../../src/codegen/wgsl/tile.js';
import { kxnDims, packWgslWeights, wgslWeightLayout, writeWgslWeights } from '../../src/codegen/wgsl/weights.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/dsl/zoo.js';
import { seedParams } from '../../src/model/init.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';
import { fromF16Bits, rounded } from '../../src/ir/precision.js';

const odd = () => seedParams(lowerSpec(loadModel(`${import.meta.dirname}/odd-channels.vov`).spec));

describe('wgsl weight blob', () => {
  it('stores every groups=1 conv weight as [K, N4] and everything else as in the checkpoint', () => {
    const g = odd();
    const { plan, blob: bytes, rendered } = wgslOf(g);
    const blob = new Float32Array(bytes);
    // compileWgsl packs the optimized graph's parameters (BN folded into the convs).
    const params = optimize(g).graph.params;
    const layout = rendered.weights;
    expect(layout).toEqual(wgslWeightLayout(plan));
    expect(blob.length).toBe(layout.totalElements);
    expect(layout.totalElements % 64).toBe(0);
    let kxn = 0;
    let sawPadding = false;
    for (const e of layout.entries) {
      expect(e.offset % 64).toBe(0);
      const d = params.get(e.name)!.data!;
      if (e.packing === 'dense') {
        expect(Array.from(blob.subarray(e.offset, e.offset + e.numel))).toEqual(Array.from(d));
        continue;
      }
      kxn++;
      const { cout, k, n4 } = kxnDims(e.shape);
      expect(e.numel).toBe(k * n4);
      for (let kk = 0; kk < k; kk++) {
        for (let co = 0; co < n4; co++) {
          const want = co < cout ? d[co * k + kk] : 0;
          if (blob[e.offset + kk * n4 + co] !== want) expect({ name: e.name, kk, co, got: blob[e.offset + kk * n4 + co] }).toEqual({ name: e.name, kk, co, got: want });
        }
      }
      sawPadding ||= n4 > cout;
    }
    expect(kxn).toBe(plan.launches.filter((l) => (l.kind === 'conv' || l.kind === 'dwconv') && (l.attrs.groups ?? 1) === 1).length);
    expect(sawPadding).toBe(true);
  });

  it('writeWgslWeights writes the bytes of packWgslWeights (blocks of rows, gaps, shape-only entries)', () => {
    // [64, 512, 3, 3]: K = 4608 rows of N4 = 64, more than one 1 MiB block of the writer.
    const big = { name: 'big.weight', packing: 'kxn' as const, shape: [64, 512, 3, 3], offset: 64, numel: 4608 * 64 };
    const dense = { name: 'b.bias', packing: 'dense' as const, shape: [5], offset: 64 + 4608 * 64 + 64, numel: 5 };
    const padded = { name: 'p.weight', packing: 'kxn' as const, shape: [3, 2, 1, 2], offset: dense.offset + 64, numel: 16 };
    const missing = { name: 'm.weight', packing: 'kxn' as const, shape: [3, 2, 1, 2], offset: padded.offset + 64, numel: 16 };
    const layout = { dtype: 'f32' as const, totalElements: missing.offset + 128, entries: [big, dense, padded, missing] };
    const data = new Map<string, Float32Array | null>([
      ['big.weight', Float32Array.from({ length: 64 * 4608 }, (_, i) => Math.sin(i))],
      ['b.bias', Float32Array.from([1, 2, 3, 4, 5])],
      ['p.weight', Float32Array.from({ length: 12 }, (_, i) => i + 1)],
      ['m.weight', null],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-weights-'));
    try {
      writeWgslWeights(join(dir, 'w.bin'), layout, (n) => data.get(n));
      const want = packWgslWeights(layout, (n) => data.get(n));
      const got = readFileSync(join(dir, 'w.bin'));
      expect(got.length).toBe(want.byteLength);
      expect(got.equals(Buffer.from(want))).toBe(true);
      // fp16: the same layout in binary16, the file again the packed blob's bytes.
      const half = { ...layout, dtype: 'f16' as const };
      writeWgslWeights(join(dir, 'h.bin'), half, (n) => data.get(n));
      const wantHalf = packWgslWeights(half, (n) => data.get(n));
      expect(wantHalf.byteLength).toBe(want.byteLength / 2);
      expect(readFileSync(join(dir, 'h.bin')).equals(Buffer.from(wantHalf))).toBe(true);
      // Element i of the fp16 blob is element i of the fp32 one rounded to nearest even.
      const f32 = new Float32Array(want);
      expect(Array.from(fromF16Bits(new Uint16Array(wantHalf)))).toEqual(Array.from(rounded(f32, 'f16')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('transposes a known weight exactly and leaves the padding columns zero', () => {
    // Cout 3, Cin 2, 1x2 kernel: K = 4, N4 = 4.
    const w = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const entry = { name: 'c.weight', packing: 'kxn' as const, shape: [3, 2, 1, 2], offset: 64, numel: 16 };
    const blob = new Float32Array(packWgslWeights({ dtype: 'f32', totalElements: 128, entries: [entry] }, () => w));
    // Row k holds W[0][k], W[1][k], W[2][k], 0.
    expect(Array.from(blob.subarray(64, 80))).toEqual([1, 5, 9, 0, 2, 6, 10, 0, 3, 7, 11, 0, 4, 8, 12, 0]);
    expect(blob.subarray(0, 64).every((v) => v === 0)).toBe(true);
  });

  it('rejects data of the wrong size with a diagnostic naming the parameter', () => {
    const entry = { name: 'c.weight', packing: 'kxn' as const, shape: [3, 2, 1, 2], offset: 0, numel: 16 };
    expect(() => packWgslWeights({ dtype: 'f32', totalElements: 64, entries: [entry] }, () => new Float32Array(11))).toThrow(/'c\.weight' holds 11 values/);
  });
});

describe('wgsl conv GEMM tile', () => {
  it('stays within the compatibility-mode limits and the staging invariants for every shape', () => {
    for (const m of [1, 3, 4, 5, 16, 49, 63, 64, 65, 196, 3136, 12544]) {
      for (const cout of [1, 3, 5, 13, 16, 30, 64, 80, 96, 112, 160, 224, 256, 384, 1000, 1024]) {
        const t = gemmTile(m, cout);
        const where = `m ${m} cout ${cout}: ${JSON.stringify(t)}`;
        expect(t.invocations, where).toBeLessThanOrEqual(MAX_INVOCATIONS_PER_WORKGROUP);
        expect(t.workgroupBytes, where).toBeLessThanOrEqual(MAX_WORKGROUP_STORAGE_BYTES);
        expect(t.invocations % t.bm === 0 || t.bm % t.invocations === 0, where).toBe(true);
        expect(t.bm, where).toBe(t.ty * t.tm);
        expect(t.bn, where).toBe(4 * t.vn * t.tx);
        // Wide channel counts (every VoVNet stage output) get the widest tile and no padding.
        if (cout % 64 === 0) expect(t.bn, where).toBe(64);
      }
    }
  });

  it('shrinks the pixel tile for small feature maps but keeps full tiles for large ones', () => {
    expect(gemmTile(12544, 64).bm).toBe(64);
    expect(gemmTile(4, 112).bm).toBe(4);
    expect(gemmTile(4, 112).tm).toBe(4);
  });
});

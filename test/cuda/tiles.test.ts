// The tensor-core tile choice (src/codegen/cuda/tiles.ts): within the SM's limits, small tiles
// for small layers and large ones once every SM is busy, different GPUs giving different
// choices; and the emulated artifact computing the same numbers with tiles other than the
// chosen one: tiny-timm-a rendered with every candidate tile forced on every convolution, compiled
// with the shim and the tensor-core emulation, against the PyTorch fixture.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blobChunks, renderSources, smFacts } from '../../src/codegen/cuda/render.js';
import { gxx } from '../../src/codegen/cuda/emu.js';
import { artifactMeta } from '../../src/driver/meta.js';
import { loadModelGraph } from '../../src/driver/model.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import { writeChunks } from '../../src/util/fsx.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { bindCheckpoint } from '../../src/weights/mapping.js';
import { candidateTiles, chooseTile, tileSharedBytes } from '../../src/codegen/cuda/tiles.js';
import { compareReduced, fixtureCases, readNpyF32 } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-tiles-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('chooseTile', () => {
  const h100 = smFacts('H100-SXM');
  it('every candidate fits 48 KiB of static shared memory; tf32 offers fewer tiles', () => {
    for (const p of ['fp16', 'bf16', 'tf32'] as const) for (const t of candidateTiles(p)) expect(tileSharedBytes(t, p === 'tf32' ? 4 : 2)).toBeLessThanOrEqual(48 * 1024);
    expect(candidateTiles('tf32').length).toBeLessThan(candidateTiles('fp16').length);
    expect(candidateTiles('fp16').some((t) => t.bm === 128 && t.bn === 128)).toBe(false);
  });
  it('a small layer gets a small tile (more SMs busy), a large one a large tile', () => {
    const small = chooseTile(1024, 49, 'fp16', h100); // stage 5 at batch 1: 7 x 7 pixels
    const large = chooseTile(256, 32 * 56 * 56, 'fp16', h100); // stage 2 at batch 32
    expect(small.bm * small.bn).toBeLessThan(large.bm * large.bn);
    expect(small.blocks).toBeLessThanOrEqual(h100.count * small.blocksPerSm);
    expect(large.waves).toBeGreaterThan(1);
  });
  it('blocks per SM respect every limit', () => {
    for (const gpu of ['H100-SXM', 'A100-SXM-40GB', 'RTX-4090', 'TITAN-X-Pascal']) {
      const sm = smFacts(gpu);
      for (const [m, p] of [[64, 12544], [512, 784], [1024, 49], [128, 401408]]) {
        const c = chooseTile(m, p, 'fp16', sm);
        expect(c.blocksPerSm * 128).toBeLessThanOrEqual(sm.maxThreads);
        expect(c.blocksPerSm).toBeLessThanOrEqual(sm.maxBlocks);
        expect(c.blocksPerSm * (c.sharedBytes + 1024)).toBeLessThanOrEqual(sm.sharedMemoryBytes);
        expect(c.blocksPerSm * 4 * Math.ceil((c.registers * 32) / 256) * 256).toBeLessThanOrEqual(sm.registers);
      }
    }
  });
  it('is a pure function of its inputs', () => {
    expect(chooseTile(512, 784, 'bf16', h100)).toEqual(chooseTile(512, 784, 'bf16', h100));
  });
});

const hasGxx = !spawnSync('g++', ['--version'], { stdio: 'ignore' }).error;

describe.skipIf(!hasGxx)('every tile computes the same numbers in the emulated artifact (skipped: no g++)', () => {
  const c = fixtureCases().find((x) => x.name === 'tiny-timm-a')!;
  const { graph } = loadModelGraph({ model: c.model, inputShape: c.inputShape as [number, number, number, number] });
  for (const precision of ['fp16', 'tf32'] as const) {
    for (const tile of candidateTiles(precision)) {
      it(`tiny-timm-a ${precision}, every convolution ${tile.bm} x ${tile.bn}`, { timeout: 300_000 }, async () => {
        const ck = await loadCheckpoint(c.weights);
        const bound = bindCheckpoint(graph, ck.tensors).graph;
        const pipeline = new Pipeline(bound, { passes: { log: () => {} }, precision });
        const plan = pipeline.plan();
        const params = pipeline.optimized().graph.params;
        const dir = join(work, `${precision}-${tile.bm}x${tile.bn}`);
        mkdirSync(dir, { recursive: true });
        for (const [f, text] of renderSources(plan, artifactMeta(bound, true, precision), { tile })) writeFileSync(join(dir, f), text);
        writeChunks(join(dir, 'weights.bin'), blobChunks(plan, (n) => params.get(n)?.data));
        const [cmd, args] = gxx().command(dir, join(dir, 'demo'));
        const cc = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
        expect(cc.status, cc.stderr).toBe(0);
        mkdirSync(join(dir, 'out'));
        const r = spawnSync(join(dir, 'demo'), [c.input, 'out', '--weights', 'weights.bin'], { cwd: dir, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        for (const [name, file] of c.outputs) {
          const cmp = compareReduced(readNpyF32(join(dir, 'out', `${name}.npy`)), readNpyF32(file), precision);
          expect(cmp.ok, `${name}: ${cmp.relMax} ${cmp.cosine}`).toBe(true);
        }
      });
    }
  }
});

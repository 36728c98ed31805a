// The block tile of each tensor-core convolution (vovc::conv_tc, vovc_kernels.cuh): a pure
// function of the GEMM's size (M = output channels, P = output pixels, K), the precision and
// the GPU named by `vovc build --gpu` (data/gpus.json's SM facts). docs/PRECISION.md gives the
// reasoning; in short:
//
//   - candidates: BM x BN in {32, 64, 128}^2 with 128 threads (2 x 2 warps), except what does
//     not fit 48 KiB of static shared memory (two stages of A [BM][32+pad] and B [32][BN+pad])
//     and 128 x 128 (its registers leave no margin under 255);
//   - blocks resident per SM: the least of registers (per-thread count measured with ptxas,
//     allocated per warp in units of 256), shared memory (plus 1 KiB the driver reserves per
//     block), resident threads and resident blocks;
//   - the busiest SM gets ceil(blocks / SMs) blocks of BM x BN x K products; it computes them at
//     a rate ~ reuse x latency hiding, where reuse = BM BN / (BM + BN) / 32 (products per operand
//     element loaded, relative to the 64 x 64 tile) and latency hiding = min(1, resident warps /
//     8) with min(blocks per SM, its blocks) blocks resident: so the estimate is
//     ceil(blocks / SMs) x (BM BN / 4096) / (reuse x hiding). A small tile spreads a small layer
//     (stage 5 at batch 1: 7 x 7 pixels) over more SMs; a large one reuses each loaded operand
//     more once every SM is busy (batch 32);
//   - the least estimated time wins; ties go to the larger tile, then to the wider BN.
//
// The figures are estimates for choosing among tiles, not predictions of time; bench/gpu
// measures the result when a GPU is available.

import type { Precision } from '../../ir/precision.js';

export interface SmFacts {
  readonly count: number;
  readonly sharedMemoryBytes: number;
  readonly registers: number;
  readonly maxThreads: number;
  readonly maxBlocks: number;
}

export interface TcTile {
  readonly bm: 32 | 64 | 128;
  readonly bn: 32 | 64 | 128;
}

export interface TileChoice extends TcTile {
  readonly blocks: number;
  readonly blocksPerSm: number;
  /** Which resource bounds blocksPerSm. */
  readonly limit: 'registers' | 'shared memory' | 'threads' | 'blocks';
  readonly waves: number;
  /** The estimate the choice minimizes (units of a 64 x 64 tile's block time). */
  readonly cost: number;
  readonly sharedBytes: number;
  readonly registers: number;
}

export const TC_THREADS = 128;
const BK = 32;
const STATIC_SHARED_LIMIT = 48 * 1024;
const RESERVED_SHARED_PER_BLOCK = 1024;
const SIZES = [32, 64, 128] as const;

/**
 * Registers per thread of conv_tc by tile and operand type (16-bit: f16 and bf16, which agree;
 * tf32): what ptxas (nvcc 13, -O3, sm_80 and sm_90) reported for each tile on a 256 -> 512
 * channel 3x3 and 1x1 convolution with a ReLU epilogue (test/cuda/tc/ has no GPU-free way to
 * re-measure: docs/PRECISION.md gives the command), plus 24 for the heavier epilogues of real
 * models (vovnet57's 64 x 64 convolutions use up to 117 and 101, against 96 and 100 there).
 * 0: not offered (128 x 128 needs 242 before the margin; the tf32 tiles past 48 KiB of shared
 * memory are filtered by size).
 */
const REGISTERS: Readonly<Record<string, { readonly b16: number; readonly tf32: number }>> = {
  '32x32': { b16: 80, tf32: 86 },
  '32x64': { b16: 96, tf32: 102 },
  '32x128': { b16: 150, tf32: 140 },
  '64x32': { b16: 88, tf32: 106 },
  '64x64': { b16: 120, tf32: 124 },
  '64x128': { b16: 191, tf32: 0 },
  '128x32': { b16: 118, tf32: 128 },
  '128x64': { b16: 150, tf32: 0 },
  '128x128': { b16: 0, tf32: 0 },
};

/** Static shared memory of conv_tc with this tile: two stages of A and B, rows padded by 16 bytes. */
export function tileSharedBytes(t: TcTile, elementBytes: number): number {
  const pad = 16 / elementBytes;
  return 2 * (t.bm * (BK + pad) + BK * (t.bn + pad)) * elementBytes;
}

const regsOf = (t: TcTile, precision: Precision): number => REGISTERS[`${t.bm}x${t.bn}`][precision === 'tf32' ? 'tf32' : 'b16'];

/** Every tile the kernel can be instantiated with at this precision (registers measured, shared memory within the static limit). */
export function candidateTiles(precision: Precision): TcTile[] {
  const eb = precision === 'tf32' ? 4 : 2;
  const out: TcTile[] = [];
  for (const bm of SIZES) for (const bn of SIZES) if (regsOf({ bm, bn }, precision) > 0 && tileSharedBytes({ bm, bn }, eb) <= STATIC_SHARED_LIMIT) out.push({ bm, bn });
  return out;
}

/**
 * The tile of one convolution: GEMM M x P (x K), at `precision`, on an SM described by `sm`;
 * with `only`, that tile's figures (the choice made elsewhere).
 */
export function chooseTile(m: number, p: number, precision: Precision, sm: SmFacts, only?: TcTile): TileChoice {
  const eb = precision === 'tf32' ? 4 : 2;
  let best: TileChoice | undefined;
  for (const t of candidateTiles(precision).filter((c) => !only || (c.bm === only.bm && c.bn === only.bn))) {
    const registers = regsOf(t, precision);
    const sharedBytes = tileSharedBytes(t, eb);
    const warps = TC_THREADS / 32;
    const perWarpRegs = Math.ceil((registers * 32) / 256) * 256;
    const limits: [TileChoice['limit'], number][] = [
      ['registers', Math.floor(sm.registers / (perWarpRegs * warps))],
      ['shared memory', Math.floor(sm.sharedMemoryBytes / (sharedBytes + RESERVED_SHARED_PER_BLOCK))],
      ['threads', Math.floor(sm.maxThreads / TC_THREADS)],
      ['blocks', sm.maxBlocks],
    ];
    const [limit, blocksPerSm] = limits.reduce((a, b) => (b[1] < a[1] ? b : a));
    if (blocksPerSm < 1) continue;
    const blocks = Math.ceil(m / t.bm) * Math.ceil(p / t.bn);
    const waves = Math.ceil(blocks / (sm.count * blocksPerSm));
    const perSm = Math.ceil(blocks / sm.count);
    const reuse = (t.bm * t.bn) / (t.bm + t.bn) / 32;
    const hiding = Math.min(1, (Math.min(blocksPerSm, perSm) * warps) / 8);
    const cost = (perSm * ((t.bm * t.bn) / (64 * 64))) / (reuse * hiding);
    const c: TileChoice = { ...t, blocks, blocksPerSm, limit, waves, cost, sharedBytes, registers };
    const better = !best || cost < best.cost - 1e-9 || (Math.abs(cost - best.cost) <= 1e-9 && (t.bm * t.bn > best.bm * best.bn || (t.bm * t.bn === best.bm * best.bn && t.bn > best.bn)));
    if (better) best = c;
  }
  if (!best) throw new Error(`internal: no tensor-core tile fits an SM with ${sm.registers} registers and ${sm.sharedMemoryBytes} bytes of shared memory`);
  return best;
}

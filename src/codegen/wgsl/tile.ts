// The implicit-GEMM convolution's tile per layer (conv.wgsl.hbs): a pure function of the
// layer's size, within WebGPU's default limits (limits.ts).

import { fail } from '../../diag/diagnostics.js';
import { MAX_INVOCATIONS_PER_WORKGROUP, MAX_WORKGROUP_STORAGE_BYTES } from './limits.js';

/** The implicit-GEMM conv tile for M output pixels and `cout` channels (see conv.wgsl.hbs). */
export interface GemmTile {
  /** Pixels and channels per workgroup, K per step. */
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  /** Pixels and vec4 columns per invocation. */
  readonly tm: number;
  readonly vn: number;
  /** Invocations along pixels and along channels. */
  readonly ty: number;
  readonly tx: number;
  readonly invocations: number;
  readonly workgroupBytes: number;
}

/**
 * The tile for M output pixels and `cout` channels. An invocation owns TM = 8 pixels x VN = 2
 * vec4 columns (16 accumulators). On CPU-emulated adapters every workgroup-memory load with a
 * per-invocation index is a per-lane gather, so the tile is as tall as the compile time
 * allows: measured on SwiftShader and llvmpipe, TM = 8 runs 1.5-2x faster than TM = 4, while
 * VN = 3..5 gains nothing more and llvmpipe's shader compile time grows with the number of
 * accumulators (about 0.5 s for 8, 1.2 s for 16, 3 s for 32). The channel tile BN = 8 * TX
 * (TX a power of two up to 8, so pixel staging divides evenly) trades zero padding past Cout
 * against the number of channel tiles. The pixel tile BM (up to 64) shrinks for the small feature maps of late stages,
 * down to 4 pixels (then TM = BM) while that leaves fewer than MIN_WORKGROUPS workgroups, so
 * that every core of a CPU adapter gets work.
 */
export function gemmTile(m: number, cout: number): GemmTile {
  const bk = 16;
  const vn = 2;
  const c4 = Math.ceil(cout / 4);
  let tx = 1;
  let cost = Infinity;
  for (const t of [1, 2, 4, 8]) {
    // Zero-padded vec4 columns, plus 4 columns' worth per channel tile: each tile stages the
    // A tile again and has fewer invocations. Ties go to the wider tile.
    const tiles = Math.ceil(c4 / (t * vn));
    const c = tiles * t * vn + 4 * tiles;
    if (c <= cost) [tx, cost] = [t, c];
  }
  const nt = Math.ceil(c4 / (tx * vn));
  let bm = 4;
  while (bm < m && bm < 64) bm *= 2;
  while (bm > 4 && Math.ceil(m / bm) * nt < MIN_WORKGROUPS) bm /= 2;
  const tm = Math.min(8, bm);
  const ty = bm / tm;
  const bn = 4 * vn * tx;
  const invocations = ty * tx;
  const workgroupBytes = bk * bm * 4 + bk * bn * 4;
  // The staging loops need every invocation to own fixed pixels: WG divides BM or BM divides WG.
  if (invocations % bm !== 0 && bm % invocations !== 0) fail('E5110', `wgsl: bad conv tile ${bm}x${bn}x${bk}`);
  if (invocations > MAX_INVOCATIONS_PER_WORKGROUP || workgroupBytes > MAX_WORKGROUP_STORAGE_BYTES) fail('E5110', `wgsl: conv tile ${bm}x${bn}x${bk} exceeds the workgroup limits`);
  return { bm, bn, bk, tm, vn, ty, tx, invocations, workgroupBytes };
}

/** Fewest conv workgroups worth shrinking the pixel tile for (CPU adapters have a few cores). */
const MIN_WORKGROUPS = 4;

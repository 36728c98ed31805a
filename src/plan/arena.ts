// The arena planner: given blocks with sizes and lifetimes (inclusive launch-index intervals),
// choose offsets so that blocks alive at the same time never overlap, keeping the arena small.
//
// Algorithm ("greedy by size", as TensorFlow Lite's arena planner; see docs/PASSES.md):
// take the blocks from largest to smallest; for each, look at the already placed blocks whose
// lifetimes intersect its own, in address order, and put it into the smallest gap between
// them that fits (best fit), or after the last of them when no gap fits. Offsets are aligned
// to ALIGN_ELEMENTS (256 bytes). Large blocks placed first pin the layout's skeleton; small
// ones then fill the holes the large ones leave at other times.

import { ALIGN_ELEMENTS } from './types.js';

export interface BlockRequest {
  readonly elements: number;
  readonly first: number;
  readonly last: number;
}

export interface ArenaAssignment {
  /** Element offset of each request, in request order. */
  readonly offsets: number[];
  /** Arena length in elements (a multiple of ALIGN_ELEMENTS). */
  readonly totalElements: number;
}

export const alignUp = (x: number, a = ALIGN_ELEMENTS) => Math.ceil(x / a) * a;

const overlaps = (a: BlockRequest, b: BlockRequest) => a.first <= b.last && b.first <= a.last;

/** reuse false: every block gets its own range, in request order. */
export function assignArena(blocks: readonly BlockRequest[], reuse: boolean): ArenaAssignment {
  const offsets = new Array<number>(blocks.length).fill(0);
  let total = 0;
  if (!reuse) {
    blocks.forEach((b, i) => {
      offsets[i] = total;
      total = alignUp(total + b.elements);
    });
    return { offsets, totalElements: total };
  }
  // Largest first; ties by earlier start, then request order, so the result is deterministic.
  const order = blocks.map((_, i) => i).sort((i, j) => blocks[j].elements - blocks[i].elements || blocks[i].first - blocks[j].first || i - j);
  const placed: number[] = [];
  for (const i of order) {
    const b = blocks[i];
    const live = placed.filter((j) => overlaps(b, blocks[j])).sort((p, q) => offsets[p] - offsets[q] || p - q);
    let best = -1;
    let bestGap = Infinity;
    let end = 0;
    for (const j of live) {
      const start = alignUp(end);
      const gap = offsets[j] - start;
      if (gap >= b.elements && gap < bestGap) {
        best = start;
        bestGap = gap;
      }
      end = Math.max(end, offsets[j] + blocks[j].elements);
    }
    offsets[i] = best >= 0 ? best : alignUp(end);
    placed.push(i);
    total = Math.max(total, alignUp(offsets[i] + b.elements));
  }
  return { offsets, totalElements: total };
}

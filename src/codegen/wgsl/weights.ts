// The WGSL artifact's own weight blob (weights.bin). It differs from the plan's packed blob in
// one way: the weight of every groups == 1 convolution is stored as the B operand of the
// implicit GEMM the conv shader runs, so that the shader reads it as vec4 along output channels:
//
//   'kxn'    conv weight [Cout, Cin, kh, kw] stored as [K, N4]: K = Cin*kh*kw in (ci, ky, kx)
//            order, N4 = Cout rounded up to a multiple of 4, element (k, co) at k*N4 + co, the
//            columns co >= Cout zero;
//   'dense'  every other parameter exactly as the checkpoint holds it (C order).
//
// Entries follow the launches' first use; each starts on a multiple of ALIGN_ELEMENTS (64
// elements = 256 bytes, so vec4 indexing and weight chunks line up) and the blob length is a
// multiple of it too. Gaps are zero. weights.json in the artifact lists every entry.

import { fail } from '../../diag/diagnostics.js';
import { alignUp } from '../../plan/arena.js';
import type { KernelPlan, Launch } from '../../plan/types.js';

export type Packing = 'dense' | 'kxn';

export interface WgslWeightEntry {
  /** Canonical parameter name (the plan's WeightRef.name). */
  readonly name: string;
  readonly packing: Packing;
  /** The parameter's own shape (as in the checkpoint). */
  readonly shape: readonly number[];
  /** Element offset in the blob, a multiple of 64. */
  readonly offset: number;
  /** Stored elements (for 'kxn': K * N4). */
  readonly numel: number;
}

export interface WgslWeightLayout {
  readonly totalElements: number;
  readonly entries: readonly WgslWeightEntry[];
}

/** Whether a launch runs the implicit-GEMM conv shader (and so wants its weight as 'kxn'). */
export function isGemmConv(l: Launch): boolean {
  return (l.kind === 'conv' || l.kind === 'dwconv') && (l.attrs.groups ?? 1) === 1;
}

/** How launch `l` reads its parameter of role `role`. */
export function packingOf(l: Launch, role: string): Packing {
  return role === 'weight' && isGemmConv(l) ? 'kxn' : 'dense';
}

export const entryKey = (name: string, packing: Packing): string => `${packing}:${name}`;

/** K and N4 of a 'kxn' entry of shape [Cout, Cin, kh, kw]. */
export function kxnDims(shape: readonly number[]): { cout: number; k: number; n4: number } {
  const [cout, ...rest] = shape;
  return { cout, k: rest.reduce((a, b) => a * b, 1), n4: Math.ceil(cout / 4) * 4 };
}

/** The blob layout of `plan`: one entry per (parameter, packing) a launch reads. */
export function wgslWeightLayout(plan: KernelPlan): WgslWeightLayout {
  const entries: WgslWeightEntry[] = [];
  const seen = new Set<string>();
  let off = 0;
  for (const l of plan.launches) {
    for (const [role, p] of Object.entries(l.params)) {
      const packing = packingOf(l, role);
      if (seen.has(entryKey(p.name, packing))) continue;
      seen.add(entryKey(p.name, packing));
      if (packing === 'kxn' && p.shape.length !== 4) fail('E5109', `wgsl: conv weight '${p.name}' has shape [${p.shape.join(', ')}], expected [Cout, Cin, kh, kw]`);
      const numel = packing === 'kxn' ? kxnDims(p.shape).k * kxnDims(p.shape).n4 : p.numel;
      entries.push({ name: p.name, packing, shape: p.shape, offset: off, numel });
      off = alignUp(off + numel);
    }
  }
  return { totalElements: Math.max(off, alignUp(1)), entries };
}

/**
 * Fills the blob of `layout` from parameter data by name. A parameter without data (a
 * shape-only build) leaves zeros: the artifact's weights.bin can be replaced later.
 */
export function packWgslWeights(layout: WgslWeightLayout, data: (name: string) => Float32Array | null | undefined): Float32Array {
  const blob = new Float32Array(layout.totalElements);
  for (const e of layout.entries) {
    const d = data(e.name);
    if (d === undefined) fail('E5301', `wgsl: the plan names parameter '${e.name}', which the optimized graph lacks`);
    if (d === null) continue;
    const expected = e.shape.reduce((a, b) => a * b, 1);
    if (d.length !== expected) fail('E5304', `wgsl: parameter '${e.name}' holds ${d.length} values, its shape [${e.shape.join(', ')}] needs ${expected}`);
    if (e.packing === 'dense') {
      blob.set(d, e.offset);
      continue;
    }
    const { cout, k, n4 } = kxnDims(e.shape);
    for (let co = 0; co < cout; co++) {
      for (let kk = 0; kk < k; kk++) blob[e.offset + kk * n4 + co] = d[co * k + kk];
    }
  }
  return blob;
}

/** weights.json: the blob's layout, for anyone who fills weights.bin without vovc. */
export function describeLayout(layout: WgslWeightLayout, chunks: Record<string, [number, number]>): string {
  return `${JSON.stringify(
    {
      format: 'vovc-wgsl-weights',
      version: 1,
      dtype: 'float32 little-endian',
      elements: layout.totalElements,
      bytes: layout.totalElements * 4,
      packings: {
        dense: 'the parameter as stored in the checkpoint (C order)',
        kxn: 'conv weight [Cout, Cin, kh, kw] transposed to [K, N4]: K = Cin*kh*kw in (ci, ky, kx) order, N4 = Cout rounded up to 4, element (k, co) at k*N4 + co, columns co >= Cout zero',
      },
      note: 'offsets and sizes count float32 elements; gaps between entries are zero',
      chunks: Object.fromEntries(Object.entries(chunks).map(([name, [b, e]]) => [name, { firstByte: b, endByte: e }])),
      entries: layout.entries.map((e) => ({ name: e.name, packing: e.packing, shape: e.shape, offset: e.offset, elements: e.numel })),
    },
    null,
    1,
  )}\n`;
}

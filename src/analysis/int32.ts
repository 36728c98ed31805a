// Where 32-bit indexing would overflow: the layers that read or write a tensor of more than
// 2^31 - 1 elements (a flat int32 element index cannot reach its end) or of more than
// 2^31 - 1 bytes (an int32 byte offset cannot), and, when the optimized kernel plan is known,
// its launches marked needs64bit (which also counts where a tensor sits in the arena). A byte
// offset overflows at a quarter of the element count in fp32 (half in fp16): vovc's CUDA
// kernels index elements (the pointer arithmetic is 64-bit), so the element list and the plan
// are what decide their index type; the byte list is for code that computes byte offsets in
// 32 bits. See docs/LARGE-SHAPES.md.

import { numel, type Shape } from '../ir/graph.js';
import type { KernelPlan } from '../plan/types.js';
import { MAX_INT32 } from '../plan/types.js';

export interface Int32Layer {
  /** Layer key, as in the layer table. */
  readonly layer: string;
  /** The largest tensor the layer reads or writes. */
  readonly shape: readonly number[];
  readonly elements: number;
  readonly bytes: number;
}

export interface Int32Overflow {
  /** Layers touching a tensor of more than MAX_INT32 elements, in graph order. */
  readonly elements: readonly Int32Layer[];
  /** Layers touching a tensor of more than MAX_INT32 bytes at the report's element size. */
  readonly bytes: readonly Int32Layer[];
  /** Layers of the optimized plan's launches marked needs64bit, in launch order; null without a plan. */
  readonly planLayers: readonly string[] | null;
  /** Launches of the plan, and how many are marked; null without a plan. */
  readonly planLaunches: { readonly total: number; readonly needs64bit: number } | null;
}

/** Per layer key, the largest tensor it touches (only layers past MAX_INT32 bytes are kept). */
export type Int32Acc = Map<string, Int32Layer>;

/** Records the tensors of one node (its input and output shapes) under its layer key. */
export function addNodeTensors(acc: Int32Acc, layer: string, shapes: readonly Shape[], elementBytes: number): void {
  let largest: Shape | undefined;
  let n = 0;
  for (const s of shapes) {
    const e = numel(s);
    if (e > n) (n = e), (largest = s);
  }
  if (!largest || n * elementBytes <= MAX_INT32) return;
  const known = acc.get(layer);
  if (!known || known.elements < n) acc.set(layer, { layer, shape: [...largest], elements: n, bytes: n * elementBytes });
}

/** Merges per-piece accumulators in model order (a layer seen twice keeps its larger tensor). */
export function mergeInt32(parts: readonly Int32Acc[]): Int32Acc {
  const out: Int32Acc = new Map();
  for (const p of parts) for (const row of p.values()) {
    const known = out.get(row.layer);
    if (!known || known.elements < row.elements) out.set(row.layer, row);
  }
  return out;
}

export function finishInt32(acc: Int32Acc, plan: KernelPlan | undefined): Int32Overflow {
  const rows = [...acc.values()];
  let planLayers: string[] | null = null;
  if (plan) {
    planLayers = [];
    for (const l of plan.launches) {
      if (l.needs64bit && !planLayers.includes(l.layer)) planLayers.push(l.layer);
    }
  }
  return {
    elements: rows.filter((r) => r.elements > MAX_INT32),
    bytes: rows,
    planLayers,
    planLaunches: plan ? { total: plan.launches.length, needs64bit: plan.launches.filter((l) => l.needs64bit).length } : null,
  };
}

// The packed weight blob of a plan: every parameter at its WeightRef offset (alignment gaps
// are zero), so a backend uploads one buffer and indexes it with the plan's offsets.

import { fail } from '../diag/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import type { KernelPlan, WeightRef } from './types.js';

/** The blob for `plan` from the parameter data of the graph it was built from. */
export function packWeights(plan: KernelPlan, g: Graph): Float32Array {
  const blob = new Float32Array(plan.weights.totalElements);
  for (const { entry, data } of weightData(plan, g)) blob.set(data, entry.offset);
  return blob;
}

/**
 * Each parameter of the plan with its data, in blob order, checked as packWeights checks them;
 * for writing the blob piece by piece without packing a copy of every weight.
 */
export function weightData(plan: KernelPlan, g: Graph): { entry: WeightRef; data: Float32Array }[] {
  return plan.weights.entries.map((e) => {
    const p = g.params.get(e.name);
    if (!p) fail('E3004', `the plan needs parameter '${e.name}', which graph '${g.name}' does not hold`, { subject: e.name });
    if (!p.data) fail('E3005', `parameter '${e.name}' has no data (shape-only graph): bind weights before packing`, { subject: e.name });
    if (p.data.length !== e.numel) fail('E3006', `parameter '${e.name}' holds ${p.data.length} values, the plan expects ${e.numel}`, { subject: e.name });
    return { entry: e, data: p.data };
  });
}

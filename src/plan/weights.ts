// The packed weight blob of a plan: every parameter at its WeightRef offset (alignment gaps
// are zero), so a backend uploads one buffer and indexes it with the plan's offsets.

import { fail } from '../diag/diagnostics.js';
import type { KernelPlan, WeightData, WeightRef } from './types.js';

/** The blob for `plan` from the parameter data it was handed with. */
export function packWeights(plan: KernelPlan, data: WeightData): Float32Array {
  const blob = new Float32Array(plan.weights.totalElements);
  for (const { entry, data: d } of weightData(plan, data)) blob.set(d, entry.offset);
  return blob;
}

/**
 * Each parameter of the plan with its data, in blob order, checked as packWeights checks them;
 * for writing the blob piece by piece without packing a copy of every weight.
 */
export function weightData(plan: KernelPlan, data: WeightData): { entry: WeightRef; data: Float32Array }[] {
  return plan.weights.entries.map((e) => {
    const d = data(e.name);
    if (d === undefined) fail('E3102', `the plan of '${plan.model}' needs parameter '${e.name}', which its weights do not hold`, { subject: e.name });
    if (d === null) fail('E3103', `parameter '${e.name}' has no data (shape-only graph): bind weights before packing`, { subject: e.name });
    if (d.length !== e.numel) fail('E3104', `parameter '${e.name}' holds ${d.length} values, the plan expects ${e.numel}`, { subject: e.name });
    return { entry: e, data: d };
  });
}

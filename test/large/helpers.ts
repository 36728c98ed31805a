// Shared by the large-shape tests: shape-only graphs and plans (no parameter data, so a plan
// of vovnet57 at 64x3x1024x1024 costs milliseconds, not the 17 GiB its arena describes).
import { loadModel } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan, type BuildPlanOptions } from '../../src/plan/build.js';
import type { KernelPlan, TensorView } from '../../src/plan/types.js';
import { verifyPlan } from '../../src/plan/verify.js';

/** The shape the issue names: single tensors of vovnet57 pass 2^31 elements here. */
export const BIG: readonly number[] = [64, 3, 1024, 1024];

export function zooGraph(name: string, input: readonly number[]): Graph {
  return lowerSpec(loadModel(name, { inputShape: [...input] }).spec);
}

/** The optimized plan, as every backend gets it (verified). */
export function optimizedPlan(name: string, input: readonly number[], opts: BuildPlanOptions = {}): KernelPlan {
  const plan = buildPlan(optimize(zooGraph(name, input), { log: () => {} }).graph, opts);
  const errs = verifyPlan(plan);
  if (errs.length) throw new Error(errs.map((e) => e.message).join('\n'));
  return plan;
}

/**
 * One past the last element a view reaches, in exact integer arithmetic (BigInt), written
 * independently of buildPlan's float arithmetic.
 */
export function viewEnd(v: TensorView): bigint {
  let last = BigInt(v.offset);
  for (let i = 0; i < 4; i++) last += BigInt(v.shape[i] - 1) * BigInt(v.strides[i]);
  return last + 1n;
}

export const INT32_MAX = 2n ** 31n - 1n;

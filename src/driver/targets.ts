// Looking targets up and typing their options: the one place that turns a target name and
// flag values into a declaration, typed options and, when needed, the implementation.

import { fail } from '../diag/diagnostics.js';
import type { Precision } from '../ir/precision.js';
import type { FlagValues, PlanLayout, Stage, TargetImpl, TargetSpec } from '../targets/contract.js';
import { TARGETS, TARGET_NAMES } from '../targets/registry.js';

export interface ResolvedTarget {
  readonly spec: TargetSpec<unknown>;
  readonly options: unknown;
  readonly stage: Stage;
  readonly needsWeights: boolean;
  /** The plan layout the target asks for (plan targets). */
  readonly layout: PlanLayout;
  load(): Promise<TargetImpl<unknown>>;
}

/**
 * The target of `name` with its flags typed, for `precision` (default fp32); an unknown name is
 * E8004, a precision the target does not offer E8005.
 */
export function resolveTarget(name: string, flags: FlagValues, precision: Precision = 'fp32'): ResolvedTarget {
  const entry = TARGETS[name];
  if (!entry) fail('E8004', `unknown target '${name}' (targets: ${TARGET_NAMES.join(', ')})`, { subject: name }, 2);
  const own: Record<string, string | boolean | undefined> = {};
  for (const f of entry.spec.flags) own[f.name] = flags[f.name];
  const options = entry.spec.parse(own);
  if (!entry.spec.precisions.includes(precision)) {
    fail('E8005', `target '${name}' does not compute in ${precision} (it offers ${entry.spec.precisions.join(', ')})`, { subject: '--precision' });
  }
  return {
    spec: entry.spec,
    options,
    stage: entry.spec.consumes(options, precision),
    needsWeights: entry.spec.needsWeights?.(options) ?? true,
    layout: entry.spec.planLayout?.(options, precision) ?? {},
    load: () => entry.load(),
  };
}

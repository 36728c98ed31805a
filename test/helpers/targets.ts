// The driver's hand-off to a target, for tests that call a backend directly: a bound graph
// through the same Pipeline the driver uses, to the stage the target consumes.
import { artifactMeta } from '../../src/driver/meta.js';
import { Pipeline, type PipelineOptions } from '../../src/driver/pipeline.js';
import { resolveTarget } from '../../src/driver/targets.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Precision } from '../../src/ir/precision.js';
import type { FlagValues, Stage, TargetContext, Tensor } from '../../src/targets/contract.js';

/** The context a target consuming `stage` gets for the bound graph `g` (IR and plan verified, as under --verify-each). */
export function targetContext(g: Graph, stage: Stage, opts: { hasWeights?: boolean; pipeline?: PipelineOptions } = {}): TargetContext {
  const precision = opts.pipeline?.precision ?? 'fp32';
  return {
    input: new Pipeline(g, { verifyEach: true, passes: { log: () => {} }, ...opts.pipeline }).consumed(stage),
    precision,
    meta: artifactMeta(g, opts.hasWeights ?? true, precision),
    log: () => {},
  };
}

/** Runs target `name` (with its flags) on the bound graph `g`, as `vovc run` would. */
export async function runTarget(name: string, g: Graph, input: Tensor, outputs: readonly string[] = g.outputs.map((o) => o.name), flags: FlagValues = {}, precision: Precision = 'fp32'): Promise<Map<string, Tensor>> {
  const t = resolveTarget(name, flags, precision);
  const impl = await t.load();
  return impl.run!(targetContext(g, t.stage, { pipeline: { precision, layout: t.layout } }), t.options, input, outputs);
}

/** Builds target `name` for the bound graph `g` into `dir`; returns the files written. */
export async function buildTarget(name: string, g: Graph, dir: string, flags: FlagValues = {}, hasWeights = true, precision: Precision = 'fp32'): Promise<string[]> {
  const t = resolveTarget(name, flags, precision);
  const impl = await t.load();
  return impl.build!(targetContext(g, t.stage, { hasWeights, pipeline: { precision, layout: t.layout } }), t.options, dir);
}

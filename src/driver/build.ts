// `vovc build`: model -> graph -> weights -> the stage the target consumes -> artifact files in
// a staging folder -> moved into --out only when the whole build succeeded. An interrupted
// build leaves no partial artifact: the staging folder goes and --out is untouched.

import { rmSync } from 'node:fs';
import { fail } from '../diag/diagnostics.js';
import { commitStaging, makeStaging } from '../util/fsx.js';
import type { FlagValues } from '../targets/contract.js';
import { renderFusionReport } from '../analysis/fusion-report.js';
import { artifactMeta } from './meta.js';
import { loadModelGraph, withSourcesAsync, type ModelRequest } from './model.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { resolveTarget } from './targets.js';
import { bindWeights, type Reporter, type WeightOptions } from './weights.js';
import { shapesOnly } from '../ir/graph.js';

export interface BuildRequest extends ModelRequest {
  readonly target: string;
  /** The target's flag values (as the CLI parsed them). */
  readonly flags: FlagValues;
  readonly out: string;
  readonly weights: WeightOptions;
  readonly pipeline: Omit<PipelineOptions, 'donateParams'>;
  /** Also make the fusion report. */
  readonly report?: 'text' | 'json';
}

export interface BuildResult {
  /** Relative paths written into --out, sorted. */
  readonly files: readonly string[];
  readonly report?: string;
}

export async function buildArtifact(req: BuildRequest, io: Reporter): Promise<BuildResult> {
  const precision = req.pipeline.precision ?? 'fp32';
  const target = resolveTarget(req.target, req.flags, precision);
  if (!target.spec.builds) fail('E8003', `target '${req.target}' runs models but writes no artifact`, { subject: req.target });
  const model = loadModelGraph(req);
  return withSourcesAsync(model.sources, async () => {
    // A target that needs shapes only (CUDA --no-weights) gets no weights, bound or seeded.
    const bound = target.needsWeights ? await bindWeights(model.graph, req.weights, io) : { graph: shapesOnly(model.graph), hasWeights: false };
    const meta = artifactMeta(bound.graph, bound.hasWeights, precision);
    // The graph is this build's own (bound or seeded just now): when the target reads the
    // optimized graph or the plan, the unoptimized one's parameter arrays are donated, so the
    // build holds one copy of the weights. A target of the unoptimized graph (ONNX --faithful)
    // keeps them; its report is made from the shapes alone.
    const donate = target.stage !== 'graph';
    const pipeline = new Pipeline(bound.graph, { ...req.pipeline, donateParams: donate, layout: target.layout });
    const consumed = pipeline.consumed(target.stage);
    const reportFrom = donate ? pipeline : new Pipeline(shapesOnly(bound.graph), req.pipeline);
    const report = req.report ? renderFusionReport(reportFrom.report(), req.report) : undefined;
    const impl = await target.load();
    let staging: string | undefined;
    const cleanup = () => staging && rmSync(staging, { recursive: true, force: true });
    const onSignal = () => {
      cleanup();
      process.exit(130);
    };
    // The handlers come first: a signal between creating the folder and handling signals
    // would end the process by default and leave the folder behind.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      staging = makeStaging(req.out);
      await impl.build!({ input: consumed, precision, meta, log: io.log }, target.options, staging);
      // A signal that came during a synchronous backend is handled in the event loop's poll
      // phase: wait until one has run (the second immediate follows it), so that an interrupted
      // build exits here instead of committing.
      for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
      const files = commitStaging(staging, req.out);
      return { files, ...(report !== undefined ? { report } : {}) };
    } catch (e) {
      cleanup();
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

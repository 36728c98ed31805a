// `vovc analyze`: models and sweep variants, from their names and --set assignments to their
// analyses: load, lower, optionally optimize and plan, analyse. Everything from shapes:
// parameter data stay null. The analysis itself (src/analysis/) only reads what this makes.
//
// What makes a sweep fast is sharing the pieces of the models between variants (pieces.ts).
// Splitting a sweep over worker threads was tried and dropped: on the 2-core machine each
// worker loads and JIT-compiles the compiler afresh (1.3 s more CPU for 1000 variants), and
// the sweep ran slower than on one thread.

import { analyzeGraph, type GroupBy, type ModelAnalysis } from '../analysis/analyze.js';
import type { GpuProfile, Precision } from '../hw/gpus.js';
import { PiecewiseAnalyzer } from '../analysis/pieces.js';
import { VovcError } from '../diag/diagnostics.js';
import { loadModel } from '../dsl/zoo.js';
import { verify } from '../ir/verify.js';
import { lowerSpec } from '../model/lower.js';
import { Pipeline } from './pipeline.js';

export interface VariantJob {
  /** Zoo name, .vov file or file.vov:name. */
  readonly model: string;
  /** --set assignments, "key=value" each. */
  readonly set: readonly string[];
  readonly inputShape?: readonly number[];
  /**
   * Lower the whole graph and run the verifier on it. The lowering shape-checks every graph
   * it builds (GraphBuilder), so a sweep verifies the first variant of each model only.
   */
  readonly verify: boolean;
}

export interface VariantOptions {
  readonly groupBy: readonly GroupBy[];
  /** GPU profile for the roofline. */
  readonly gpu?: GpuProfile;
  readonly precision: Precision;
  /** Build the optimized kernel plan for the fused bytes. */
  readonly fusion: boolean;
}

/**
 * Analyses each job, in order. Without fusion, pieces of the models (stem, stages, head) are
 * lowered once per distinct description and input shape and shared between jobs (pieces.ts);
 * with fusion, every job's whole graph is optimized and planned.
 */
export function analyzeVariants(jobs: readonly VariantJob[], opts: VariantOptions): ModelAnalysis[] {
  const aopts = { groupBy: opts.groupBy, gpu: opts.gpu, precision: opts.precision };
  const pieces = new PiecewiseAnalyzer(lowerSpec, aopts);
  return jobs.map((job) => {
    const { spec, sources } = loadModel(job.model, { set: job.set, inputShape: job.inputShape });
    try {
      if (!opts.fusion && !job.verify) return pieces.analyze(spec);
      const graph = lowerSpec(spec);
      if (job.verify) {
        const errs = verify(graph);
        if (errs.length) throw new VovcError(errs);
      }
      if (!opts.fusion) return pieces.analyze(spec);
      return analyzeGraph(graph, { ...aopts, plan: new Pipeline(graph, { passes: { log: () => {} }, precision: opts.precision }).plan() });
    } catch (e) {
      // Lowering errors point into the model text and the --set lines: attach them for printing.
      if (e instanceof VovcError) e.sources ??= sources;
      throw e;
    }
  });
}

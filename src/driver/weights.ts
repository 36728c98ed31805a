// Weights for a lowered graph: a checkpoint (.pth without executing code, .safetensors) bound
// by name with the strict key report, or vovc's seeded initialization (docs/WEIGHTS.md).

import { VovcError, type Diagnostic } from '../diag/diagnostics.js';
import type { Graph, Naming } from '../ir/graph.js';
import { seedParams } from '../model/init.js';

export interface WeightOptions {
  /** The checkpoint; absent: seeded weights. */
  readonly file?: string;
  readonly naming?: Naming;
  readonly prefix?: string;
  readonly allowMissing?: boolean;
  /** NaN or Inf in the checkpoint is an error instead of a warning. */
  readonly strictValues?: boolean;
  /** Seed of the seeded initialization (also for parameters --allow-missing leaves unset). */
  readonly seed?: number;
  /** A progress bar while a large checkpoint loads (on a TTY). */
  readonly progress?: boolean;
}

export interface Reporter {
  readonly log: (msg: string) => void;
  /** Warnings and the key report: printed even under --quiet. */
  readonly diagnostics: (ds: readonly Diagnostic[]) => void;
}

/** Binds a checkpoint (or seeded values) to the graph's parameters. */
export async function bindWeights(graph: Graph, w: WeightOptions, io: Reporter): Promise<{ graph: Graph; hasWeights: boolean }> {
  if (!w.file) {
    // Said every time, also under --quiet: outputs of seeded weights mean nothing about a trained model.
    io.diagnostics([{ severity: 'warning', code: 'W8008', subject: graph.name, message: `no --weights: using vovc's seeded initialization (seed ${w.seed ?? 0}), not trained weights; the artifact records this` }]);
    return { graph: seedParams(graph, w.seed), hasWeights: false };
  }
  const { loadCheckpoint, findNonFinite } = await import('../weights/checkpoint.js');
  const { bindCheckpoint } = await import('../weights/mapping.js');
  const ckpt = await loadCheckpoint(w.file, { progress: !!w.progress });
  const r = bindCheckpoint(graph, ckpt.tensors, { naming: w.naming, prefix: w.prefix, allowMissing: !!w.allowMissing, file: w.file });
  io.diagnostics(r.report.diagnostics);
  // Only the tensors the model binds are decoded, so only those are checked.
  const bad = findNonFinite([...r.bound.values()]);
  if (bad.length) {
    const d: Diagnostic = {
      severity: w.strictValues ? 'error' : 'warning',
      code: 'W4006',
      subject: w.file,
      message: `${bad.length} tensors hold NaN or Inf values: ${bad.slice(0, 3).map((b) => `${b.key} (${b.count})`).join(', ')}${bad.length > 3 ? ', ...' : ''}`,
    };
    if (w.strictValues) throw new VovcError(d);
    io.diagnostics([d]);
  }
  io.log(`weights: ${r.report.matched}/${r.report.expected} tensors matched (${r.report.naming} naming${r.report.prefix ? `, prefix '${r.report.prefix}'` : ''}${r.report.outside ? `, ${r.report.outside} keys outside the prefix ignored` : ''})`);
  const g = r.missingNames.length ? seedParams(r.graph, w.seed, r.missingNames) : r.graph;
  return { graph: g, hasWeights: true };
}

// The 'reference' target's declaration: the CPU interpreter runs the IR as written, the
// unoptimized graph unless --opt is given (so that it stays an independent oracle of the
// passes). Loaded by the target registry without the interpreter.

import { fail } from '../diag/diagnostics.js';
import type { TargetSpec } from '../targets/contract.js';

export interface ReferenceOptions {
  readonly opt: boolean;
  /** Threads for the convolutions (default: every core). */
  readonly threads?: number;
}

export const referenceTarget: TargetSpec<ReferenceOptions> = {
  name: 'reference',
  description: 'CPU reference interpreter (the test oracle)',
  builds: false,
  runs: true,
  precisions: ['fp32', 'tf32', 'fp16', 'bf16'],
  flags: [
    { name: 'opt', type: 'boolean', help: 'run the optimized graph instead of the unoptimized one' },
    { name: 'threads', type: 'string', value: 'N', help: 'threads for the convolutions (default: every core)' },
  ],
  parse(v) {
    if (v.threads === undefined) return { opt: !!v.opt };
    const threads = Number(v.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail('E9205', `--threads must be an integer from 1 to 256, got '${String(v.threads)}'`, { subject: '--threads' });
    return { opt: !!v.opt, threads };
  },
  // Reduced precision folds BN in fp32 before rounding the weights: the optimized graph.
  consumes: (o, precision) => (o.opt || precision !== 'fp32' ? 'optimized' : 'graph'),
};

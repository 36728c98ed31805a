// The 'reference' target: the CPU interpreter runs the graph it is given (the unoptimized one,
// or the optimized one under --opt; the driver decides from src/runtime/options.ts).
import type { TargetImpl } from '../targets/contract.js';
import type { ReferenceOptions } from './options.js';
import { runReference } from './reference.js';

export const target: TargetImpl<ReferenceOptions> = {
  async run(ctx, options, input, outputs) {
    if (ctx.input.stage === 'plan') throw new Error('internal: the reference target runs graphs, not plans');
    return runReference(ctx.input.graph, input, { outputs: [...outputs], threads: options.threads, precision: ctx.precision });
  },
};

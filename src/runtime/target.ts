// The 'reference' target: the CPU interpreter runs the graph it is given (the unoptimized one,
// or the optimized one under --opt; the driver decides from src/runtime/options.ts).
import type { TargetImpl } from '../targets/contract.js';
import type { ReferenceOptions } from './options.js';
import { availableParallelism } from 'node:os';
import { runReference } from './reference.js';

export const target: TargetImpl<ReferenceOptions> = {
  async run(ctx, options, input, outputs) {
    if (ctx.input.stage === 'plan') throw new Error('internal: the reference target runs graphs, not plans');
    return runReference(ctx.input.graph, input, { outputs: [...outputs], threads: options.threads, precision: ctx.precision });
  },
  async prepare(ctx, options) {
    if (ctx.input.stage === 'plan') throw new Error('internal: the reference target runs graphs, not plans');
    const graph = ctx.input.graph;
    const threads = options.threads ?? availableParallelism();
    return {
      run: async (input) => void (await runReference(graph, input, { threads, precision: ctx.precision })),
      settings: { runtime: 'vovc reference interpreter (im2col + WebAssembly SIMD GEMM, float64 arithmetic)', threads: String(threads), graph: ctx.input.stage === 'optimized' ? 'optimized' : 'unoptimized' },
      dispose: () => undefined,
    };
  },
};

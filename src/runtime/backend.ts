// The 'reference' target: the CPU interpreter, executing the IR exactly as written
// (unoptimized unless --opt is given, so that it stays an independent oracle of the passes).
import type { Backend } from '../codegen/backend.js';
import { runReference } from './reference.js';

export const backend: Backend = {
  target: 'reference',
  description: 'CPU reference interpreter (the test oracle)',
  cliOptions: { opt: { type: 'boolean' }, threads: { type: 'string' } },
  async run(ctx, input, outputs) {
    let g = ctx.graph;
    if (ctx.options.opt) {
      const { optimize } = await import('../passes/manager.js');
      const { passOptions } = await import('../passes/options.js');
      g = optimize(g, passOptions(ctx.options)).graph;
    }
    const threads = ctx.options.threads ? Number(ctx.options.threads) : undefined;
    return runReference(g, input, { outputs: [...outputs], threads });
  },
};

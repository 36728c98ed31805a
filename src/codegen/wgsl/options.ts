// The 'wgsl' target's declaration: flags, typed options, the stage it consumes (the kernel
// plan). Loaded by the target registry without the backend (no Dawn here).

import { fail } from '../../diag/diagnostics.js';
import type { TargetSpec } from '../../targets/contract.js';

export interface WgslOptions {
  /** A .npy to ship as the demo page's sample input (default: a seeded N(0,1) tensor). */
  readonly sampleInput?: string;
  /** The host module's run() takes and returns the storage type (fp16: Uint16Array of binary16 bits) instead of float32. */
  readonly ioNative?: boolean;
}

export const wgslTarget: TargetSpec<WgslOptions> = {
  name: 'wgsl',
  description: 'WGSL compute shaders + host ES module (WebGPU: browsers, Node via the webgpu package)',
  builds: true,
  runs: true,
  // fp16: packed pairs of halves in u32 words (docs/PRECISION.md), whose planes the plan pads
  // to even counts so that every word has one writer.
  precisions: ['fp32', 'fp16'],
  flags: [
    { name: 'sample-input', type: 'string', value: 'X.npy', help: "the demo page's sample input (default: seeded N(0,1))" },
    { name: 'io', type: 'string', value: 'float32|native', help: "element type of the host module's run() at fp16 (default float32, converted by the module; native: Uint16Array of binary16 bits)" },
  ],
  parse: (v) => {
    const io = v.io === undefined ? 'float32' : String(v.io);
    if (io !== 'float32' && io !== 'native') fail('E5111', `--io takes float32 or native, got '${io}'`, { subject: '--io' });
    return { ...(typeof v['sample-input'] === 'string' ? { sampleInput: v['sample-input'] } : {}), ...(io === 'native' ? { ioNative: true } : {}) };
  },
  consumes: () => 'plan',
  planLayout: (_o, precision) => ({ evenPlanes: precision === 'fp16' }),
};

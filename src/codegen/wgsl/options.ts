// The 'wgsl' target's declaration: flags, typed options, the stage it consumes (the kernel
// plan). Loaded by the target registry without the backend (no Dawn here).

import type { TargetSpec } from '../../targets/contract.js';

export interface WgslOptions {
  /** A .npy to ship as the demo page's sample input (default: a seeded N(0,1) tensor). */
  readonly sampleInput?: string;
}

export const wgslTarget: TargetSpec<WgslOptions> = {
  name: 'wgsl',
  description: 'WGSL compute shaders + host ES module (WebGPU: browsers, Node via the webgpu package)',
  builds: true,
  runs: true,
  // Packed fp16 storage is not built yet: refused by the driver.
  precisions: ['fp32'],
  flags: [{ name: 'sample-input', type: 'string', value: 'X.npy', help: "the demo page's sample input (default: seeded N(0,1))" }],
  parse: (v) => (typeof v['sample-input'] === 'string' ? { sampleInput: v['sample-input'] } : {}),
  consumes: () => 'plan',
};

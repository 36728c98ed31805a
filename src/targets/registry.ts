// The target registry: every target's static declaration (name, flags, typed options, the
// stage it consumes) and an import thunk of its implementation, so that a command loads only
// the backend it uses and `--help` loads none. The driver and the CLI read this; backends
// never do (they implement src/targets/contract.ts).

import { cudaEmuTarget, cudaTarget } from '../codegen/cuda/options.js';
import { onnxTarget } from '../codegen/onnx/options.js';
import { wgslTarget } from '../codegen/wgsl/options.js';
import { referenceTarget } from '../runtime/options.js';
import type { TargetImpl, TargetSpec } from './contract.js';

export interface TargetEntry<O = unknown> {
  readonly spec: TargetSpec<O>;
  /** The implementation, imported on first use. The specifiers are literal so that a bundler can follow them. */
  load(): Promise<TargetImpl<O>>;
}

/** A declaration and its implementation, typed together (the registry holds them as unknown). */
function entry<O>(spec: TargetSpec<O>, load: () => Promise<{ target: TargetImpl<O> }>): TargetEntry {
  return { spec, load: async () => (await load()).target } as TargetEntry;
}

export const TARGETS: Readonly<Record<string, TargetEntry>> = {
  reference: entry(referenceTarget, () => import('../runtime/target.js')),
  onnx: entry(onnxTarget, () => import('../codegen/onnx/index.js')),
  cuda: entry(cudaTarget, () => import('../codegen/cuda/index.js')),
  'cuda-emu': entry(cudaEmuTarget, () => import('../codegen/cuda/emu.js')),
  wgsl: entry(wgslTarget, () => import('../codegen/wgsl/index.js')),
};

export const TARGET_NAMES = Object.keys(TARGETS);

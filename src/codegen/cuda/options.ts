// The 'cuda' and 'cuda-emu' targets' declarations: flags, typed options, the stage they consume
// (the kernel plan). Loaded by the target registry without the backend.

import type { TargetSpec } from '../../targets/contract.js';

export interface CudaOptions {
  /** Write the sources only (no weights.bin); the weights are then not bound or seeded either. */
  readonly noWeights: boolean;
}

const flags = [{ name: 'no-weights', type: 'boolean', help: 'write the sources without weights.bin' }] as const;
const parse = (v: Readonly<Record<string, string | boolean | undefined>>): CudaOptions => ({ noWeights: !!v['no-weights'] });

export const cudaTarget: TargetSpec<CudaOptions> = {
  name: 'cuda',
  description: 'CUDA C++ artifact: kernels, host runtime (C API), demo, CMakeLists.txt, weight blob; runs with nvcc on a GPU',
  builds: true,
  runs: true,
  flags,
  parse,
  consumes: () => 'plan',
  needsWeights: (o) => !o.noWeights,
};

export const cudaEmuTarget: TargetSpec<CudaOptions> = {
  name: 'cuda-emu',
  description: 'the CUDA artifact emulated on the CPU (g++ and the vovc shim); for checking without a GPU',
  builds: true,
  runs: true,
  flags,
  parse,
  consumes: () => 'plan',
  needsWeights: (o) => !o.noWeights,
};

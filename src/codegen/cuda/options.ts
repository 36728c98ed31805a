// The 'cuda' and 'cuda-emu' targets' declarations: flags, typed options, the stage they consume
// (the kernel plan). Loaded by the target registry without the backend.

import type { TargetSpec } from '../../targets/contract.js';

export interface CudaOptions {
  /** Write the sources only (no weights.bin); the weights are then not bound or seeded either. */
  readonly noWeights: boolean;
}

const flags = [{ name: 'no-weights', type: 'boolean', help: 'write the sources without weights.bin' }] as const;
const parse = (v: Readonly<Record<string, string | boolean | undefined>>): CudaOptions => ({ noWeights: !!v['no-weights'] });

/** What the real and the emulated CUDA target share: the options, the stage and the weights. */
const common = {
  builds: true,
  runs: true,
  // fp32: SIMT kernels; tf32, fp16, bf16: tensor-core convolutions (sm_80+), storage in the type.
  precisions: ['fp32', 'tf32', 'fp16', 'bf16'],
  flags,
  parse,
  consumes: () => 'plan',
  needsWeights: (o: CudaOptions) => !o.noWeights,
} as const satisfies Omit<TargetSpec<CudaOptions>, 'name' | 'description'>;

export const cudaTarget: TargetSpec<CudaOptions> = {
  name: 'cuda',
  description: 'CUDA C++ artifact: kernels, host runtime (C API), demo, CMakeLists.txt, weight blob; runs with nvcc on a GPU',
  ...common,
};

export const cudaEmuTarget: TargetSpec<CudaOptions> = {
  name: 'cuda-emu',
  description: 'the CUDA artifact emulated on the CPU (g++ and the vovc shim); for checking without a GPU',
  ...common,
};

// The 'cuda' and 'cuda-emu' targets' declarations: flags, typed options, the stage they consume
// (the kernel plan). Loaded by the target registry without the backend.

import { fail } from '../../diag/diagnostics.js';
import { DEFAULT_GPU, findGpu } from '../../hw/gpus.js';
import type { TargetSpec } from '../../targets/contract.js';

export interface CudaOptions {
  /** Write the sources only (no weights.bin); the weights are then not bound or seeded either. */
  readonly noWeights: boolean;
  /** The GPU profile (data/gpus.json) the tensor-core tiles are chosen for. */
  readonly gpu: string;
  /** The C API's buffers hold the storage type's bit patterns instead of float32 (reduced precisions). */
  readonly ioNative: boolean;
}

const flags = [
  { name: 'no-weights', type: 'boolean', help: 'write the sources without weights.bin' },
  { name: 'gpu', type: 'string', value: 'NAME', help: `the GPU the tensor-core convolution tiles are chosen for (data/gpus.json; default ${DEFAULT_GPU})` },
  { name: 'io', type: 'string', value: 'float32|native', help: 'element type of the C API buffers at fp16 / bf16 (default float32, converted in the graph; native: the storage bits)' },
] as const;
const parse = (v: Readonly<Record<string, string | boolean | undefined>>): CudaOptions => {
  const gpu = v.gpu === undefined ? DEFAULT_GPU : String(v.gpu);
  const profile = findGpu(gpu);
  if (!profile.sm) fail('E4304', `GPU profile '${profile.name}' has no "sm" facts, which the tile choice needs`, { subject: '--gpu' });
  const io = v.io === undefined ? 'float32' : String(v.io);
  if (io !== 'float32' && io !== 'native') fail('E6116', `--io takes float32 or native, got '${io}'`, { subject: '--io' });
  return { noWeights: !!v['no-weights'], gpu: profile.name, ioNative: io === 'native' };
};

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

// The 'cuda' target: a CUDA C++ artifact (kernels, host runtime with a C API, demo, CMake
// build, weight blob). `vovc run --target cuda` compiles it with nvcc and runs it on the GPU.

import { VovcError } from '../../diag/diagnostics.js';
import { SOURCES, cudaTarget, hasCommand, type Toolchain } from './artifact.js';

/** nvcc for sm_80 and sm_90, plus compute_80 PTX so newer GPUs can JIT it. */
export function nvcc(nvccPath = 'nvcc', extra: readonly string[] = []): Toolchain {
  return {
    name: 'nvcc',
    command: (dir, exe) => [
      nvccPath,
      ['-std=c++17', '-O3', '-gencode', 'arch=compute_80,code=[sm_80,compute_80]', '-gencode', 'arch=compute_90,code=sm_90', ...extra, '-I', dir, ...SOURCES, '-o', exe],
    ],
  };
}

export const target = cudaTarget(
  () => nvcc(),
  () => {
    if (!hasCommand('nvcc')) throw new VovcError({ severity: 'error', code: 'E6130', message: 'no GPU toolchain: nvcc not found on the PATH (try --target cuda-emu)', subject: 'nvcc' }, 3);
  },
);

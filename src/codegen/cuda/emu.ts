// The 'cuda-emu' target: the CUDA artifact compiled by g++ with the CPU shim
// (templates/cuda-emu/cuda_shim.h) and run on the CPU. The exact .cu files of the 'cuda'
// target run here, so this target checks the kernels and the host runtime without a GPU; the
// tensor-core instructions of reduced-precision artifacts run as templates/cuda-emu/vovc_tc_emu.h
// emulates them.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from '../../diag/diagnostics.js';
import { SOURCES, cudaTarget, hasCommand, shimPath, tcEmuPath, type Toolchain } from './artifact.js';

/** g++ -std=c++20 over the artifact's sources with the shim; extra flags (e.g. -fsanitize=thread) for tests. */
export function gxx(extra: readonly string[] = []): Toolchain {
  return {
    name: 'g++ (cuda-emu)',
    command: (dir, exe) => ['g++', ['-std=c++20', '-O2', '-pthread', ...extra, '-x', 'c++', '-I', dir, '-I', dirname(shimPath()), ...SOURCES, '-o', exe]],
  };
}

export const target = cudaTarget(
  () => gxx(),
  () => {
    if (!hasCommand('g++')) fail('E6120', 'cuda-emu needs g++ (C++20) on the PATH', { subject: 'g++' }, 3);
  },
  // The harness files beside the sources: the shim, and the tensor-core emulation that
  // vovc_tc.cuh includes when it is not compiled by nvcc.
  () =>
    new Map([
      ['cuda_shim.h', readFileSync(shimPath(), 'utf8')],
      ['vovc_tc_emu.h', readFileSync(tcEmuPath(), 'utf8')],
    ]),
);

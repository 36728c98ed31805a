// Dispatch sizing, one pure function for every C-like target: a launch of `groups` workgroups
// as an (x, y) grid within both CUDA's and WebGPU's per-dimension limit (65535 for WebGPU's
// maxComputeWorkgroupsPerDimension, W3C WebGPU 3.6.2, and for CUDA's gridDim.y). Kernels index
// the workgroup as wid.y * nwg.x + wid.x and return from groups past the count.

import { MAX_WORKGROUPS_PER_DIM } from '../wgsl/limits.js';

export function foldGroups(n: number): [number, number] {
  const groups = Math.max(1, n);
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}

/** The grid of a 1-D kernel with one thread per item. */
export function gridFor(items: number, workgroup: number): [number, number] {
  return foldGroups(Math.ceil(items / workgroup));
}

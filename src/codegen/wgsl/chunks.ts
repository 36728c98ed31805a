// The weight blob in chunks that each fit one storage binding (WebGPU's default
// maxStorageBufferBindingSize, 128 MiB), split at entry boundaries.

import { fail } from '../../diag/diagnostics.js';
import { MAX_STORAGE_BINDING_BYTES } from './limits.js';
import { DTYPE_BYTES } from '../../plan/types.js';
import type { WgslWeightLayout } from './weights.js';

/**
 * Chunks the weight blob at entry boundaries, each at most `maxBytes` (default
 * MAX_STORAGE_BINDING_BYTES). Entries start on 64-element boundaries, so chunks do too.
 */
export function chunkWeights(layout: WgslWeightLayout, maxBytes = MAX_STORAGE_BINDING_BYTES): { starts: number[]; ends: number[] } {
  const bytes = DTYPE_BYTES[layout.dtype];
  const maxEl = Math.floor(maxBytes / bytes);
  const starts: number[] = [0];
  for (const e of layout.entries) {
    if (e.numel > maxEl) fail('E5102', `wgsl: parameter '${e.name}' has ${e.numel * bytes} bytes, more than one WebGPU storage binding may hold (${maxBytes})`);
    if (e.offset + e.numel - starts[starts.length - 1] > maxEl) starts.push(e.offset);
  }
  const ends = starts.map((_, i) => (i + 1 < starts.length ? starts[i + 1] : layout.totalElements));
  return { starts, ends };
}

// The tensor record every checkpoint reader produces.

import { decodeFloat, decodeInt, isFloatDtype, type Dtype } from '../io/dtype.js';

export interface TensorEntry {
  readonly key: string;
  /** torch's name of the stored type: 'float32', 'float16', 'bfloat16', 'int64', ... */
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /**
   * The values as float32 (floating types), row-major; null for integer and bool tensors.
   * Treat as read-only: it may be a view into the loaded file, shared with other tensors.
   */
  readonly data: Float32Array | null;
  /** The values of integer and bool tensors (int64 as BigInt64Array, narrower types widened). */
  readonly int?: BigInt64Array | Int32Array;
}

export const numelOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/**
 * A tensor from its contiguous bytes. `share` lets an aligned little-endian float32 tensor be a
 * view of `bytes` (whose memory the caller must own and never reuse).
 */
export function tensorFromBytes(key: string, dtype: Dtype, shape: readonly number[], bytes: Uint8Array, littleEndian: boolean, share: boolean): TensorEntry {
  return isFloatDtype(dtype)
    ? { key, dtype, shape, data: decodeFloat(bytes, dtype, littleEndian, share) }
    : { key, dtype, shape, data: null, int: decodeInt(bytes, dtype, littleEndian) };
}

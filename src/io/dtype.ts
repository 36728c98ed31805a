// Element types of tensor files and their decoding to Float32Array / integer arrays.
//
// Names are torch's ('float32', 'bfloat16', 'int64', ...), whatever the container calls them
// ('F32', '<f4', torch.FloatStorage). Decoding never changes a value except float64 -> float32,
// which rounds to nearest as any float32 store does: float16 and bfloat16 are subsets of
// float32, so their conversion is exact (subnormals, infinities and NaN included).

import { fromF16Bits } from '../ir/precision.js';

export type Dtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export const isFloatDtype = (d: Dtype): boolean => d === 'float64' || d === 'float32' || d === 'float16' || d === 'bfloat16';

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A copy of `bytes` with every `size`-byte element reversed (endianness swap). */
function byteswap(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + size <= bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

/** Bytes in host order, aligned to `size` so typed-array views can be laid over them. */
function nativeBytes(bytes: Uint8Array, size: number, littleEndian: boolean): Uint8Array {
  if (littleEndian !== HOST_LITTLE_ENDIAN && size > 1) return byteswap(bytes, size);
  // new Uint8Array(x) copies even when x is a Buffer (whose slice() would not).
  return bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
}

/**
 * Decodes `bytes` (exactly count * size bytes) of a floating type to float32. With `share`, an
 * aligned little-endian float32 input is returned as a view over the same memory (no copy),
 * so the caller must own `bytes`; otherwise the result is always fresh memory.
 */
export function decodeFloat(bytes: Uint8Array, dtype: Dtype, littleEndian: boolean, share: boolean): Float32Array {
  const size = DTYPE_SIZE[dtype];
  const n = bytes.length / size;
  const native = nativeBytes(bytes, size, littleEndian);
  const { buffer, byteOffset } = native;
  switch (dtype) {
    case 'float32': {
      const view = new Float32Array(buffer, byteOffset, n);
      return share || native !== bytes ? view : view.slice();
    }
    case 'float64':
      return Float32Array.from(new Float64Array(buffer, byteOffset, n));
    case 'float16':
      return fromF16Bits(new Uint16Array(buffer, byteOffset, n));
    case 'bfloat16': {
      // bfloat16 is the upper half of a float32.
      const src = new Uint16Array(buffer, byteOffset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    default:
      throw new Error(`decodeFloat: ${dtype} is not a floating type`);
  }
}

/** Decodes an integer or bool tensor: int64 to BigInt64Array, narrower types widened to Int32Array. */
export function decodeInt(bytes: Uint8Array, dtype: Dtype, littleEndian: boolean): BigInt64Array | Int32Array {
  const size = DTYPE_SIZE[dtype];
  const n = bytes.length / size;
  const native = nativeBytes(bytes, size, littleEndian);
  const { buffer, byteOffset } = native;
  switch (dtype) {
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n).slice();
    case 'int32':
      return new Int32Array(buffer, byteOffset, n).slice();
    case 'int16':
      return Int32Array.from(new Int16Array(buffer, byteOffset, n));
    case 'int8':
      return Int32Array.from(new Int8Array(buffer, byteOffset, n));
    case 'uint8':
    case 'bool':
      return Int32Array.from(native);
    default:
      throw new Error(`decodeInt: ${dtype} is not an integer type`);
  }
}

/** Little-endian bytes of an integer array in the given dtype (the inverse of decodeInt). */
export function encodeInt(values: BigInt64Array | Int32Array, dtype: Dtype): Uint8Array {
  const n = values.length;
  let out: ArrayBufferView;
  switch (dtype) {
    case 'int64':
      out = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
      break;
    case 'int32':
      out = values instanceof Int32Array ? values : Int32Array.from(values, Number);
      break;
    case 'int16':
      out = Int16Array.from(values as ArrayLike<number | bigint>, Number);
      break;
    case 'int8':
      out = Int8Array.from(values as ArrayLike<number | bigint>, Number);
      break;
    case 'uint8':
    case 'bool':
      out = Uint8Array.from(values as ArrayLike<number | bigint>, Number);
      break;
    default:
      throw new Error(`encodeInt: ${dtype} is not an integer type`);
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, n * DTYPE_SIZE[dtype]);
  return HOST_LITTLE_ENDIAN ? bytes : byteswap(bytes, DTYPE_SIZE[dtype]);
}

/** Little-endian bytes of a float32 or float64 array. */
export function encodeFloat(values: Float32Array | Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return HOST_LITTLE_ENDIAN ? bytes : byteswap(bytes, values.BYTES_PER_ELEMENT);
}

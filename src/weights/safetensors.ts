// .safetensors: [u64 LE header length N][N bytes of JSON][data section].
//
// The JSON maps each tensor name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
// (offsets relative to the data section, row-major little-endian bytes), plus an optional
// "__metadata__" map of strings. Like the reference implementation we insist that the tensors
// tile the data section exactly: no overlaps, no holes, nothing after the last tensor. A file
// that breaks this was cut short or written by something we should not trust.

import { fail } from '../diag/diagnostics.js';
import { DTYPE_SIZE, encodeFloat, encodeInt, isFloatDtype, type Dtype } from '../io/dtype.js';
import { numelOf, tensorFromBytes, type TensorEntry } from './tensor.js';

const FROM_TAG: Readonly<Record<string, Dtype>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const TO_TAG = Object.fromEntries(Object.entries(FROM_TAG).map(([tag, d]) => [d, tag])) as Record<Dtype, string>;

/** The reference implementation refuses headers above 100 MB; so do we (before allocating). */
const MAX_HEADER = 100_000_000;

export interface Safetensors {
  /** In file (data offset) order. */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses a .safetensors file held in memory. With `share`, float32 tensors may be views into
 * `buf` (the caller then must not reuse it).
 */
/**
 * A header value as a message shows it: JSON, at most 3 levels and 100 characters deep (a value
 * nested a million levels would overflow JSON.stringify's stack, and fill the screen).
 */
function shortJson(v: unknown, depth = 3): string {
  let out: string;
  if (Array.isArray(v)) out = depth <= 0 ? '[...]' : `[${v.slice(0, 8).map((x) => shortJson(x, depth - 1)).join(',')}${v.length > 8 ? ',...' : ''}]`;
  else if (v !== null && typeof v === 'object') out = depth <= 0 ? '{...}' : `{${Object.keys(v).slice(0, 8).map((k) => `${JSON.stringify(k.slice(0, 40))}:${shortJson((v as Record<string, unknown>)[k], depth - 1)}`).join(',')}}`;
  else out = JSON.stringify(typeof v === 'string' ? v.slice(0, 100) : v) ?? String(v);
  return out.length > 100 ? `${out.slice(0, 100)}...` : out;
}

export function parseSafetensors(buf: Uint8Array, name = '<safetensors buffer>', share = false): Safetensors {
  const bad = (msg: string): never => fail('E4120', `${name}: ${msg}`);
  if (buf.length < 8) bad(`too short for a .safetensors file (${buf.length} bytes)`);
  const headerLen = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(buf.length - 8)) bad(`the header length (${headerLen} bytes) runs past the end of the file (${buf.length} bytes): truncated or not a .safetensors file`);
  if (headerLen > MAX_HEADER) bad(`header of ${headerLen} bytes is larger than the 100 MB the format allows`);
  const dataStart = 8 + Number(headerLen);
  const dataLen = buf.length - dataStart;

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, dataStart)));
  } catch (e) {
    bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const slots: { key: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, info] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) bad('"__metadata__" is not an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`"__metadata__" entry '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) bad(`tensor '${key}': header entry is not an object`);
    const dtype = FROM_TAG[t.dtype as string];
    if (typeof t.dtype !== 'string' || !dtype) {
      fail('E4121', `${name}: tensor '${key}' has dtype ${shortJson(t.dtype)}, which vovc does not read (expected one of ${Object.keys(FROM_TAG).join(', ')})`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) bad(`tensor '${key}': "shape" ${shortJson(t.shape)} is not a list of non-negative integers`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isIndex(off[0]) || !isIndex(off[1]) || off[0] > off[1]) {
      bad(`tensor '${key}': "data_offsets" ${shortJson(off)} is not a pair [begin, end] with begin <= end`);
    }
    const [begin, end] = off as number[];
    const shape = t.shape as number[];
    const need = numelOf(shape) * DTYPE_SIZE[dtype];
    if (need !== end - begin) bad(`tensor '${key}': shape [${shape.join(', ')}] of ${t.dtype} needs ${need} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}`);
    if (end > dataLen) bad(`truncated: tensor '${key}' ends at byte ${end} of the data section, which has only ${dataLen} bytes`);
    slots.push({ key, dtype, shape, begin, end });
  }

  slots.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (s.begin < covered) bad(`tensors '${slots[i - 1].key}' and '${s.key}' overlap (data_offsets [${slots[i - 1].begin}, ${slots[i - 1].end}] and [${s.begin}, ${s.end}])`);
    if (s.begin > covered) bad(`bytes [${covered}, ${s.begin}) of the data section, before tensor '${s.key}', belong to no tensor`);
    covered = s.end;
  }
  if (covered !== dataLen) bad(`${dataLen - covered} bytes after the last tensor belong to no tensor`);

  const tensors = slots.map((s) => tensorFromBytes(s.key, s.dtype, s.shape, buf.subarray(dataStart + s.begin, dataStart + s.end), true, share));
  return { tensors, metadata };
}

/** What writeSafetensors accepts: a TensorEntry, or any named float32/float64/integer array. */
export interface WritableTensor {
  readonly key: string;
  readonly shape: readonly number[];
  /** For integer tensors, the type to store (e.g. 'uint8' for an Int32Array loaded from U8); floats are stored as F32 (F64 for a Float64Array). */
  readonly dtype?: Dtype;
  readonly data: Float32Array | Float64Array | null;
  readonly int?: BigInt64Array | Int32Array;
}

/**
 * Serializes tensors as .safetensors, deterministically: tensors in the given order, header
 * keys in the same order after "__metadata__", header padded with spaces to a multiple of 8.
 */
export function writeSafetensors(entries: readonly WritableTensor[], metadata?: Readonly<Record<string, string>>): Buffer {
  const seen = new Set<string>();
  const parts: string[] = [];
  if (metadata) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    if (e.key === '__metadata__' || seen.has(e.key)) throw new Error(`writeSafetensors: tensor name '${e.key}' is reserved or repeated`);
    seen.add(e.key);
    let dtype: Dtype;
    let bytes: Uint8Array;
    if (e.data) {
      dtype = e.data instanceof Float64Array ? 'float64' : 'float32';
      bytes = encodeFloat(e.data);
    } else if (e.int) {
      dtype = e.dtype && !isFloatDtype(e.dtype) ? e.dtype : e.int instanceof BigInt64Array ? 'int64' : 'int32';
      bytes = encodeInt(e.int, dtype);
    } else {
      throw new Error(`writeSafetensors: tensor '${e.key}' has no data`);
    }
    if (bytes.length !== numelOf(e.shape) * DTYPE_SIZE[dtype]) throw new Error(`writeSafetensors: tensor '${e.key}' has shape [${e.shape.join(', ')}] but ${bytes.length / DTYPE_SIZE[dtype]} values`);
    parts.push(`${JSON.stringify(e.key)}:${JSON.stringify({ dtype: TO_TAG[dtype], shape: e.shape, data_offsets: [offset, offset + bytes.length] })}`);
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = `{${parts.join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, 'utf-8'), ...blobs]);
}

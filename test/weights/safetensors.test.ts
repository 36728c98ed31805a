import { describe, expect, it } from 'vitest';
import { parseSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { errorOf } from './helpers/errors.js';

/** A .safetensors file from a header (object or raw JSON text) and data bytes, built by hand. */
function st(header: object | string, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}


const u16 = (...v: number[]) => new Uint8Array(new Uint16Array(v).buffer);

describe('safetensors reader', () => {
  it('converts F16 and BF16 exactly, F64 by rounding, keeps integers', () => {
    // float16 bits: 1.5, -2, 65504 (max), 2^-24 (smallest subnormal), -0, +inf, NaN
    const f16 = u16(0x3e00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00);
    // bfloat16 bits: 1, -3.5, 2^-133 (subnormal), 3.3895314e38 (max), -inf
    const bf16 = u16(0x3f80, 0xc060, 0x0001, 0x7f7f, 0xff80);
    const f64 = new Uint8Array(new Float64Array([0.1, -1e300]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([-5n, 2n ** 40n]).buffer);
    const i32 = new Uint8Array(new Int32Array([-7, 9]).buffer);
    const u8 = new Uint8Array([0, 255]);
    const bool = new Uint8Array([1, 0]);
    const parts = { f16, bf16, f64, i64, i32, u8, bool };
    const tags = { f16: 'F16', bf16: 'BF16', f64: 'F64', i64: 'I64', i32: 'I32', u8: 'U8', bool: 'BOOL' } as const;
    const sizes = { f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, u8: 1, bool: 1 } as const;
    const header: Record<string, unknown> = { __metadata__: { note: 'hand made' } };
    let off = 0;
    for (const [k, b] of Object.entries(parts)) {
      header[k] = { dtype: tags[k as keyof typeof tags], shape: [b.length / sizes[k as keyof typeof sizes]], data_offsets: [off, off + b.length] };
      off += b.length;
    }
    const { tensors, metadata } = parseSafetensors(st(header, Buffer.concat(Object.values(parts))), 'mixed.safetensors');
    expect(metadata).toEqual({ note: 'hand made' });
    const t = Object.fromEntries(tensors.map((e) => [e.key, e]));
    expect(Array.from(t.f16.data!)).toEqual([1.5, -2, 65504, 2 ** -24, -0, Infinity, NaN]);
    expect(Object.is(t.f16.data![4], -0)).toBe(true);
    expect(Array.from(t.bf16.data!)).toEqual([1, -3.5, 2 ** -133, 3.3895313892515355e38, -Infinity]);
    expect(Array.from(t.f64.data!)).toEqual([Math.fround(0.1), -Infinity]);
    expect(t.f16.dtype).toBe('float16');
    expect(t.bf16.dtype).toBe('bfloat16');
    expect(t.i64).toMatchObject({ dtype: 'int64', data: null });
    expect(Array.from(t.i64.int as BigInt64Array)).toEqual([-5n, 2n ** 40n]);
    expect(Array.from(t.i32.int! as ArrayLike<number | bigint>)).toEqual([-7, 9]);
    expect(Array.from(t.u8.int! as ArrayLike<number | bigint>)).toEqual([0, 255]);
    expect(t.bool).toMatchObject({ dtype: 'bool', data: null });
    expect(Array.from(t.bool.int! as ArrayLike<number | bigint>)).toEqual([1, 0]);
  });

  it('lists tensors in data order, not JSON order (integer-like names included)', () => {
    const four = new Uint8Array(4);
    const header = { b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, '10': { dtype: 'F32', shape: [], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    const { tensors } = parseSafetensors(st(header, Buffer.concat([four, four, four])));
    expect(tensors.map((t) => t.key)).toEqual(['a', 'b', '10']);
    expect(tensors[2].shape).toEqual([]);
  });

  it('reports malformed files in one line naming the tensor', () => {
    const f32 = (shape: number[], b: number, e: number) => ({ dtype: 'F32', shape, data_offsets: [b, e] });
    const data8 = new Uint8Array(8);
    const good = st({ a: f32([1], 0, 4), b: f32([1], 4, 8) }, data8);
    expect(parseSafetensors(good).tensors.length).toBe(2);
    const cases: [Buffer, RegExp][] = [
      [good.subarray(0, good.length - 3), /^w\.st: truncated: tensor 'b' ends at byte 8 of the data section, which has only 5 bytes/],
      [good.subarray(0, 20), /header length \(\d+ bytes\) runs past the end of the file \(20 bytes\)/],
      [good.subarray(0, 5), /too short/],
      [st({ a: f32([1], 0, 4) }, data8, 1n << 40n), /header length \(1099511627776 bytes\) runs past the end/],
      [st({ a: f32([1], 0, 4), b: f32([1], 2, 6) }, new Uint8Array(6)), /tensors 'a' and 'b' overlap/],
      [st({ a: f32([1], 0, 4), b: f32([1], 6, 10) }, new Uint8Array(10)), /bytes \[4, 6\) of the data section, before tensor 'b', belong to no tensor/],
      [st({ a: f32([1], 0, 4) }, data8), /4 bytes after the last tensor/],
      [st({ a: f32([2, 3], 0, 8) }, data8), /tensor 'a': shape \[2, 3\] of F32 needs 24 bytes, but its data_offsets \[0, 8\] span 8/],
      [st({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data8), /tensor 'a' has dtype "F8_E4M3", which vovc does not read/],
      [st({ a: { dtype: 'Q4', shape: [8], data_offsets: [0, 8] } }, data8), /tensor 'a' has dtype "Q4"/],
      [st({ a: f32([1], 4, 0) }, data8), /tensor 'a': "data_offsets" \[4,0\] is not a pair/],
      [st({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data8), /tensor 'a': "shape" \[-1\]/],
      [st('{"a": {"dtype": "F32", ', data8), /the header is not valid JSON/],
      [st('[1, 2]', data8), /the header is not a JSON object/],
      [st({ __metadata__: { epoch: 3 } }), /"__metadata__" entry 'epoch' is not a string/],
    ];
    for (const [buf, re] of cases) expect(errorOf(() => parseSafetensors(buf, 'w.st'))).toMatch(re);
  });
});

describe('safetensors writer', () => {
  it('round-trips tensors in the given order, with metadata and integer types', () => {
    const entries = [
      { key: 'z.weight', shape: [2, 2], data: new Float32Array([1, -2, 3.25, NaN]) },
      { key: '7', shape: [], data: new Float32Array([0.5]) },
      { key: 'bn.num_batches_tracked', shape: [], data: null, int: new BigInt64Array([42n]) },
      { key: 'mask', shape: [3], dtype: 'bool' as const, data: null, int: new Int32Array([1, 0, 1]) },
      { key: 'wide', shape: [2], data: new Float64Array([0.1, 2]) },
    ];
    const buf = writeSafetensors(entries, { format: 'pt' });
    const headerLen = Number(buf.readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
    const json = buf.subarray(8, 8 + headerLen).toString();
    expect(json.trimEnd().endsWith('}')).toBe(true);
    // Keys appear in the given order, even the integer-like one that JS objects would hoist.
    expect(Object.keys(JSON.parse(json)).length).toBe(6);
    expect([...json.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1])).toEqual(entries.map((e) => e.key));
    const { tensors, metadata } = parseSafetensors(buf);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.map((t) => [t.key, t.dtype])).toEqual([['z.weight', 'float32'], ['7', 'float32'], ['bn.num_batches_tracked', 'int64'], ['mask', 'bool'], ['wide', 'float64']]);
    expect(Array.from(tensors[0].data!)).toEqual([1, -2, 3.25, NaN]);
    expect(Array.from(tensors[2].int! as ArrayLike<number | bigint>)).toEqual([42n]);
    expect(Array.from(tensors[3].int! as ArrayLike<number | bigint>)).toEqual([1, 0, 1]);
    expect(Array.from(tensors[4].data!)).toEqual([Math.fround(0.1), 2]);
    // Deterministic: the same input gives the same bytes, and re-writing what was read gives them again.
    expect(writeSafetensors(entries, { format: 'pt' }).equals(buf)).toBe(true);
    expect(writeSafetensors(tensors.slice(0, 4), { format: 'pt' }).equals(writeSafetensors(entries.slice(0, 4), { format: 'pt' }))).toBe(true);
  });

  it('refuses repeated names and data that does not fit the shape', () => {
    const t = { key: 'a', shape: [2], data: new Float32Array(2) };
    expect(() => writeSafetensors([t, t])).toThrow(/repeated/);
    expect(() => writeSafetensors([{ ...t, shape: [3] }])).toThrow(/shape \[3\] but 2 values/);
  });
});

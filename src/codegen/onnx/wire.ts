// Protocol-buffer wire encoding of the ONNX messages vovc writes, field by field.
//
// The field numbers and types are those of onnx.proto (ONNX IR 8). Repeated int64 fields are
// packed, as protobufjs writes them with onnx-proto's (proto3) schema, so vovc's .onnx files
// are byte for byte what they were when protobufjs encoded them; readers accept packed and
// unpacked alike. Only the fields vovc sets are encoded (in field-number order); a message
// carrying any other field is an internal error, never silently dropped.
// Written by hand instead of through protobufjs + onnx-proto's generated classes because
// loading those two packages cost every ONNX build ~6 MB of resident memory and 40 ms; the
// tests decode everything this writes with onnx-proto's decoder (an independent reader of the
// same schema) and load it in onnxruntime.

import type { onnx } from 'onnx-proto';

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

/** A growable byte buffer with the protobuf primitives. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A non-negative integer below 2^53 as a varint. */
  private varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`internal: protobuf varint out of range: ${n}`);
    this.room(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** int64 / int32 / enum field: negative values as 10-byte two's complement. */
  int(field: number, n: number): this {
    this.tag(field, WIRE_VARINT);
    return this.intValue(n);
  }

  private intValue(n: number): this {
    if (!Number.isSafeInteger(n)) throw new Error(`internal: protobuf integer is not a safe integer: ${n}`);
    if (n >= 0) this.varint(n);
    else {
      let v = BigInt.asUintN(64, BigInt(n));
      this.room(10);
      while (v >= 0x80n) {
        this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.len++] = Number(v);
    }
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, f: number): this {
    this.tag(field, WIRE_FIXED32);
    this.room(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, f, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** A repeated int64 field, packed (one length-delimited run of varints). */
  packedInts(field: number, values: readonly number[]): this {
    if (!values.length) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.intValue(v);
    return this.bytes(field, inner.finish());
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  /** Tag and length of a length-delimited field; the caller supplies its `length` bytes. */
  prefix(field: number, length: number): this {
    this.tag(field, WIRE_LEN);
    this.varint(length);
    return this;
  }

  /** An embedded message. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** The tag and length prefix of a length-delimited field whose payload is written separately. */
export function lengthPrefix(field: number, length: number): Uint8Array {
  return new ProtoWriter().prefix(field, length).finish();
}

/** Whether `m` sets `key` itself (protobufjs message instances carry defaults on their prototype). */
const has = (m: object, key: string): boolean => Object.hasOwn(m, key) && (m as Record<string, unknown>)[key] !== undefined && (m as Record<string, unknown>)[key] !== null;

function only(what: string, m: object, allowed: readonly string[]): void {
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0) || allowed.includes(k)) continue;
    throw new Error(`internal: the ONNX writer does not encode ${what}.${k}`);
  }
}

const num = (v: number | Long | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));
type Long = { toNumber(): number } | bigint;

// AttributeProto: name 1, f 2, i 3, s 4 (bytes), ints 8 (packed), type 20.
function attribute(w: ProtoWriter, a: onnx.IAttributeProto): void {
  only('AttributeProto', a, ['name', 'f', 'i', 's', 'ints', 'type']);
  if (a.name) w.string(1, a.name);
  if (has(a, 'f')) w.float(2, a.f!);
  if (has(a, 'i')) w.int(3, num(a.i));
  if (a.s && a.s.length) w.bytes(4, a.s);
  w.packedInts(8, (a.ints ?? []).map(num));
  if (a.type) w.int(20, a.type);
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7.
export function nodeProto(w: ProtoWriter, n: onnx.INodeProto): void {
  only('NodeProto', n, ['input', 'output', 'name', 'opType', 'attribute', 'docString', 'domain']);
  for (const s of n.input ?? []) w.string(1, s);
  for (const s of n.output ?? []) w.string(2, s);
  if (n.name) w.string(3, n.name);
  if (n.opType) w.string(4, n.opType);
  for (const a of n.attribute ?? []) w.message(5, (m) => attribute(m, a));
  if (n.docString) w.string(6, n.docString);
  if (n.domain) w.string(7, n.domain);
}

// TensorShapeProto.Dimension: dim_value 1, dim_param 2. TensorShapeProto: dim 1.
// TypeProto.Tensor: elem_type 1, shape 2. TypeProto: tensor_type 1. ValueInfoProto: name 1, type 2.
export function valueInfoProto(w: ProtoWriter, v: onnx.IValueInfoProto): void {
  only('ValueInfoProto', v, ['name', 'type']);
  if (v.name) w.string(1, v.name);
  const t = v.type;
  if (!t) return;
  only('TypeProto', t, ['tensorType']);
  const tt = t.tensorType;
  w.message(2, (type) => {
    if (!tt) return;
    only('TypeProto.Tensor', tt, ['elemType', 'shape']);
    type.message(1, (tensor) => {
      if (tt.elemType) tensor.int(1, tt.elemType);
      if (!tt.shape) return;
      only('TensorShapeProto', tt.shape, ['dim']);
      tensor.message(2, (shape) => {
        for (const d of tt.shape!.dim ?? []) {
          only('TensorShapeProto.Dimension', d, ['dimValue', 'dimParam']);
          shape.message(1, (dim) => {
            if (has(d, 'dimValue')) dim.int(1, num(d.dimValue));
            if (d.dimParam) dim.string(2, d.dimParam);
          });
        }
      });
    });
  });
}

export interface TensorHead {
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly name: string;
  /** External data entries (location, offset, length), with data_location EXTERNAL. */
  readonly external?: readonly (readonly [string, string])[];
}

/** DataLocation.EXTERNAL of TensorProto. */
const EXTERNAL = 1;

// TensorProto: dims 1 (packed), data_type 2, name 8, (raw_data 9: appended by the caller),
// external_data 13 (StringStringEntryProto: key 1, value 2), data_location 14.
export function tensorHead(h: TensorHead): Uint8Array {
  const w = new ProtoWriter();
  w.packedInts(1, h.dims);
  w.int(2, h.dataType);
  w.string(8, h.name);
  if (h.external) {
    for (const [key, value] of h.external) w.message(13, (e) => e.string(1, key).string(2, value));
    w.int(14, EXTERNAL);
  }
  return w.finish();
}

/** GraphProto fields before the initializers: node 1, name 2. */
export function graphHead(nodes: readonly onnx.INodeProto[], name: string): Uint8Array {
  const w = new ProtoWriter();
  for (const n of nodes) w.message(1, (m) => nodeProto(m, n));
  w.string(2, name);
  return w.finish();
}

/** GraphProto fields after the initializers: input 11, output 12, value_info 13. */
export function graphTail(inputs: readonly onnx.IValueInfoProto[], outputs: readonly onnx.IValueInfoProto[], valueInfo: readonly onnx.IValueInfoProto[]): Uint8Array {
  const w = new ProtoWriter();
  for (const v of inputs) w.message(11, (m) => valueInfoProto(m, v));
  for (const v of outputs) w.message(12, (m) => valueInfoProto(m, v));
  for (const v of valueInfo) w.message(13, (m) => valueInfoProto(m, v));
  return w.finish();
}

/** ModelProto fields before the graph: ir_version 1, producer_name 2, producer_version 3, doc_string 6. */
export function modelHead(m: { irVersion: number; producerName: string; producerVersion: string; docString: string }): Uint8Array {
  return new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion).string(6, m.docString).finish();
}

/** ModelProto fields after the graph (7): opset_import 8 (OperatorSetIdProto: domain 1, version 2), metadata_props 14. */
export function modelTail(opset: number, metadata: readonly (readonly [string, string])[]): Uint8Array {
  const w = new ProtoWriter();
  w.message(8, (o) => o.string(1, '').int(2, opset));
  for (const [key, value] of metadata) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}

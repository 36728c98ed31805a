// ONNX protobuf serialization. The small messages (nodes, value infos, metadata) are encoded
// by wire.ts (the ONNX schema's field numbers, written by hand); the initializers' raw bytes
// are never copied into a protobuf writer: each initializer is its encoded header (dims, type,
// name) followed by a `raw_data` field whose payload is a view of the parameter's
// Float32Array. Concatenated encodings of one message type merge field-wise, so a message is
// written as [fields before X][X][fields after X], keeping protobuf's field-number order.
// The result is a list of byte chunks: written to a file with writev, or joined for
// onnxruntime, without a per-element loop over the weights.

import type { onnx } from 'onnx-proto';
import { graphHead, graphTail, lengthPrefix, modelHead, modelTail, tensorHead } from './wire.js';

/** TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;
export const FLOAT16 = 10;

/** A protobuf message may not exceed 2 GiB; models above this keep their weights outside. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Tensors smaller than this stay inline even in external-data mode (as onnx's own converter does). */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets into the external data file are aligned so that runtimes can memory-map them. */
export const EXTERNAL_ALIGN = 4096;

export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Little-endian raw bytes. */
  readonly bytes: Uint8Array;
}

export interface ModelParts {
  readonly irVersion: number;
  readonly opset: number;
  readonly producerVersion: string;
  readonly docString: string;
  readonly metadata: readonly (readonly [string, string])[];
  readonly graphName: string;
  readonly nodes: readonly onnx.INodeProto[];
  readonly inputs: readonly onnx.IValueInfoProto[];
  readonly outputs: readonly onnx.IValueInfoProto[];
  readonly valueInfo: readonly onnx.IValueInfoProto[];
  readonly initializers: readonly Initializer[];
}

export interface Serialized {
  /** The .onnx file, as chunks in order. */
  readonly model: Uint8Array[];
  readonly modelBytes: number;
  /** The external data file's chunks (empty when every tensor is inline). */
  readonly data: Uint8Array[];
  readonly dataBytes: number;
}

export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

const total = (chunks: readonly Uint8Array[]) => chunks.reduce((s, c) => s + c.length, 0);

/**
 * Serializes the model. `external`: file name (relative to the model) of the data file that
 * holds every tensor of at least EXTERNAL_MIN_BYTES; undefined keeps every tensor inline.
 */
export function serialize(p: ModelParts, external?: string): Serialized {
  const data: Uint8Array[] = [];
  let dataBytes = 0;
  const inits: Uint8Array[] = [];
  for (const t of p.initializers) {
    const head = { dims: t.dims, dataType: t.dataType, name: t.name };
    if (external !== undefined && t.bytes.length >= EXTERNAL_MIN_BYTES) {
      const pad = (EXTERNAL_ALIGN - (dataBytes % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (pad) data.push(new Uint8Array(pad));
      const offset = dataBytes + pad;
      data.push(t.bytes);
      dataBytes = offset + t.bytes.length;
      const msg = tensorHead({ ...head, external: [['location', external], ['offset', String(offset)], ['length', String(t.bytes.length)]] });
      inits.push(lengthPrefix(5, msg.length), msg);
    } else {
      const msg = tensorHead(head);
      const raw = lengthPrefix(9, t.bytes.length);
      inits.push(lengthPrefix(5, msg.length + raw.length + t.bytes.length), msg, raw, t.bytes);
    }
  }
  // GraphProto: node (1), name (2) | initializer (5) | input (11), output (12), value_info (13)
  const graph = [graphHead(p.nodes, p.graphName), ...inits, graphTail(p.inputs, p.outputs, p.valueInfo)];
  // ModelProto: ir_version (1) .. doc_string (6) | graph (7) | opset_import (8), metadata_props (14)
  const model = [
    modelHead({ irVersion: p.irVersion, producerName: 'vovc', producerVersion: p.producerVersion, docString: p.docString }),
    lengthPrefix(7, total(graph)),
    ...graph,
    modelTail(p.opset, p.metadata),
  ];
  return { model, modelBytes: total(model), data, dataBytes };
}

/** Total serialized size of the initializers' payloads (to decide on external data). */
export function payloadBytes(p: ModelParts): number {
  return p.initializers.reduce((s, t) => s + t.bytes.length, 0);
}

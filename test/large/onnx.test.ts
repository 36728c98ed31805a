// ONNX has no index type to widen, but a model past the 2 GiB protobuf limit must keep its
// weights in external data, chosen by size without --external-data. The weights here are
// 64 MiB of memory shared by every layer: the serializer only takes views of parameter data,
// so a graph "holding" 2.1 GiB of weights costs 64 MiB to compile (nothing is written).
import { describe, expect, test } from 'vitest';
import type { OnnxOptions } from '../../src/codegen/onnx/options.js';
import { onnxOf } from '../onnx/util.js';
import { EXTERNAL_ALIGN, PROTOBUF_LIMIT } from '../../src/codegen/onnx/proto.js';
import { pb } from '../onnx/util.js';
import type { Graph } from '../../src/ir/graph.js';
import { builder, conv } from '../passes/ir.js';

const C = 4096;
const WEIGHT_BYTES = C * C * 4;
const shared = new Float32Array(C * C).fill(1 / C);

/** `layers` 1x1 convs C -> C on [1, C, 1, 1], every weight the same 64 MiB array. */
function wide(layers: number): Graph {
  const b = builder([1, C, 1, 1], 'wide');
  let x = 'input';
  for (let i = 0; i < layers; i++) x = conv(b, `layer${i}`, x, C, { k: 1 });
  b.output('y', x);
  const g = b.build();
  return { ...g, params: new Map([...g.params].map(([k, p]) => [k, { ...p, data: shared }])) };
}

const OPTS: OnnxOptions = { opset: 17, faithful: true, externalData: false, dynamicBatch: false, dynamicHw: false, ioNative: false };
// compileOnnx keeps a 64 MiB margin below the limit for the graph's own messages.
const margin = 64 * 1024 * 1024;

describe('ONNX external data chosen by size', () => {
  test('weights below the protobuf limit stay inline', () => {
    const layers = Math.floor((PROTOBUF_LIMIT - margin) / WEIGHT_BYTES);
    const c = onnxOf(wide(layers), OPTS, 'wide.onnx');
    expect(c.dataFile).toBeUndefined();
    expect(c.dataBytes).toBe(0);
    expect(c.modelBytes).toBeGreaterThan(layers * WEIGHT_BYTES);
    expect(c.modelBytes).toBeLessThan(PROTOBUF_LIMIT);
  });

  test("past it: <model>.onnx.data, offsets from 2^31 on exact and aligned, a small .onnx", () => {
    // Enough layers that the last tensor starts at 2^31 or later, past what an int32 offset holds.
    const layers = Math.ceil(2 ** 31 / WEIGHT_BYTES) + 1;
    expect(layers * WEIGHT_BYTES).toBeGreaterThan(PROTOBUF_LIMIT);
    const c = onnxOf(wide(layers), OPTS, 'wide.onnx');
    expect(c.dataFile).toBe('wide.onnx.data');
    expect(c.modelBytes).toBeLessThan(1 << 20);
    const m = pb.ModelProto.decode(Buffer.concat(c.model));
    const ext = (m.graph?.initializer ?? []).map((t) => Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value])));
    expect(ext.length).toBe(layers);
    let end = 0;
    for (const e of ext) {
      expect(e.location).toBe('wide.onnx.data');
      const offset = Number(e.offset);
      expect(String(offset)).toBe(e.offset);
      expect(offset % EXTERNAL_ALIGN).toBe(0);
      expect(offset).toBe(Math.ceil(end / EXTERNAL_ALIGN) * EXTERNAL_ALIGN);
      expect(Number(e.length)).toBe(WEIGHT_BYTES);
      end = offset + WEIGHT_BYTES;
    }
    expect(Number(ext.at(-1)!.offset)).toBeGreaterThanOrEqual(2 ** 31);
    expect(c.dataBytes).toBe(end);
    expect(c.data.reduce((s, d) => s + d.length, 0)).toBe(end);
  });
});

// The hand-written ONNX wire encoder against protobufjs with onnx-proto's schema: every message
// vovc writes, encoded both ways, must decode (with onnx-proto) to the same object.
import type { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { onnxTarget } from '../../src/codegen/onnx/options.js';
import { FLOAT, INT64, int64Bytes, serialize, type ModelParts } from '../../src/codegen/onnx/proto.js';
import { ProtoWriter, nodeProto, valueInfoProto } from '../../src/codegen/onnx/wire.js';
import { pb, onnxOf, zooGraph } from './util.js';

const join = (chunks: readonly Uint8Array[]): Uint8Array => Buffer.concat(chunks);
const plain = (m: onnx.ModelProto) => pb.ModelProto.toObject(m, { longs: String, bytes: String, defaults: false });

const parts: ModelParts = {
  irVersion: 8,
  opset: 17,
  producerVersion: '0.1.0',
  docString: 'résumé ✓ model',
  metadata: [['model', 'x'], ['ünïcode', 'välue']],
  graphName: 'g',
  nodes: [
    { input: ['x', 'w'], output: ['y'], name: 'conv', opType: 'Conv', docString: 'fused a + b', attribute: [
      { name: 'pads', type: 7, ints: [0, -1, 2 ** 40, -(2 ** 40)] },
      { name: 'group', type: 2, i: -3 },
      { name: 'alpha', type: 1, f: 0.1666666716337204 },
      { name: 'zero', type: 2, i: 0 },
    ] },
    { input: ['y'], output: ['z'], name: 'id', opType: 'Identity', domain: 'ai.onnx' },
  ],
  inputs: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }, {}, { dimValue: 0 }] } } } }],
  outputs: [{ name: 'z', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 2 ** 33 }] } } } }],
  valueInfo: [{ name: 'y', type: { tensorType: { elemType: FLOAT, shape: { dim: [] } } } }],
  initializers: [
    { name: 'w', dims: [2, 3], dataType: FLOAT, bytes: new Uint8Array(new Float32Array([1, -2, 3.5, 1e-30, -0, 7]).buffer) },
    { name: 'shape', dims: [2], dataType: INT64, bytes: int64Bytes([-1, 2 ** 40]) },
    { name: 'big', dims: [512], dataType: FLOAT, bytes: new Uint8Array(2048).fill(7) },
  ],
};

/** The same model, every small message encoded by protobufjs. */
function viaProtobufjs(p: ModelParts, external?: string, data?: Map<string, { offset: number; length: number }>): Uint8Array {
  return pb.ModelProto.encode({
    irVersion: p.irVersion,
    producerName: 'vovc',
    producerVersion: p.producerVersion,
    docString: p.docString,
    opsetImport: [{ domain: '', version: p.opset }],
    metadataProps: p.metadata.map(([key, value]) => ({ key, value })),
    graph: {
      node: [...p.nodes],
      name: p.graphName,
      input: [...p.inputs],
      output: [...p.outputs],
      valueInfo: [...p.valueInfo],
      initializer: p.initializers.map((t) => {
        const ext = data?.get(t.name);
        return ext
          ? { dims: [...t.dims], dataType: t.dataType, name: t.name, dataLocation: 1, externalData: [{ key: 'location', value: external }, { key: 'offset', value: String(ext.offset) }, { key: 'length', value: String(ext.length) }] }
          : { dims: [...t.dims], dataType: t.dataType, name: t.name, rawData: t.bytes };
      }),
    },
  }).finish();
}

describe('onnx wire encoder', () => {
  it('decodes to the same ModelProto as protobufjs (inline weights, negative and 64-bit ints, floats, unicode)', () => {
    const ours = serialize(parts);
    expect(ours.modelBytes).toBe(join(ours.model).length);
    expect(plain(pb.ModelProto.decode(join(ours.model)))).toEqual(plain(pb.ModelProto.decode(viaProtobufjs(parts))));
  });

  it('external data: the same ModelProto, and the data file holds the tensors at the offsets it names', () => {
    const ours = serialize(parts, 'm.onnx.data');
    const m = pb.ModelProto.decode(join(ours.model));
    const ext = new Map(m.graph!.initializer.filter((t) => t.dataLocation === 1).map((t) => {
      const kv = Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
      return [t.name, { offset: Number(kv.offset), length: Number(kv.length) }];
    }));
    expect([...ext.keys()]).toEqual(['big']);
    expect(plain(m)).toEqual(plain(pb.ModelProto.decode(viaProtobufjs(parts, 'm.onnx.data', ext))));
    const file = join(ours.data);
    const big = ext.get('big')!;
    expect(Buffer.from(file.subarray(big.offset, big.offset + big.length)).equals(Buffer.from(parts.initializers[2].bytes))).toBe(true);
  });

  it('a real model (vovnet27_slim, optimized, dynamic batch and HW): same ModelProto as protobufjs', () => {
    const c = onnxOf(zooGraph('vovnet27_slim', [1, 3, 64, 64]), { ...onnxTarget.parse({}), dynamicBatch: true, dynamicHw: true });
    const m = pb.ModelProto.decode(join(c.model));
    const g = m.graph!;
    expect(g.node.length).toBeGreaterThan(30);
    const again = pb.ModelProto.encode(m).finish();
    expect(plain(pb.ModelProto.decode(again))).toEqual(plain(m));
    // Node by node and value info by value info, our encoding equals protobufjs's byte for byte
    // (both write the fields in field-number order).
    for (const n of g.node) {
      const w = new ProtoWriter();
      nodeProto(w, n);
      expect(Buffer.from(w.finish()).equals(Buffer.from(pb.NodeProto.encode(n).finish())), n.name!).toBe(true);
    }
    for (const v of [...g.input, ...g.output, ...g.valueInfo]) {
      const w = new ProtoWriter();
      valueInfoProto(w, v);
      expect(Buffer.from(w.finish()).equals(Buffer.from(pb.ValueInfoProto.encode(v).finish())), v.name!).toBe(true);
    }
  });

  it('encodes a string attribute (GridSample mode) as field 4, bytes', () => {
    const w = new ProtoWriter();
    nodeProto(w, { opType: 'GridSample', attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('bilinear') }] });
    expect(Buffer.from(w.finish()).includes(Buffer.from([0x22, 8, ...Buffer.from('bilinear')]))).toBe(true);
  });

  it('refuses a field it does not encode instead of dropping it', () => {
    expect(() => nodeProto(new ProtoWriter(), { opType: 'X', attribute: [{ name: 'f', type: 6, floats: [1, 2] }] })).toThrow(/AttributeProto\.floats/);
    expect(() => valueInfoProto(new ProtoWriter(), { name: 'v', docString: 'd' })).toThrow(/ValueInfoProto\.docString/);
  });
});

// Helpers of the ONNX backend tests: graphs from the zoo, an independent structural check of
// a decoded ModelProto, and output comparison.
import { compileOnnx, type CompiledOnnx } from '../../src/codegen/onnx/index.js';
import type { OnnxOptions } from '../../src/codegen/onnx/options.js';
import { artifactMeta } from '../../src/driver/meta.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { loadModel } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { seedParams } from '../../src/model/init.js';
import { lowerSpec } from '../../src/model/lower.js';
import { compare } from '../helpers/fixtures.js';

export const pb = onnxProto.onnx;

/** The small test nets of tiny.vov ('tiny-eca', 'tiny-ese-dw'), as model arguments. */
const TINY_VOV = fileURLToPath(new URL('tiny.vov', import.meta.url));
export const tiny = (name: 'tiny-eca' | 'tiny-ese-dw') => `${TINY_VOV}:${name}`;

/** A model (zoo name or file) lowered for `shape`, parameters seeded unless `seed` is false. */
export function zooGraph(name: string, shape?: readonly number[], seed = true): Graph {
  const g = lowerSpec(loadModel(name, shape ? { inputShape: shape } : {}).spec);
  return seed ? seedParams(g) : g;
}

/** Deterministic pseudo-random N(0,1)-like input (no Math.random: failures must reproduce). */
export function testInput(shape: readonly number[], seed = 1): { shape: number[]; data: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = s / 4294967296;
    data[i] = Math.sqrt(-2 * Math.log(u + 1e-12)) * Math.cos(2 * Math.PI * v);
  }
  return { shape: [...shape], data };
}

export function decode(bytes: Uint8Array): onnx.ModelProto {
  return pb.ModelProto.decode(bytes);
}

const dimsOf = (vi: onnx.IValueInfoProto) => vi.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : '?'));

/**
 * Structural validity, checked without the emitter's code: the default-domain opset import,
 * every node input defined before use (graph input, initializer or an earlier node's output),
 * no tensor defined twice, every graph output produced, initializer payloads of the size their
 * dims and type say, and a value_info for every intermediate tensor. `shapes` (tensor name ->
 * expected shape, e.g. the IR's node shapes and parameter shapes) are checked where given.
 */
export function checkStructure(m: onnx.ModelProto, opset: number, shapes: ReadonlyMap<string, readonly (number | string)[]> = new Map()): void {
  expect(m.opsetImport.map((o) => [o.domain ?? '', Number(o.version)])).toEqual([['', opset]]);
  expect(Number(m.irVersion)).toBeGreaterThanOrEqual(7);
  const g = m.graph!;
  const defined = new Set<string>();
  const define = (name: string) => {
    expect(defined.has(name), `tensor '${name}' defined twice`).toBe(false);
    defined.add(name);
  };
  expect(g.input.map((i) => i.name)).toEqual(['input']);
  define('input');
  const elem: Record<number, number> = { 1: 4, 7: 8, 10: 2 };
  for (const t of g.initializer) {
    define(t.name);
    const numel = t.dims.reduce((a: number, d) => a * Number(d), 1);
    if (t.dataLocation === pb.TensorProto.DataLocation.EXTERNAL) {
      const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
      expect(Number(kv.get('length')), t.name).toBe(numel * elem[t.dataType]);
    } else expect(t.rawData.length, t.name).toBe(numel * elem[t.dataType]);
    const want = shapes.get(t.name);
    if (want) expect(t.dims.map(Number), t.name).toEqual(want);
  }
  const produced: string[] = [];
  for (const n of g.node) {
    for (const i of n.input) expect(defined.has(i), `node '${n.name}' (${n.opType}) reads '${i}', undefined before it`).toBe(true);
    for (const o of n.output) {
      define(o);
      produced.push(o);
    }
  }
  const outputs = new Set(g.output.map((o) => o.name));
  for (const o of outputs) expect(defined.has(o), `graph output '${o}' is not produced`).toBe(true);
  const infos = new Map(g.valueInfo.map((v) => [v.name, v]));
  for (const t of produced) {
    if (outputs.has(t)) continue;
    expect(infos.has(t), `no value_info for '${t}'`).toBe(true);
    const want = shapes.get(t);
    if (want) expect(dimsOf(infos.get(t)!), t).toEqual(want);
  }
  for (const o of g.output) {
    const want = shapes.get(o.name);
    if (want) expect(dimsOf(o), o.name).toEqual(want);
  }
}

/** Expected tensor shapes of an emitted graph: IR node values, parameters, and the named outputs. */
export function irShapes(g: Graph): Map<string, readonly number[]> {
  const m = new Map<string, readonly number[]>();
  for (const n of g.nodes) m.set(n.id, n.shape);
  for (const [name, p] of g.params) m.set(name, p.shape);
  for (const o of g.outputs) {
    m.delete(o.value);
    m.set(o.name, o.value === 'input' ? g.input.shape : g.nodes.find((n) => n.id === o.value)!.shape);
  }
  return m;
}

export function expectClose(actual: { shape: readonly number[]; data: Float32Array }, expected: { shape: readonly number[]; data: Float32Array }, what: string, atol = 1e-4, rtol = 1e-4): void {
  const c = compare(actual, expected, atol, rtol);
  expect(c, `${what}: max |diff| ${c.maxAbs}, worst ratio ${c.worstRatio}`).toMatchObject({ ok: true });
}

/**
 * The ONNX file of an unoptimized graph `g` as `vovc build` makes it: the driver hands the
 * target the optimized graph (the unoptimized one under --faithful) and the artifact metadata.
 */
export function onnxOf(g: Graph, opts: OnnxOptions, fileName?: string, hasWeights = false): CompiledOnnx {
  const graph = opts.faithful ? g : new Pipeline(g).optimized().graph;
  return compileOnnx(graph, opts, artifactMeta(g, hasWeights), fileName);
}

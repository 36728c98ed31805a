// Loads a shared fixture case into a graph with its checkpoint bound (the WGSL tests' input).
import { loadModel } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { bindCheckpoint } from '../../src/weights/mapping.js';
import type { FixtureCase } from '../helpers/fixtures.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import { compileWgsl } from '../../src/codegen/wgsl/index.js';
import { VERSION } from '../../src/version.js';

export async function fixtureGraph(c: FixtureCase): Promise<Graph> {
  const g = lowerSpec(loadModel(c.model, { inputShape: c.inputShape }).spec);
  const ckpt = await loadCheckpoint(c.weights);
  return bindCheckpoint(g, ckpt.tensors, { file: c.weights }).graph;
}

/** The optimized plan of a bound graph and its WGSL artifact (as the driver would hand it over). */
export function wgslOf(g: Graph, opts: { chunkBytes?: number; precision?: 'fp32' | 'fp16'; ioNative?: boolean } = {}) {
  const precision = opts.precision ?? 'fp32';
  const p = new Pipeline(g, { verifyEach: true, passes: { log: () => {} }, precision, layout: { evenPlanes: precision === 'fp16' } });
  const plan = p.plan();
  const params = p.optimized().graph.params;
  const weights = (name: string) => params.get(name)?.data;
  return { plan, weights, ...compileWgsl(plan, weights, VERSION, opts) };
}

// Loads a shared fixture case into a graph with its checkpoint bound (the WGSL tests' input).
import { loadModel } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { bindCheckpoint } from '../../src/weights/mapping.js';
import type { FixtureCase } from '../helpers/fixtures.js';

export async function fixtureGraph(c: FixtureCase): Promise<Graph> {
  const g = lowerSpec(loadModel(c.model, { inputShape: c.inputShape }).spec);
  const ckpt = await loadCheckpoint(c.weights);
  return bindCheckpoint(g, ckpt.tensors, { file: c.weights }).graph;
}

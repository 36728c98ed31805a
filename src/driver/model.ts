// The front of the pipeline: model text (zoo name, file.vov, file.vov:name, --set, the input
// shape) -> ModelSpec -> verified graph IR, once. Diagnostics of any later stage that point into
// the model text get the sources attached, so that they print with the source line.

import { VovcError, type SourceMap } from '../diag/diagnostics.js';
import { loadModel } from '../dsl/zoo.js';
import type { Graph } from '../ir/graph.js';
import { verify } from '../ir/verify.js';
import { lowerSpec } from '../model/lower.js';
import type { ModelSpec } from '../model/spec.js';

export interface ModelRequest {
  /** A zoo name, a .vov file, or file.vov:name. */
  readonly model: string;
  /** --set arguments, "key=value" each (docs/DSL.md). */
  readonly set?: readonly string[];
  /** The input shape (from --input-shape or the input data); overrides the model's. */
  readonly inputShape?: readonly number[];
}

export interface LoadedModel {
  readonly spec: ModelSpec;
  /** Every text the spans point into (model files, the zoo, --set). */
  readonly sources: SourceMap;
  /** The unoptimized graph, verified; parameter data absent. */
  readonly graph: Graph;
}

/** Runs `f`, attaching `sources` to a VovcError it throws (so its spans print with the text). */
function withSources<T>(sources: SourceMap | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof VovcError && sources && !e.sources) e.sources = sources;
    throw e;
  }
}

/** withSources for an async step. */
export async function withSourcesAsync<T>(sources: SourceMap | undefined, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof VovcError && sources && !e.sources) e.sources = sources;
    throw e;
  }
}

/** The verified graph of a spec. */
function lowered(spec: ModelSpec, sources: SourceMap): Graph {
  return withSources(sources, () => {
    const graph = lowerSpec(spec);
    const errs = verify(graph);
    if (errs.length) throw new VovcError(errs);
    return graph;
  });
}

/** Resolves, lowers and verifies a model. Throws VovcError with every diagnostic found. */
export function loadModelGraph(req: ModelRequest): LoadedModel {
  const { spec, sources } = withSources(undefined, () => loadModel(req.model, { set: req.set, inputShape: req.inputShape }));
  return { spec, sources, graph: lowered(spec, sources) };
}

/**
 * The same model lowered for another input shape (an image's, whose size the preprocessing
 * chose from the spec): the spec is not resolved again.
 */
export function withInputShape(m: LoadedModel, shape: readonly [number, number, number, number]): LoadedModel {
  if (shape.every((d, i) => d === m.spec.input[i])) return m;
  const spec = { ...m.spec, input: shape };
  return { spec, sources: m.sources, graph: lowered(spec, m.sources) };
}

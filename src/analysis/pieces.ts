// Piecewise analysis for sweeps: a model is its stem, its stages and its head, and every
// cost of a node depends only on the node and its input shapes. So each piece is lowered on
// its own (lowerSpec of a spec holding that piece alone, fed the shape the previous piece
// produces), analysed, and cached under its description and input shape; a variant's
// analysis is the merge of its pieces'. A sweep over stage4.blocks x stage3.mid then lowers
// the stem, stage2 and stage5 once, stage3 once per mid and stage4 once per block count,
// instead of every whole graph. test/analysis/pieces.test.ts checks that the result equals
// analyzeGraph of the whole graph, at every level.
//
// Fused bytes need the whole optimized graph (fusions cross piece boundaries); with a plan,
// use analyzeGraph.

import { valueShape, type Graph, type Shape } from '../ir/graph.js';
import type { ModelSpec } from '../model/spec.js';
import { aggregateGraph, finishAnalysis, mergeAggregates, type Aggregate, type AnalyzeOptions, type ModelAnalysis } from './analyze.js';

interface Piece {
  readonly agg: Aggregate;
  /** Shape of the piece's output, the next piece's input. */
  readonly out: Shape;
}

/** Spans say where a value was written, not what it is: they stay out of the cache keys. */
const noSpans = (k: string, v: unknown) => (k === 'span' ? undefined : v);

export class PiecewiseAnalyzer {
  private readonly cache = new Map<string, Piece>();

  /**
   * `lower` is the model lowering (the driver's, src/model/lower.ts: the analysis reads graphs,
   * it does not make them); `opts` (levels, GPU, precision) hold for every spec analysed; no plan.
   */
  constructor(
    private readonly lower: (spec: ModelSpec) => Graph,
    private readonly opts: Omit<AnalyzeOptions, 'plan'> = {},
  ) {}

  /** Pieces lowered so far (for tests and the benchmark). */
  get lowered(): number {
    return this.cache.size;
  }

  private piece(key: unknown[], spec: ModelSpec, output: string, renameLayer?: (k: string) => string): Piece {
    const k = JSON.stringify(key, noSpans);
    let p = this.cache.get(k);
    if (!p) {
      const g = this.lower({ ...spec, outputs: [output] });
      p = { agg: aggregateGraph(g, this.opts, renameLayer), out: valueShape(g, g.outputs[0].value) };
      this.cache.set(k, p);
    }
    return p;
  }

  analyze(spec: ModelSpec): ModelAnalysis {
    const backbone = { kind: 'backbone' } as const;
    let shape: Shape = spec.input;
    const parts: Aggregate[] = [];
    const stem = this.piece(['stem', shape, spec.stem, spec.activation], { ...spec, stages: [], head: backbone }, 'stem');
    parts.push(stem.agg);
    shape = stem.out;
    spec.stages.forEach((st, s) => {
      // Lowered alone, the stage is stages.0; its layer keys take the stage's real index.
      const from = 'stages.0.';
      const to = `stages.${s}.`;
      const rename = s === 0 ? undefined : (k: string) => (k.startsWith(from) ? to + k.slice(from.length) : k);
      const input = shape as [number, number, number, number];
      const p = this.piece(['stage', s, input, st, spec.activation], { ...spec, input, stem: [], stages: [st], head: backbone }, st.name, rename);
      parts.push(p.agg);
      shape = p.out;
    });
    if (spec.head.kind === 'classifier') {
      const input = shape as [number, number, number, number];
      parts.push(this.piece(['head', input, spec.head], { ...spec, input, stem: [], stages: [] }, 'logits').agg);
    }
    return finishAnalysis({ name: spec.name, source: spec.source, input: spec.input }, mergeAggregates(parts), this.opts);
  }
}

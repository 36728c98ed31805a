// What a pass is, what it reports, and the one graph-rewriting helper every pass uses.
//
// A pass is a named pure function Graph -> Graph. It may describe what it did (and what it
// declined to do, with the reason) through the optional context; the pass manager collects
// these records into the fusion report.
//
// Provenance: a node that stands for several unoptimized nodes lists their ids in
// `Node.fused` (in dataflow order; `covers` in src/ir/graph.ts reads it), so the kernel plan can
// say which IR ops each launch computes without any side table.

import { GraphBuilder, type AddNode } from '../ir/builder.js';
import { covers, type Graph, type Node, type OpKind, type Param } from '../ir/graph.js';

export type RecordKind =
  /** Several nodes became one (the `into` node). */
  | 'fused'
  /** A node disappeared without replacement (dead code, a flatten before linear). */
  | 'removed'
  /** A concat whose producers write straight into its channel slices. */
  | 'inplace'
  /** A concat input that must still be copied into its slice; `detail` says why. */
  | 'kept-copy'
  /** A candidate the pass left alone; `detail` says why. */
  | 'not-fused';

export interface FusionRecord {
  readonly pass: string;
  readonly kind: RecordKind;
  /** The IR node ids involved, in graph order. */
  readonly nodes: readonly string[];
  /** The node that now stands for them (fused), or the concat (inplace, kept-copy). */
  readonly into?: string;
  /** One sentence, for the text report. */
  readonly detail: string;
}

export interface PassContext {
  record(r: Omit<FusionRecord, 'pass'>): void;
  /**
   * The caller donated the input graph's parameter arrays (OptimizeOptions.donateParams): a
   * pass may overwrite a parameter's data in place instead of allocating a new array, when no
   * other parameter views the same bytes. The input graph must not be read afterwards.
   */
  readonly donatedParams?: boolean;
}

export interface Pass {
  readonly name: string;
  /** One line for help texts and the docs. */
  readonly description?: string;
  run(g: Graph, ctx?: PassContext): Graph;
}

/** Node.fused of a node made from `parts`, given in dataflow order. */
export function fusedFrom(parts: readonly Node[]): string[] {
  return [...new Set(parts.flatMap(covers))];
}

/**
 * A rewrite of a graph, applied in one walk over the nodes:
 * - `replace`: at the position of node `id`, emit this node instead (its inputs are renamed
 *   through `rename` too). Put a fused node at the position of the LAST node of its pattern:
 *   every value it reads is defined by then, and the intermediate values it swallows have no
 *   readers outside the pattern, so nothing between needs them.
 * - `drop`: nodes that disappear;
 * - `rename`: value a is now called b (chains are followed);
 * - `params`: new or changed parameters (e.g. folded weights).
 */
export interface Rewrite {
  readonly replace: Map<string, AddNode<OpKind>>;
  readonly drop: Set<string>;
  readonly rename: Map<string, string>;
  readonly params: Map<string, Param>;
}

export function emptyRewrite(): Rewrite {
  return { replace: new Map(), drop: new Set(), rename: new Map(), params: new Map() };
}

function isEmpty(rw: Rewrite): boolean {
  return rw.replace.size === 0 && rw.drop.size === 0 && rw.rename.size === 0 && rw.params.size === 0;
}

export function applyRewrite(g: Graph, rw: Rewrite): Graph {
  if (isEmpty(rw)) return g;
  const resolve = (v: string): string => {
    const seen = new Set<string>();
    while (rw.rename.has(v)) {
      if (seen.has(v)) throw new Error(`internal: rename cycle through '${v}'`);
      seen.add(v);
      v = rw.rename.get(v)!;
    }
    return v;
  };
  const b = GraphBuilder.like(g);
  for (const [name, p] of g.params) b.param(name, p.shape, p.data);
  for (const [name, p] of rw.params) b.param(name, p.shape, p.data);
  for (const n of g.nodes) {
    const r = rw.replace.get(n.id);
    if (r) b.add({ ...r, inputs: r.inputs.map(resolve) });
    else if (!rw.drop.has(n.id)) b.copy(n, { inputs: n.inputs.map(resolve) });
  }
  for (const o of g.outputs) b.output(o.name, resolve(o.value));
  return b.build();
}

/** The AddNode form of an existing node, for building its replacement. */
export function asAdd(n: Node): AddNode<OpKind> {
  return { id: n.id, op: n.op, inputs: n.inputs, attrs: n.attrs, params: { ...n.params }, span: n.span, scope: n.scope, layer: n.layer, fused: n.fused };
}

/** The set of values that are graph outputs. */
export function outputValues(g: Graph): Set<string> {
  return new Set(g.outputs.map((o) => o.value));
}

/**
 * true when `value` is read by exactly one node and is not a graph output, i.e. a fusion may
 * swallow it without anything else noticing.
 */
export function singleUse(value: string, cons: ReadonlyMap<string, readonly string[]>, outs: ReadonlySet<string>): boolean {
  const c = cons.get(value) ?? [];
  return c.length === 1 && !outs.has(value);
}

/** Why a value cannot be swallowed by a fusion (for not-fused records). */
export function whyShared(value: string, cons: ReadonlyMap<string, readonly string[]>, outs: ReadonlySet<string>, partner: string): string {
  if (outs.has(value)) return `'${value}' is a graph output`;
  const others = (cons.get(value) ?? []).filter((x) => x !== partner);
  return `'${value}' is also read by ${others.map((x) => `'${x}'`).join(', ')}`;
}

// GraphBuilder: the one way to make a Graph. It infers every node's shape from the op table
// as nodes are added, so a graph built here is shape-correct by construction (the verifier
// re-checks it independently after every pass).

import { VovcError, type Span } from '../diag/diagnostics.js';
import type { Graph, GraphMeta, GraphOutput, Node, OpAttrs, OpKind, Param, Shape } from './graph.js';
import { INPUT } from './graph.js';
import { inferShape } from './ops.js';

export interface AddNode<K extends OpKind> {
  id: string;
  op: K;
  inputs: readonly string[];
  attrs: OpAttrs[K];
  params?: Record<string, string>;
  span?: Span;
  scope: string;
  /** Node.layer; defaults to the node's own id. */
  layer?: string;
  fused?: readonly string[];
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly params = new Map<string, Param>();
  private readonly outputs: GraphOutput[] = [];

  constructor(
    readonly name: string,
    readonly inputShape: Shape,
    readonly meta: GraphMeta,
  ) {
    this.shapes.set(INPUT, inputShape);
  }

  /** Starts a builder holding a copy of `g`'s header (name, input, meta) but no nodes. */
  static like(g: Graph): GraphBuilder {
    return new GraphBuilder(g.name, g.input.shape, g.meta);
  }

  shape(value: string): Shape {
    const s = this.shapes.get(value);
    if (!s) throw new Error(`internal: unknown value '${value}'`);
    return s;
  }

  has(value: string): boolean {
    return this.shapes.has(value);
  }

  param(name: string, shape: Shape, data: Float32Array | null): string {
    if (data && data.length !== shape.reduce((p, d) => p * d, 1)) throw new Error(`internal: param ${name} data length ${data.length} != shape ${shape}`);
    this.params.set(name, { shape, data });
    return name;
  }

  getParam(name: string): Param | undefined {
    return this.params.get(name);
  }

  /** Adds a node; its output shape is inferred. Throws a VovcError with the node's span on a shape error. */
  add<K extends OpKind>(n: AddNode<K>): string {
    if (this.shapes.has(n.id)) throw new Error(`internal: duplicate node id '${n.id}'`);
    const ins = n.inputs.map((i) => this.shape(i));
    const wName = n.params?.weight;
    const wShape = wName ? this.params.get(wName)?.shape : undefined;
    const r = inferShape(n.op, n.attrs, ins, wShape);
    if (typeof r === 'string') {
      throw new VovcError({ severity: 'error', code: 'E2001', message: `${n.op === 'act' ? (n.attrs as OpAttrs['act']).fn : n.op} '${n.id}': ${r}`, span: n.span, subject: n.span ? undefined : n.id });
    }
    const node: Node<K> = {
      id: n.id,
      op: n.op,
      inputs: [...n.inputs],
      attrs: n.attrs,
      params: { ...(n.params ?? {}) },
      shape: r,
      span: n.span,
      scope: n.scope,
      layer: n.layer ?? n.id,
      ...(n.fused ? { fused: [...n.fused] } : {}),
    };
    this.nodes.push(node as Node);
    this.shapes.set(n.id, r);
    return n.id;
  }

  /** Re-adds an existing node unchanged except for the given fields (shape re-inferred). */
  copy(n: Node, changes: Partial<AddNode<OpKind>> = {}): string {
    return this.add({ id: n.id, op: n.op, inputs: n.inputs, attrs: n.attrs, params: n.params, span: n.span, scope: n.scope, layer: n.layer, fused: n.fused, ...changes } as AddNode<OpKind>);
  }

  output(name: string, value: string): void {
    this.shape(value);
    this.outputs.push({ name, value });
  }

  build(): Graph {
    // Keep only the params that some node references, in first-use order (deterministic).
    const used = new Map<string, Param>();
    for (const n of this.nodes) for (const p of Object.values(n.params)) {
      const v = this.params.get(p);
      if (!v) throw new Error(`internal: node ${n.id} references unknown param ${p}`);
      used.set(p, v);
    }
    return {
      name: this.name,
      input: { name: INPUT, shape: this.inputShape },
      nodes: [...this.nodes],
      outputs: [...this.outputs],
      params: used,
      meta: this.meta,
    };
  }
}

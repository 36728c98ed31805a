// Small hand-written graphs for the pass unit tests.
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Activation, Graph } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/printer.js';
import type { FusionRecord, Pass } from '../../src/passes/pass.js';

export function builder(shape: number[] = [1, 4, 6, 6], name = 't'): GraphBuilder {
  return new GraphBuilder(name, shape, { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 });
}

/** A conv with weight `<id>.weight` (and `<id>.bias` when bias is set). */
export function conv(b: GraphBuilder, id: string, x: string, cout: number, o: { k?: number; stride?: number; groups?: number; bias?: boolean; act?: Activation } = {}): string {
  const k = o.k ?? 3;
  const g = o.groups ?? 1;
  const cin = b.shape(x)[1];
  const p = Math.floor(k / 2);
  b.param(`${id}.weight`, [cout, cin / g, k, k], null);
  if (o.bias) b.param(`${id}.bias`, [cout], null);
  return b.add({
    id,
    op: 'conv2d',
    inputs: [x],
    attrs: { kernel: [k, k], stride: [o.stride ?? 1, o.stride ?? 1], pad: [p, p, p, p], groups: g, act: o.act ?? 'none', residual: false },
    params: { weight: `${id}.weight`, ...(o.bias ? { bias: `${id}.bias` } : {}) },
    scope: 's',
  });
}

export function bn(b: GraphBuilder, id: string, x: string): string {
  const c = b.shape(x)[1];
  for (const leaf of ['weight', 'bias', 'running_mean', 'running_var']) b.param(`${id}.${leaf}`, [c], null);
  return b.add({ id, op: 'batchnorm', inputs: [x], attrs: { eps: 1e-5 }, params: { weight: `${id}.weight`, bias: `${id}.bias`, running_mean: `${id}.running_mean`, running_var: `${id}.running_var` }, scope: 's' });
}

export function op(b: GraphBuilder, id: string, kind: 'relu' | 'sigmoid' | 'silu' | 'hardswish' | 'hardsigmoid' | 'global_avg_pool' | 'flatten' | 'add' | 'mul', inputs: string[]): string {
  if (kind === 'global_avg_pool' || kind === 'flatten' || kind === 'add' || kind === 'mul') return b.add({ id, op: kind, inputs, attrs: {}, scope: 's' } as never);
  return b.add({ id, op: 'act', inputs, attrs: { fn: kind }, scope: 's' });
}

export function concat(b: GraphBuilder, id: string, inputs: string[]): string {
  return b.add({ id, op: 'concat', inputs, attrs: { axis: 1, inplace: false }, scope: 's' });
}

/** Runs one pass, returning the graph, its records and the IR text before and after. */
export function runPass(p: Pass, g: Graph): { g: Graph; records: FusionRecord[]; before: string; after: string } {
  const records: FusionRecord[] = [];
  const out = p.run(g, { record: (r) => records.push({ pass: p.name, ...r }) });
  return { g: out, records, before: printGraph(g), after: printGraph(out) };
}

/** Text of an IR listing without the header line, with leading spaces trimmed. */
export function body(text: string): string {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
}

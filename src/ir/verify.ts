// The verifier: checks a Graph independently of how it was built. It runs after every pass
// in the tests and under --verify-each. Its errors name the node and its DSL span.

import type { Diagnostic } from '../diag/diagnostics.js';
import { INPUT, opName, type Graph, type Node, type Shape } from './graph.js';
import { OPS, inferShape, type OpRule } from './ops.js';

const fmt = (s: Shape) => `[${s.join(',')}]`;

export function verify(g: Graph): Diagnostic[] {
  const errs: Diagnostic[] = [];
  const err = (n: Node | undefined, message: string) =>
    errs.push({ severity: 'error', code: 'E3001', message: n ? `${opName(n)} '${n.id}': ${message}` : message, span: n?.span, subject: n && !n.span ? n.id : undefined });

  const shapes = new Map<string, Shape>([[INPUT, g.input.shape]]);
  if (g.input.shape.length !== 4 || g.input.shape.some((d) => !Number.isInteger(d) || d < 1)) err(undefined, `graph input shape ${fmt(g.input.shape)} is not a positive NCHW shape`);
  for (const n of g.nodes) {
    if (shapes.has(n.id)) err(n, 'duplicate node id');
    const rule = OPS[n.op] as OpRule<typeof n.op> | undefined;
    if (!rule) {
      err(n, `unknown op '${n.op}'`);
      continue;
    }
    const missing = n.inputs.filter((i) => !shapes.has(i));
    if (missing.length) {
      err(n, `reads ${missing.map((m) => `'${m}'`).join(', ')}, not defined before it (dangling or out of order)`);
      shapes.set(n.id, n.shape);
      continue;
    }
    if (!rule.arity(n.attrs as never).includes(n.inputs.length)) {
      err(n, `takes ${rule.arity(n.attrs as never).join(' or ')} inputs, has ${n.inputs.length}`);
      shapes.set(n.id, n.shape);
      continue;
    }
    const ins = n.inputs.map((i) => shapes.get(i)!);
    const w = n.params.weight ? g.params.get(n.params.weight) : undefined;
    if (n.params.weight && !w) {
      err(n, `parameter 'weight' refers to '${n.params.weight}', which the graph does not hold`);
      shapes.set(n.id, n.shape);
      continue;
    }
    const r = inferShape(n.op, n.attrs, ins, w?.shape);
    if (typeof r === 'string') err(n, r);
    else if (r.length !== n.shape.length || r.some((d, i) => d !== n.shape[i])) err(n, `recorded shape ${fmt(n.shape)} but inference gives ${fmt(r)}`);
    else {
      const expected = rule.params(n.attrs as never, ins, r);
      for (const [role0, shape] of Object.entries(expected)) {
        const optional = role0.endsWith('?');
        const role = optional ? role0.slice(0, -1) : role0;
        const name = n.params[role];
        if (!name) {
          if (!optional) err(n, `missing parameter '${role}'`);
          continue;
        }
        const p = g.params.get(name);
        if (!p) err(n, `parameter '${role}' refers to '${name}', which the graph does not hold`);
        else if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) err(n, `parameter '${name}' has shape ${fmt(p.shape)}, expected ${fmt(shape)}`);
        else if (p.data && p.data.length !== shape.reduce((a, b) => a * b, 1)) err(n, `parameter '${name}' holds ${p.data.length} values for shape ${fmt(shape)}`);
      }
      const known = new Set(Object.keys(expected).map((k) => k.replace(/\?$/, '')));
      for (const role of Object.keys(n.params)) if (!known.has(role)) err(n, `unexpected parameter role '${role}'`);
    }
    shapes.set(n.id, n.shape);
  }
  const names = new Set<string>();
  for (const o of g.outputs) {
    if (names.has(o.name)) err(undefined, `duplicate graph output name '${o.name}'`);
    names.add(o.name);
    if (!shapes.has(o.value)) err(undefined, `graph output '${o.name}' refers to undefined value '${o.value}'`);
  }
  if (g.outputs.length === 0) err(undefined, 'graph has no outputs');
  return errs;
}

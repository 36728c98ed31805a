// Gating: mul(z, s) with s of shape [N,C,1,1] becomes scale(z, s); when the product's only
// reader is an add (the identity shortcut), that add joins it: scale(z, s, x) {residual}.
// The gated tensor is then written once, not as z*s followed by a second pass for +x.

import type { Node, Shape } from '../ir/graph.js';
import { consumers, nodeMap, valueShape } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, singleUse, whyShared, type Pass } from './pass.js';

const isGate = (s: Shape, x: Shape) => s.length === 4 && x.length === 4 && s[0] === x[0] && s[1] === x[1] && s[2] === 1 && s[3] === 1;

export const fuseScale: Pass = {
  name: 'fuse-scale',
  description: 'mul(z, s) (+ add x) -> scale{residual}: the gated tensor is written once',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const mul of g.nodes) {
      if (mul.op !== 'mul') continue;
      const [a, b] = mul.inputs;
      const sa = valueShape(g, a, nodes);
      const sb = valueShape(g, b, nodes);
      // The IR's mul takes the [N,C,1,1] gate as its second operand.
      if (!isGate(sb, sa)) continue;
      const [z, s] = [a, b];
      const parts: Node[] = [mul];
      const inputs = [z, s];
      const next = cons.get(mul.id) ?? [];
      const add = next.length === 1 ? nodes.get(next[0]) : undefined;
      if (add?.op === 'add' && add.inputs[0] !== add.inputs[1]) {
        if (singleUse(mul.id, cons, outs)) {
          parts.push(add);
          inputs.push(add.inputs[0] === mul.id ? add.inputs[1] : add.inputs[0]);
        } else rec?.record({ kind: 'not-fused', nodes: [mul.id, add.id], detail: `kept add '${add.id}' apart from '${mul.id}': ${whyShared(mul.id, cons, outs, add.id)}` });
      }
      const last = parts[parts.length - 1];
      if (last !== mul) {
        rw.drop.add(mul.id);
        rw.rename.set(last.id, mul.id);
      }
      rw.replace.set(last.id, { ...asAdd(mul), op: 'scale', inputs, attrs: { residual: parts.length > 1 }, params: {}, fused: fusedFrom(parts) });
      rec?.record({
        kind: 'fused',
        nodes: parts.map((p) => p.id),
        into: mul.id,
        detail: `${parts.map((p) => `'${p.id}'`).join(' + ')} -> scale '${mul.id}'${parts.length > 1 ? ' {residual}' : ''}`,
      });
    }
    return applyRewrite(g, rw);
  },
};


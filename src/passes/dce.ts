// Dead-code elimination: drops every node whose value no graph output depends on.

import { INPUT, opName } from '../ir/graph.js';
import { emptyRewrite, applyRewrite, type Pass } from './pass.js';

export const dce: Pass = {
  name: 'dce',
  description: 'remove nodes no graph output depends on',
  run(g, ctx) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const live = new Set<string>();
    const stack = g.outputs.map((o) => o.value);
    while (stack.length) {
      const v = stack.pop()!;
      if (v === INPUT || live.has(v)) continue;
      live.add(v);
      const n = byId.get(v);
      if (n) stack.push(...n.inputs);
    }
    const rw = emptyRewrite();
    for (const n of g.nodes) {
      if (live.has(n.id)) continue;
      rw.drop.add(n.id);
      ctx?.record({ kind: 'removed', nodes: [n.id], detail: `removed ${opName(n)} '${n.id}': no graph output depends on it` });
    }
    return applyRewrite(g, rw);
  },
};


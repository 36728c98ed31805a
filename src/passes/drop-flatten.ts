// flatten of an [N,C,1,1] tensor before linear is a no-op: linear accepts [N,C,1,1] directly,
// so the flatten (a copy in an op-by-op plan) goes.

import { consumers, INPUT, nodeMap, valueShape } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, type Pass } from './pass.js';

export const dropFlatten: Pass = {
  name: 'drop-flatten',
  description: 'remove flatten of [N,C,1,1] when only linear layers read it',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const f of g.nodes) {
      if (f.op !== 'flatten') continue;
      const src = f.inputs[0];
      const s = valueShape(g, src, nodes);
      const readers = cons.get(f.id) ?? [];
      let why: string | undefined;
      if (src === INPUT || s.length !== 4 || s[2] !== 1 || s[3] !== 1) why = `its input [${s.join(',')}] is not [N,C,1,1]`;
      else if (outs.has(f.id)) why = 'it is a graph output';
      else if (readers.some((r) => nodes.get(r)!.op !== 'linear')) why = 'a non-linear op reads it';
      if (why) {
        rec?.record({ kind: 'not-fused', nodes: [f.id], detail: `kept flatten '${f.id}': ${why}` });
        continue;
      }
      rw.drop.add(f.id);
      rw.rename.set(f.id, src);
      // Each linear now stands for the flatten too (provenance for the plan's launches).
      for (const r of readers) rw.replace.set(r, { ...asAdd(nodes.get(r)!), fused: fusedFrom([f, nodes.get(r)!]) });
      rec?.record({ kind: 'removed', nodes: [f.id], detail: `removed flatten '${f.id}': ${readers.map((r) => `'${r}'`).join(', ')} read '${src}' [N,C,1,1] directly` });
    }
    return applyRewrite(g, rw);
  },
};

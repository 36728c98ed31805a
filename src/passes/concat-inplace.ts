// OSA aggregation without a materialized concat. A concat marked `inplace` is not a kernel:
// its value is one buffer, and each producer writes its output straight into its channel
// slice of that buffer (a strided view), so the 1x1 aggregation conv reads one ordinary
// tensor. docs/PASSES.md explains why vovc writes into slices instead of letting the consumer
// gather from separate buffers.
//
// Where each input goes (which producers write in place, which copies stay and why) is
// concatPlacement's rule (src/ir/concat.ts), which the kernel plan reads too.

import { concatPlacement } from '../ir/concat.js';
import { isOp } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, type Pass } from './pass.js';

export const concatInplace: Pass = {
  name: 'concat-inplace',
  description: 'OSA concat not materialized: producers write straight into channel slices of one buffer',
  run(g, rec) {
    const rw = emptyRewrite();
    const placement = concatPlacement(g, false);
    for (const c of g.nodes) {
      if (!isOp(c, 'concat') || c.attrs.inplace || c.shape.length !== 4) continue;
      rw.replace.set(c.id, { ...asAdd(c), attrs: { axis: 1, inplace: true } });
      const list = placement.get(c.id)!;
      const direct = list.filter((p) => p.direct).map((p) => `'${p.value}'@${p.channel}`);
      rec?.record({ kind: 'inplace', nodes: [c.id], into: c.id, detail: `concat '${c.id}' not materialized: ${direct.length ? direct.join(', ') + ' write into their channel slices' : 'no producer writes in place'}` });
      for (const p of list) {
        if (!p.direct) rec?.record({ kind: 'kept-copy', nodes: [p.value], into: c.id, detail: `copy of '${p.value}' into channels [${p.channel}, ${p.channel + p.width}) of '${c.id}' kept: ${p.reason}` });
      }
    }
    return applyRewrite(g, rw);
  },
};

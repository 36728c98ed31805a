// conv (+ bias) -> activation becomes one conv2d with `act` set: the unit activation after
// every folded conv-BN (ReLU, SiLU, Hardswish), the hard-sigmoid after the eSE fc, a sigmoid
// wherever one follows a conv. Any activation of the table (src/ir/activations.ts) fuses: every
// backend renders the epilogue from the same table.

import { consumers, INPUT, isConvLike, isOp, nodeMap } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, singleUse, whyShared, type Pass } from './pass.js';

export const fuseConvAct: Pass = {
  name: 'fuse-conv-act',
  description: 'fuse an activation into the preceding conv epilogue',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const act of g.nodes) {
      if (!isOp(act, 'act')) continue;
      const src = act.inputs[0];
      const conv = src === INPUT ? undefined : nodes.get(src);
      if (!isConvLike(conv)) continue;
      const a = conv.attrs;
      let why: string | undefined;
      if (a.act !== 'none' || a.residual) why = `conv '${conv.id}' already ends in ${a.residual ? 'a residual add' : a.act}`;
      else if (!singleUse(src, cons, outs)) why = whyShared(src, cons, outs, act.id);
      if (why) {
        rec?.record({ kind: 'not-fused', nodes: [conv.id, act.id], detail: `kept ${act.attrs.fn} '${act.id}' apart from conv '${conv.id}': ${why}` });
        continue;
      }
      rw.drop.add(conv.id);
      rw.replace.set(act.id, { ...asAdd(conv), attrs: { ...a, act: act.attrs.fn }, fused: fusedFrom([conv, act]) });
      rw.rename.set(act.id, conv.id);
      rec?.record({ kind: 'fused', nodes: [conv.id, act.id], into: conv.id, detail: `fused ${act.attrs.fn} '${act.id}' into conv '${conv.id}' (act ${act.attrs.fn})` });
    }
    return applyRewrite(g, rw);
  },
};

// Residual add directly after a conv (no attention between them): add(conv(x), r) becomes
// conv2d {residual} with inputs [x, r], so the shortcut is added in the conv's epilogue (after
// bias and activation) instead of re-reading and re-writing the conv output.

import { consumers, INPUT, isOp, nodeMap } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, singleUse, whyShared, type Pass } from './pass.js';

export const fuseResidual: Pass = {
  name: 'fuse-residual',
  description: 'add(conv(x), r) -> conv2d{residual}(x, r) when the conv output has no other reader',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const add of g.nodes) {
      if (add.op !== 'add' || add.inputs[0] === add.inputs[1]) continue;
      const cands = add.inputs.map((v) => (v === INPUT ? undefined : nodes.get(v))).map((n, i) => ({ n, other: add.inputs[1 - i] }));
      let done = false;
      const why: string[] = [];
      for (const { n: conv, other } of cands) {
        if (!isOp(conv, 'conv2d')) continue;
        if (conv.attrs.residual) {
          why.push(`conv '${conv.id}' already has a residual input`);
          continue;
        }
        if (!singleUse(conv.id, cons, outs)) {
          why.push(whyShared(conv.id, cons, outs, add.id));
          continue;
        }
        rw.drop.add(conv.id);
        rw.replace.set(add.id, {
          ...asAdd(conv),
          inputs: [conv.inputs[0], other],
          attrs: { ...conv.attrs, residual: true },
          fused: fusedFrom([conv, add]),
        });
        rw.rename.set(add.id, conv.id);
        rec?.record({ kind: 'fused', nodes: [conv.id, add.id], into: conv.id, detail: `fused residual add '${add.id}' into conv '${conv.id}' (adds '${other}' after ${conv.attrs.act})` });
        done = true;
        break;
      }
      if (!done && why.length) rec?.record({ kind: 'not-fused', nodes: [add.id], detail: `kept add '${add.id}': ${why.join('; ')}` });
    }
    return applyRewrite(g, rw);
  },
};

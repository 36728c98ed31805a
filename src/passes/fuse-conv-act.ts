// conv (+ bias) -> activation becomes one conv2d with `act` set: ReLU after every folded
// conv-BN, hardsigmoid after the eSE fc, sigmoid wherever one follows a conv.
//
// The IR's conv epilogue 'hardsigmoid' means clamp(x/6 + 1/2, 0, 1) (PyTorch's); a generic
// hardsigmoid node with other alpha/beta is left alone and reported.

import type { Activation, Node } from '../ir/graph.js';
import { consumers, INPUT, nodeMap } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedNote, outputValues, singleUse, whyShared, type Pass } from './pass.js';

/** hardsigmoid's PyTorch constants, the only ones the fused epilogue implements. */
export const HARDSIGMOID = { alpha: 1 / 6, beta: 0.5 } as const;

/** The epilogue activation a node computes, or why it has none. */
function epilogueOf(n: Node): Activation | string {
  if (n.op === 'relu' || n.op === 'sigmoid') return n.op;
  if (n.op === 'hardsigmoid') {
    const a = (n as Node<'hardsigmoid'>).attrs;
    if (Math.abs(a.alpha - HARDSIGMOID.alpha) < 1e-12 && Math.abs(a.beta - HARDSIGMOID.beta) < 1e-12) return 'hardsigmoid';
    return `hardsigmoid alpha=${a.alpha} beta=${a.beta} is not the conv epilogue's (alpha 1/6, beta 0.5)`;
  }
  return 'not an activation';
}

export const fuseConvAct: Pass = {
  name: 'fuse-conv-act',
  description: 'fuse ReLU / hardsigmoid / sigmoid into the preceding conv epilogue',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const act of g.nodes) {
      if (act.op !== 'relu' && act.op !== 'hardsigmoid' && act.op !== 'sigmoid') continue;
      const src = act.inputs[0];
      const conv = src === INPUT ? undefined : nodes.get(src);
      if (!conv || conv.op !== 'conv2d') continue;
      const kind = epilogueOf(act);
      const a = (conv as Node<'conv2d'>).attrs;
      let why: string | undefined;
      if (kind !== 'relu' && kind !== 'hardsigmoid' && kind !== 'sigmoid') why = kind;
      else if (a.act !== 'none' || a.residual) why = `conv '${conv.id}' already ends in ${a.residual ? 'a residual add' : a.act}`;
      else if (!singleUse(src, cons, outs)) why = whyShared(src, cons, outs, act.id);
      if (why) {
        rec?.record({ kind: 'not-fused', nodes: [conv.id, act.id], detail: `kept ${act.op} '${act.id}' apart from conv '${conv.id}': ${why}` });
        continue;
      }
      rw.drop.add(conv.id);
      rw.replace.set(act.id, { ...asAdd(conv), attrs: { ...a, act: kind as Activation }, note: fusedNote([conv, act]) });
      rw.rename.set(act.id, conv.id);
      rec?.record({ kind: 'fused', nodes: [conv.id, act.id], into: conv.id, detail: `fused ${act.op} '${act.id}' into conv '${conv.id}' (act ${kind})` });
    }
    return applyRewrite(g, rw);
  },
};

// Attention gates: global_avg_pool -> fc -> act becomes one se_gate node, so the squeeze,
// the excitation and the gate activation run as one small kernel that reads z once.
//   eSE: gap -> conv2d 1x1 C->C with bias (act from fuse-conv-act, normally hardsigmoid)
//   ECA: gap -> eca_conv1d(k) [-> sigmoid]

import type { Activation, Node } from '../ir/graph.js';
import { consumers, INPUT, isOp, nodeMap } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, singleUse, whyShared, type Pass } from './pass.js';

/** Why conv `fc` is not an eSE excitation over gap output `gap`, or undefined. */
function notEseFc(fc: Node<'conv2d'>, gap: Node): string | undefined {
  const a = fc.attrs;
  const c = gap.shape[1];
  if (a.kernel[0] !== 1 || a.kernel[1] !== 1 || a.groups !== 1 || a.stride[0] !== 1 || a.stride[1] !== 1 || a.pad.some((p) => p !== 0)) return `conv '${fc.id}' is not a plain 1x1 conv`;
  if (fc.shape[1] !== c) return `conv '${fc.id}' maps ${c} to ${fc.shape[1]} channels (eSE keeps the width)`;
  if (!fc.params.bias) return `conv '${fc.id}' has no bias`;
  if (a.residual) return `conv '${fc.id}' has a residual input`;
  return undefined;
}

export const fuseSeGate: Pass = {
  name: 'fuse-se-gate',
  description: 'global_avg_pool + fc (+ gate activation) -> se_gate (eSE and ECA)',
  run(g, rec) {
    const nodes = nodeMap(g);
    const cons = consumers(g);
    const outs = outputValues(g);
    const rw = emptyRewrite();
    for (const fc of g.nodes) {
      if (!isOp(fc, 'conv2d') && !isOp(fc, 'eca_conv1d')) continue;
      const src = fc.inputs[0];
      const gap = src === INPUT ? undefined : nodes.get(src);
      if (!isOp(gap, 'global_avg_pool')) continue;
      const why = isOp(fc, 'conv2d') ? notEseFc(fc, gap) : undefined;
      const shared = singleUse(gap.id, cons, outs) ? undefined : whyShared(gap.id, cons, outs, fc.id);
      if (why || shared) {
        rec?.record({ kind: 'not-fused', nodes: [gap.id, fc.id], detail: `kept '${gap.id}' and '${fc.id}' apart: ${why ?? shared}` });
        continue;
      }
      const parts: Node[] = [gap, fc];
      let act: Activation;
      let kernel: number;
      let last: Node = fc;
      if (isOp(fc, 'conv2d')) {
        act = fc.attrs.act;
        kernel = 1;
      } else {
        kernel = fc.attrs.kernel;
        act = 'none';
        const next = cons.get(fc.id) ?? [];
        const gate = next.length === 1 && !outs.has(fc.id) ? nodes.get(next[0]) : undefined;
        if (isOp(gate, 'act')) {
          act = gate.attrs.fn;
          parts.push(gate);
          last = gate;
          rw.rename.set(gate.id, fc.id);
        }
      }
      const mode = fc.op === 'conv2d' ? 'ese' : 'eca';
      for (const p of parts) if (p !== last) rw.drop.add(p.id);
      rw.replace.set(last.id, {
        ...asAdd(fc),
        op: 'se_gate',
        inputs: gap.inputs,
        attrs: { mode, kernel, act },
        params: mode === 'ese' ? { weight: fc.params.weight, bias: fc.params.bias } : { weight: fc.params.weight },
        fused: fusedFrom(parts),
      });
      rec?.record({ kind: 'fused', nodes: parts.map((p) => p.id), into: fc.id, detail: `fused ${parts.map((p) => `'${p.id}'`).join(' + ')} into se_gate '${fc.id}' (${mode}, act ${act})` });
    }
    return applyRewrite(g, rw);
  },
};

// BatchNorm folding: conv -> batchnorm becomes one conv with a bias.
//
//   scale_o = gamma_o / sqrt(var_o + eps)
//   w'[o, ...] = w[o, ...] * scale_o
//   b'_o = beta_o - mean_o * scale_o (+ b_o * scale_o when the conv had a bias)
//
// computed in float64 and stored as float32. FrozenBN (detectron2) is the same op in the IR.
// For a separable conv the BN follows the pointwise conv, which is the conv it folds into.
// The folded weight keeps the conv's weight name; the bias keeps the conv's bias name or, when
// the conv had none, is named "<conv id>.bias". With shape-only graphs (param data null) the
// folded params have null data and the right shapes. When the caller donated the parameters
// (OptimizeOptions.donateParams), the folded weight is written over the conv weight's own array
// unless another parameter views the same bytes; otherwise it is a new array.
//
// Not folded (and reported): a BN whose input is not a conv, a conv that already has an
// epilogue (activation or residual), a conv whose output is also read elsewhere or is a graph
// output (the unnormalized value is still needed), a conv whose weight another node shares.

import type { Graph, Node, Param } from '../ir/graph.js';
import { consumers, INPUT, isConvLike, isOp, nodeMap, opName } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, fusedFrom, outputValues, singleUse, whyShared, type Pass } from './pass.js';

function paramUsers(g: Graph): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const n of g.nodes) for (const p of Object.values(n.params)) m.set(p, [...(m.get(p) ?? []), n.id]);
  return m;
}

/** Why `bn` cannot be folded into its input, or undefined when it can. */
function whyNotFoldable(g: Graph, bn: Node, ctx = { nodes: nodeMap(g), cons: consumers(g), outs: outputValues(g), users: paramUsers(g) }): string | undefined {
  const src = bn.inputs[0];
  if (src === INPUT) return 'its input is the graph input, not a conv';
  const conv = ctx.nodes.get(src)!;
  if (!isConvLike(conv)) return `its input '${src}' is a ${opName(conv)}, not a conv`;
  const a = conv.attrs;
  if (a.act !== 'none' || a.residual) return `conv '${src}' already applies ${a.residual ? 'a residual add' : a.act} after its bias`;
  if (!singleUse(src, ctx.cons, ctx.outs)) return `the unnormalized conv output is still needed: ${whyShared(src, ctx.cons, ctx.outs, bn.id)}`;
  const w = conv.params.weight;
  const sharers = (ctx.users.get(w) ?? []).filter((id) => id !== conv.id);
  if (sharers.length) return `conv weight '${w}' is shared with ${sharers.map((s) => `'${s}'`).join(', ')}`;
  if (!conv.params.bias && g.params.has(`${conv.id}.bias`)) return `the name '${conv.id}.bias' for the new bias is taken`;
  return undefined;
}

/**
 * Names of the parameters whose data shares bytes with another parameter's (a .pth checkpoint
 * may store two tensors in one storage): those are never overwritten in place.
 */
export function aliasedParams(g: Graph): Set<string> {
  const byBuffer = new Map<ArrayBufferLike, { name: string; begin: number; end: number }[]>();
  for (const [name, p] of g.params) {
    if (!p.data) continue;
    const list = byBuffer.get(p.data.buffer) ?? [];
    list.push({ name, begin: p.data.byteOffset, end: p.data.byteOffset + p.data.byteLength });
    byBuffer.set(p.data.buffer, list);
  }
  const out = new Set<string>();
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let reach = -1;
    let owner: string | undefined;
    for (const r of list) {
      if (r.begin < reach && r.end > r.begin) {
        out.add(r.name);
        out.add(owner!);
      }
      if (r.end > reach) {
        reach = r.end;
        owner = r.name;
      }
    }
  }
  return out;
}

/**
 * dst[i] = src[i] * s over [begin, end): a small function that V8 optimizes after a few calls
 * (one long loop would first run in the interpreter, boxing every float it loads).
 */
function scaleRange(src: Float32Array, dst: Float32Array, begin: number, end: number, s: number): void {
  for (let i = begin; i < end; i++) dst[i] = src[i] * s;
}

function fold(g: Graph, conv: Node, bn: Node<'batchnorm'>, inPlace: boolean): { weight: Param; bias: Param } {
  const p = (role: string, n: Node) => g.params.get(n.params[role])!;
  const w = p('weight', conv);
  const cout = w.shape[0];
  const per = w.shape.slice(1).reduce((a, d) => a * d, 1);
  const gamma = p('weight', bn).data;
  const beta = p('bias', bn).data;
  const mean = p('running_mean', bn).data;
  const vr = p('running_var', bn).data;
  const b0 = conv.params.bias ? p('bias', conv) : undefined;
  if (!w.data || !gamma || !beta || !mean || !vr || (b0 && !b0.data)) return { weight: { shape: w.shape, data: null }, bias: { shape: [cout], data: null } };
  const eps = bn.attrs.eps;
  const src = w.data;
  const bias = b0?.data;
  // Donated and unaliased: rescale the conv weight where it lies (each element is read once,
  // before it is written, so the values are those of a fresh array).
  const wd = inPlace ? src : new Float32Array(src.length);
  const bd = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = gamma[o] / Math.sqrt(vr[o] + eps);
    scaleRange(src, wd, o * per, (o + 1) * per, s);
    bd[o] = beta[o] - mean[o] * s + (bias ? bias[o] * s : 0);
  }
  return { weight: { shape: w.shape, data: wd }, bias: { shape: [cout], data: bd } };
}

export const foldBn: Pass = {
  name: 'fold-bn',
  description: 'fold BatchNorm / FrozenBN into the preceding conv (weights rescaled in float64, bias added)',
  run(g, rec) {
    const ctx = { nodes: nodeMap(g), cons: consumers(g), outs: outputValues(g), users: paramUsers(g) };
    const aliased = rec?.donatedParams ? aliasedParams(g) : undefined;
    const rw = emptyRewrite();
    for (const bn of g.nodes) {
      if (!isOp(bn, 'batchnorm')) continue;
      const why = whyNotFoldable(g, bn, ctx);
      if (why) {
        rec?.record({ kind: 'not-fused', nodes: [bn.id], detail: `kept batchnorm '${bn.id}': ${why}` });
        continue;
      }
      const conv = ctx.nodes.get(bn.inputs[0])!;
      const { weight, bias } = fold(g, conv, bn, !!aliased && !aliased.has(conv.params.weight));
      const biasName = conv.params.bias ?? `${conv.id}.bias`;
      rw.params.set(conv.params.weight, weight);
      rw.params.set(biasName, bias);
      rw.drop.add(conv.id);
      rw.replace.set(bn.id, { ...asAdd(conv), params: { weight: conv.params.weight, bias: biasName }, fused: fusedFrom([conv, bn]) });
      rw.rename.set(bn.id, conv.id);
      rec?.record({ kind: 'fused', nodes: [conv.id, bn.id], into: conv.id, detail: `folded batchnorm '${bn.id}' into conv '${conv.id}' (weight '${conv.params.weight}', bias '${biasName}')` });
    }
    return applyRewrite(g, rw);
  },
};

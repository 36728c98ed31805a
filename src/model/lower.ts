// Lowering: ModelSpec -> graph IR, exactly as the DSL says (one IR op per PyTorch module:
// conv, batchnorm, relu, pool, concat, ...). Nothing is fused here; that is the passes' job.
//
// Node ids and parameter names follow timm's module paths (the canonical naming of vovc):
//   stem.{i}.conv | conv_dw | conv_pw | bn | relu
//   stages.{s}.pool
//   stages.{s}.blocks.{b}.conv_reduction.{conv,bn,relu}
//   stages.{s}.blocks.{b}.conv_mid.{k}.{conv|conv_dw|conv_pw, bn, relu}
//   stages.{s}.blocks.{b}.conv_mid.{k}.{conv_offset, conv, bn, relu}   (deformable: conv is a deform_conv2d)
//   stages.{s}.blocks.{b}.concat, .conv_concat.{conv,bn,relu}
//   stages.{s}.blocks.{b}.attn.{gap, fc|conv, gate, mul}, .add
//   head.{gap, flatten, fc}
// so the parameter of node "stem.0.conv" is "stem.0.conv.weight", as in a timm checkpoint.
// Other naming conventions map onto these names (src/model/naming.ts).

import type { Span } from '../diag/diagnostics.js';
import { GraphBuilder } from '../ir/builder.js';
import type { Activation, ConvAttrs, Graph, PoolAttrs } from '../ir/graph.js';
import { INPUT } from '../ir/graph.js';
import { ecaKernelSize, type DenseStage, type ModelSpec, type OsaStage, type StageSpec } from './spec.js';
import { fail } from '../diag/diagnostics.js';


function convAttrs(k: number, stride: number, groups = 1): ConvAttrs {
  const p = Math.floor(k / 2);
  return { kernel: [k, k], stride: [stride, stride], pad: [p, p, p, p], groups, act: 'none', residual: false };
}

/**
 * The activation node after a conv-BN (or DenseNet's BN): named after its function, `.relu` for
 * the ReLU every published model has. It belongs to the unit's layer.
 */
function unitAct(b: GraphBuilder, base: string, x: string, fn: Activation, span: Span | undefined, scope: string): string {
  return b.add({ id: `${base}.${fn}`, op: 'act', inputs: [x], attrs: { fn }, span, scope, layer: base });
}

/** A conv (or separable conv) followed by BN and the unit activation; returns the activation's value. */
function convBnAct(
  b: GraphBuilder,
  base: string,
  x: string,
  out: number,
  k: number,
  stride: number,
  separable: boolean,
  eps: number,
  act: Activation,
  scope: string,
  span?: Span,
): string {
  const cin = b.shape(x)[1];
  const layer = base;
  let y: string;
  if (separable) {
    // Depthwise kxk carries the stride; no BN or activation between it and the pointwise conv.
    b.param(`${base}.conv_dw.weight`, [cin, 1, k, k], null);
    y = b.add({ id: `${base}.conv_dw`, op: 'conv2d', inputs: [x], attrs: convAttrs(k, stride, cin), params: { weight: `${base}.conv_dw.weight` }, span, scope, layer });
    b.param(`${base}.conv_pw.weight`, [out, cin, 1, 1], null);
    y = b.add({ id: `${base}.conv_pw`, op: 'conv2d', inputs: [y], attrs: convAttrs(1, 1), params: { weight: `${base}.conv_pw.weight` }, span, scope, layer });
  } else {
    b.param(`${base}.conv.weight`, [out, cin, k, k], null);
    y = b.add({ id: `${base}.conv`, op: 'conv2d', inputs: [x], attrs: convAttrs(k, stride), params: { weight: `${base}.conv.weight` }, span, scope, layer });
  }
  return bnAct(b, base, y, out, eps, act, scope, span);
}

/** BN and the unit activation after a unit's conv `y`. */
function bnAct(b: GraphBuilder, base: string, y: string, out: number, eps: number, act: Activation, scope: string, span?: Span): string {
  const layer = base;
  const bn = `${base}.bn`;
  for (const leaf of ['weight', 'bias', 'running_mean', 'running_var']) b.param(`${bn}.${leaf}`, [out], null);
  y = b.add({
    id: bn,
    op: 'batchnorm',
    inputs: [y],
    attrs: { eps },
    params: { weight: `${bn}.weight`, bias: `${bn}.bias`, running_mean: `${bn}.running_mean`, running_var: `${bn}.running_var` },
    span,
    scope,
    layer,
  });
  return unitAct(b, base, y, act, span, scope);
}

/**
 * A deformable 3x3 unit (centermask2's DCN layer): the offset conv (3x3, stride 1, pad 1, with
 * bias; (v2 ? 27 : 18) x G channels: 18G offsets (dy, dx per tap, row-major taps, group-major),
 * then for v2 9G mask logits), the deformable conv fed by it (no bias; the mask's sigmoid is the
 * op's), BN and the unit activation. Returns the activation's value.
 */
function deformBnAct(b: GraphBuilder, base: string, x: string, out: number, version: 'v1' | 'v2', groups: number, eps: number, act: Activation, scope: string, span?: Span): string {
  const cin = b.shape(x)[1];
  const layer = base;
  const k = 3;
  const offCh = (version === 'v2' ? 3 : 2) * k * k * groups;
  b.param(`${base}.conv_offset.weight`, [offCh, cin, k, k], null);
  b.param(`${base}.conv_offset.bias`, [offCh], null);
  const off = b.add({ id: `${base}.conv_offset`, op: 'conv2d', inputs: [x], attrs: convAttrs(k, 1), params: { weight: `${base}.conv_offset.weight`, bias: `${base}.conv_offset.bias` }, span, scope, layer });
  b.param(`${base}.conv.weight`, [out, cin, k, k], null);
  const y = b.add({
    id: `${base}.conv`,
    op: 'deform_conv2d',
    inputs: [x, off],
    attrs: { ...convAttrs(k, 1), deformGroups: groups, modulated: version === 'v2' },
    params: { weight: `${base}.conv.weight` },
    span,
    scope,
    layer,
  });
  return bnAct(b, base, y, out, eps, act, scope, span);
}

function poolAttrs(k: number, s: number, ceil: boolean): PoolAttrs {
  return { kernel: [k, k], stride: [s, s], pad: [0, 0, 0, 0], ceil };
}

function lowerOsaStage(b: GraphBuilder, st: OsaStage, s: number, x: string, eps: number, act: Activation, deformGroups: number): string {
  const span = st.span;
  if (st.pool) {
    x = b.add({ id: `stages.${s}.pool`, op: 'maxpool', inputs: [x], attrs: poolAttrs(st.pool.kernel, st.pool.stride, st.pool.ceil), span: st.pool.span ?? span, scope: st.name });
  }
  for (let bi = 0; bi < st.blocks; bi++) {
    const base = `stages.${s}.blocks.${bi}`;
    const scope = `${st.name}.block${bi + 1}`;
    const cin = b.shape(x)[1];
    const residual = st.residual === 'after-first' ? bi > 0 : st.residual === 'all';
    if (residual && cin !== st.out) {
      fail('E2002', `${st.name} block ${bi + 1}: residual needs equal widths, but the block maps ${cin} -> ${st.out} channels`, { span });
    }
    const feats = [x];
    let y = x;
    if (st.depthwise && cin !== st.mid) y = convBnAct(b, `${base}.conv_reduction`, y, st.mid, 1, 1, false, eps, act, scope, span);
    for (let k = 0; k < st.layers; k++) {
      y = st.deform
        ? deformBnAct(b, `${base}.conv_mid.${k}`, y, st.mid, st.deform, deformGroups, eps, act, scope, span)
        : convBnAct(b, `${base}.conv_mid.${k}`, y, st.mid, 3, 1, st.depthwise, eps, act, scope, span);
      feats.push(y);
    }
    const cat = b.add({ id: `${base}.concat`, op: 'concat', inputs: feats, attrs: { axis: 1, inplace: false }, span, scope });
    let z = convBnAct(b, `${base}.conv_concat`, cat, st.out, 1, 1, false, eps, act, scope, span);
    const attn = st.attention !== 'none' && (st.attentionWhere === 'all' || bi === st.blocks - 1) ? st.attention : 'none';
    if (attn !== 'none') {
      const a = `${base}.attn`;
      const layer = a;
      const gap = b.add({ id: `${a}.gap`, op: 'global_avg_pool', inputs: [z], attrs: {}, span, scope, layer });
      let t: string;
      if (attn === 'ese') {
        b.param(`${a}.fc.weight`, [st.out, st.out, 1, 1], null);
        b.param(`${a}.fc.bias`, [st.out], null);
        t = b.add({ id: `${a}.fc`, op: 'conv2d', inputs: [gap], attrs: convAttrs(1, 1), params: { weight: `${a}.fc.weight`, bias: `${a}.fc.bias` }, span, scope, layer });
        // The eSE gate is always PyTorch's hard-sigmoid, whatever the unit activation.
        t = b.add({ id: `${a}.gate`, op: 'act', inputs: [t], attrs: { fn: 'hardsigmoid' }, span, scope, layer });
      } else {
        const k = st.ecaKernel ?? ecaKernelSize(st.out);
        b.param(`${a}.conv.weight`, [1, 1, k], null);
        t = b.add({ id: `${a}.conv`, op: 'eca_conv1d', inputs: [gap], attrs: { kernel: k }, params: { weight: `${a}.conv.weight` }, span, scope, layer });
        t = b.add({ id: `${a}.gate`, op: 'act', inputs: [t], attrs: { fn: 'sigmoid' }, span, scope, layer });
      }
      z = b.add({ id: `${a}.mul`, op: 'mul', inputs: [z, t], attrs: {}, span, scope, layer });
    }
    if (residual) z = b.add({ id: `${base}.add`, op: 'add', inputs: [z, x], attrs: {}, span, scope });
    x = z;
  }
  return x;
}

/**
 * DenseNet stage (pre-activation, as in DenseNet): each layer is BN-ReLU-conv3x3 producing
 * `growth` channels (with an optional BN-ReLU-conv1x1 bottleneck first), concatenated onto
 * the running tensor; the transition is BN-ReLU-conv1x1 then 2x2 average pooling.
 */
function lowerDenseStage(b: GraphBuilder, st: DenseStage, s: number, x: string, eps: number, act: Activation): string {
  const span = st.span;
  const preact = (base: string, input: string, out: number, k: number, scope: string): string => {
    const c = b.shape(input)[1];
    const bn = `${base}.norm`;
    const layer = base;
    for (const leaf of ['weight', 'bias', 'running_mean', 'running_var']) b.param(`${bn}.${leaf}`, [c], null);
    let y = b.add({ id: bn, op: 'batchnorm', inputs: [input], attrs: { eps }, params: { weight: `${bn}.weight`, bias: `${bn}.bias`, running_mean: `${bn}.running_mean`, running_var: `${bn}.running_var` }, span, scope, layer });
    y = unitAct(b, base, y, act, span, scope);
    b.param(`${base}.conv.weight`, [out, c, k, k], null);
    return b.add({ id: `${base}.conv`, op: 'conv2d', inputs: [y], attrs: convAttrs(k, 1), params: { weight: `${base}.conv.weight` }, span, scope, layer });
  };
  for (let l = 0; l < st.layers; l++) {
    const base = `stages.${s}.layers.${l}`;
    const scope = `${st.name}.layer${l + 1}`;
    let y = x;
    if (st.bottleneck) y = preact(`${base}.bottleneck`, y, st.bottleneck, 1, scope);
    y = preact(base, y, st.growth, 3, scope);
    x = b.add({ id: `${base}.concat`, op: 'concat', inputs: [x, y], attrs: { axis: 1, inplace: false }, span, scope });
  }
  if (st.transition) {
    const scope = `${st.name}.transition`;
    x = preact(`stages.${s}.transition`, x, st.transition.out, 1, scope);
    if (st.transition.pool) x = b.add({ id: `stages.${s}.transition.pool`, op: 'avgpool', inputs: [x], attrs: poolAttrs(2, 2, false), span, scope });
  }
  return x;
}

function lowerStage(b: GraphBuilder, st: StageSpec, s: number, x: string, eps: number, act: Activation, deformGroups: number): string {
  return st.kind === 'osa' ? lowerOsaStage(b, st, s, x, eps, act, deformGroups) : lowerDenseStage(b, st, s, x, eps, act);
}

/** Lowers a resolved spec to the unoptimized graph IR (parameter data absent). */
export function lowerSpec(spec: ModelSpec): Graph {
  const b = new GraphBuilder(spec.name, spec.input, {
    naming: spec.naming,
    preprocessing: spec.preprocessing,
    bnEps: spec.bnEps,
    numClasses: spec.head.kind === 'classifier' ? spec.head.classes : 0,
    source: spec.source,
  });
  const values = new Map<string, string>();
  // The unit activation replaces every ReLU after a conv-BN (and DenseNet's), not the gates'.
  const act: Activation = spec.activation;
  let x = INPUT;
  spec.stem.forEach((l, i) => {
    x = convBnAct(b, `stem.${i}`, x, l.out, l.kernel, l.stride, l.kind === 'sepconv', spec.bnEps, act, 'stem', l.span);
  });
  values.set('stem', x);
  spec.stages.forEach((st, s) => {
    x = lowerStage(b, st, s, x, spec.bnEps, act, spec.deformGroups ?? 1);
    values.set(st.name, x);
  });
  if (spec.head.kind === 'classifier') {
    const span = spec.head.span;
    const c = b.shape(x)[1];
    const head = { span, scope: 'head', layer: 'head' };
    let y = b.add({ id: 'head.gap', op: 'global_avg_pool', inputs: [x], attrs: {}, ...head });
    y = b.add({ id: 'head.flatten', op: 'flatten', inputs: [y], attrs: {}, ...head });
    b.param('head.fc.weight', [spec.head.classes, c], null);
    b.param('head.fc.bias', [spec.head.classes], null);
    y = b.add({ id: 'head.fc', op: 'linear', inputs: [y], attrs: {}, params: { weight: 'head.fc.weight', bias: 'head.fc.bias' }, ...head });
    values.set('logits', y);
  }
  for (const o of spec.outputs) {
    const v = values.get(o);
    if (!v) fail('E2003', `output '${o}' does not exist in model '${spec.name}' (it has ${[...values.keys()].join(', ')})`, { span: spec.head.span ?? spec.span });
    b.output(o, v);
  }
  const g = b.build();
  // Element counts are JavaScript numbers and 64-bit indices in the artifacts: a tensor past
  // 2^50 elements (4 PiB of float32) is no legitimate model, and counts past 2^53 lose digits.
  for (const n of g.nodes) {
    const elements = n.shape.reduce((p, d) => p * d, 1);
    if (elements > MAX_ELEMENTS) fail('E2005', `tensor '${n.id}' [${n.shape.join(', ')}] would hold ${elements.toExponential(3)} elements, more than the ${MAX_ELEMENTS} (2^50) vovc addresses`, { span: n.span ?? spec.span });
  }
  return g;
}

/** The most elements one tensor of a lowered model may hold. */
const MAX_ELEMENTS = 2 ** 50;

// Finalizing: a Draft -> a checked ModelSpec. Applies the built-in defaults and the cascade
// of the 'osa:' defaults, checks ranges where each value was written, follows the channel
// flow through the stem and the stages, and checks the head and the outputs. Every problem
// is collected into `diags`; the spec is returned only when there is none.

import { closest, type Diagnostic, type Span } from '../diag/diagnostics.js';
import type { DenseStage, HeadSpec, ModelSpec, OsaStage, PoolSpec, StageSpec, StemLayer } from '../model/spec.js';
import { MSG, POSITIVE_INT as INT, didYouMean, plural } from './messages.js';
import { STAGE_NAMES, type IntLit } from './parser.js';
import type { Cascading, Draft, Field, OsaFields, StageDraft } from './draft.js';

const OUTPUT_NAMES = ['stem', ...STAGE_NAMES, 'logits'];
/** Upper bounds of the repeat counts (VoVNets use 3-5 layers and 1-4 blocks; DenseNet-264 64 layers). */
const MAX_LAYERS = 128;
const MAX_BLOCKS = 64;
/** An OSA block concatenates its input and every layer, and an IR concat takes at most 50 inputs (src/ir/ops.ts). */
const MAX_OSA_LAYERS = 49;
/** The largest input dimension: every shape, offset and literal the backends print stays far inside 64 bits. */
const MAX_DIM = 2 ** 31 - 1;
/** Offset groups of a deformable conv (centermask2 publishes 1; each group is one set of 27 offset-conv channels). */
const MAX_DEFORM_GROUPS = 64;

export function finalize(d: Draft, name: string, modelSpan: Span, source: string, diags: Diagnostic[]): ModelSpec | undefined {
  const err = (x: Diagnostic) => diags.push(x);
  const positive = (what: string, v: Field<number> | IntLit | undefined, expected = INT) => {
    if (v && (!Number.isInteger(v.value) || v.value < 1)) err(MSG.badValue.at({ span: v.span }, what, String(v.value), expected));
  };
  // Layer and block counts are loop bounds of the lowering: a typo such as 'x10000000000' must
  // be an error, not a hang.
  const count = (what: string, v: Field<number> | undefined, max: number) => {
    positive(what, v);
    if (v && Number.isInteger(v.value) && v.value > max) err(MSG.badValue.at({ span: v.span }, what, String(v.value), `a positive integer up to ${max}`));
  };
  const naming = d.naming?.value ?? 'timm';
  const preprocessing = d.preprocessing?.value ?? (naming === 'detectron2' ? 'detectron2' : 'timm');

  const input = d.input?.value ?? [1, 3, 224, 224];
  const inputSpan = d.input?.span ?? modelSpan;
  if (input.length !== 4 || input.some((x) => !Number.isInteger(x) || x < 1)) err(MSG.badValue.at({ span: inputSpan }, 'input shape', input.join('x'), 'four positive dimensions NxCxHxW'));
  else if (input.some((x) => x > MAX_DIM)) err(MSG.badValue.at({ span: inputSpan }, 'input shape', input.join('x'), `dimensions up to ${MAX_DIM} (2^31 - 1)`));
  const bnEps = d.bnEps?.value ?? 1e-5;
  if (!(bnEps > 0) || !Number.isFinite(bnEps)) err(MSG.badValue.at({ span: d.bnEps!.span }, 'BatchNorm eps', Math.abs(bnEps) < 1e-3 ? bnEps.toExponential() : String(bnEps), 'a positive number such as 1e-5'));

  const deformGroups = d.deformGroups?.value ?? 1;
  if (d.deformGroups) count('deformable offset groups', d.deformGroups, MAX_DEFORM_GROUPS);
  let anyDeform = false;

  // ---- stem
  const stem: StemLayer[] = [];
  if (!d.stem) err(MSG.missingPart.at({ span: modelSpan, notes: ["add a line such as 'stem: conv 3x3 64 /2, conv 3x3 64, conv 3x3 128 /2'"] }, `stem in model '${name}'`));
  let width = input[1];
  d.stem?.layers.forEach((l, i) => {
    positive(`stem.${i} kernel`, l.kernel);
    positive(`stem.${i} stride`, l.stride);
    positive(`stem.${i} output channels`, l.out);
    if (l.in && l.in.value !== width) {
      const why = i === 0 ? `the input shape ${input.join('x')} has ${plural(width, 'channel')}` : `stem.${i - 1} outputs ${plural(width, 'channel')}`;
      err(MSG.channelMismatch.at({ span: l.in.span, notes: [why] }, `stem.${i}`, l.in.value, width));
    }
    stem.push({ kind: l.kind, kernel: l.kernel.value, stride: l.stride?.value ?? 1, out: l.out.value, span: l.span });
    width = l.out.value;
  });

  // ---- stages
  const names = [...d.stages.keys()].sort((a, b) => STAGE_NAMES.indexOf(a as never) - STAGE_NAMES.indexOf(b as never));
  if (!names.length) err(MSG.missingPart.at({ span: modelSpan, notes: ["add stage lines such as 'stage2: osa 128 -> 256 x1'"] }, `stages in model '${name}'`));
  const last = names.length ? STAGE_NAMES.indexOf(names[names.length - 1] as never) : -1;
  for (let k = 0; k <= last; k++) {
    if (!d.stages.has(STAGE_NAMES[k])) {
      const next = names.find((n) => STAGE_NAMES.indexOf(n as never) > k)!;
      err(MSG.stageGap.at({ span: d.stages.get(next)!.span }, STAGE_NAMES[k], names.join(', ')));
    }
  }
  // Values are checked where they are written: the defaults once, each stage's own ones.
  const checkOsaFields = (f: OsaFields, where: string) => {
    positive(`${where} mid channels`, f.mid);
    positive(`${where} output channels`, f.out);
    count(`${where} layer count`, f.layers, MAX_OSA_LAYERS);
    count(`${where} block count`, f.blocks, MAX_BLOCKS);
    if (f.ecaKernel && (f.ecaKernel.value < 1 || f.ecaKernel.value % 2 === 0)) err(MSG.badValue.at({ span: f.ecaKernel.span }, `${where} ECA kernel`, String(f.ecaKernel.value), 'an odd positive integer (the conv1d is padded by (k-1)/2 on each side)'));
  };
  checkOsaFields(d.defaults, "'osa:' default");
  const stages: StageSpec[] = [];
  for (const n of names) {
    const st = d.stages.get(n)!;
    if (!st.kind) {
      err(MSG.missingPart.at({ span: st.span, notes: ["write 'osa MID -> OUT [xBLOCKS]' or 'dense growth G xLAYERS' on the stage line"] }, `body of ${n}`));
      continue;
    }
    if (st.kind === 'dense') {
      const spec = denseStage(st, width, err, positive);
      if (spec) {
        stages.push(spec.stage);
        width = spec.width;
      }
      continue;
    }
    const get = <K extends Cascading>(k: K): OsaFields[K] => st[k] ?? d.defaults[k];
    const mid = get('mid');
    const out = get('out');
    const layers = get('layers');
    if (!mid || !out) err(MSG.missingPart.at({ span: st.span, notes: ["write 'osa MID -> OUT' on the stage line"] }, `mid and output channels of ${n}`));
    if (!layers) err(MSG.missingPart.at({ span: st.span, notes: ["add 'layers N' to the stage line or to the 'osa:' defaults"] }, `layer count of ${n}`));
    const blocks = get('blocks');
    checkOsaFields(st, n);
    const residual = get('residual');
    const attention = get('attention')?.value ?? 'none';
    const ecaKernel = attention === 'eca' ? get('ecaKernel') : undefined;
    let pool: PoolSpec | undefined;
    const p = st.pool?.value;
    if (p) {
      positive(`${n} max-pool kernel`, p.kernel);
      positive(`${n} max-pool stride`, p.stride);
      pool = { kernel: p.kernel.value, stride: p.stride?.value ?? p.kernel.value, ceil: p.ceil, span: st.pool!.span };
    }
    if (residual?.value === 'all' && out && width !== out.value) {
      err(MSG.residualUnequal.at({ span: residual.span, notes: ["'residual after-first' adds the identity in blocks 2+ only, where widths always match"] }, n, width, out.value));
    }
    const deformF = get('deform');
    const deform = deformF?.value ?? 'none';
    if (deform !== 'none' && get('depthwise')?.value) {
      err(MSG.deformWhere.at({ span: deformF!.span, notes: [`${n} has separable (depthwise) 3x3 layers; centermask2 deforms only the dense 3x3 convs of non-depthwise models`] }, `in a depthwise stage: ${n} has separable 3x3 layers`));
    }
    if (deform !== 'none' && mid && out && layers && Number.isInteger(deformGroups) && deformGroups >= 1) {
      // Every 3x3 layer's input channels split into the offset groups: the first layer of a
      // block reads the block input, the others the previous layer (mid channels).
      const blockIns = [width, ...(get('blocks')?.value ?? 1) > 1 ? [out.value] : []];
      const bad = [...blockIns, ...(layers.value > 1 ? [mid.value] : [])].find((c) => c % deformGroups !== 0);
      if (bad !== undefined) {
        err(MSG.deformWhere.at({ span: d.deformGroups?.span ?? deformF!.span, notes: [`${n}'s 3x3 layers read ${[...new Set([...blockIns, mid.value])].join(' and ')} channels; the offset groups must divide each`] }, `with ${deformGroups} offset groups: a ${n} layer reads ${bad} channels, not divisible by ${deformGroups}`));
      }
    }
    if (deform !== 'none') anyDeform = true;
    if (!mid || !out || !layers) continue;
    const spec: OsaStage = {
      kind: 'osa',
      name: n,
      ...(pool ? { pool } : {}),
      mid: mid.value,
      out: out.value,
      layers: layers.value,
      blocks: blocks?.value ?? 1,
      residual: residual?.value ?? 'none',
      depthwise: get('depthwise')?.value ?? false,
      attention,
      attentionWhere: get('where')?.value ?? 'last',
      ...(ecaKernel ? { ecaKernel: ecaKernel.value } : {}),
      ...(deform !== 'none' ? { deform } : {}),
      span: st.span,
    };
    stages.push(spec);
    width = out.value;
  }

  // ---- head and outputs
  if (!d.head) err(MSG.missingPart.at({ span: modelSpan, notes: ["add 'head: classifier 1000' or 'head: backbone'"] }, `head in model '${name}'`));
  const h = d.head?.value;
  if (h?.kind === 'classifier') positive('number of classes', h.classes);
  const head: HeadSpec = h?.kind === 'classifier' ? { kind: 'classifier', classes: h.classes.value, span: d.head!.span } : { kind: 'backbone', span: d.head?.span ?? modelSpan };
  let outputs: string[] = head.kind === 'classifier' ? ['logits'] : names.slice();
  if (d.outputs) {
    outputs = [];
    for (const w of d.outputs.names) {
      if (!OUTPUT_NAMES.includes(w.text)) err(MSG.badOutput.at({ span: w.span, notes: [...didYouMean(closest(w.text, OUTPUT_NAMES))] }, w.text, 'does not exist: outputs are stem, stage2 .. stage5 and logits'));
      else if (w.text === 'logits' && head.kind !== 'classifier') err(MSG.badOutput.at({ span: w.span }, w.text, `needs a classifier head, and model '${name}' is a backbone`));
      else if (w.text.startsWith('stage') && !d.stages.has(w.text)) err(MSG.badOutput.at({ span: w.span }, w.text, `does not exist: model '${name}' has ${names.join(', ') || 'no stages'}`));
      else if (outputs.includes(w.text)) err(MSG.duplicateOutput.at({ span: w.span }, w.text));
      else outputs.push(w.text);
    }
  }
  if (diags.length) return undefined;
  return {
    name,
    naming,
    preprocessing,
    input: [input[0], input[1], input[2], input[3]],
    bnEps,
    activation: d.activation?.value ?? 'relu',
    ...(anyDeform ? { deformGroups } : {}),
    stem,
    stages,
    head,
    outputs,
    source,
    span: modelSpan,
  };
}

function denseStage(
  st: StageDraft,
  width: number,
  err: (d: Diagnostic) => void,
  positive: (what: string, v: Field<number> | undefined) => void,
): { stage: DenseStage; width: number } | undefined {
  const n = st.name;
  if (!st.growth || !st.layers) {
    err(MSG.missingPart.at({ span: st.span, notes: ["write 'dense growth G xLAYERS' on the stage line"] }, `growth rate or layer count of ${n}`));
    return undefined;
  }
  positive(`${n} growth rate`, st.growth);
  positive(`${n} layer count`, st.layers);
  if (Number.isInteger(st.layers.value) && st.layers.value > MAX_LAYERS) err(MSG.badValue.at({ span: st.layers.span }, `${n} layer count`, String(st.layers.value), `a positive integer up to ${MAX_LAYERS}`));
  const bottleneck = st.bottleneck?.value ?? undefined;
  if (bottleneck !== undefined) positive(`${n} bottleneck channels`, { value: bottleneck, span: st.bottleneck!.span });
  const tr = st.transition?.value ?? undefined;
  if (tr) positive(`${n} transition channels`, { value: tr.out, span: st.transition!.span });
  const stage: DenseStage = {
    kind: 'dense',
    name: n,
    growth: st.growth.value,
    layers: st.layers.value,
    ...(bottleneck !== undefined ? { bottleneck } : {}),
    ...(tr ? { transition: { out: tr.out, pool: tr.pool } } : {}),
    span: st.span,
  };
  return { stage, width: tr ? tr.out : width + st.growth.value * st.layers.value };
}

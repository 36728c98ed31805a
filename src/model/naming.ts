// Checkpoint naming conventions. vovc's canonical parameter names are timm's; the other two
// conventions (VoVNet.pytorch, the paper's seed code; detectron2 / centermask2) are derived
// from them by rewriting module paths:
//
//   timm                                        vovnet-pytorch / detectron2
//   stem.{i}.conv.weight                        stem.stem_{i+1}/conv.weight
//   stem.{i}.bn.{leaf}                          stem.stem_{i+1}/norm.{leaf}
//   stem.{i}.conv_dw.weight  (separable)        stem.stem_{i+1}/dw_conv3x3.weight      (detectron2 only)
//   stem.{i}.conv_pw.weight                     stem.stem_{i+1}/pw_conv1x1.weight
//   stem.{i}.bn.{leaf}       (separable)        stem.stem_{i+1}/pw_norm.{leaf}
//   stages.{s}.blocks.{b}.conv_mid.{k}.*        stage{S}.OSA{S}_{B}.layers.{k}.OSA{S}_{B}_{k}/*
//   stages.{s}.blocks.{b}.conv_mid.{k}.conv_offset.{w,b}  ...OSA{S}_{B}_{k}/conv_offset.{w,b}  (deformable layers)
//   stages.{s}.blocks.{b}.conv_reduction.*      stage{S}.OSA{S}_{B}.conv_reduction.OSA{S}_{B}_reduction_0/*
//   stages.{s}.blocks.{b}.conv_concat.*         stage{S}.OSA{S}_{B}.concat.OSA{S}_{B}_concat/*
//   stages.{s}.blocks.{b}.attn.fc.{w,b}         stage{S}.OSA{S}_{B}.ese.fc.{w,b}
//   head.fc.{weight,bias}                       classifier.{weight,bias}
// with S = s + 2 and B = b + 1. Deformable layers exist in centermask2 (detectron2 naming) only;
// their timm-naming keys are vovc's canonical names above (timm has no DCN model), and the
// vovnet-pytorch keys follow the same OSA pattern as detectron2's. VoVNet.pytorch has no separable convs and no attention; no
// convention but timm has ECA. DenseNet stages (analysis only) exist in the canonical naming only.

import type { Naming } from '../ir/graph.js';

export const NAMINGS: readonly Naming[] = ['timm', 'vovnet-pytorch', 'detectron2'];

/** Leaf-module renames inside one conv unit, for the OSA-style conventions. */
function unitLeaf(sub: string, separable: boolean): string | undefined {
  switch (sub) {
    case 'conv':
      return '/conv';
    case 'conv_dw':
      return '/dw_conv3x3';
    case 'conv_pw':
      return '/pw_conv1x1';
    case 'conv_offset':
      return '/conv_offset';
    case 'bn':
      return separable ? '/pw_norm' : '/norm';
  }
  return undefined;
}

/**
 * The key of canonical parameter `name` in checkpoint convention `naming`, or undefined
 * when the convention cannot represent it. `separable(unit)` tells whether the conv unit
 * with canonical prefix `unit` (e.g. "stem.1") is a separable conv.
 */
function conventionKey(name: string, naming: Naming, separable: (unit: string) => boolean): string | undefined {
  if (naming === 'timm') return name;
  let m = /^stem\.(\d+)\.(conv|conv_dw|conv_pw|bn)\.(\w+)$/.exec(name);
  if (m) {
    const sep = separable(`stem.${m[1]}`);
    if (sep && naming !== 'detectron2') return undefined;
    return `stem.stem_${+m[1] + 1}${unitLeaf(m[2], sep)}.${m[3]}`;
  }
  m = /^stages\.(\d+)\.blocks\.(\d+)\.(.*)$/.exec(name);
  if (m) {
    const S = +m[1] + 2;
    const B = +m[2] + 1;
    const rest = m[3];
    const osa = `stage${S}.OSA${S}_${B}`;
    let u = /^(conv_mid\.(\d+)|conv_reduction|conv_concat)\.(conv|conv_dw|conv_pw|conv_offset|bn)\.(\w+)$/.exec(rest);
    if (u) {
      const unit = `stages.${m[1]}.blocks.${m[2]}.${u[1]}`;
      const sep = separable(unit);
      if (sep && naming !== 'detectron2') return undefined;
      const container =
        u[2] !== undefined ? `${osa}.layers.${u[2]}.OSA${S}_${B}_${u[2]}` : u[1] === 'conv_reduction' ? `${osa}.conv_reduction.OSA${S}_${B}_reduction_0` : `${osa}.concat.OSA${S}_${B}_concat`;
      return `${container}${unitLeaf(u[3], sep)}.${u[4]}`;
    }
    u = /^attn\.fc\.(weight|bias)$/.exec(rest);
    if (u) return naming === 'detectron2' ? `${osa}.ese.fc.${u[1]}` : undefined;
    return undefined;
  }
  m = /^head\.fc\.(weight|bias)$/.exec(name);
  if (m) return `classifier.${m[1]}`;
  return undefined;
}

/** Canonical name -> key in `naming`, for every parameter of a graph (undefined: not representable). */
export function conventionKeys(paramNames: Iterable<string>, naming: Naming): Map<string, string | undefined> {
  const names = [...paramNames];
  const sepUnits = new Set(names.filter((n) => n.includes('.conv_dw.')).map((n) => n.slice(0, n.indexOf('.conv_dw.'))));
  return new Map(names.map((n) => [n, conventionKey(n, naming, (u) => sepUnits.has(u))]));
}

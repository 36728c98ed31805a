// Independent views of a ModelSpec for the DSL tests: the structural config of the PyTorch
// reference generator (shared/fixtures/generator/vovnet_ref.py) and a parameter count written
// from VOVNET.md's rules, so that the zoo files are checked against data they were not made from.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelSpec, OsaStage } from '../../src/model/spec.js';
import { ecaKernelSize } from '../../src/model/spec.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(REPO, '../shared');

export interface RefConfig {
  stem: number[];
  conv: number[];
  out: number[];
  layers: number;
  blocks: number[];
  residual: boolean;
  depthwise: boolean;
  attn: string;
  attn_where: string;
  num_classes: number;
  outputs?: string[];
}

/** CONFIGS of vovnet_ref.py, read from its source text (it is Python; this reads its literals). */
export function referenceConfigs(): Map<string, RefConfig> {
  const py = readFileSync(resolve(SHARED, 'fixtures/generator/vovnet_ref.py'), 'utf8');
  const consts = new Map<string, string>();
  for (const m of py.matchAll(/^(_[A-Z0-9_]+) = ([[(][^\n#]*[\])])/gm)) consts.set(m[1], m[2].replace(/^\(/, '[').replace(/\)$/, ']'));
  const out = new Map<string, RefConfig>();
  for (const m of py.matchAll(/^ {4}"([^"]+)": _cfg\((.*)\),$/gm)) {
    const args = m[2].replace(/\b_[A-Z0-9_]+\b/g, (c) => consts.get(c) ?? c).replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false');
    const a = JSON.parse(`[${args}]`);
    out.set(m[1], { stem: a[0], conv: a[1], out: a[2], layers: a[3], blocks: a[4], residual: a[5], depthwise: a[6], attn: a[7], attn_where: a[8] ?? 'last', num_classes: a[9] ?? 1000, outputs: a[10] });
  }
  return out;
}

/** The spec in the generator's config form (OSA stages only; all with the same layer count). */
export function specToConfig(spec: ModelSpec): RefConfig {
  const st = spec.stages as OsaStage[];
  if (st.some((s) => s.kind !== 'osa')) throw new Error('dense stage');
  const layers = [...new Set(st.map((s) => s.layers))];
  const residual = [...new Set(st.map((s) => s.residual))];
  const depthwise = [...new Set(st.map((s) => s.depthwise))];
  const attn = [...new Set(st.map((s) => s.attention))];
  const where = [...new Set(st.map((s) => s.attentionWhere))];
  if (layers.length !== 1 || residual.length !== 1 || depthwise.length !== 1 || attn.length !== 1 || where.length !== 1) throw new Error(`stages differ in layers/residual/depthwise/attention: ${spec.name}`);
  if (residual[0] === 'all') throw new Error('residual all has no config form');
  return {
    stem: spec.stem.map((l) => l.out),
    conv: st.map((s) => s.mid),
    out: st.map((s) => s.out),
    layers: layers[0],
    blocks: st.map((s) => s.blocks),
    residual: residual[0] === 'after-first',
    depthwise: depthwise[0],
    attn: attn[0] === 'none' ? '' : attn[0],
    attn_where: where[0],
    num_classes: spec.head.kind === 'classifier' ? spec.head.classes : 0,
  };
}

/**
 * Learnable parameters (timm's convention: conv weights and biases, BN gamma and beta, Linear
 * weight and bias; no running statistics), counted from the spec by VOVNET.md's structure.
 */
export function countParams(spec: ModelSpec): number {
  let n = 0;
  const bn = (c: number) => 2 * c;
  let c = spec.input[1];
  for (const l of spec.stem) {
    n += l.kind === 'sepconv' ? l.kernel * l.kernel * c + c * l.out : l.kernel * l.kernel * c * l.out;
    n += bn(l.out);
    c = l.out;
  }
  for (const st of spec.stages) {
    if (st.kind !== 'osa') throw new Error('dense stage');
    for (let b = 0; b < st.blocks; b++) {
      const cin = c;
      let y = cin;
      if (st.depthwise && cin !== st.mid) {
        n += cin * st.mid + bn(st.mid);
        y = st.mid;
      }
      for (let k = 0; k < st.layers; k++) {
        n += (st.depthwise ? 9 * y + y * st.mid : 9 * y * st.mid) + bn(st.mid);
        // A deformable layer adds its offset conv: 3x3 with bias, 27 (v2) or 18 (v1) channels per offset group.
        if (st.deform) {
          const off = (st.deform === 'v2' ? 27 : 18) * (spec.deformGroups ?? 1);
          n += 9 * y * off + off;
        }
        y = st.mid;
      }
      n += (cin + st.layers * st.mid) * st.out + bn(st.out);
      const attn = st.attentionWhere === 'all' || b === st.blocks - 1 ? st.attention : 'none';
      if (attn === 'ese') n += st.out * st.out + st.out;
      if (attn === 'eca') n += st.ecaKernel ?? ecaKernelSize(st.out);
      c = st.out;
    }
  }
  if (spec.head.kind === 'classifier') n += c * spec.head.classes + spec.head.classes;
  return n;
}

// Hand-written ModelSpecs and seeded parameters for the pass and plan tests, so that these
// tests do not depend on the DSL front end.
import type { Graph, Param } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import type { Attention, ModelSpec, OsaStage, StemLayer } from '../../src/model/spec.js';

export interface NetConfig {
  name?: string;
  stem: [number, number, number];
  mid: [number, number, number, number];
  out: [number, number, number, number];
  layers: number;
  blocks: [number, number, number, number];
  residual?: OsaStage['residual'];
  depthwise?: boolean;
  attention?: Attention;
  attentionWhere?: 'last' | 'all';
  classes?: number;
  outputs?: string[];
  input?: [number, number, number, number];
}

export function spec(c: NetConfig): ModelSpec {
  const stem: StemLayer[] = [
    { kind: 'conv', kernel: 3, stride: 2, out: c.stem[0] },
    { kind: c.depthwise ? 'sepconv' : 'conv', kernel: 3, stride: 1, out: c.stem[1] },
    { kind: c.depthwise ? 'sepconv' : 'conv', kernel: 3, stride: 2, out: c.stem[2] },
  ];
  const names = ['stage2', 'stage3', 'stage4', 'stage5'];
  const stages: OsaStage[] = names.map((name, s) => ({
    kind: 'osa',
    name,
    ...(s > 0 ? { pool: { kernel: 3, stride: 2, ceil: true } } : {}),
    mid: c.mid[s],
    out: c.out[s],
    layers: c.layers,
    blocks: c.blocks[s],
    residual: c.residual ?? 'after-first',
    depthwise: !!c.depthwise,
    attention: c.attention ?? 'none',
    attentionWhere: c.attentionWhere ?? 'last',
  }));
  const classes = c.classes ?? 1000;
  return {
    name: c.name ?? 'custom',
    naming: 'timm',
    preprocessing: 'timm',
    input: c.input ?? [1, 3, 64, 64],
    bnEps: 1e-5,
    stem,
    stages,
    head: classes > 0 ? { kind: 'classifier', classes } : { kind: 'backbone' },
    outputs: c.outputs ?? (classes > 0 ? ['logits'] : ['stage2', 'stage3', 'stage4', 'stage5']),
    source: 'test',
  };
}

const V = { stem: [64, 64, 128], mid: [128, 160, 192, 224], out: [256, 512, 768, 1024] } as const;

/** The zoo structures of docs VOVNET.md, for tests that run before the DSL zoo exists. */
export const ZOO: Record<string, NetConfig> = {
  vovnet27_slim: { stem: [64, 64, 128], mid: [64, 80, 96, 112], out: [128, 256, 384, 512], layers: 5, blocks: [1, 1, 1, 1] },
  vovnet39: { stem: [...V.stem], mid: [...V.mid], out: [...V.out], layers: 5, blocks: [1, 1, 2, 2] },
  vovnet57: { stem: [...V.stem], mid: [...V.mid], out: [...V.out], layers: 5, blocks: [1, 1, 4, 3] },
  vovnet39a: { stem: [...V.stem], mid: [...V.mid], out: [...V.out], layers: 5, blocks: [1, 1, 2, 2], residual: 'none' },
  ese_vovnet19b_dw: { stem: [64, 64, 64], mid: [...V.mid], out: [...V.out], layers: 3, blocks: [1, 1, 1, 1], depthwise: true, attention: 'ese' },
  ese_vovnet19b_slim_dw: { stem: [64, 64, 64], mid: [64, 80, 96, 112], out: [112, 256, 384, 512], layers: 3, blocks: [1, 1, 1, 1], depthwise: true, attention: 'ese' },
  ese_vovnet39b: { stem: [...V.stem], mid: [...V.mid], out: [...V.out], layers: 5, blocks: [1, 1, 2, 2], attention: 'ese' },
  eca_vovnet39b: { stem: [...V.stem], mid: [...V.mid], out: [...V.out], layers: 5, blocks: [1, 1, 2, 2], attention: 'eca' },
};

/** Small structures that exercise every pattern quickly (numeric tests). */
export const TINY: Record<string, NetConfig> = {
  'tiny-v1-residual': { stem: [16, 16, 32], mid: [16, 24, 32, 40], out: [32, 48, 64, 80], layers: 3, blocks: [1, 2, 2, 2], classes: 10, input: [2, 3, 40, 56] },
  'tiny-dw-ese-all-backbone': {
    stem: [16, 16, 16],
    mid: [16, 24, 32, 40],
    out: [32, 48, 64, 80],
    layers: 2,
    blocks: [1, 2, 1, 2],
    depthwise: true,
    attention: 'ese',
    attentionWhere: 'all',
    classes: 0,
    outputs: ['stage3', 'stage4', 'stage5'],
    input: [1, 3, 45, 61],
  },
  'tiny-timm-a': { stem: [16, 16, 32], mid: [16, 16, 24, 24], out: [32, 40, 48, 56], layers: 4, blocks: [1, 1, 2, 3], residual: 'none', classes: 7, input: [1, 3, 33, 33] },
  'tiny-eca': { stem: [16, 16, 32], mid: [16, 16, 24, 24], out: [32, 40, 48, 56], layers: 2, blocks: [1, 2, 2, 2], attention: 'eca', attentionWhere: 'all', classes: 5, input: [1, 3, 32, 32] },
};

export function lower(c: NetConfig, name?: string): Graph {
  return lowerSpec(spec({ ...c, name: name ?? c.name }));
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fills every parameter with seeded values that keep activations O(1): weights uniform with
 * variance ~2/fan_in, BN gamma in [0.5, 1.5], beta/mean in [-0.2, 0.2], running_var in
 * [0.5, 1.5] (positive).
 */
export function withData(g: Graph, seed = 1): Graph {
  const r = rng(seed);
  const params = new Map<string, Param>();
  for (const [name, p] of g.params) {
    const n = p.shape.reduce((a, d) => a * d, 1);
    const d = new Float32Array(n);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    const isBn = /\.(bn|norm)\./.test(name);
    const fanIn = p.shape.length > 1 ? n / p.shape[0] : 1;
    for (let i = 0; i < n; i++) {
      const u = r();
      if (isBn && (leaf === 'weight' || leaf === 'running_var')) d[i] = 0.5 + u;
      else if (leaf === 'bias' || leaf === 'running_mean') d[i] = 0.4 * u - 0.2;
      else d[i] = (2 * u - 1) * Math.sqrt(6 / fanIn);
    }
    params.set(name, { shape: p.shape, data: d });
  }
  return { ...g, params };
}

export function randomInput(shape: readonly number[], seed = 7): Float32Array {
  const r = rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 2 * r() - 1;
  return d;
}

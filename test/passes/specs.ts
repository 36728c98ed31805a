// Hand-written ModelSpecs (the tiny fixture structures and variations), zoo models, and
// seeded parameters for the pass and plan tests.
import type { Graph, Param } from '../../src/ir/graph.js';
import { loadModel } from '../../src/dsl/zoo.js';
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

function spec(c: NetConfig): ModelSpec {
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
    activation: 'relu',
    stem,
    stages,
    head: classes > 0 ? { kind: 'classifier', classes } : { kind: 'backbone' },
    outputs: c.outputs ?? (classes > 0 ? ['logits'] : ['stage2', 'stage3', 'stage4', 'stage5']),
    source: 'test',
  };
}

/** A zoo model lowered at the given input shape (shape-only). */
export function zoo(name: string, input: number[] = [1, 3, 64, 64]): Graph {
  return lowerSpec(loadModel(name, { inputShape: input }).spec);
}

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

/**
 * A tiny DenseNet (pre-activation BN-ReLU-conv layers, one with 1x1 bottlenecks, a
 * transition): its running concats nest, so in-place slices of slices get exercised.
 */
export function tinyDense(input: [number, number, number, number] = [2, 3, 12, 12]): Graph {
  return lowerSpec({
    name: 'tiny-dense',
    naming: 'timm',
    preprocessing: 'timm',
    input,
    bnEps: 1e-5,
    activation: 'relu',
    stem: [{ kind: 'conv', kernel: 3, stride: 1, out: 8 }],
    stages: [
      { kind: 'dense', name: 'stage2', growth: 4, layers: 3, transition: { out: 8, pool: true } },
      { kind: 'dense', name: 'stage3', growth: 4, layers: 2, bottleneck: 8 },
    ],
    head: { kind: 'classifier', classes: 5 },
    outputs: ['logits'],
    source: 'test',
  });
}

export function lower(c: NetConfig, name?: string): Graph {
  return lowerSpec(spec({ ...c, name: name ?? c.name }));
}

/** xorshift32, inlined by the callers below because the zoo has tens of millions of weights. */
const step = (x: number) => {
  x ^= x << 13;
  x ^= x >>> 17;
  return (x ^ (x << 5)) >>> 0;
};

function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/**
 * Fills every parameter with seeded values that keep activations O(1) through deep nets:
 * weights uniform with variance 1/fan_in, BN gamma in [0.5, 1.5], beta/mean in [-0.2, 0.2],
 * running_var in [0.5, 1.5] (positive).
 */
export function withData(g: Graph, seed = 1): Graph {
  const params = new Map<string, Param>();
  for (const [name, p] of g.params) {
    const n = p.shape.reduce((a, d) => a * d, 1);
    const d = new Float32Array(n);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    const isBn = /\.(bn|norm)\./.test(name);
    const fanIn = p.shape.length > 1 ? n / p.shape[0] : 1;
    // value = lo + (hi - lo) * u, u uniform in [0, 1)
    const [lo, hi] = isBn && (leaf === 'weight' || leaf === 'running_var') ? [0.5, 1.5] : leaf === 'bias' || leaf === 'running_mean' ? [-0.2, 0.2] : [-Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn)];
    const k = (hi - lo) / 2 ** 32;
    let x = fnv(name, seed);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x = (x ^ (x << 5)) >>> 0;
      d[i] = lo + k * x;
    }
    params.set(name, { shape: p.shape, data: d });
  }
  return { ...g, params };
}

export function randomInput(shape: readonly number[], seed = 7): Float32Array {
  const n = shape.reduce((a, d) => a * d, 1);
  const d = new Float32Array(n);
  let x = fnv('input', seed);
  for (let i = 0; i < n; i++) {
    x = step(x);
    d[i] = x / 2 ** 31 - 1;
  }
  return d;
}

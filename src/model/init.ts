// Seeded initialization, used when no --weights are given (and for parameters that
// --allow-missing leaves unset). Documented in docs/WEIGHTS.md; stable across versions,
// because tests and benchmarks rely on it.
//
// Each parameter gets its own stream: mulberry32 seeded with FNV-1a(name) xor seed, so a
// parameter's values do not depend on which other parameters the model has.
//   conv / linear weight: uniform(-a, a), a = sqrt(3 / fan_in)  (variance 1 / fan_in)
//   biases (conv, linear, eSE fc): uniform(-0.1, 0.1)
//   BN weight: uniform(0.8, 1.2); BN bias: uniform(-0.1, 0.1);
//   BN running_mean: uniform(-0.1, 0.1); BN running_var: uniform(0.8, 1.2)
//   ECA conv1d weight: uniform(-a, a), a = sqrt(3 / k)

import { fail } from '../diag/diagnostics.js';
import type { Graph, Param } from '../ir/graph.js';

const DEFAULT_SEED = 0;

/**
 * The most parameter values seeded in memory (1 GiB of float32; ese_vovnet99b has 63M). A
 * model past it has a typo in a width or kernel size, and allocating it would end the process.
 */
const MAX_SEEDED_VALUES = 1 << 28;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded values for the parameter `name` of the given shape. */
export function seededParam(name: string, shape: readonly number[], seed = DEFAULT_SEED): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const rnd = mulberry32(fnv1a(name) ^ seed);
  const out = new Float32Array(n);
  let lo: number;
  let hi: number;
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  const isBn = /\.(bn|norm)\.[a-z_]+$/.test(name);
  if (isBn && leaf === 'weight') [lo, hi] = [0.8, 1.2];
  else if (isBn && leaf === 'running_var') [lo, hi] = [0.8, 1.2];
  else if (leaf === 'bias' || leaf === 'running_mean') [lo, hi] = [-0.1, 0.1];
  else {
    const fanIn = shape.length > 1 ? n / shape[0] : n;
    const a = Math.sqrt(3 / Math.max(1, fanIn));
    [lo, hi] = [-a, a];
  }
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rnd();
  return out;
}

/** Fills every parameter whose data is absent (all of them, or only `names`) with seeded values. */
export function seedParams(g: Graph, seed = DEFAULT_SEED, names?: Iterable<string>): Graph {
  const only = names ? new Set(names) : undefined;
  const fills = (name: string, p: Param) => (only ? only.has(name) : p.data === null);
  let total = 0;
  let largest = { name: '', size: 0 };
  for (const [name, p] of g.params) {
    if (!fills(name, p)) continue;
    const size = p.shape.reduce((a, d) => a * d, 1);
    total += size;
    if (size > largest.size) largest = { name, size };
  }
  if (total > MAX_SEEDED_VALUES) {
    const at = g.nodes.find((n) => Object.values(n.params).includes(largest.name));
    fail('E2004', `model '${g.name}' has ${total} parameter values (${((total * 4) / 2 ** 30).toFixed(1)} GiB as float32), more than the ${MAX_SEEDED_VALUES} vovc seeds; the largest is '${largest.name}' [${g.params.get(largest.name)!.shape.join(', ')}]`, {
      ...(at?.span ? { span: at.span } : { subject: largest.name }),
      notes: ['a channel width or kernel size is probably a typo'],
    });
  }
  const params = new Map<string, Param>();
  for (const [name, p] of g.params) {
    params.set(name, fills(name, p) ? { shape: p.shape, data: seededParam(name, p.shape, seed) } : p);
  }
  return { ...g, params };
}

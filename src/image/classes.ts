// Top-k of a classifier's logits with ImageNet-1k class names (data/imagenet-classes.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';

let names: string[] | undefined;

function imagenetClasses(): string[] {
  names ??= (JSON.parse(readFileSync(join(packageRoot(), 'data', 'imagenet-classes.json'), 'utf8')) as { classes: string[] }).classes;
  return names;
}

/** Softmax probabilities of one row of logits. */
function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

/** "rank. probability  class name (index)" lines for the first image of a batch. */
export function topK(t: { shape: readonly number[]; data: Float32Array }, k: number): string[] {
  const n = t.shape[1];
  const p = softmax(t.data.subarray(0, n));
  const order = [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, k);
  const labels = n === 1000 ? imagenetClasses() : undefined;
  return order.map((i, r) => `${r + 1}. ${(p[i] * 100).toFixed(2).padStart(6)}%  ${labels ? labels[i] : `class ${i}`} (${i})`);
}

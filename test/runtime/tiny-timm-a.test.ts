// End to end against PyTorch: the tiny-timm-a fixture (a vovnet39a-style net with timm key
// names) built by hand with GraphBuilder, its weights read with a minimal safetensors reader,
// its logits compared to the fixture's within the case's tolerance. Independent of the DSL,
// the lowering and the weight loader, so it checks the interpreter alone.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { runReference, runReferenceSync } from '../../src/runtime/reference.js';
import { expectClose } from './util.js';

const DIR = resolve(import.meta.dirname, '../../../shared/fixtures/tiny-timm-a');

/** safetensors: u64 LE header length, JSON header { name: { dtype, shape, data_offsets } }, raw data. */
function readSafetensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [a, b] = t.data_offsets;
    const bytes = buf.subarray(8 + len + a, 8 + len + b);
    out.set(name, { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

/** .npy v1/v2, little-endian float32, C order. */
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const buf = readFileSync(file);
  expect(buf.subarray(1, 6).toString('latin1')).toBe('NUMPY');
  const v1 = buf[6] === 1;
  const hlen = v1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (v1 ? 10 : 12) + hlen;
  const header = buf.subarray(v1 ? 10 : 12, start).toString('latin1');
  expect(header).toMatch(/'descr': '<f4'/);
  expect(header).toMatch(/'fortran_order': False/);
  const shape = header.match(/'shape': \(([^)]*)\)/)![1].split(',').filter((s) => s.trim()).map(Number);
  return { shape, data: new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length)) };
}

/** The timm VoVNet of case.json's config: conv-BN-ReLU everywhere, OSA blocks, ceil-mode pools, linear head. */
function buildNet(cfg: { stem: number[]; conv: number[]; out: number[]; layers: number; blocks: number[]; num_classes: number }, inputShape: number[], weights: Map<string, { shape: number[]; data: Float32Array }>): Graph {
  const b = new GraphBuilder('tiny-timm-a', inputShape, { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: cfg.num_classes });
  const param = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`fixture lacks ${name}`);
    return b.param(name, t.shape, t.data);
  };
  const convBnRelu = (base: string, x: string, k: number, stride: number) => {
    const p = (k - 1) >> 1;
    let y = b.add({ id: `${base}.conv`, op: 'conv2d', inputs: [x], attrs: { kernel: [k, k], stride: [stride, stride], pad: [p, p, p, p], groups: 1, act: 'none', residual: false }, params: { weight: param(`${base}.conv.weight`) }, scope: base });
    const bn = `${base}.bn`;
    y = b.add({ id: bn, op: 'batchnorm', inputs: [y], attrs: { eps: 1e-5 }, params: { weight: param(`${bn}.weight`), bias: param(`${bn}.bias`), running_mean: param(`${bn}.running_mean`), running_var: param(`${bn}.running_var`) }, scope: base });
    return b.add({ id: `${base}.relu`, op: 'act', inputs: [y], attrs: { fn: 'relu' }, scope: base });
  };
  let x = 'input';
  cfg.stem.forEach((_, i) => (x = convBnRelu(`stem.${i}`, x, 3, i === 1 ? 1 : 2)));
  for (let s = 0; s < 4; s++) {
    if (s > 0) x = b.add({ id: `stages.${s}.pool`, op: 'maxpool', inputs: [x], attrs: { kernel: [3, 3], stride: [2, 2], pad: [0, 0, 0, 0], ceil: true }, scope: `stage${s}` });
    for (let blk = 0; blk < cfg.blocks[s]; blk++) {
      const base = `stages.${s}.blocks.${blk}`;
      const feats = [x];
      let y = x;
      for (let k = 0; k < cfg.layers; k++) feats.push((y = convBnRelu(`${base}.conv_mid.${k}`, y, 3, 1)));
      const cat = b.add({ id: `${base}.concat`, op: 'concat', inputs: feats, attrs: { axis: 1, inplace: false }, scope: base });
      x = convBnRelu(`${base}.conv_concat`, cat, 1, 1);
    }
  }
  x = b.add({ id: 'head.gap', op: 'global_avg_pool', inputs: [x], attrs: {}, scope: 'head' });
  x = b.add({ id: 'head.flatten', op: 'flatten', inputs: [x], attrs: {}, scope: 'head' });
  x = b.add({ id: 'head.fc', op: 'linear', inputs: [x], attrs: {}, params: { weight: param('head.fc.weight'), bias: param('head.fc.bias') }, scope: 'head' });
  b.output('logits', x);
  return b.build();
}

describe.skipIf(!existsSync(DIR))('tiny-timm-a fixture (skipped when ../shared/fixtures is absent)', () => {
  // Read lazily: a skipped describe still runs its body.
  let loaded: ReturnType<typeof load> | undefined;
  function load() {
    const c = JSON.parse(readFileSync(join(DIR, 'case.json'), 'utf8'));
    const weights = readSafetensors(join(DIR, c.weights));
    const input = readNpy(join(DIR, c.input));
    const expected = readNpy(join(DIR, c.outputs.logits));
    return { c, weights, input, expected, g: buildNet(c.config, c.input_shape, weights) };
  }
  const fixture = () => (loaded ??= load());

  it('uses every weight of the checkpoint (no name left unmapped)', () => {
    const { g, weights } = fixture();
    const used = new Set(g.params.keys());
    expect([...weights.keys()].filter((k) => !used.has(k))).toEqual([]);
  });

  it('matches the PyTorch logits within the case tolerance, single- and multi-threaded', async () => {
    const { c, g, input, expected } = fixture();
    const single = runReferenceSync(g, input).get('logits')!;
    expect(single.shape).toEqual(expected.shape);
    expect(single.data.every(Number.isFinite)).toBe(true);
    expectClose(single.data, expected.data, c.tolerance.atol, c.tolerance.rtol);
    const multi = (await runReference(g, input, { threads: 2 })).get('logits')!;
    expect(Array.from(multi.data)).toEqual(Array.from(single.data));
  });

  it('is sensitive to its input (a wrong wiring would not be caught by a constant output)', () => {
    const { g, input, expected } = fixture();
    const shifted = { shape: input.shape, data: input.data.map((v) => -v) };
    const a = runReferenceSync(g, shifted).get('logits')!.data;
    expect(a.some((v, i) => Math.abs(v - expected.data[i]) > 1e-2)).toBe(true);
  });
});

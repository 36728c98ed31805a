// The ONNX backend's file: structure (checked independently of the emitter), determinism,
// metadata, opsets, dynamic dimensions, external data, and its errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, runSession, writeOnnx } from '../../src/codegen/onnx/index.js';
import { onnxTarget, type OnnxOptions } from '../../src/codegen/onnx/options.js';
import { artifactMeta } from '../../src/driver/meta.js';
import { runTarget } from '../helpers/targets.js';
import { VovcError } from '../../src/diag/diagnostics.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { optimize } from '../../src/passes/manager.js';
import { runReference } from '../../src/runtime/reference.js';
import { VERSION } from '../../src/version.js';
import { checkStructure, decode, expectClose, irShapes, pb, testInput, tiny, onnxOf, zooGraph } from './util.js';

const OPTS: OnnxOptions = { opset: 17, faithful: false, externalData: false, dynamicBatch: false, dynamicHw: false, ioNative: false };
const bytesOf = (g: Graph, o: Partial<OnnxOptions> = {}) => Buffer.concat(onnxOf(g, { ...OPTS, ...o }).model);
const tmp = mkdtempSync(join(tmpdir(), 'vovc-onnx-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function errorOf(f: () => unknown): Promise<VovcError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof VovcError) return e;
    throw e;
  }
  throw new Error('expected a VovcError');
}

// The small nets cover every fused form; the zoo's smallest: V1 with identity (seed code) and
// a detectron2 backbone with several outputs.
const MODELS = [tiny('tiny-eca'), tiny('tiny-ese-dw'), 'vovnet27_slim', 'V-19-slim-dw-eSE'];

describe('structure', () => {
  for (const model of MODELS) {
    const g = zooGraph(model, [1, 3, 64, 64]);
    const name = g.name;
    it(`${name}, faithful: one ONNX op per IR op, BN kept, value_info for every tensor`, () => {
      const m = decode(bytesOf(g, { faithful: true }));
      checkStructure(m, 17, irShapes(g));
      const ops = m.graph!.node.map((n) => n.opType);
      const eca = g.nodes.filter((n) => n.op === 'eca_conv1d').length;
      // ECA's conv1d across channels is Reshape -> Conv -> Reshape; everything else maps 1:1.
      expect(ops.length).toBe(g.nodes.length + 2 * eca);
      expect(ops.filter((o) => o === 'BatchNormalization').length).toBe(g.nodes.filter((n) => n.op === 'batchnorm').length);
      expect(ops).not.toContain('Identity');
      const pools = m.graph!.node.filter((n) => n.opType === 'MaxPool');
      expect(pools.length).toBe(3);
      for (const p of pools) expect(Number(p.attribute.find((a) => a.name === 'ceil_mode')?.i)).toBe(1);
      expect(m.graph!.initializer.filter((t) => t.dataType === 1).map((t) => t.name)).toEqual([...g.params.keys()]);
    });
    it(`${name}, optimized: BN folded, no Identity, one Flatten at most, explicit hardsigmoid`, () => {
      const og = optimize(g).graph;
      const m = decode(bytesOf(g));
      checkStructure(m, 17, irShapes(og));
      const ops = m.graph!.node.map((n) => n.opType);
      expect(ops).not.toContain('BatchNormalization');
      expect(ops).not.toContain('Identity');
      expect(ops.filter((o) => o === 'Flatten').length).toBe(g.meta.numClasses > 0 ? 1 : 0);
      expect(ops.filter((o) => o === 'Conv').length).toBe(og.nodes.filter((n) => n.op === 'conv2d' || n.op === 'se_gate').length);
      for (const h of m.graph!.node.filter((n) => n.opType === 'HardSigmoid')) {
        expect(h.attribute.find((a) => a.name === 'alpha')!.f).toBeCloseTo(1 / 6, 7);
        expect(h.attribute.find((a) => a.name === 'beta')!.f).toBe(0.5);
      }
      // Each BN became a conv bias (the eSE fc had one already).
      const biased = m.graph!.node.filter((n) => n.opType === 'Conv' && n.input.length === 3).length;
      expect(biased).toBe(g.nodes.filter((n) => n.op === 'batchnorm' || (n.op === 'conv2d' && n.params.bias)).length);
      expect(m.graph!.output.map((o) => o.name)).toEqual(g.outputs.map((o) => o.name));
    });
  }

  it('the optimized zoo graphs exercise every fused form the emitter expands', () => {
    const forms = new Set<string>();
    for (const model of [tiny('tiny-eca'), tiny('tiny-ese-dw')]) {
      const og = optimize(zooGraph(model, undefined, false)).graph;
      const shapes = irShapes(og);
      for (const n of og.nodes) {
        const a = n.attrs as Record<string, unknown>;
        if (n.op === 'conv2d') forms.add(`conv2d act=${a.act} residual=${a.residual} bias=${!!n.params.bias}`);
        else if (n.op === 'se_gate') forms.add(`se_gate ${a.mode} ${a.act}`);
        else if (n.op === 'scale') forms.add(`scale residual=${a.residual}`);
        else if (n.op === 'linear') forms.add(`linear rank=${shapes.get(n.inputs[0])!.length}`);
        else forms.add(n.op);
      }
    }
    for (const f of ['conv2d act=relu residual=true bias=true', 'conv2d act=relu residual=false bias=true', 'se_gate ese hardsigmoid', 'se_gate eca sigmoid', 'scale residual=true', 'scale residual=false', 'linear rank=4', 'concat', 'maxpool']) {
      expect(forms, f).toContain(f);
    }
  });

  it('is byte-identical across compilations, and from a freshly lowered graph', () => {
    const a = bytesOf(zooGraph(tiny('tiny-eca')));
    const b = bytesOf(zooGraph(tiny('tiny-eca')));
    expect(a.equals(b)).toBe(true);
    const f1 = bytesOf(zooGraph('V-19-slim-dw-eSE', [1, 3, 64, 64]), { faithful: true, dynamicBatch: true });
    expect(f1.equals(bytesOf(zooGraph('V-19-slim-dw-eSE', [1, 3, 64, 64]), { faithful: true, dynamicBatch: true }))).toBe(true);
  });
});

describe('metadata', () => {
  it('model, version, graph kind, preprocessing and analysis totals, in both files', () => {
    const g = zooGraph('vovnet27_slim', [1, 3, 64, 64]);
    const totals = artifactMeta(g, false);
    for (const faithful of [false, true]) {
      const m = decode(bytesOf(g, { faithful }));
      const meta = new Map(m.metadataProps.map((p) => [p.key, p.value]));
      expect(m.producerName).toBe('vovc');
      expect(m.producerVersion).toBe(VERSION);
      expect(meta.get('model')).toBe('vovnet27_slim');
      expect(meta.get('vovc_version')).toBe(VERSION);
      expect(meta.get('graph')).toBe(faithful ? 'faithful' : 'optimized');
      expect(meta.get('input_channels')).toBe('RGB');
      expect(meta.get('input_range')).toBe('0..1');
      expect(meta.get('input_mean')).toBe('0.485,0.456,0.406');
      expect(meta.get('input_std')).toBe('0.229,0.224,0.225');
      expect(Number(meta.get('parameters'))).toBe(totals.parameters);
      expect(Number(meta.get('macs'))).toBe(totals.macs);
      expect(meta.get('macs_input_shape')).toBe('1x3x64x64');
    }
  });
  it('detectron2 models say BGR in 0..255 minus the mean', () => {
    const meta = new Map(decode(bytesOf(zooGraph('V-19-slim-dw-eSE', [1, 3, 64, 64]))).metadataProps.map((p) => [p.key, p.value]));
    expect(meta.get('input_channels')).toBe('BGR');
    expect(meta.get('input_range')).toBe('0..255');
    expect(meta.get('input_mean')).toBe('103.53,116.28,123.675');
    expect(meta.get('input_std')).toBe('1,1,1');
  });
  // Published figures (docs VOVNET.md), at 1x3x224x224 with a 1000-class head, or backbone only.
  const PUBLISHED: [string, number, number?][] = [
    ['vovnet27_slim', 3_525_736, 2.177],
    ['vovnet57', 36_640_296, 8.93],
    ['ese_vovnet19b_slim_dw', 1_897_752, 0.398],
    ['ese_vovnet19b_dw', 6_543_080, 1.333],
    ['ese_vovnet99b', 63_199_272, 16.488],
    ['eca_vovnet39b', 22_600_316, 7.072],
    ['V-39-eSE', 25_184_128],
    ['V-99-eSE', 69_523_520],
  ];
  for (const [name, params, gmacs] of PUBLISHED) {
    it(`analysis totals of ${name}: ${params} parameters${gmacs ? `, ${gmacs} GMACs` : ''}`, () => {
      const t = artifactMeta(zooGraph(name, [1, 3, 224, 224], false), false);
      expect(t.parameters).toBe(params);
      if (gmacs) expect(t.macs / 1e9).toBeCloseTo(gmacs, 3);
    });
  }
  it('ECA conv1d MACs: eca_vovnet39b has 12,800 more than vovnet39', () => {
    expect(artifactMeta(zooGraph('eca_vovnet39b', [1, 3, 224, 224], false), false).macs - artifactMeta(zooGraph('vovnet39', [1, 3, 224, 224], false), false).macs).toBe(12_800);
  });
});

describe('onnxruntime', () => {
  it('every opset 13..21 loads and gives the same outputs, at optimization levels all and disabled', async () => {
    const g = zooGraph(tiny('tiny-eca'));
    const x = testInput(g.input.shape);
    const ref = (await runReference(g, x)).get('logits')!;
    for (let opset = 13; opset <= 21; opset++) {
      for (const faithful of [false, true]) {
        const bytes = bytesOf(g, { opset, faithful });
        checkStructure(decode(bytes), opset);
        for (const level of ['all', 'disabled'] as const) {
          const s = await createSession(bytes, level);
          expectClose((await runSession(s, x, ['logits'])).get('logits')!, ref, `opset ${opset} ${faithful ? 'faithful' : 'optimized'} ${level}`);
          await s.release();
        }
      }
    }
  });

  it('--dynamic-batch --dynamic-hw: symbolic input dims; runs at another batch and size', async () => {
    const g = zooGraph(tiny('tiny-eca'));
    const other = zooGraph(tiny('tiny-eca'), [2, 3, 56, 72]);
    const x = testInput(other.input.shape, 7);
    const ref = (await runReference(other, x)).get('logits')!;
    for (const faithful of [false, true]) {
      const bytes = bytesOf(g, { faithful, dynamicBatch: true, dynamicHw: true });
      const m = decode(bytes);
      checkStructure(m, 17);
      expect(m.graph!.input[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 3, 'height', 'width']);
      expect(m.graph!.output[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 10]);
      const s = await createSession(bytes);
      expectClose((await runSession(s, x, ['logits'])).get('logits')!, ref, `dynamic ${faithful}`);
      await s.release();
    }
  });

  it('--external-data: weights in <model>.onnx.data at aligned offsets, same outputs', async () => {
    const g = zooGraph(tiny('tiny-ese-dw'));
    const c = onnxOf(g, { ...OPTS, externalData: true }, 'm.onnx');
    expect(writeOnnx(c, tmp, 'm.onnx')).toEqual(['m.onnx', 'm.onnx.data']);
    const m = decode(readFileSync(join(tmp, 'm.onnx')));
    checkStructure(m, 17);
    const ext = m.graph!.initializer.filter((t) => t.dataLocation === pb.TensorProto.DataLocation.EXTERNAL);
    expect(ext.length).toBeGreaterThan(10);
    for (const t of ext) {
      const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
      expect(kv.get('location')).toBe('m.onnx.data');
      expect(Number(kv.get('offset')) % 4096).toBe(0);
    }
    expect(readFileSync(join(tmp, 'm.onnx')).length).toBeLessThan(c.dataBytes / 4);
    const x = testInput(g.input.shape);
    const s1 = await createSession(join(tmp, 'm.onnx'));
    const s2 = await createSession(bytesOf(g));
    const [a, b] = [(await runSession(s1, x, ['logits'])).get('logits')!, (await runSession(s2, x, ['logits'])).get('logits')!];
    expect(a.data).toEqual(b.data);
    // The target's run goes through a temporary folder for such a model.
    const viaRun = await runTarget('onnx', g, x, ['logits'], { 'external-data': true });
    expect(viaRun.get('logits')!.data).toEqual(a.data);
  });

  it('two graph outputs on one value: the second is an Identity of the first', async () => {
    const b = new GraphBuilder('two', [1, 2, 5, 5], { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 });
    const y = b.add({ id: 'relu', op: 'act', inputs: ['input'], attrs: { fn: 'relu' }, scope: 'stem' });
    b.output('stem', y);
    b.output('stage2', y);
    const bytes = bytesOf(b.build(), { faithful: true });
    const m = decode(bytes);
    checkStructure(m, 17, new Map([['stem', [1, 2, 5, 5]], ['stage2', [1, 2, 5, 5]]]));
    expect(m.graph!.node.map((n) => `${n.opType}:${n.input.join(',')}->${n.output.join(',')}`)).toEqual(['Relu:input->stem', 'Identity:stem->stage2']);
    const x = testInput([1, 2, 5, 5]);
    const got = await runSession(await createSession(bytes), x, ['stem', 'stage2']);
    for (const o of ['stem', 'stage2']) expect([...got.get(o)!.data]).toEqual([...x.data].map((v) => Math.max(v, 0)));
  });

  it('run: returns the requested outputs of a backbone', async () => {
    const g = zooGraph('V-19-slim-dw-eSE', [1, 3, 64, 64]);
    const x = testInput(g.input.shape);
    const got = await runTarget('onnx', g, x, ['stage3', 'stage5']);
    expect([...got.keys()]).toEqual(['stage3', 'stage5']);
    const ref = await runReference(g, x);
    for (const [k, t] of got) expectClose(t, ref.get(k)!, k);
  });
});

describe('errors', () => {
  it('--opset outside 13..21', async () => {
    for (const bad of ['12', '22', 'x', '17.5']) expect((await errorOf(() => onnxTarget.parse({ opset: bad }))).diagnostics[0]).toMatchObject({ code: 'E7101', message: expect.stringContaining(`'${bad}'`) });
  });
  it('unknown output and mismatched input shape', async () => {
    const g = zooGraph(tiny('tiny-ese-dw'));
    const x = testInput(g.input.shape);
    expect((await errorOf(() => runTarget('onnx', g, x, ['stage9']))).diagnostics[0]).toMatchObject({ code: 'E7103', message: expect.stringContaining("'stage9'") });
    expect((await errorOf(() => runTarget('onnx', g, testInput([1, 3, 40, 48]), ['logits']))).diagnostics[0]).toMatchObject({ code: 'E7104', message: expect.stringContaining('[1,3,40,48]') });
  });
  it('a ceil-mode pool whose last window starts past the input (PyTorch drops it, ONNX would not)', async () => {
    const b = new GraphBuilder('odd', [1, 3, 3, 3], { naming: 'timm', preprocessing: 'timm', bnEps: 1e-5, numClasses: 0 });
    const p = b.add({ id: 'pool', op: 'maxpool', inputs: ['input'], attrs: { kernel: [1, 1], stride: [3, 3], pad: [0, 0, 0, 0], ceil: true }, scope: 'stem' });
    b.output('stem', p);
    const e = await errorOf(() => onnxOf(b.build(), { ...OPTS, faithful: true }));
    expect(e.diagnostics[0]).toMatchObject({ code: 'E7102', subject: 'pool' });
  });
});

// The 'onnx' target: writes <model>.onnx (weights as initializers; external data past the
// protobuf limit or on request) and runs it with onnxruntime-node.
//
// It renders the graph the driver gives it (options.ts: the optimized graph, or with
// --faithful the unoptimized one): the optimized graph's fused forms (BN folded into conv
// biases, fused epilogues, attention gates) are expanded into standard ops by emit.ts; the
// faithful file has one ONNX op per module (BatchNormalization keeps the running statistics).

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../diag/diagnostics.js';
import { fromF16Bits, toF16Bits } from '../../ir/precision.js';
import type { Graph } from '../../ir/graph.js';
import type { ArtifactMeta, TargetContext, TargetImpl, Tensor } from '../../targets/contract.js';
import { writeChunks } from '../../util/fsx.js';
import { emitOnnx } from './emit.js';
import { metadataProps } from './meta.js';
import type { OnnxOptions } from './options.js';
import { DEFAULT_OPSET, DEFORM_OPSET, GRID_SAMPLE_OPSET } from './options.js';
import { PROTOBUF_LIMIT, payloadBytes, serialize, type Serialized } from './proto.js';

export interface CompiledOnnx extends Serialized {
  /** Name of the external data file (relative to the model file), when weights are outside. */
  readonly dataFile?: string;
}

/**
 * Compiles `graph` (every parameter holding data) to ONNX bytes. `fileName` is the model
 * file's base name, which external data references.
 */
export function compileOnnx(graph: Graph, opts: OnnxOptions, meta: ArtifactMeta, fileName = `${graph.name}.onnx`): CompiledOnnx {
  const mode = opts.faithful ? 'faithful' : 'optimized';
  const precision = onnxPrecision(meta.precision, opts);
  const { opset, deformLowering } = deformChoice(graph, opts);
  const parts = emitOnnx(graph, {
    precision,
    ioNative: opts.ioNative,
    opset,
    deformLowering,
    producerVersion: meta.vovcVersion,
    dynamicBatch: opts.dynamicBatch,
    dynamicHw: opts.dynamicHw,
    docString: `${graph.name}, compiled by vovc (${mode} graph, ${precision})`,
    metadata: metadataProps(meta, mode, ioType(precision, opts)),
  });
  // The weights plus a margin for the graph's own messages must fit one protobuf message.
  const external = opts.externalData || payloadBytes(parts) > PROTOBUF_LIMIT - 64 * 1024 * 1024;
  const dataFile = external ? `${fileName}.data` : undefined;
  return { ...serialize(parts, dataFile), dataFile };
}

/**
 * The opset and the deformable-conv lowering: a model with deformable convs and no --opset gets
 * DEFORM_OPSET (DeformConv); 'native' needs it, 'decompose' (GridSample) GRID_SAMPLE_OPSET and
 * static spatial sizes (its sampling grid is a constant of them).
 */
function deformChoice(graph: Graph, opts: OnnxOptions): { opset: number; deformLowering: 'native' | 'decompose' } {
  const dcn = graph.nodes.find((n) => n.op === 'deform_conv2d');
  const opset = opts.opset ?? (dcn ? DEFORM_OPSET : DEFAULT_OPSET);
  const deformLowering = opts.deformLowering ?? (opset >= DEFORM_OPSET ? 'native' : 'decompose');
  if (!dcn) return { opset, deformLowering };
  const where = { span: dcn.span, subject: dcn.span ? undefined : dcn.id, notes: [`'${dcn.id}' is a deformable conv (ONNX DeformConv is in opset ${DEFORM_OPSET}+; --deform-lowering decompose writes GridSample + Conv from opset ${GRID_SAMPLE_OPSET})`] };
  if (deformLowering === 'native' && opset < DEFORM_OPSET) fail('E7108', `--deform-lowering native needs opset ${DEFORM_OPSET} or later (DeformConv), got --opset ${opset}`, where);
  if (opset < GRID_SAMPLE_OPSET) fail('E7108', `a deformable conv needs opset ${GRID_SAMPLE_OPSET} or later (GridSample) or ${DEFORM_OPSET} (DeformConv), got --opset ${opset}`, where);
  if (deformLowering === 'decompose' && opts.dynamicHw) fail('E7108', `--deform-lowering decompose samples on a grid fixed by the spatial sizes: it cannot be combined with --dynamic-hw (use opset ${DEFORM_OPSET}'s DeformConv)`, where);
  return { opset, deformLowering };
}

/** The file's precision: fp32 or fp16 (the target declares no other); --faithful keeps BatchNormalization, so it is fp32 only. */
function onnxPrecision(p: ArtifactMeta['precision'], opts: OnnxOptions): 'fp32' | 'fp16' {
  if (p !== 'fp32' && p !== 'fp16') throw new Error(`internal: the onnx target was given precision ${p}`);
  if (p === 'fp16' && opts.faithful) fail('E7107', '--faithful keeps BatchNormalization with its fp32 statistics: it is fp32 only (an fp16 file folds BN in fp32 first; drop --faithful)', { subject: '--faithful' });
  return p;
}

/** The element type of the graph input and outputs. */
const ioType = (p: 'fp32' | 'fp16', opts: OnnxOptions): 'float32' | 'float16' => (p === 'fp16' && opts.ioNative ? 'float16' : 'float32');

/** Writes the compiled model (and its data file) into `dir`; returns the file names. */
export function writeOnnx(c: CompiledOnnx, dir: string, fileName: string): string[] {
  writeChunks(join(dir, fileName), c.model);
  if (!c.dataFile) return [fileName];
  writeChunks(join(dir, c.dataFile), c.data);
  return [fileName, c.dataFile];
}

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    return (await import('onnxruntime-node')).default as Ort;
  } catch (e) {
    return fail('E7106', `onnxruntime-node cannot be loaded on this machine: ${(e as Error).message.split('\n')[0]}`, { subject: 'onnxruntime-node' }, 3);
  }
}

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** An onnxruntime CPU session on model bytes (or a file path, for models with external data). */
export async function createSession(model: Uint8Array | string, level: OptimizationLevel = 'all') {
  const ort = await loadOrt();
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: level, intraOpNumThreads: availableParallelism(), interOpNumThreads: 1 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/**
 * Runs a session on one NCHW float32 input; returns the named outputs as float32. `io`
 * 'float16': the model's input and outputs are float16 (converted here, round to nearest even).
 */
export async function runSession(session: Awaited<ReturnType<typeof createSession>>, input: Tensor, outputs: readonly string[], io: 'float32' | 'float16' = 'float32'): Promise<Map<string, Tensor>> {
  const ort = await loadOrt();
  const unknown = outputs.filter((o) => !session.outputNames.includes(o));
  if (unknown.length) fail('E7103', `the ONNX model has no output ${unknown.map((u) => `'${u}'`).join(', ')} (it has ${session.outputNames.join(', ')})`, { subject: unknown[0] });
  const x = io === 'float16' ? new ort.Tensor('float16', toF16Bits(input.data), [...input.shape]) : new ort.Tensor('float32', input.data, [...input.shape]);
  const r = await session.run({ input: x }, [...outputs]);
  const f32 = (d: unknown): Float32Array => (io === 'float16' ? fromF16Bits(d as Uint16Array) : (d as Float32Array));
  return new Map(outputs.map((o) => [o, { shape: r[o].dims.map(Number), data: f32(r[o].data) }]));
}

function graphOf(ctx: TargetContext): Graph {
  if (ctx.input.stage === 'plan') throw new Error('internal: the onnx target renders graphs, not plans');
  return ctx.input.graph;
}

const size = (b: number) => (b < 1e6 ? `${(b / 1e3).toFixed(1)} kB` : `${(b / 1e6).toFixed(1)} MB`);

/**
 * An onnxruntime session on the compiled graph (`run` uses it once, `prepare` many times), with
 * the I/O type of its ends. onnxruntime finds external data next to a model file, so such a model
 * goes through a temporary folder, which `close` removes with the session.
 */
async function openSession(graph: Graph, opts: OnnxOptions, meta: ArtifactMeta) {
  const fileName = `${graph.name}.onnx`;
  const c = compileOnnx(graph, opts, meta, fileName);
  const dir = c.dataFile ? mkdtempSync(join(tmpdir(), 'vovc-onnx-')) : undefined;
  const removeDir = () => dir && rmSync(dir, { recursive: true, force: true });
  let session: Awaited<ReturnType<typeof createSession>>;
  try {
    session = await createSession(dir ? join(dir, writeOnnx(c, dir, fileName)[0]) : Buffer.concat(c.model));
  } catch (e) {
    removeDir();
    throw e;
  }
  return {
    session,
    io: ioType(onnxPrecision(meta.precision, opts), opts),
    close: async () => {
      await session.release();
      removeDir();
    },
  };
}

export const target: TargetImpl<OnnxOptions> = {
  async build(ctx, opts, dir) {
    const graph = graphOf(ctx);
    const fileName = `${graph.name}.onnx`;
    const c = compileOnnx(graph, opts, ctx.meta, fileName);
    const files = writeOnnx(c, dir, fileName);
    ctx.log(`onnx: ${fileName} ${size(c.modelBytes)}${c.dataFile ? `, ${c.dataFile} ${size(c.dataBytes)}` : ''}`);
    return files;
  },

  async prepare(ctx, opts) {
    const graph = graphOf(ctx);
    const s = await openSession(graph, opts, ctx.meta);
    const outputs = graph.outputs.map((o) => o.name);
    const ort = await loadOrt();
    return {
      run: async (input) => void (await runSession(s.session, input, outputs, s.io)),
      settings: { runtime: `onnxruntime-node ${ort.env.versions?.node ?? ''}`.trim(), 'execution provider': 'cpu', 'graph optimization': 'all', 'intra-op threads': String(availableParallelism()), 'inter-op threads': '1', opset: String(deformChoice(graph, opts).opset) },
      dispose: s.close,
    };
  },
  async run(ctx, opts, input, outputs) {
    const graph = graphOf(ctx);
    const want = graph.input.shape;
    const fixed = want.map((d, i) => (i === 0 && opts.dynamicBatch) || (i >= 2 && opts.dynamicHw) || input.shape[i] === d);
    if (input.shape.length !== 4 || !fixed.every(Boolean)) fail('E7104', `input shape [${input.shape.join(',')}] does not match the model's input [${want.join(',')}]`, { subject: 'input' });
    const s = await openSession(graph, opts, ctx.meta);
    try {
      return await runSession(s.session, input, outputs, s.io);
    } finally {
      await s.close();
    }
  },
};

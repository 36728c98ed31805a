// The 'onnx' target: writes <model>.onnx (weights as initializers; external data past the
// protobuf limit or on request) and runs it with onnxruntime-node.
//
// Two graphs: the default optimized one (BN folded into conv biases, fused epilogues expanded
// into Conv + activation + Add, attention gates as GlobalAveragePool -> Conv -> HardSigmoid),
// and --faithful, one ONNX op per module of the unoptimized graph (for interoperability and
// fine-tuning: BatchNormalization nodes keep the running statistics).

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChunks } from '../../util/fsx.js';
import { passOptions } from '../../passes/options.js';
import { fail } from '../../diag/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { seedParams } from '../../model/init.js';
import { optimize } from '../../passes/manager.js';
import type { Backend, BackendContext, OptionValues, Tensor } from '../backend.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, emitOnnx } from './emit.js';
import { metadataProps } from './meta.js';
import { PROTOBUF_LIMIT, payloadBytes, serialize, type Serialized } from './proto.js';

export { analysisTotals } from './meta.js';

export interface OnnxOptions {
  readonly opset: number;
  /** One ONNX op per module of the unoptimized graph. */
  readonly faithful: boolean;
  /** Weights in <model>.onnx.data even below the protobuf limit. */
  readonly externalData: boolean;
  readonly dynamicBatch: boolean;
  readonly dynamicHw: boolean;
}

export function onnxOptions(v: OptionValues): OnnxOptions {
  let opset = DEFAULT_OPSET;
  if (v.opset !== undefined) {
    opset = Number(v.opset);
    if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) fail('E7101', `--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got '${String(v.opset)}'`, { subject: '--opset' });
  }
  return { opset, faithful: !!v.faithful, externalData: !!v['external-data'], dynamicBatch: !!v['dynamic-batch'], dynamicHw: !!v['dynamic-hw'] };
}

export interface CompiledOnnx extends Serialized {
  /** Name of the external data file (relative to the model file), when weights are outside. */
  readonly dataFile?: string;
}

/**
 * Compiles `graph` (unoptimized, as the CLI lowers it; parameters without data are seeded) to
 * ONNX bytes. `fileName` is the model file's base name, which external data references.
 */
export function compileOnnx(graph: Graph, opts: OnnxOptions, extra: { hasWeights?: boolean; fileName?: string; options?: OptionValues; donateParams?: boolean } = {}): CompiledOnnx {
  const g0 = [...graph.params.values()].some((p) => !p.data) ? seedParams(graph) : graph;
  const mode = opts.faithful ? 'faithful' : 'optimized';
  // From the unoptimized graph's shapes, before a donating optimize may rewrite its weights.
  const metadata = metadataProps({ graph: g0, mode, hasWeights: !!extra.hasWeights });
  const g = opts.faithful ? g0 : optimize(g0, { ...(extra.options ? passOptions(extra.options) : {}), donateParams: !!extra.donateParams }).graph;
  const parts = emitOnnx(g, {
    opset: opts.opset,
    dynamicBatch: opts.dynamicBatch,
    dynamicHw: opts.dynamicHw,
    docString: `${graph.name}, compiled by vovc (${mode} graph)`,
    metadata,
  });
  // The weights plus a margin for the graph's own messages must fit one protobuf message.
  const external = opts.externalData || payloadBytes(parts) > PROTOBUF_LIMIT - 64 * 1024 * 1024;
  const dataFile = external ? `${extra.fileName ?? `${graph.name}.onnx`}.data` : undefined;
  return { ...serialize(parts, dataFile), dataFile };
}

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

/** Runs a session on one NCHW float32 input; returns the named outputs. */
export async function runSession(session: Awaited<ReturnType<typeof createSession>>, input: Tensor, outputs: readonly string[]): Promise<Map<string, Tensor>> {
  const ort = await loadOrt();
  const unknown = outputs.filter((o) => !session.outputNames.includes(o));
  if (unknown.length) fail('E7103', `the ONNX model has no output ${unknown.map((u) => `'${u}'`).join(', ')} (it has ${session.outputNames.join(', ')})`, { subject: unknown[0] });
  const r = await session.run({ input: new ort.Tensor('float32', input.data, [...input.shape]) }, [...outputs]);
  return new Map(outputs.map((o) => [o, { shape: r[o].dims.map(Number), data: r[o].data as Float32Array }]));
}

export const backend: Backend = {
  target: 'onnx',
  description: `ONNX model (opset ${MIN_OPSET}..${MAX_OPSET}, default ${DEFAULT_OPSET}) with weights as initializers; runs with onnxruntime-node`,
  cliOptions: {
    opset: { type: 'string' },
    faithful: { type: 'boolean' },
    'external-data': { type: 'boolean' },
    'dynamic-batch': { type: 'boolean' },
    'dynamic-hw': { type: 'boolean' },
  },

  async build(ctx) {
    const fileName = `${ctx.graph.name}.onnx`;
    const c = compileOnnx(ctx.graph, onnxOptions(ctx.options), { hasWeights: ctx.hasWeights, fileName, options: ctx.options, donateParams: ctx.donateParams });
    const files = writeOnnx(c, ctx.stagingDir, fileName);
    const size = (b: number) => (b < 1e6 ? `${(b / 1e3).toFixed(1)} kB` : `${(b / 1e6).toFixed(1)} MB`);
    ctx.log(`onnx: ${fileName} ${size(c.modelBytes)}${c.dataFile ? `, ${c.dataFile} ${size(c.dataBytes)}` : ''}`);
    return files;
  },

  async run(ctx: BackendContext, input: Tensor, outputs: readonly string[]) {
    const opts = onnxOptions(ctx.options);
    const want = ctx.graph.input.shape;
    const fixed = want.map((d, i) => (i === 0 && opts.dynamicBatch) || (i >= 2 && opts.dynamicHw) || input.shape[i] === d);
    if (input.shape.length !== 4 || !fixed.every(Boolean)) fail('E7104', `input shape [${input.shape.join(',')}] does not match the model's input [${want.join(',')}]`, { subject: 'input' });
    const fileName = `${ctx.graph.name}.onnx`;
    const c = compileOnnx(ctx.graph, opts, { hasWeights: ctx.hasWeights, fileName, options: ctx.options });
    // onnxruntime finds external data next to a model file, so such a model goes through a temporary folder.
    const dir = c.dataFile ? mkdtempSync(join(tmpdir(), 'vovc-onnx-')) : undefined;
    try {
      const session = await createSession(dir ? join(dir, writeOnnx(c, dir, fileName)[0]) : Buffer.concat(c.model));
      try {
        return await runSession(session, input, outputs);
      } finally {
        await session.release();
      }
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  },
};

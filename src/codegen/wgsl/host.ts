// The host files of a WGSL artifact: the ES module that creates the buffers and pipelines and
// dispatches the shaders (model.ts and model.js), its typings, the demo page, and weights.json.

import { DTYPE_BYTES, type KernelPlan } from '../../plan/types.js';
import { backendTemplates } from '../templates.js';
import type { RenderedShaders } from './render.js';
import { blobBytes, describeLayout } from './weights.js';

export interface RenderedModel extends RenderedShaders {
  /** Storage buffers by name with their byte sizes. */
  readonly buffers: Record<string, number>;
  /** Weight chunk buffer name -> [begin, end) bytes in the weights blob. */
  readonly chunks: Record<string, [number, number]>;
  readonly weightsJson: string;
  readonly hostTs: string;
  readonly hostJs: string;
  readonly dts: string;
  readonly html: string;
}

const json = (v: unknown): string => JSON.stringify(v);

export interface HostOptions {
  /** run() takes and returns the storage type (fp16: Uint16Array of binary16 bits). */
  readonly ioNative?: boolean;
  /** Where weights.bin's values come from: a checkpoint, or vovc's seeded initialization (default). */
  readonly weights?: 'checkpoint' | 'seeded';
}

/** The artifact's statement of where its weights come from (module metadata and weights.json). */
const weightsOrigin = (w: HostOptions['weights']) => (w === 'checkpoint' ? 'checkpoint' : "seeded: vovc's deterministic initialization, no checkpoint was given (not a trained model)");

/** The I/O type of the host module's run(): float32, or the storage type under --io native. */
export function ioTypeOf(plan: KernelPlan, opts: HostOptions): 'float32' | 'float16' {
  return opts.ioNative && plan.buffers[0].dtype === 'f16' ? 'float16' : 'float32';
}

export function renderHost(plan: KernelPlan, r: RenderedShaders, version: string, opts: HostOptions = {}): RenderedModel {
  const t = backendTemplates('wgsl');
  // Buffer sizes in bytes, from the plan's element counts (fp16: padded planes, packed pairs).
  const bytesOf = (kind: string, name: string): number => {
    const b = plan.buffers.find((x) => x.kind === kind && x.name === name);
    if (!b) throw new Error(`internal: the plan has no ${kind} buffer '${name}'`);
    return b.elements * DTYPE_BYTES[b.dtype];
  };
  // Zero-size buffers cannot be bound; 4 bytes is the smallest legal storage binding.
  const buffers: Record<string, number> = { arena: Math.max(4, plan.arenaBytes), input: bytesOf('input', 'input') };
  for (const o of plan.outputs) buffers[`out:${o.name}`] = bytesOf('output', o.name);
  const wb = DTYPE_BYTES[r.weights.dtype];
  const chunks: Record<string, [number, number]> = {};
  r.chunkStarts.forEach((s, k) => {
    buffers[`w${k}`] = (r.chunkEnds[k] - s) * wb;
    chunks[`w${k}`] = [s * wb, r.chunkEnds[k] * wb];
  });
  const ioType = ioTypeOf(plan, opts);
  const f16Shaders = Object.fromEntries(r.shaders.flatMap((s, i) => (s.f16 ? [[String(i), s.f16]] : [])));
  const vm = {
    version,
    model: plan.model,
    modelJson: json(plan.model),
    inputShape: plan.input.shape.join(', '),
    inputShapeJson: json(plan.input.shape),
    outputShapesJson: json(Object.fromEntries(plan.outputs.map((o) => [o.name, o.shape]))),
    weightsBytes: blobBytes(r.weights),
    precisionJson: json(plan.precision),
    weightsOriginJson: json(weightsOrigin(opts.weights)),
    ioType,
    ioTypeJson: json(ioType),
    ioArray: ioType === 'float16' ? 'Uint16Array' : 'Float32Array',
    storageJson: json(plan.buffers[0].dtype),
    inputStridesJson: json(plan.input.strides),
    outputStridesJson: json(Object.fromEntries(plan.outputs.map((o) => [o.name, o.strides]))),
    shadersF16Json: json(f16Shaders),
    shadersJson: json(r.shaders.map((s) => s.code)),
    buffersJson: json(buffers),
    chunksJson: json(chunks),
    dispatchesJson: json(r.dispatches),
  };
  return {
    ...r,
    buffers,
    chunks,
    weightsJson: describeLayout(r.weights, chunks, plan.precision, weightsOrigin(opts.weights)),
    hostTs: t['model.ts'](vm),
    // model.js.hbs is model.ts.hbs transpiled when vovc was built (host-template.ts).
    hostJs: t['model.js'](vm),
    dts: t['model.d.ts'](vm),
    html: t['index.html'](vm),
  };
}

// The 'wgsl' target: WGSL compute shaders + a host ES module for WebGPU (browsers, Deno, Node
// through the `webgpu` package). `run` builds the same module the artifact ships and imports
// it, so `vovc run --target wgsl` exercises exactly what a browser would load.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail } from '../../diag/diagnostics.js';
import { encodeFloat } from '../../io/dtype.js';
import { readNpy } from '../../io/npy.js';
import { toF16Bits } from '../../ir/precision.js';
import type { KernelPlan, WeightData } from '../../plan/types.js';
import type { TargetContext, TargetImpl, Tensor } from '../../targets/contract.js';
import { dawnMessage, nodeDevice } from './dawn.js';
import { seededNormal } from '../../util/random.js';
import { checkBufferLimits } from './guard.js';
import { ioTypeOf, renderHost, type RenderedModel } from './host.js';
import type { WgslOptions } from './options.js';
import { renderShaders } from './render.js';
import { packWgslWeights, writeWgslWeights } from './weights.js';

type IoArray = Float32Array | Uint16Array;

export interface WgslModule {
  ioType: string;
  float32ToHalfBits(x: Float32Array): Uint16Array;
  halfBitsToFloat32(h: Uint16Array): Float32Array;
  createModel(device: unknown, weights: ArrayBuffer, options?: { shaderF16?: boolean }): Promise<{ run(input: IoArray): Promise<Record<string, IoArray>>; readonly shaderF16: boolean; destroy(): void }>;
}

export interface WgslCompileOptions {
  /** Lower the weight-chunk size (tests use it to exercise several chunks on a small model). */
  readonly chunkBytes?: number;
  /** The host module's run() takes and returns the storage type (WgslOptions.ioNative). */
  readonly ioNative?: boolean;
  /** Where the weights come from (ArtifactMeta.weights), recorded in the module and weights.json. */
  readonly weights?: 'checkpoint' | 'seeded';
}

/** The rendered artifact of a plan (shaders, host module), without the weight blob. */
export function compileWgslArtifact(plan: KernelPlan, version: string, opts: WgslCompileOptions = {}): RenderedModel {
  checkBufferLimits(plan);
  return renderHost(plan, renderShaders(plan, version, { chunkBytes: opts.chunkBytes }), version, { ioNative: opts.ioNative, weights: opts.weights });
}

/** The rendered artifact and its weight blob (weights.ts: conv weights repacked for the GEMM shader; the plan's dtype). */
export function compileWgsl(plan: KernelPlan, weights: WeightData, version: string, opts: WgslCompileOptions = {}): { blob: ArrayBuffer; rendered: RenderedModel } {
  const rendered = compileWgslArtifact(plan, version, opts);
  return { blob: packWgslWeights(rendered.weights, weights), rendered };
}

function planOf(ctx: TargetContext): { plan: KernelPlan; weights: WeightData } {
  if (ctx.input.stage !== 'plan') throw new Error('internal: the wgsl target renders kernel plans');
  return ctx.input;
}


export const target: TargetImpl<WgslOptions> = {
  async prepare(ctx, opts) {
    const m = await openWgsl(ctx, { ioNative: opts.ioNative });
    return {
      run: async (input) => void (await m.forward(input)),
      settings: { runtime: 'Dawn (npm webgpu) in Node', adapter: m.description, storage: m.plan.precision === 'fp16' ? `packed fp16${m.model.shaderF16 ? ', shader-f16' : ''}` : 'f32', pipelines: String(m.rendered.shaders.length) },
      dispose: m.close,
    };
  },
  async build(ctx, opts, dir) {
    const { plan, weights } = planOf(ctx);
    const rendered = compileWgslArtifact(plan, ctx.meta.vovcVersion, { ioNative: opts.ioNative, weights: ctx.meta.weights });
    const files: [string, string | Uint8Array][] = [];
    for (const s of rendered.shaders) {
      files.push([`shaders/${s.file}`, s.code]);
      if (s.f16 && s.f16File) files.push([`shaders/${s.f16File}`, s.f16]);
    }
    let sample: Float32Array;
    if (opts.sampleInput !== undefined) {
      const npy = readNpy(opts.sampleInput);
      if (npy.data.length !== plan.input.elements) fail('E5302', `${opts.sampleInput}: sample input has shape [${npy.shape.join(', ')}], expected [${plan.input.shape.join(', ')}]`);
      sample = Float32Array.from(npy.data as ArrayLike<number>);
    } else sample = seededNormal(plan.input.elements);
    files.push(['model.ts', rendered.hostTs], ['model.js', rendered.hostJs], ['model.d.ts', rendered.dts], ['index.html', rendered.html]);
    // The sample input in the module's I/O type (binary16 bits under --io native at fp16).
    const sampleBytes = ioTypeOf(plan, opts) === 'float16' ? new Uint8Array(toF16Bits(sample).buffer) : encodeFloat(sample);
    files.push(['weights.json', rendered.weightsJson], ['sample_input.bin', sampleBytes]);
    mkdirSync(join(dir, 'shaders'), { recursive: true });
    for (const [rel, data] of files) writeFileSync(join(dir, rel), data);
    // Entry by entry, without packing a copy of the weights first.
    writeWgslWeights(join(dir, 'weights.bin'), rendered.weights, weights);
    ctx.log(`wgsl: ${rendered.shaders.length} shaders, ${Object.keys(rendered.chunks).length} weight chunk(s), arena ${plan.arenaBytes} bytes`);
    return [...files.map(([rel]) => rel), 'weights.bin'];
  },

  async run(ctx, opts, input, outputs) {
    return runWgsl(ctx, input, outputs, { ioNative: opts.ioNative });
  },
};

/**
 * The compiled model on a Node WebGPU device, ready to run (`target.run` runs it once,
 * `prepare` many times): its host module imported from a temporary folder, its pipelines made
 * and weights uploaded. `forward` takes and gives float32 (converting under --io native); what
 * the device refuses (validation, out of memory, a lost device) is E5306, without Dawn's source
 * locations. `close` releases the model, the device and the folder.
 */
async function openWgsl(ctx: TargetContext, opts: WgslCompileOptions) {
  const { plan, weights } = planOf(ctx);
  const { blob, rendered } = compileWgsl(plan, weights, ctx.meta.vovcVersion, opts);
  const { device, description } = await nodeDevice();
  const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-'));
  const refused = (e: unknown): never => fail('E5306', `wgsl: the WebGPU device (${description}) refused the model: ${dawnMessage((e as Error).message ?? String(e))}`, undefined, 3);
  let model: Awaited<ReturnType<WgslModule['createModel']>> | undefined;
  const close = () => {
    model?.destroy();
    device.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const file = join(dir, 'model.mjs');
    writeFileSync(file, rendered.hostJs);
    const mod = (await import(pathToFileURL(file).href)) as WgslModule;
    const t0 = performance.now();
    const m = (model = await mod.createModel(device, blob).catch(refused));
    const createMs = performance.now() - t0;
    const forward = async (input: Tensor): Promise<Record<string, Float32Array>> => {
      const raw = await m.run(mod.ioType === 'float16' ? mod.float32ToHalfBits(input.data) : input.data).catch(refused);
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v instanceof Uint16Array ? mod.halfBitsToFloat32(v) : v]));
    };
    return { plan, rendered, description, model: m, createMs, forward, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** `target.run`, with the compile options of compileWgsl. */
export async function runWgsl(ctx: TargetContext, input: Tensor, outputs: readonly string[], opts: WgslCompileOptions = {}): Promise<Map<string, Tensor>> {
  const m = await openWgsl(ctx, opts);
  try {
    ctx.log(`wgsl: running on ${m.description}`);
    const t1 = performance.now();
    const result = await m.forward(input);
    ctx.log(`wgsl: ${m.rendered.shaders.length} pipelines in ${m.createMs.toFixed(0)} ms, forward ${(performance.now() - t1).toFixed(0)} ms${m.plan.precision === 'fp16' ? ` (packed fp16${m.model.shaderF16 ? ', shader-f16' : ''})` : ''}`);
    const out = new Map<string, Tensor>();
    for (const name of outputs) {
      const io = m.plan.outputs.find((o) => o.name === name);
      if (!io || !result[name]) fail('E5303', `wgsl: the model has no output '${name}' (outputs: ${m.plan.outputs.map((o) => o.name).join(', ')})`);
      out.set(name, { shape: io.shape, data: result[name].subarray(0, io.elements) });
    }
    return out;
  } finally {
    m.close();
  }
}

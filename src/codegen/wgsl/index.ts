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

/** A deterministic N(0,1)-like sample input (xorshift + Box-Muller) for the demo page. */
function sampleInput(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let b = 0; b < n; b += 4096) s = fillNormal(out, b, Math.min(n, b + 4096), s);
  return out;
}

/**
 * out[begin..end) from the xorshift32 state `s`; returns the next state. The state stays in a
 * local (a closure's variable would box every update) and the work comes in blocks, so that V8
 * optimizes this after a few calls.
 */
function fillNormal(out: Float32Array, begin: number, end: number, s: number): number {
  for (let i = begin; i < end; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const a = (s + 1) / 4294967297;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const b = (s + 1) / 4294967297;
    out[i] = Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  }
  return s;
}

export const target: TargetImpl<WgslOptions> = {
  async prepare(ctx, opts) {
    const { plan, weights } = planOf(ctx);
    const { blob, rendered } = compileWgsl(plan, weights, ctx.meta.vovcVersion, { ioNative: opts.ioNative });
    const { device, description } = await nodeDevice();
    const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-'));
    const file = join(dir, 'model.mjs');
    writeFileSync(file, rendered.hostJs);
    const mod = (await import(pathToFileURL(file).href)) as WgslModule;
    const refused = (e: unknown): never => fail('E5306', `wgsl: the WebGPU device (${description}) refused the model: ${dawnMessage((e as Error).message ?? String(e))}`, undefined, 3);
    const model = await mod.createModel(device, blob).catch(refused);
    return {
      run: async (input) => void (await model.run(mod.ioType === 'float16' ? mod.float32ToHalfBits(input.data) : input.data).catch(refused)),
      settings: { runtime: 'Dawn (npm webgpu) in Node', adapter: description, storage: plan.precision === 'fp16' ? `packed fp16${model.shaderF16 ? ', shader-f16' : ''}` : 'f32', pipelines: String(rendered.shaders.length) },
      dispose: () => {
        model.destroy();
        device.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
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
    } else sample = sampleInput(plan.input.elements);
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

/** `target.run`, with the compile options of compileWgsl. */
export async function runWgsl(ctx: TargetContext, input: Tensor, outputs: readonly string[], opts: WgslCompileOptions = {}): Promise<Map<string, Tensor>> {
  const { plan, weights } = planOf(ctx);
  const { blob, rendered } = compileWgsl(plan, weights, ctx.meta.vovcVersion, opts);
  const { device, description } = await nodeDevice();
  ctx.log(`wgsl: running on ${description}`);
  const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-'));
  try {
    const file = join(dir, 'model.mjs');
    writeFileSync(file, rendered.hostJs);
    const mod = (await import(pathToFileURL(file).href)) as WgslModule;
    const t0 = performance.now();
    // What the device refuses (validation, a lost device, an out-of-memory) is the device's word
    // on this model: a diagnostic, without Dawn's internal source locations.
    const refused = (e: unknown): never => fail('E5306', `wgsl: the WebGPU device (${description}) refused the model: ${dawnMessage((e as Error).message ?? String(e))}`, undefined, 3);
    const model = await mod.createModel(device, blob).catch(refused);
    const t1 = performance.now();
    // Under --io native the module takes and gives binary16 bits: convert with its own helpers.
    const raw = await model.run(mod.ioType === 'float16' ? mod.float32ToHalfBits(input.data) : input.data).catch(refused);
    const result = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v instanceof Uint16Array ? mod.halfBitsToFloat32(v) : v]));
    ctx.log(`wgsl: ${rendered.shaders.length} pipelines in ${(t1 - t0).toFixed(0)} ms, forward ${(performance.now() - t1).toFixed(0)} ms${plan.precision === 'fp16' ? ` (packed fp16${model.shaderF16 ? ', shader-f16' : ''})` : ''}`);
    model.destroy();
    const out = new Map<string, Tensor>();
    for (const name of outputs) {
      const io = plan.outputs.find((o) => o.name === name);
      if (!io || !result[name]) fail('E5303', `wgsl: the model has no output '${name}' (outputs: ${plan.outputs.map((o) => o.name).join(', ')})`);
      out.set(name, { shape: io.shape, data: result[name].subarray(0, io.elements) });
    }
    return out;
  } finally {
    device.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

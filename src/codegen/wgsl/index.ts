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
import type { KernelPlan, WeightData } from '../../plan/types.js';
import type { TargetContext, TargetImpl, Tensor } from '../../targets/contract.js';
import { nodeDevice } from './dawn.js';
import { checkBufferLimits } from './guard.js';
import { renderHost, type RenderedModel } from './host.js';
import type { WgslOptions } from './options.js';
import { renderShaders } from './render.js';
import { packWgslWeights, writeWgslWeights } from './weights.js';

export interface WgslModule {
  createModel(device: unknown, weights: ArrayBuffer): Promise<{ run(input: Float32Array): Promise<Record<string, Float32Array>>; destroy(): void }>;
}

export interface WgslCompileOptions {
  /** Lower the weight-chunk size (tests use it to exercise several chunks on a small model). */
  readonly chunkBytes?: number;
}

/** The rendered artifact of a plan (shaders, host module), without the weight blob. */
export function compileWgslArtifact(plan: KernelPlan, version: string, opts: WgslCompileOptions = {}): RenderedModel {
  checkBufferLimits(plan);
  return renderHost(plan, renderShaders(plan, version, { chunkBytes: opts.chunkBytes }), version);
}

/** The rendered artifact and its weight blob (weights.ts: conv weights repacked for the GEMM shader). */
export function compileWgsl(plan: KernelPlan, weights: WeightData, version: string, opts: WgslCompileOptions = {}): { blob: Float32Array; rendered: RenderedModel } {
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
  async build(ctx, opts, dir) {
    const { plan, weights } = planOf(ctx);
    const rendered = compileWgslArtifact(plan, ctx.meta.vovcVersion);
    const files: [string, string | Uint8Array][] = [];
    for (const s of rendered.shaders) files.push([`shaders/${s.file}`, s.code]);
    let sample: Float32Array;
    if (opts.sampleInput !== undefined) {
      const npy = readNpy(opts.sampleInput);
      if (npy.data.length !== plan.input.elements) fail('E5302', `${opts.sampleInput}: sample input has shape [${npy.shape.join(', ')}], expected [${plan.input.shape.join(', ')}]`);
      sample = Float32Array.from(npy.data as ArrayLike<number>);
    } else sample = sampleInput(plan.input.elements);
    files.push(['model.ts', rendered.hostTs], ['model.js', rendered.hostJs], ['model.d.ts', rendered.dts], ['index.html', rendered.html]);
    files.push(['weights.json', rendered.weightsJson], ['sample_input.bin', encodeFloat(sample)]);
    mkdirSync(join(dir, 'shaders'), { recursive: true });
    for (const [rel, data] of files) writeFileSync(join(dir, rel), data);
    // Entry by entry, without packing a copy of the weights first.
    writeWgslWeights(join(dir, 'weights.bin'), rendered.weights, weights);
    ctx.log(`wgsl: ${rendered.shaders.length} shaders, ${Object.keys(rendered.chunks).length} weight chunk(s), arena ${plan.arenaBytes} bytes`);
    return [...files.map(([rel]) => rel), 'weights.bin'];
  },

  async run(ctx, _opts, input, outputs) {
    return runWgsl(ctx, input, outputs);
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
    const model = await mod.createModel(device, blob.buffer as ArrayBuffer);
    const t1 = performance.now();
    const result = await model.run(input.data);
    ctx.log(`wgsl: ${rendered.shaders.length} pipelines in ${(t1 - t0).toFixed(0)} ms, forward ${(performance.now() - t1).toFixed(0)} ms`);
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

// The 'wgsl' target: WGSL compute shaders + a host ES module for WebGPU (browsers, Deno, Node
// through the `webgpu` package). `run` builds the same module the artifact ships and imports
// it, so `vovc run --target wgsl` exercises exactly what a browser would load.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend, BackendContext, Tensor } from '../backend.js';
import { fail } from '../../diag/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { encodeFloat } from '../../io/dtype.js';
import { readNpy } from '../../io/npy.js';
import { optimize, type OptimizeOptions } from '../../passes/manager.js';
import { passOptions } from '../../passes/options.js';
import { buildPlan } from '../../plan/build.js';
import type { KernelPlan } from '../../plan/types.js';
import { VERSION } from '../../version.js';
import { nodeDevice } from './dawn.js';
import { checkBufferLimits } from './guard.js';
import { renderPlan, type RenderedModel } from './render.js';
import { packWgslWeights, writeWgslWeights } from './weights.js';

export interface WgslModule {
  createModel(device: unknown, weights: ArrayBuffer): Promise<{ run(input: Float32Array): Promise<Record<string, Float32Array>>; destroy(): void }>;
}

export interface WgslCompileOptions {
  /** Lower the weight-chunk size (tests use it to exercise several chunks on a small model). */
  readonly chunkBytes?: number;
  /** Pass-manager options (--disable-pass, --print-ir-after, ...). */
  readonly passes?: OptimizeOptions;
}

/** The optimized graph and plan of `g` and the rendered artifact, without the weight blob. */
export function compileWgslArtifact(g: Graph, opts: WgslCompileOptions = {}): { plan: KernelPlan; optimized: Graph; rendered: RenderedModel } {
  const optimized = optimize(g, opts.passes).graph;
  const plan = buildPlan(optimized);
  checkBufferLimits(plan);
  return { plan, optimized, rendered: renderPlan(plan, VERSION, { chunkBytes: opts.chunkBytes }) };
}

/** Parameter data by name for packing: undefined for a name the optimized graph lacks. */
const paramData = (g: Graph) => (name: string) => (g.params.has(name) ? g.params.get(name)!.data : undefined);

/**
 * The optimized plan of `g`, the artifact's weight blob (weights.ts: conv weights repacked for
 * the GEMM shader) and the rendered artifact.
 */
export function compileWgsl(g: Graph, opts: WgslCompileOptions = {}): { plan: KernelPlan; blob: Float32Array; rendered: RenderedModel } {
  const { plan, optimized, rendered } = compileWgslArtifact(g, opts);
  return { plan, blob: packWgslWeights(rendered.weights, paramData(optimized)), rendered };
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

export const backend: Backend = {
  target: 'wgsl',
  description: 'WGSL compute shaders + host ES module (WebGPU: browsers, Node via the webgpu package)',
  cliOptions: { 'sample-input': { type: 'string' } },

  async build(ctx) {
    const passes = { ...passOptions(ctx.options), donateParams: ctx.donateParams };
    const { plan, optimized, rendered } = compileWgslArtifact(ctx.graph, { passes });
    const files: [string, string | Uint8Array][] = [];
    for (const s of rendered.shaders) files.push([`shaders/${s.file}`, s.code]);
    let sample: Float32Array;
    const samplePath = ctx.options['sample-input'];
    if (typeof samplePath === 'string') {
      const npy = readNpy(samplePath);
      if (npy.data.length !== plan.input.elements) fail('E5302', `${samplePath}: sample input has shape [${npy.shape.join(', ')}], expected [${plan.input.shape.join(', ')}]`);
      sample = Float32Array.from(npy.data as ArrayLike<number>);
    } else sample = sampleInput(plan.input.elements);
    files.push(['model.ts', rendered.hostTs], ['model.js', rendered.hostJs], ['model.d.ts', rendered.dts], ['index.html', rendered.html]);
    files.push(['weights.json', rendered.weightsJson], ['sample_input.bin', encodeFloat(sample)]);
    mkdirSync(join(ctx.stagingDir, 'shaders'), { recursive: true });
    for (const [rel, data] of files) writeFileSync(join(ctx.stagingDir, rel), data);
    // Entry by entry, without packing a copy of the weights first.
    writeWgslWeights(join(ctx.stagingDir, 'weights.bin'), rendered.weights, paramData(optimized));
    ctx.log(`wgsl: ${rendered.shaders.length} shaders, ${Object.keys(rendered.chunks).length} weight chunk(s), arena ${plan.arenaBytes} bytes`);
    return [...files.map(([rel]) => rel), 'weights.bin'];
  },

  async run(ctx, input, outputs) {
    return runWgsl(ctx, input, outputs);
  },
};

/** `backend.run`, with the compile options of compileWgsl. */
export async function runWgsl(ctx: BackendContext, input: Tensor, outputs: readonly string[], opts: { chunkBytes?: number } = {}): Promise<Map<string, Tensor>> {
  const { plan, blob, rendered } = compileWgsl(ctx.graph, { ...opts, passes: passOptions(ctx.options) });
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

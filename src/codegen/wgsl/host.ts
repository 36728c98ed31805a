// The host files of a WGSL artifact: the ES module that creates the buffers and pipelines and
// dispatches the shaders (model.ts and model.js), its typings, the demo page, and weights.json.

import type { KernelPlan } from '../../plan/types.js';
import { backendTemplates } from '../templates.js';
import type { RenderedShaders } from './render.js';
import { describeLayout } from './weights.js';

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

export function renderHost(plan: KernelPlan, r: RenderedShaders, version: string): RenderedModel {
  const t = backendTemplates('wgsl');
  // Zero-size buffers cannot be bound; 4 bytes is the smallest legal storage binding.
  const buffers: Record<string, number> = { arena: Math.max(4, plan.arenaBytes), input: plan.input.elements * 4 };
  for (const o of plan.outputs) buffers[`out:${o.name}`] = o.elements * 4;
  const chunks: Record<string, [number, number]> = {};
  r.chunkStarts.forEach((s, k) => {
    buffers[`w${k}`] = (r.chunkEnds[k] - s) * 4;
    chunks[`w${k}`] = [s * 4, r.chunkEnds[k] * 4];
  });
  const vm = {
    version,
    model: plan.model,
    modelJson: json(plan.model),
    inputShape: plan.input.shape.join(', '),
    inputShapeJson: json(plan.input.shape),
    outputShapesJson: json(Object.fromEntries(plan.outputs.map((o) => [o.name, o.shape]))),
    weightsBytes: r.weights.totalElements * 4,
    precisionJson: json(plan.precision),
    shadersJson: json(r.shaders.map((s) => s.code)),
    buffersJson: json(buffers),
    chunksJson: json(chunks),
    dispatchesJson: json(r.dispatches),
  };
  return {
    ...r,
    buffers,
    chunks,
    weightsJson: describeLayout(r.weights, chunks, plan.precision),
    hostTs: t['model.ts'](vm),
    // model.js.hbs is model.ts.hbs transpiled when vovc was built (host-template.ts).
    hostJs: t['model.js'](vm),
    dts: t['model.d.ts'](vm),
    html: t['index.html'](vm),
  };
}

// `vovc run`: an input (.npy, or an image preprocessed for the model) -> graph lowered for its
// shape -> weights -> the stage the target consumes -> the target runs it.

import { fail } from '../diag/diagnostics.js';
import type { Tensor } from '../targets/contract.js';
import type { FlagValues } from '../targets/contract.js';
import { artifactMeta } from './meta.js';
import { loadModelGraph, withInputShape, withSourcesAsync, type LoadedModel, type ModelRequest } from './model.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { resolveTarget } from './targets.js';
import { bindWeights, type Reporter, type WeightOptions } from './weights.js';
import { checkBudget, runNeeds } from './memory.js';

export interface RunRequest extends ModelRequest {
  readonly target: string;
  readonly flags: FlagValues;
  /** A 4-D NCHW float32 .npy (the model is lowered for its shape), or an image file. */
  readonly input: { readonly npy: string } | { readonly image: string };
  readonly weights: WeightOptions;
  readonly pipeline: PipelineOptions;
  /** --max-memory (default VOVC_MAX_MEMORY, else the memory available now). */
  readonly maxMemory?: string;
}

export interface RunResult {
  readonly model: LoadedModel;
  readonly outputs: Map<string, Tensor>;
  /** Wall time of the target's run, milliseconds. */
  readonly ms: number;
}

/** The input tensor and the model lowered for its shape. */
async function inputAndModel(req: RunRequest): Promise<{ input: Tensor; model: LoadedModel }> {
  if ('npy' in req.input) {
    const { readNpy } = await import('../io/npy.js');
    const input = readNpy(req.input.npy);
    if (input.shape.length !== 4) fail('E8002', `input must be a 4-D NCHW float32 array, got shape [${input.shape.join(',')}]`, { subject: req.input.npy });
    // An image tensor saved channels-last gets its own message, before the model's channel check
    // would point into the model file.
    const channels = loadModelGraph(req).spec.input[1];
    const [n, c, h, w] = input.shape;
    if (c !== channels && w === channels) {
      fail('E8002', `input has shape [${input.shape.join(', ')}], which looks NHWC (${channels} channels last); vovc takes NCHW [${n}, ${channels}, ${c}, ${h}]`, { subject: req.input.npy, notes: ['transpose it first, e.g. numpy: np.save(f, x.transpose(0, 3, 1, 2)); torch: x.permute(0, 3, 1, 2).contiguous()'] });
    }
    return { input, model: loadModelGraph({ ...req, inputShape: input.shape }) };
  }
  // The crop (timm) or shorter side (detectron2) comes from the model's input shape; the
  // graph is then lowered for the tensor the preprocessing made (detectron2 keeps the aspect).
  const model = loadModelGraph(req);
  const { loadImageTensor } = await import('../image/preprocess.js');
  const input = await loadImageTensor(req.input.image, model.spec.preprocessing, model.spec.input);
  return { input, model: withInputShape(model, input.shape as [number, number, number, number]) };
}

/** W8006: an input holding NaN or Inf runs (PyTorch's semantics: docs/HARDENING.md), with a warning naming the counts. */
function warnNonFinite(input: Tensor, file: string, io: Reporter): void {
  let nan = 0, pos = 0, neg = 0;
  for (const v of input.data) {
    if (v !== v) nan++;
    else if (v === Infinity) pos++;
    else if (v === -Infinity) neg++;
  }
  if (!nan && !pos && !neg) return;
  io.diagnostics([{ severity: 'warning', code: 'W8006', subject: file, message: `the input holds ${nan} NaN, ${pos} +Inf and ${neg} -Inf of ${input.data.length} values; they propagate as in PyTorch (NaN through ReLU and max pooling)` }]);
}

export async function runModel(req: RunRequest, io: Reporter): Promise<RunResult> {
  const precision = req.pipeline.precision ?? 'fp32';
  const target = resolveTarget(req.target, req.flags, precision);
  if (!target.spec.runs) fail('E8001', `target '${req.target}' builds artifacts but cannot run them from vovc`, { subject: req.target }, 3);
  const { input, model } = await inputAndModel(req);
  warnNonFinite(input, 'npy' in req.input ? req.input.npy : req.input.image, io);
  // Before the weights are read or seeded and before anything of the shape is allocated.
  checkBudget(`running '${model.graph.name}' at input [${model.graph.input.shape.join(', ')}]`, runNeeds(model.graph), req.maxMemory, 'npy' in req.input ? req.input.npy : req.input.image);
  return withSourcesAsync(model.sources, async () => {
    const bound = await bindWeights(model.graph, req.weights, io);
    const meta = artifactMeta(bound.graph, bound.hasWeights, precision);
    const pipeline = new Pipeline(bound.graph, { ...req.pipeline, layout: target.layout });
    const consumed = pipeline.consumed(target.stage);
    const impl = await target.load();
    const t0 = performance.now();
    const outputs = await impl.run!({ input: consumed, precision, meta, log: io.log }, target.options, input, model.graph.outputs.map((o) => o.name));
    return { model, outputs, ms: performance.now() - t0 };
  });
}

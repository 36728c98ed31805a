// The vovc library (package.json "main"): the driver's commands as functions, the pipeline's
// stages for whoever wants to stop at one (graph, optimized graph, kernel plan), and the
// analysis. The command line (cli/) is a thin layer over exactly these.

export { buildArtifact, type BuildRequest, type BuildResult } from './driver/build.js';
export { runModel, type RunRequest, type RunResult } from './driver/run.js';
export { analyzeVariants, type VariantJob, type VariantOptions } from './driver/analyze.js';
export { loadModelGraph, withInputShape, type LoadedModel, type ModelRequest } from './driver/model.js';
export { Pipeline, type PipelineOptions } from './driver/pipeline.js';
export { bindWeights, type WeightOptions } from './driver/weights.js';
export { artifactMeta } from './driver/meta.js';
export { TARGETS, TARGET_NAMES } from './targets/registry.js';
export type { ArtifactMeta, Consumed, Stage, TargetContext, TargetImpl, TargetSpec, Tensor } from './targets/contract.js';

export { ACTIVATIONS, ACTIVATION_NAMES, type Activation } from './ir/activations.js';
export { countParams, type Graph, type Node } from './ir/graph.js';
export { lowerSpec } from './model/lower.js';
export { OPS, FLOPS_PER_MAC } from './ir/ops.js';
export { parseGraph } from './ir/parse.js';
export { printGraph } from './ir/printer.js';
export { verify } from './ir/verify.js';
export { optimize, PIPELINE, type OptimizeOptions, type OptimizeResult } from './passes/manager.js';
export { buildPlan } from './plan/build.js';
export { verifyPlan } from './plan/verify.js';
export type { KernelPlan, Launch, LaunchKind, TensorView, WeightRef } from './plan/types.js';
export { runReference } from './runtime/reference.js';

export { analyzeGraph, GROUP_BYS, type GroupBy, type ModelAnalysis } from './analysis/analyze.js';
export { costNodes, CONVENTIONS, type NodeCost } from './analysis/cost.js';
export { buildFusionReport, renderFusionReport, type FusionReport } from './analysis/fusion-report.js';
export { findGpu, loadGpus, type GpuProfile, type Precision } from './hw/gpus.js';
export { buildReport, type AnalysisReport } from './analysis/report.js';
export { renderCsv } from './analysis/render-csv.js';
export { renderHtml } from './analysis/render-html.js';
export { renderMarkdown, renderTable } from './analysis/render-text.js';
export { expandSweep, parseSweep } from './analysis/sweep.js';
export { PiecewiseAnalyzer } from './analysis/pieces.js';
export { VovcError, formatDiagnostic, type Diagnostic } from './diag/diagnostics.js';
export { VERSION } from './version.js';

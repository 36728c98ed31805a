// The contract between the driver (src/driver/) and a target: what a target declares about
// itself (statically: its name, its flags, what it consumes, so that `--help` and option
// checking never load a backend) and what it implements (build, run).
//
// A target consumes exactly one stage of the pipeline and gets exactly that:
//   'graph'      the unoptimized graph with its weights (the reference interpreter without
//                --opt, ONNX --faithful);
//   'optimized'  the optimized graph (ONNX, the interpreter with --opt);
//   'plan'       the verified kernel plan and the parameter data it names (CUDA, WGSL).
// Every target also gets the artifact's metadata (computed by the driver: model, weights
// origin, totals) and a logger. Targets import this file, the IR and the plan types; never the
// DSL, the model lowering, the passes or the analysis (npm test checks the layering).

import type { Normalization } from '../image/normalization.js';
import type { Graph } from '../ir/graph.js';
import type { Precision } from '../ir/precision.js';
import type { KernelPlan, WeightData } from '../plan/types.js';

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** What every artifact records about itself. */
export interface ArtifactMeta {
  readonly model: string;
  /** Where the model was defined (zoo name or file). */
  readonly source?: string;
  readonly vovcVersion: string;
  /** 'checkpoint' when --weights gave the values; 'seeded' for vovc's seeded initialization. */
  readonly weights: 'checkpoint' | 'seeded';
  readonly preprocessing: 'timm' | 'detectron2';
  /** What a caller must do to an image before the model sees it: per channel (x - mean) / std. */
  readonly normalization: Normalization;
  readonly inputShape: readonly number[];
  /** Learnable parameters and multiply-accumulates of the whole input (the op table's rules on the unoptimized graph). */
  readonly parameters: number;
  readonly macs: number;
  /** The numeric precision the artifact computes in (src/ir/precision.ts). */
  readonly precision: Precision;
}

export type Stage = 'graph' | 'optimized' | 'plan';

/** The pipeline stage a target consumes, with what comes with it. */
export type Consumed =
  | { readonly stage: 'graph' | 'optimized'; readonly graph: Graph }
  | { readonly stage: 'plan'; readonly plan: KernelPlan; readonly weights: WeightData };

export interface TargetContext {
  readonly input: Consumed;
  /**
   * The numeric precision, one of the target's `precisions`. A graph target gets the graph in
   * fp32 (BN folded in fp32 when it consumes the optimized graph) and applies the precision's
   * roundings itself; a plan's dtypes already say it (KernelPlan.precision).
   */
  readonly precision: Precision;
  readonly meta: ArtifactMeta;
  /** Progress and info messages (stderr; silent under --quiet). */
  readonly log: (msg: string) => void;
}

/** A command-line flag of a target. The CLI parses it; the target's `parse` types it. */
export interface FlagSpec {
  /** Without the leading '--'. */
  readonly name: string;
  readonly type: 'boolean' | 'string';
  /** The value's placeholder in help texts (string flags). */
  readonly value?: string;
  readonly help: string;
}

/** The raw flag values a target's `parse` receives (only its own flags). */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** What a target implements (its module is loaded only when the target is used). */
export interface TargetImpl<O> {
  /** Writes the artifact into `dir` (a fresh staging folder); returns the relative paths, sorted. */
  build?(ctx: TargetContext, options: O, dir: string): Promise<string[]>;
  /**
   * Runs the model on `input` (whose shape the graph was lowered for); returns the requested
   * outputs by name. Throws VovcError(..., 3) when the target cannot run on this machine.
   */
  run?(ctx: TargetContext, options: O, input: Tensor, outputs: readonly string[]): Promise<Map<string, Tensor>>;
  /**
   * Readies the model for repeated forward passes (`vovc bench`): compiled, its session or
   * pipelines created and its weights uploaded once; each `run` is then one forward pass.
   */
  prepare?(ctx: TargetContext, options: O): Promise<PreparedModel>;
}

/** A model ready to run again and again (TargetImpl.prepare). */
export interface PreparedModel {
  /** One forward pass on `input`; resolves when every output is back on the host. */
  run(input: Tensor): Promise<void>;
  /** What the passes run on and with which settings (runtime and version, threads, adapter, ...), for the report. */
  readonly settings: Readonly<Record<string, string>>;
  dispose(): Promise<void> | void;
}

/** What a target declares about itself, without loading its implementation. */
export interface TargetSpec<O> {
  readonly name: string;
  /** One line for --help. */
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  readonly builds: boolean;
  readonly runs: boolean;
  /** The precisions the target computes in (the driver refuses any other, E8005). */
  readonly precisions: readonly Precision[];
  /** Typed options from the target's flag values; a bad value is a VovcError naming the flag. */
  parse(values: FlagValues): O;
  /** The stage the target consumes with these options and precision. */
  consumes(options: O, precision: Precision): Stage;
  /** false when the target needs shapes only (then no weights are bound or seeded). */
  needsWeights?(options: O): boolean;
  /** How a plan target wants its buffers laid out (default: dense planes). */
  planLayout?(options: O, precision: Precision): PlanLayout;
}

/** Buffer layout choices a plan target makes (src/plan/build.ts BuildPlanOptions). */
export interface PlanLayout {
  /** Pad every channel plane to an even element count (KernelPlan.evenPlanes). */
  readonly evenPlanes?: boolean;
}

// The middle of the pipeline: a bound (or shapes-only) graph -> optimized IR -> verified kernel
// plan, each made at most once, and what a target consumes. Instruments of the pass manager
// (--print-ir-*, --time-passes) therefore print once per command.

import { VovcError } from '../diag/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import type { Precision } from '../ir/precision.js';
import { optimize, type OptimizeOptions, type OptimizeResult } from '../passes/manager.js';
import { buildPlan } from '../plan/build.js';
import type { KernelPlan } from '../plan/types.js';
import { verifyPlan } from '../plan/verify.js';
import type { Consumed, PlanLayout, Stage } from '../targets/contract.js';
import { buildFusionReport, type FusionReport } from '../analysis/fusion-report.js';

export interface PipelineOptions {
  /** The pass manager's options (instruments, disabled passes). */
  readonly passes?: OptimizeOptions;
  /** Verify the IR after every pass and the plan after planning (--verify-each). */
  readonly verifyEach?: boolean;
  /**
   * The caller gives up the graph's parameter arrays: BN folding rescales conv weights where
   * they lie (OptimizeOptions.donateParams), so a build holds one copy of the weights.
   */
  readonly donateParams?: boolean;
  /** Numeric precision of the plan (default fp32); graph targets get it through TargetContext. */
  readonly precision?: Precision;
  /** The plan layout the target asks for (TargetSpec.planLayout). */
  readonly layout?: PlanLayout;
}

export class Pipeline {
  private opt?: OptimizeResult;
  private kernelPlan?: KernelPlan;

  /** `graph`: the unoptimized graph, weights bound (or shapes only). */
  constructor(
    readonly graph: Graph,
    private readonly options: PipelineOptions = {},
  ) {}

  get precision(): Precision {
    return this.options.precision ?? 'fp32';
  }

  optimized(): OptimizeResult {
    this.opt ??= optimize(this.graph, { ...this.options.passes, verifyEach: this.options.verifyEach || this.options.passes?.verifyEach, donateParams: !!this.options.donateParams });
    return this.opt;
  }

  plan(): KernelPlan {
    if (!this.kernelPlan) {
      const plan = buildPlan(this.optimized().graph, { precision: this.precision, evenPlanes: !!this.options.layout?.evenPlanes });
      if (this.options.verifyEach || this.options.passes?.verifyEach) {
        const errs = verifyPlan(plan);
        if (errs.length) throw new VovcError(errs);
      }
      this.kernelPlan = plan;
    }
    return this.kernelPlan;
  }

  /** The fusion report of the optimized graph and its plan against the op-by-op plan (shapes only). */
  report(): FusionReport {
    const opt = this.optimized();
    return buildFusionReport(this.graph, opt.graph, this.plan(), opt.report);
  }

  /** What a target that consumes `stage` gets. */
  consumed(stage: Stage): Consumed {
    if (stage === 'graph') return { stage, graph: this.graph };
    if (stage === 'optimized') return { stage, graph: this.optimized().graph };
    const params = this.optimized().graph.params;
    return { stage, plan: this.plan(), weights: (name) => params.get(name)?.data };
  }
}

// `vovc bench`: a timing method anyone can reproduce (docs/BENCH.md). The model is readied
// once (TargetImpl.prepare: compiled, sessions or pipelines made, weights uploaded); then
//   warm-up: 3 runs, then groups of 5 until the medians of two successive groups agree within
//            5% (or 10 s of warm-up have passed, which the report says);
//   timing:  N runs (default 20), each timed alone from the call to the outputs on the host;
// and the report gives median, min, max, the quartiles and their range (IQR), every time, the
// machine and the target's settings. The input is seeded N(0, 1) values of the model's shape.

import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { fail } from '../diag/diagnostics.js';
import type { PreparedModel, Tensor } from '../targets/contract.js';
import { VERSION } from '../version.js';
import { seededNormal } from '../util/random.js';
import { artifactMeta } from './meta.js';
import { loadModelGraph, withSourcesAsync, type ModelRequest } from './model.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { resolveTarget } from './targets.js';
import { bindWeights, type Reporter, type WeightOptions } from './weights.js';
import type { FlagValues } from '../targets/contract.js';

export const BENCH_SCHEMA = 'vovc.bench/1';

export interface BenchRequest extends ModelRequest {
  readonly target: string;
  readonly flags: FlagValues;
  readonly weights: WeightOptions;
  readonly pipeline: PipelineOptions;
  /** Timed runs (default 20). */
  readonly runs?: number;
}

export interface BenchMethod {
  readonly warmupMinRuns: number;
  readonly warmupGroup: number;
  readonly warmupTolerance: number;
  readonly warmupMaxSeconds: number;
  readonly timedRuns: number;
  readonly timing: string;
}

export interface BenchResult {
  readonly schema: typeof BENCH_SCHEMA;
  readonly vovc: string;
  readonly model: string;
  readonly input: readonly number[];
  readonly target: string;
  readonly precision: string;
  readonly weights: 'checkpoint' | 'seeded';
  readonly method: BenchMethod;
  readonly warmup: { readonly runs: number; readonly seconds: number; readonly converged: boolean };
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly q1Ms: number;
  readonly q3Ms: number;
  readonly iqrMs: number;
  readonly runs: number;
  readonly timesMs: readonly number[];
  readonly settings: Readonly<Record<string, string>>;
  readonly machine: { readonly cpu: string; readonly threads: number; readonly memoryBytes: number; readonly os: string; readonly node: string };
}

/** The q-quantile of sorted values (linear interpolation between order statistics). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const median = (xs: readonly number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** The method: warm-up until stable, then `runs` timed runs of `once`. */
async function measure(once: () => Promise<void>, runs: number, method: Omit<BenchMethod, 'timedRuns' | 'timing'> = { warmupMinRuns: 3, warmupGroup: 5, warmupTolerance: 0.05, warmupMaxSeconds: 10 }): Promise<{ times: number[]; warmup: BenchResult['warmup'] }> {
  const time = async () => {
    const t0 = performance.now();
    await once();
    return performance.now() - t0;
  };
  const start = performance.now();
  let warm = 0;
  for (; warm < method.warmupMinRuns; warm++) await time();
  let prev: number | undefined;
  let converged = false;
  while ((performance.now() - start) / 1000 < method.warmupMaxSeconds) {
    const group: number[] = [];
    for (let i = 0; i < method.warmupGroup; i++) group.push(await time());
    warm += method.warmupGroup;
    const m = median(group);
    if (prev !== undefined && Math.abs(m - prev) <= method.warmupTolerance * prev) {
      converged = true;
      break;
    }
    prev = m;
  }
  const warmup = { runs: warm, seconds: (performance.now() - start) / 1000, converged };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await time());
  return { times, warmup };
}


export async function benchModel(req: BenchRequest, io: Reporter): Promise<BenchResult> {
  const precision = req.pipeline.precision ?? 'fp32';
  if (req.target === 'cuda-emu') fail('E8008', "cuda-emu checks correctness, not speed: its kernels run one CPU thread per CUDA thread; bench --target cuda on a GPU, or onnx / wgsl / reference here", { subject: '--target' }, 2);
  const target = resolveTarget(req.target, req.flags, precision);
  const runs = req.runs ?? 20;
  if (!Number.isInteger(runs) || runs < 1 || runs > 100_000) fail('E8008', `--runs must be an integer from 1 to 100000, got ${runs}`, { subject: '--runs' }, 2);
  const model = loadModelGraph(req);
  return withSourcesAsync(model.sources, async () => {
    const impl = await target.load();
    if (!impl.prepare) {
      fail('E8008', req.target === 'cuda' ? "bench --target cuda is not built yet: the artifact's own demo times vovc_run_device on the GPU (vovc build --target cuda, then vovc_demo input.npy out --repeat N)" : `target '${req.target}' has no benchmark mode`, { subject: req.target }, 3);
    }
    const bound = await bindWeights(model.graph, req.weights, io);
    const meta = artifactMeta(bound.graph, bound.hasWeights, precision);
    const consumed = new Pipeline(bound.graph, { ...req.pipeline, layout: target.layout }).consumed(target.stage);
    const prepared: PreparedModel = await impl.prepare!({ input: consumed, precision, meta, log: io.log }, target.options);
    try {
      const input: Tensor = { shape: [...model.graph.input.shape], data: seededNormal(model.graph.input.shape.reduce((a, b) => a * b, 1)) };
      io.log(`bench: ${model.graph.name} on ${req.target}: warming up`);
      const { times, warmup } = await measure(() => prepared.run(input), runs);
      const sorted = [...times].sort((a, b) => a - b);
      const q1 = quantile(sorted, 0.25), q3 = quantile(sorted, 0.75);
      return {
        schema: BENCH_SCHEMA,
        vovc: VERSION,
        model: model.graph.name,
        input: [...model.graph.input.shape],
        target: req.target,
        precision,
        weights: meta.weights,
        method: { warmupMinRuns: 3, warmupGroup: 5, warmupTolerance: 0.05, warmupMaxSeconds: 10, timedRuns: runs, timing: 'wall clock (performance.now) from the call to the outputs on the host, one run at a time' },
        warmup,
        medianMs: quantile(sorted, 0.5),
        minMs: sorted[0],
        maxMs: sorted[sorted.length - 1],
        q1Ms: q1,
        q3Ms: q3,
        iqrMs: q3 - q1,
        runs,
        timesMs: times,
        settings: prepared.settings,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', threads: availableParallelism(), memoryBytes: totalmem(), os: `${platform()} ${release()}`, node: process.version },
      };
    } finally {
      await prepared.dispose();
    }
  });
}

/** The human-readable report of a result. */
export function renderBench(r: BenchResult): string {
  const ms = (x: number) => `${x.toFixed(x < 10 ? 3 : 1)} ms`;
  return [
    `vovc bench: ${r.model} [${r.input.join(', ')}] on ${r.target} at ${r.precision} (${r.weights} weights)`,
    `  median ${ms(r.medianMs)}  min ${ms(r.minMs)}  max ${ms(r.maxMs)}  IQR ${ms(r.iqrMs)} (q1 ${ms(r.q1Ms)}, q3 ${ms(r.q3Ms)})  runs ${r.runs}`,
    `  warm-up: ${r.warmup.runs} runs in ${r.warmup.seconds.toFixed(1)} s, ${r.warmup.converged ? 'two successive medians of 5 within 5%' : 'NOT converged within 10 s (the figures may drift)'}`,
    `  machine: ${r.machine.cpu}, ${r.machine.threads} threads, ${(r.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${r.machine.os}, Node ${r.machine.node}`,
    `  target: ${Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join('; ')}`,
    `  method: ${r.method.timing}; docs/BENCH.md`,
    '',
  ].join('\n');
}

// vovc bench MODEL --target T [--runs N] [--json]: times forward passes with a stated method
// (src/driver/bench.ts, docs/BENCH.md).
import { writeFileSync } from 'node:fs';
import { TARGETS } from '../../src/targets/registry.js';
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, parse, parseShape, reporter, requireModel, requireTarget, targetFlags, targetFlagsHelp, targetOptions, weightOptions, type Command } from '../common.js';
import { pipelineOptions } from '../passflags.js';

const USAGE = `usage: vovc bench MODEL --target onnx|wgsl|reference|cuda [--input-shape N,C,H,W] [--precision P] [--runs N] [--json] [--weights FILE]
  --runs N       timed runs after the warm-up (default 20)
  --json         the result as JSON (schema vovc.bench/1, docs/BENCH.md)
  --precision=P  fp32 (default), tf32, fp16 or bf16, as the target offers
  (cuda-emu is refused: it checks correctness, not speed)

target flags:
${targetFlagsHelp((t) => TARGETS[t].spec.runs && t !== 'cuda-emu')}`;

const OPTIONS = { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, target: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, precision: { type: 'string' } } as const;

export const command: Command = {
  async run(args) {
    const target = requireTarget(args, OPTIONS, USAGE);
    if (!target) return 0;
    const r = parse(args, { ...OPTIONS, ...targetOptions(target) }, USAGE, true, target);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    const runs = v.runs === undefined ? undefined : Number(v.runs);
    if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new UsageError(`--runs must be a positive integer, got '${v.runs as string}'`);
    const io = reporter({ ...v, quiet: v.quiet || v.json });
    const { benchModel, renderBench } = await import('../../src/driver/bench.js');
    const result = await benchModel(
      {
        model,
        set: v.set as string[] | undefined,
        ...(v['input-shape'] ? { inputShape: parseShape(v['input-shape'] as string) } : {}),
        target,
        flags: targetFlags(target, v),
        weights: weightOptions(v),
        pipeline: pipelineOptions(v),
        ...(runs !== undefined ? { runs } : {}),
      },
      io,
    );
    writeFileSync(1, v.json ? JSON.stringify(result, null, 2) + '\n' : renderBench(result));
    return 0;
  },
};

// vovc build MODEL --target T --out DIR: writes a deployable artifact (src/driver/build.ts).
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, parse, parseShape, reporter, requireModel, requireTarget, targetFlags, targetFlagsHelp, targetOptions, weightOptions, type Command } from '../common.js';
import { PASS_HELP, PASS_OPTIONS, normalizeReportFlag, pipelineOptions } from '../passflags.js';
import { TARGETS } from '../../src/targets/registry.js';
import { checkOutputDir } from '../../src/util/fsx.js';

const USAGE = `usage: vovc build MODEL --target onnx|cuda|cuda-emu|wgsl --out DIR [--weights FILE] [--input-shape N,C,H,W] [--set key=value] [--report[=json]]
  --out DIR                the artifact's folder (written whole, only when the build succeeds)
  --weights FILE           .pth or .safetensors (default: seeded weights)
  --report[=text|json]     print the fusion report
${PASS_HELP}

target flags:
${targetFlagsHelp((t) => TARGETS[t].spec.builds)}`;

const OPTIONS = { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, ...PASS_OPTIONS, target: { type: 'string' }, out: { type: 'string', short: 'o' } } as const;

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    const target = requireTarget(args, OPTIONS, USAGE);
    if (!target) return 0;
    const r = parse(args, { ...OPTIONS, ...targetOptions(target) }, USAGE, true, target);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    if (!v.out) throw new UsageError(`missing --out DIR\n\n${USAGE}`);
    // Before any work: a build that cannot be written should not take a minute to say so.
    checkOutputDir(v.out as string, '--out');
    if (v.report !== undefined && v.report !== 'text' && v.report !== 'json') throw new UsageError(`--report takes text or json, got '${v.report as string}'`);
    const io = reporter(v);
    const { buildArtifact } = await import('../../src/driver/build.js');
    const result = await buildArtifact(
      {
        model,
        set: v.set as string[] | undefined,
        ...(v['input-shape'] ? { inputShape: parseShape(v['input-shape'] as string) } : {}),
        target,
        flags: targetFlags(target, v),
        out: v.out as string,
        weights: weightOptions(v),
        pipeline: pipelineOptions(v),
        ...(v.report !== undefined ? { report: v.report as 'text' | 'json' } : {}),
      },
      io,
    );
    if (result.report !== undefined) process.stdout.write(result.report);
    const files = result.files;
    io.log(`wrote ${files.length} files to ${v.out as string}: ${files.slice(0, 6).join(', ')}${files.length > 6 ? ', ...' : ''}`);
    return 0;
  },
};

// vovc run MODEL --input X.npy [--target T] [--save DIR]: runs a model (src/driver/run.ts) and
// writes DIR/<output>.npy for every output. The model is lowered for the input's shape.
import { join } from 'node:path';
import { closest } from '../../src/diag/diagnostics.js';
import type { Tensor } from '../../src/targets/contract.js';
import { TARGETS, TARGET_NAMES } from '../../src/targets/registry.js';
import { checkOutputDir, writeFileAtomic, safeJoin } from '../../src/util/fsx.js';
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, parse, parseShape, reporter, requireModel, targetArg, targetFlags, targetFlagsHelp, targetOptions, weightOptions, type Command } from '../common.js';
import { PASS_HELP, PASS_OPTIONS, normalizeReportFlag, pipelineOptions } from '../passflags.js';

const USAGE = `usage: vovc run MODEL (--input X.npy | --image photo.jpg) [--target ${TARGET_NAMES.join('|')}] [--weights FILE] [--save DIR] [--outputs a,b] [--set key=value]
  --target     where to run (default reference: the CPU interpreter)
  --save DIR   write DIR/<output>.npy for every output
  --outputs    outputs to compute (default: logits, or stage2..stage5 for a backbone)
  --max-memory SIZE  refuse a run whose tensors and weights need more (e.g. 8G; default VOVC_MAX_MEMORY, else the available memory)
${PASS_HELP}

target flags:
${targetFlagsHelp((t) => TARGETS[t].spec.runs)}`;

function stats(t: Tensor): string {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of t.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return `mean ${(sum / t.data.length).toPrecision(5)} min ${min.toPrecision(5)} max ${max.toPrecision(5)}`;
}

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    const target = targetArg(args, 'reference')!;
    const r = parse(args, { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, ...PASS_OPTIONS, ...targetOptions(target), target: { type: 'string' }, input: { type: 'string' }, image: { type: 'string' }, save: { type: 'string' }, outputs: { type: 'string' }, top: { type: 'string' }, 'max-memory': { type: 'string' } }, USAGE, true, target);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    if (v.input && v.image) throw new UsageError('give either --input or --image, not both');
    if (!v.input && !v.image) throw new UsageError(`missing --input X.npy (or --image FILE)\n\n${USAGE}`);
    if (v.save) checkOutputDir(v.save as string, '--save');
    const set = [...((v.set as string[] | undefined) ?? [])];
    if (v.outputs) {
      // Names no model has are --outputs' own error (the model's missing stages are the DSL's).
      const names = ['stem', 'stage2', 'stage3', 'stage4', 'stage5', 'logits'];
      for (const o of (v.outputs as string).split(',').map((x) => x.trim())) {
        if (!names.includes(o)) throw new UsageError(`unknown output '${o}' in --outputs${closest(o, names) ? `; did you mean ${closest(o, names)}?` : ''} (outputs are ${names.join(', ')})`);
      }
      set.push(`outputs=${v.outputs as string}`);
    }
    const io = reporter(v);
    const { runModel } = await import('../../src/driver/run.js');
    const { model: m, outputs, ms } = await runModel(
      {
        model,
        set,
        ...(v.image && v['input-shape'] ? { inputShape: parseShape(v['input-shape'] as string) } : {}),
        target,
        flags: targetFlags(target, v),
        input: v.input ? { npy: v.input as string } : { image: v.image as string },
        weights: weightOptions(v),
        pipeline: pipelineOptions(v),
        ...(v['max-memory'] !== undefined ? { maxMemory: v['max-memory'] as string } : {}),
      },
      io,
    );
    io.log(`${m.graph.name} on ${target}: ${ms.toFixed(1)} ms`);
    if (v.image && m.spec.head.kind === 'classifier' && outputs.has('logits')) {
      const { topK } = await import('../../src/image/classes.js');
      for (const line of topK(outputs.get('logits')!, Number(v.top ?? 5))) process.stdout.write(line + '\n');
    } else {
      for (const [name, t] of outputs) process.stdout.write(`${name} [${t.shape.join(',')}] ${stats(t)}\n`);
    }
    if (v.save) {
      const { writeNpy } = await import('../../src/io/npy.js');
      for (const [name, t] of outputs) writeFileAtomic(safeJoin(v.save as string, `${name}.npy`), writeNpy(t));
      io.log(`saved ${[...outputs.keys()].map((n) => join(v.save as string, `${n}.npy`)).join(', ')}`);
    }
    return 0;
  },
};

// vovc run MODEL --input X.npy [--target T] [--save DIR]: runs a model and writes
// DIR/<output>.npy for every output. The model is lowered for the input's shape.
import { join } from 'node:path';
import { VovcError } from '../../src/diag/diagnostics.js';
import { TARGETS, loadBackend, type Backend, type Tensor } from '../../src/codegen/backend.js';
import { writeFileAtomic, safeJoin } from '../../src/util/fsx.js';
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, bindWeights, loadGraph, parse, parseShape, requireModel, type Command, type Options } from '../common.js';
import { PASS_OPTIONS, normalizeReportFlag } from '../passflags.js';

const USAGE = `usage: vovc run MODEL (--input X.npy | --image photo.jpg) [--target ${Object.keys(TARGETS).join('|')}] [--weights FILE] [--save DIR] [--outputs a,b] [--set key=value]
  --target     where to run (default reference: the CPU interpreter)
  --save DIR   write DIR/<output>.npy for every output
  --outputs    outputs to compute (default: logits, or stage2..stage5 for a backbone)`;

function stats(t: Tensor): string {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of t.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return `mean ${(sum / t.data.length).toPrecision(5)} min ${min.toPrecision(5)} max ${max.toPrecision(5)}`;
}

export async function extraOptions(args: string[]): Promise<{ target: string; backend: Backend; options: Options }> {
  const i = args.findIndex((a) => a === '--target' || a.startsWith('--target='));
  const target = i < 0 ? 'reference' : args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
  if (!target || !(target in TARGETS)) throw new UsageError(`unknown --target '${target ?? ''}' (expected ${Object.keys(TARGETS).join(', ')})`);
  const backend = await loadBackend(target);
  return { target, backend, options: backend.cliOptions ?? {} };
}

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    const { target, backend, options } = await extraOptions(args);
    const r = parse(args, { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, ...PASS_OPTIONS, ...options, target: { type: 'string' }, input: { type: 'string' }, image: { type: 'string' }, save: { type: 'string' }, outputs: { type: 'string' }, top: { type: 'string' } }, USAGE);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    if (!backend.run) throw new VovcError({ severity: 'error', code: 'E8001', message: `target '${target}' builds artifacts but cannot run them from vovc`, subject: target }, 3);
    const log = (s: string) => (v.quiet ? undefined : process.stderr.write(s + '\n'));
    let input: Tensor;
    let imageInfo: { classifier: boolean } | undefined;
    if (v.input && v.image) throw new UsageError('give either --input or --image, not both');
    if (v.input) {
      const { readNpy } = await import('../../src/io/npy.js');
      input = readNpy(v.input as string);
      if (input.shape.length !== 4) throw new VovcError({ severity: 'error', code: 'E8002', subject: v.input as string, message: `input must be a 4-D NCHW float32 array, got shape [${input.shape.join(',')}]` });
    } else if (v.image) {
      // The crop (timm) or shorter side (detectron2) comes from the model's input shape.
      const shape = v['input-shape'] ? parseShape(v['input-shape'] as string) : undefined;
      const { spec } = loadGraph(model, { set: v.set as string[] | undefined, inputShape: shape });
      const { loadImageTensor } = await import('../../src/image/preprocess.js');
      input = await loadImageTensor(v.image as string, spec.preprocessing, spec.input);
      imageInfo = { classifier: spec.head.kind === 'classifier' };
    } else throw new UsageError(`missing --input X.npy (or --image FILE)\n\n${USAGE}`);
    const set = [...((v.set as string[] | undefined) ?? [])];
    if (v.outputs) set.push(`outputs=${v.outputs as string}`);
    const { graph: lowered } = loadGraph(model, { set, inputShape: input.shape });
    const { graph, hasWeights } = await bindWeights(lowered, v, log);
    const outputs = graph.outputs.map((o) => o.name);
    const t0 = performance.now();
    const result = await backend.run({ graph, options: v as never, log, hasWeights }, input, outputs);
    const ms = performance.now() - t0;
    log(`${graph.name} on ${target}: ${ms.toFixed(1)} ms`);
    if (imageInfo?.classifier && result.has('logits')) {
      const { topK } = await import('../../src/image/classes.js');
      for (const line of topK(result.get('logits')!, Number(v.top ?? 5))) process.stdout.write(line + '\n');
    } else {
      for (const [name, t] of result) process.stdout.write(`${name} [${t.shape.join(',')}] ${stats(t)}\n`);
    }
    if (v.save) {
      const { writeNpy } = await import('../../src/io/npy.js');
      for (const [name, t] of result) writeFileAtomic(safeJoin(v.save as string, `${name}.npy`), writeNpy(t));
      log(`saved ${[...result.keys()].map((n) => join(v.save as string, `${n}.npy`)).join(', ')}`);
    }
    return 0;
  },
};

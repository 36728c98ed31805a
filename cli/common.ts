// What several commands share: option parsing with exit code 2 on a malformed command line,
// model loading (zoo name or .vov path, --set, --input-shape), weight binding (checkpoint or
// seeded), and diagnostics printing.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VovcError, formatDiagnostic, type Diagnostic } from '../src/diag/diagnostics.js';
import type { Graph } from '../src/ir/graph.js';
import { verify } from '../src/ir/verify.js';
import { loadModel } from '../src/dsl/zoo.js';
import { lowerSpec } from '../src/model/lower.js';
import type { ModelSpec } from '../src/model/spec.js';
import { seedParams } from '../src/model/init.js';
import type { Naming } from '../src/ir/graph.js';

import { UsageError } from './usage.js';
export { UsageError };

export interface Command {
  run(args: string[]): Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every model-taking command accepts. */
export const MODEL_OPTIONS: Options = {
  set: { type: 'string', multiple: true },
  'input-shape': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
};

export const WEIGHT_OPTIONS: Options = {
  weights: { type: 'string' },
  'weights-format': { type: 'string' },
  'weights-prefix': { type: 'string' },
  'allow-missing': { type: 'boolean' },
  'strict-values': { type: 'boolean' },
  seed: { type: 'string' },
};

export function parse(args: string[], options: Options, usage: string, allowPositionals = true) {
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    if (r.values.help) {
      process.stdout.write(usage + '\n');
      return undefined;
    }
    return r;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

/** "1,3,224,224" or "1x3x224x224" -> [1,3,224,224] */
export function parseShape(text: string, what = '--input-shape'): [number, number, number, number] {
  const parts = text.split(/[x,]/).map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((d) => !Number.isInteger(d) || d < 1)) throw new UsageError(`${what} expects four positive integers N,C,H,W (e.g. 1,3,224,224), got '${text}'`);
  return parts as [number, number, number, number];
}

export function printDiagnostics(ds: readonly Diagnostic[]): void {
  for (const d of ds) process.stderr.write(formatDiagnostic(d) + '\n');
}

export interface LoadedModel {
  spec: ModelSpec;
  graph: Graph;
}

/** Loads, lowers and verifies a model. Throws VovcError with every diagnostic found. */
export function loadGraph(model: string, opts: { set?: string[]; inputShape?: readonly number[] }): LoadedModel {
  const { spec, sources } = withSources(() => loadModel(model, { set: opts.set, inputShape: opts.inputShape }));
  const graph = withSources(() => lowerSpec(spec), sources);
  const errs = verify(graph);
  if (errs.length) throw Object.assign(new VovcError(errs), { sources });
  return { spec, graph };
}

function withSources<T>(f: () => T, sources?: VovcError['sources']): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof VovcError && sources && !e.sources) e.sources = sources;
    throw e;
  }
}

/** Binds a checkpoint (or seeded values) to the graph's parameters. */
export async function bindWeights(graph: Graph, values: Record<string, unknown>, log: (s: string) => void): Promise<{ graph: Graph; hasWeights: boolean }> {
  const file = values.weights as string | undefined;
  if (!file) return { graph: seedParams(graph, values.seed ? Number(values.seed) : undefined), hasWeights: false };
  const naming = values['weights-format'] as string | undefined;
  if (naming && !['timm', 'vovnet-pytorch', 'detectron2'].includes(naming)) throw new UsageError(`--weights-format must be timm, vovnet-pytorch or detectron2, got '${naming}'`);
  const { loadCheckpoint, findNonFinite } = await import('../src/weights/checkpoint.js');
  const { bindCheckpoint } = await import('../src/weights/mapping.js');
  const ckpt = await loadCheckpoint(file, { progress: !values.quiet });
  const bad = findNonFinite(ckpt.tensors);
  if (bad.length) {
    const d: Diagnostic = {
      severity: values['strict-values'] ? 'error' : 'warning',
      code: 'W4006',
      subject: file,
      message: `${bad.length} tensors hold NaN or Inf values: ${bad.slice(0, 3).map((b) => `${b.key} (${b.count})`).join(', ')}${bad.length > 3 ? ', ...' : ''}`,
    };
    if (values['strict-values']) throw new VovcError(d);
    printDiagnostics([d]);
  }
  const r = bindCheckpoint(graph, ckpt.tensors, {
    naming: naming as Naming | undefined,
    prefix: values['weights-prefix'] as string | undefined,
    allowMissing: !!values['allow-missing'],
    file,
  });
  printDiagnostics(r.report.diagnostics);
  log(`weights: ${r.report.matched}/${r.report.expected} tensors matched (${r.report.naming} naming${r.report.prefix ? `, prefix '${r.report.prefix}'` : ''}${r.report.outside ? `, ${r.report.outside} keys outside the prefix ignored` : ''})`);
  const g = r.missingNames.length ? seedParams(r.graph, values.seed ? Number(values.seed) : undefined, r.missingNames) : r.graph;
  return { graph: g, hasWeights: true };
}

export function requireModel(positionals: string[], usage: string): string {
  if (positionals.length < 1) throw new UsageError(`missing MODEL (a zoo name or a .vov file)\n\n${usage}`);
  return positionals[0];
}

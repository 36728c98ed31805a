// What several commands share: option parsing with exit code 2 on a malformed command line,
// the model, weight and pass flags as the driver's typed requests, target flags from the
// registry's declarations, and diagnostics printing.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest, formatDiagnostics, type Diagnostic } from '../src/diag/diagnostics.js';
import type { WeightOptions, Reporter } from '../src/driver/weights.js';
import type { Naming } from '../src/ir/graph.js';
import type { FlagValues } from '../src/targets/contract.js';
import { TARGETS, TARGET_NAMES } from '../src/targets/registry.js';

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

/** Every flag some target declares, with the targets that declare it. */
function targetFlagOwners(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const name of TARGET_NAMES) for (const f of TARGETS[name].spec.flags) m.set(f.name, [...(m.get(f.name) ?? []), name]);
  return m;
}

/**
 * The first flag of `args` that `options` does not know, as a usage error in vovc's words: the
 * flag, the closest known one ("did you mean --set?"), a flag of another target named as such,
 * and the command's usage line. Undefined when every flag is known.
 */
function unknownFlag(args: readonly string[], options: Options, usage: string, target?: string): UsageError | undefined {
  const known = Object.keys(options);
  const owners = targetFlagOwners();
  const shorts = new Map(Object.entries(options).flatMap(([k, o]) => (o.short ? [[o.short, k] as const] : [])));
  for (const a of args) {
    if (a === '--') break;
    if (/^-[^-]/.test(a)) {
      if (!shorts.has(a.slice(1, 2))) return new UsageError(`unknown flag '${a}'${known.length ? ` (flags: ${[...shorts.keys()].map((k) => `-${k}`).join(', ') || 'none short'})` : ''}\n\n${usage.split('\n')[0]}`);
      continue;
    }
    if (!a.startsWith('--')) continue;
    const name = a.slice(2).split('=')[0];
    if (known.includes(name)) continue;
    const of = owners.get(name);
    const why = of ? ` (a flag of --target ${of.join(', ')}${target ? `, not of ${target}` : ': give that --target'})` : '';
    const guess = of ? undefined : closest(name, known);
    return new UsageError(`unknown flag '--${name.slice(0, 100)}'${why}${guess ? `; did you mean --${guess}?` : ''}\n\n${usage.split('\n')[0]}`);
  }
  return undefined;
}

export function parse(args: string[], options: Options, usage: string, allowPositionals = true, target?: string) {
  const unknown = unknownFlag(args, options, usage, target);
  if (unknown) throw unknown;
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    if (r.values.help) {
      process.stdout.write(usage + '\n');
      return undefined;
    }
    return r;
  } catch (e) {
    // What parseArgs still refuses (a flag without its value, a value for a boolean), in one line.
    const m = (e as Error).message.replace(/\. To specify an option argument starting with a dash use .*$/s, '').replace(/^Option '(-[^']+)'/, "flag '$1'");
    throw new UsageError(`${m}\n\n${usage.split('\n')[0]}`);
  }
}

/** "1,3,224,224" or "1x3x224x224" -> [1,3,224,224] */
export function parseShape(text: string, what = '--input-shape'): [number, number, number, number] {
  const parts = text.split(/[x,]/).map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((d) => !Number.isInteger(d) || d < 1)) throw new UsageError(`${what} expects four positive integers N,C,H,W (e.g. 1,3,224,224), got '${text}'`);
  return parts as [number, number, number, number];
}

export function printDiagnostics(ds: readonly Diagnostic[]): void {
  for (const t of formatDiagnostics(ds)) process.stderr.write(t + '\n');
}

/** Progress on stderr unless --quiet; diagnostics (warnings, key reports) always. */
export function reporter(values: Record<string, unknown>): Reporter {
  return { log: (s) => (values.quiet ? undefined : void process.stderr.write(s + '\n')), diagnostics: printDiagnostics };
}

const NAMINGS: readonly Naming[] = ['timm', 'vovnet-pytorch', 'detectron2'];

/** --seed: an integer 0 .. 2^32 - 1 (the seeded init's mulberry32 state), written in decimal. */
function seedOf(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got '${text}'`);
  return Number(text);
}

/** The weight flags as the driver's WeightOptions. */
export function weightOptions(v: Record<string, unknown>): WeightOptions {
  const naming = v['weights-format'] as string | undefined;
  if (naming && !NAMINGS.includes(naming as Naming)) throw new UsageError(`--weights-format must be timm, vovnet-pytorch or detectron2, got '${naming}'`);
  return {
    ...(v.weights ? { file: v.weights as string } : {}),
    ...(naming ? { naming: naming as Naming } : {}),
    ...(v['weights-prefix'] !== undefined ? { prefix: v['weights-prefix'] as string } : {}),
    allowMissing: !!v['allow-missing'],
    strictValues: !!v['strict-values'],
    ...(v.seed !== undefined ? { seed: seedOf(v.seed as string) } : {}),
    progress: !v.quiet,
  };
}

export function requireModel(positionals: string[], usage: string): string {
  if (positionals.length < 1) throw new UsageError(`missing MODEL (a zoo name or a .vov file)\n\n${usage}`);
  return positionals[0];
}

/** The value of --target in raw arguments (before parsing, which needs the target's flags). */
export function targetArg(args: readonly string[], fallback?: string): string | undefined {
  const i = args.findIndex((a) => a === '--target' || a.startsWith('--target='));
  const name = i < 0 ? fallback : args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
  if (name !== undefined && !(name in TARGETS)) throw new UsageError(`unknown --target '${name}' (expected ${TARGET_NAMES.join(', ')})`);
  return name;
}

/** The parseArgs options of every target's flags (to tell a misspelt flag from another target's). */
function allTargetOptions(): Options {
  return Object.assign({}, ...TARGET_NAMES.map((t) => targetOptions(t))) as Options;
}

/**
 * The --target of a command that requires one (build, bench), or undefined after printing
 * `usage` for --help. Without one, a misspelt --target is reported as the unknown flag it is,
 * not as a missing --target.
 */
export function requireTarget(args: readonly string[], options: Options, usage: string): string | undefined {
  const target = targetArg(args);
  if (target) return target;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage + '\n');
    return undefined;
  }
  const unknown = unknownFlag(args, { ...options, ...allTargetOptions() }, usage);
  if (unknown) throw unknown;
  throw new UsageError(`missing --target\n\n${usage}`);
}

/** The parseArgs options of a target's flags (from its declaration; the backend is not loaded). */
export function targetOptions(target: string | undefined): Options {
  const out: Options = {};
  if (target) for (const f of TARGETS[target].spec.flags) out[f.name] = { type: f.type };
  return out;
}

/** The parsed values of a target's own flags. */
export function targetFlags(target: string, v: Record<string, unknown>): FlagValues {
  const out: Record<string, string | boolean | undefined> = {};
  for (const f of TARGETS[target].spec.flags) out[f.name] = v[f.name] as string | boolean | undefined;
  return out;
}

/** Every target's flags, for --help, grouped by target. */
export function targetFlagsHelp(filter: (name: string) => boolean): string {
  const lines: string[] = [];
  for (const name of TARGET_NAMES.filter(filter)) {
    const s = TARGETS[name].spec;
    lines.push(`  --target ${name}: ${s.description} [precisions: ${s.precisions.join(', ')}]`);
    for (const f of s.flags) {
      const head = `      --${f.name}${f.value ? ` ${f.value}` : ''}`;
      lines.push(head.padEnd(Math.max(30, head.length + 2)) + f.help);
    }
  }
  return lines.join('\n');
}

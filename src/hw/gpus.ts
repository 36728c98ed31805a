// GPU profiles: data, not code (data/gpus.json), for the analysis's roofline (peaks, bandwidth)
// and the CUDA backend's tensor-core tile choice (the SM facts). Each figure carries the
// document it was taken from, so that a report can cite it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, fail } from '../diag/diagnostics.js';
import { packageRoot } from '../util/paths.js';

import { PRECISIONS, STORAGE, type Precision } from '../ir/precision.js';

export { PRECISIONS, type Precision };

/** Bytes per activation / weight element (the storage type): tf32 is fp32 data on tensor cores. */
export const ELEMENT_BYTES: Readonly<Record<Precision, number>> = Object.fromEntries(PRECISIONS.map((p) => [p, STORAGE[p] === 'f32' ? 4 : 2])) as Record<Precision, number>;

export interface Sourced {
  readonly value: number;
  readonly source: string;
}

export interface GpuProfile {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly label: string;
  /** Peak FLOP/s by precision; null where the GPU has no such mode. */
  readonly peak: Readonly<Record<Precision, Sourced | null>>;
  /** Peak memory bandwidth, bytes/s. */
  readonly bandwidth: Sourced;
  /** The streaming multiprocessors (absent for a profile without them: no tile choice on it). */
  readonly sm?: SmProfile;
}

export interface SmProfile {
  readonly computeCapability: string;
  readonly count: Sourced;
  readonly sharedMemoryBytes: Sourced;
  readonly registers: Sourced;
  readonly maxThreads: Sourced;
  readonly maxBlocks: Sourced;
}

/** The GPU `vovc build --target cuda` chooses tiles for when --gpu is not given. */
export const DEFAULT_GPU = 'H100-SXM';

function checkSm(v: unknown, where: string, file: string): SmProfile | undefined {
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.computeCapability !== 'string') fail('E4301', `${where}.sm: expected an object with "computeCapability" and sourced "count", "sharedMemoryBytes", "registers", "maxThreads", "maxBlocks"`, { subject: file });
  const f = (k: string) => checkSourced(o[k], `${where}.sm.${k}`, file, false)!;
  return { computeCapability: o.computeCapability as string, count: f('count'), sharedMemoryBytes: f('sharedMemoryBytes'), registers: f('registers'), maxThreads: f('maxThreads'), maxBlocks: f('maxBlocks') };
}

let cached: GpuProfile[] | undefined;

function checkSourced(v: unknown, where: string, file: string, nullable: boolean): Sourced | null {
  if (v === null && nullable) return null;
  const s = v as Sourced;
  if (!s || typeof s !== 'object' || typeof s.value !== 'number' || !(s.value > 0) || typeof s.source !== 'string' || !s.source) {
    fail('E4301', `${where}: expected {"value": positive number, "source": non-empty string}${nullable ? ' or null' : ''}`, { subject: file });
  }
  return { value: s.value, source: s.source };
}

/** Parses and checks a GPU profile file (the shipped one by default). */
export function loadGpus(path?: string): GpuProfile[] {
  if (!path && cached) return cached;
  const file = path ?? join(packageRoot(), 'data', 'gpus.json');
  let doc: { schema?: string; gpus?: unknown[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail('E4301', `cannot read GPU profiles: ${(e as Error).message}`, { subject: file });
  }
  if (doc.schema !== 'vovc.gpus/1' || !Array.isArray(doc.gpus)) fail('E4301', `expected {"schema": "vovc.gpus/1", "gpus": [...]}`, { subject: file });
  const gpus = doc.gpus.map((raw, i) => {
    const g = raw as Record<string, unknown>;
    const where = `gpus[${i}]${typeof g.name === 'string' ? ` (${g.name})` : ''}`;
    if (typeof g.name !== 'string' || typeof g.label !== 'string') fail('E4301', `${where}: expected string fields "name" and "label"`, { subject: file });
    const peakRaw = (g.peak ?? {}) as Record<string, unknown>;
    const peak = Object.fromEntries(PRECISIONS.map((p) => [p, checkSourced(peakRaw[p], `${where}.peak.${p}`, file, true)])) as Record<Precision, Sourced | null>;
    if (!peak.fp32) fail('E4301', `${where}.peak.fp32: every GPU needs an fp32 peak`, { subject: file });
    const aliases = Array.isArray(g.aliases) ? g.aliases.filter((a): a is string => typeof a === 'string') : [];
    const sm = checkSm(g.sm, where, file);
    return { name: g.name, label: g.label, aliases, peak, bandwidth: checkSourced(g.bandwidth, `${where}.bandwidth`, file, false)!, ...(sm ? { sm } : {}) };
  });
  if (!path) cached = gpus;
  return gpus;
}

const norm = (s: string) => s.toLowerCase().replace(/[\s_]+/g, '-');

/** The profile called `name` (or one of its aliases), case-insensitively; a VovcError naming the choices otherwise. */
export function findGpu(name: string, gpus = loadGpus()): GpuProfile {
  const want = norm(name);
  const hit = gpus.find((g) => norm(g.name) === want || g.aliases.some((a) => norm(a) === want));
  if (hit) return hit;
  const names = gpus.map((g) => g.name);
  const guess = closest(name, [...names, ...gpus.flatMap((g) => g.aliases)]);
  return fail('E4302', `unknown GPU '${name}' (known: ${names.join(', ')})`, { subject: '--gpu', notes: guess ? [`did you mean '${guess}'?`] : undefined });
}

/** Peak FLOP/s of `gpu` at `precision`; a VovcError when the GPU has no such mode. */
export function peakFlops(gpu: GpuProfile, precision: Precision): Sourced {
  const p = gpu.peak[precision];
  if (!p) return fail('E4303', `${gpu.name} has no ${precision} mode (it has ${PRECISIONS.filter((q) => gpu.peak[q]).join(', ')})`, { subject: '--precision' });
  return p;
}

// Key mapping: match the tensors of a checkpoint to the parameters of a graph.
//
// 1. The convention (timm / vovnet-pytorch / detectron2) and the key prefix ('', 'module.',
//    'backbone.bottom_up.', 'img_backbone.', ...) are detected, unless given: for every
//    convention we compute the expected keys, strip from each checkpoint key the longest
//    prefix that leaves an expected key, and keep the (convention, prefix) pair matching most
//    keys. Ties go to the model's own convention.
// 2. Keys that carry the prefix but match nothing are "unexpected"; expected keys that are
//    absent are "missing"; both are reported grouped by block, each with its closest
//    counterpart. Keys outside the prefix (a detector's FPN and heads) are only counted.
// 3. Strict by default: any missing key or shape mismatch is an error. num_batches_tracked
//    is ignored wherever it is, in every convention.

import { VovcError, closest, type Diagnostic } from '../diag/diagnostics.js';
import type { Graph, Naming, Param } from '../ir/graph.js';
import { NAMINGS, conventionKeys } from '../model/naming.js';
import { isFloatDtype, type Dtype } from '../io/dtype.js';

/** What the mapping needs of a checkpoint tensor (src/weights/checkpoint.ts provides it). */
export interface CheckpointTensor {
  readonly key: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | null;
}

/** Keys of each list (missing, unexpected) that get a "might be" suggestion. */
const SUGGESTED_KEYS = 32;

export interface MappingOptions {
  /** false: match keys and shapes only, leaving the graph's parameter data as it is (no tensor is decoded). */
  bind?: boolean;
  naming?: Naming;
  prefix?: string;
  allowMissing?: boolean;
  /** Where the weights came from, for messages. */
  file?: string;
}

export interface MappingReport {
  readonly naming: Naming;
  readonly prefix: string;
  readonly matched: number;
  readonly expected: number;
  readonly missing: readonly { key: string; closest?: string }[];
  readonly unexpected: readonly { key: string; closest?: string }[];
  readonly shapeMismatches: readonly { key: string; expected: readonly number[]; actual: readonly number[] }[];
  /** Keys outside the prefix (ignored). */
  readonly outside: number;
  readonly ignoredBuffers: number;
  readonly diagnostics: readonly Diagnostic[];
}

const IGNORED = /(^|\.)num_batches_tracked$/;
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

interface Candidate {
  naming: Naming;
  prefix: string;
  /** checkpoint key -> canonical name */
  hits: Map<string, string>;
}

/** The prefix that turns the most checkpoint keys into expected keys, and those hits. */
function bestPrefix(keys: readonly string[], expected: Map<string, string>): { prefix: string; hits: Map<string, string> } {
  const counts = new Map<string, number>();
  for (const k of keys) {
    // A prefix is empty or ends at a '.': try every such split of the key.
    for (let i = 0; i <= k.length; i = k.indexOf('.', i) + 1 || k.length + 1) {
      if (expected.has(k.slice(i))) counts.set(k.slice(0, i), (counts.get(k.slice(0, i)) ?? 0) + 1);
    }
  }
  let prefix = '';
  let best = -1;
  for (const [p, c] of counts) if (c > best || (c === best && p.length < prefix.length)) [prefix, best] = [p, c];
  return { prefix, hits: hitsFor(keys, expected, prefix) };
}

function hitsFor(keys: readonly string[], expected: Map<string, string>, prefix: string): Map<string, string> {
  const hits = new Map<string, string>();
  for (const k of keys) if (k.startsWith(prefix) && expected.has(k.slice(prefix.length))) hits.set(k, expected.get(k.slice(prefix.length))!);
  return hits;
}

/** Group keys by their block ("stages.2.blocks.1", "stage4.OSA4_2", "stem") for the report. */
function groupOf(key: string): string {
  const m = /^(.*?(?:stages\.\d+\.blocks\.\d+|stage\d\.OSA\d_\d+|stem|head|classifier))/.exec(key);
  return m ? m[1] : key.split('.').slice(0, 2).join('.');
}

export function groupKeys(keys: readonly string[]): string[] {
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const g = groupOf(k);
    const list = groups.get(g);
    if (list) list.push(k);
    else groups.set(g, [k]);
  }
  const lines: string[] = [];
  for (const [g, list] of groups) {
    if (list.length <= 3) lines.push(...list);
    else lines.push(`${g}.* (${list.length} keys: ${list.slice(0, 2).map((k) => k.slice(g.length)).join(', ')}, ...)`);
  }
  return lines;
}

export interface MatchResult {
  /** `g` with the data of every matched parameter bound (others unchanged). */
  readonly graph: Graph;
  readonly report: MappingReport;
  /** Canonical names of the parameters the checkpoint does not provide. */
  readonly missingNames: string[];
  /** The checkpoint tensor bound to each canonical parameter name. */
  readonly bound: ReadonlyMap<string, CheckpointTensor>;
}

/**
 * Maps checkpoint tensors onto `g`'s parameters. Returns the graph with parameter data bound
 * and a report; throws a VovcError (exit 1) on missing keys (unless allowMissing), shape
 * mismatches, or a checkpoint that matches nothing.
 */
export function bindCheckpoint(g: Graph, tensors: readonly CheckpointTensor[], opts: MappingOptions = {}): MatchResult {
  const r = matchCheckpoint(g, tensors, opts);
  if (r.report.diagnostics.some((d) => d.severity === 'error')) throw new VovcError(r.report.diagnostics);
  return r;
}

/** The matching of bindCheckpoint without the verdict: never throws for a bad fit. */
export function matchCheckpoint(g: Graph, tensors: readonly CheckpointTensor[], opts: MappingOptions = {}): MatchResult {
  const file = opts.file ?? 'weights';
  const keys = tensors.map((t) => t.key);
  const byKey = new Map(tensors.map((t) => [t.key, t]));
  const canonical = [...g.params.keys()];

  const candidates: Candidate[] = [];
  for (const naming of opts.naming ? [opts.naming] : NAMINGS) {
    const map = conventionKeys(canonical, naming);
    const expected = new Map<string, string>();
    for (const [name, key] of map) if (key !== undefined) expected.set(key, name);
    const { prefix, hits } = opts.prefix !== undefined ? { prefix: opts.prefix, hits: hitsFor(keys, expected, opts.prefix) } : bestPrefix(keys, expected);
    candidates.push({ naming, prefix, hits });
  }
  candidates.sort((a, b) => b.hits.size - a.hits.size || (a.naming === g.meta.naming ? -1 : b.naming === g.meta.naming ? 1 : 0));
  const best = candidates[0];
  const names = conventionKeys(canonical, best.naming);
  const diagnostics: Diagnostic[] = [];
  if (best.hits.size === 0) {
    diagnostics.push({
      severity: 'error',
      code: 'E4001',
      subject: file,
      message: `no tensor matches model '${g.name}' in any naming convention${opts.prefix !== undefined ? ` with prefix '${opts.prefix}'` : ''}`,
      notes: [`the file's first keys: ${keys.slice(0, 3).join(', ') || '(none)'}`, `the model expects e.g. ${[...conventionKeys(canonical.slice(0, 2), g.meta.naming).values()].join(', ')}`],
    });
  }
  const params = new Map<string, Param>();
  const bound = new Map<string, CheckpointTensor>();
  const mismatches: { key: string; expected: readonly number[]; actual: readonly number[] }[] = [];
  const missingNames: string[] = [];
  const found = new Map<string, string>();
  for (const [k, n] of best.hits) found.set(n, k);
  const missingKeys: string[] = [];
  /** The shape each missing key's parameter has: a suggestion must have it too. */
  const missingShape = new Map<string, readonly number[]>();
  for (const [name, p] of g.params) {
    const ck = found.get(name);
    if (ck === undefined) {
      missingNames.push(name);
      const key = best.prefix + (names.get(name) ?? name);
      missingKeys.push(key);
      missingShape.set(key, p.shape);
      params.set(name, p);
      continue;
    }
    const t = byKey.get(ck)!;
    const same = t.shape.length === p.shape.length && t.shape.every((d, i) => d === p.shape[i]);
    if (!same) {
      mismatches.push({ key: ck, expected: p.shape, actual: t.shape });
      params.set(name, p);
      continue;
    }
    if (!isFloatDtype(t.dtype as Dtype)) {
      diagnostics.push({ severity: 'error', code: 'E4002', subject: file, message: `tensor '${ck}' has dtype ${t.dtype}, expected a floating-point type` });
      params.set(name, p);
      continue;
    }
    bound.set(name, t);
    // Matching alone (weights inspect, opts.bind false) decodes nothing.
    params.set(name, opts.bind === false ? p : { shape: p.shape, data: t.data });
  }
  const unexpectedKeys = keys.filter((k) => k.startsWith(best.prefix) && !best.hits.has(k) && !IGNORED.test(k));
  const ignoredBuffers = keys.filter((k) => k.startsWith(best.prefix) && IGNORED.test(k)).length;
  const outside = keys.filter((k) => !k.startsWith(best.prefix)).length;
  // Suggestions for the first keys of each list only (the report shows five): bounded work for
  // a file of thousands of keys.
  // A rename is only plausible between tensors of one shape: 'OSA3_2.layers.0' is no rename of
  // 'OSA3_1.layers.3' when their shapes differ, however close the names.
  const shapeKey = (s: readonly number[] | undefined) => (s ? s.join('x') : '?');
  const shapeOf = (k: string) => missingShape.get(k) ?? byKey.get(k)?.shape;
  const suggest = (list: string[], others: string[]) =>
    list.map((key, i) => ({ key, closest: i < SUGGESTED_KEYS ? closest(key, others.filter((o) => shapeKey(shapeOf(o)) === shapeKey(shapeOf(key)))) : undefined }));
  const missing = suggest(missingKeys, unexpectedKeys);
  const unexpected = suggest(unexpectedKeys, missingKeys);

  for (const m of mismatches) {
    diagnostics.push({ severity: 'error', code: 'E4003', subject: file, message: `shape mismatch for '${m.key}': checkpoint ${fmt(m.actual)}, model '${g.name}' expects ${fmt(m.expected)}` });
  }
  if (missing.length) {
    diagnostics.push({
      severity: opts.allowMissing ? 'warning' : 'error',
      code: 'E4004',
      subject: file,
      message: `${missing.length} of ${g.params.size} parameters of '${g.name}' are missing from the checkpoint (${best.naming} naming${best.prefix ? `, prefix '${best.prefix}'` : ''})${opts.allowMissing ? '; they keep the seeded initialization' : ''}`,
      notes: [
        ...groupKeys(missing.map((m) => m.key)).slice(0, 12).map((l) => `missing: ${l}`),
        ...missing.filter((m) => m.closest).slice(0, 5).map((m) => `'${m.key}' might be '${m.closest}' in the file`),
        ...(opts.allowMissing ? [] : ['pass --allow-missing to continue with seeded initialization, or --weights-format / --weights-prefix if the detection is wrong']),
      ],
    });
  }
  if (unexpected.length) {
    diagnostics.push({
      severity: 'warning',
      code: 'W4005',
      subject: file,
      message: `${unexpected.length} checkpoint tensors under prefix '${best.prefix}' are not used by '${g.name}'`,
      notes: [...groupKeys(unexpected.map((u) => u.key)).slice(0, 12).map((l) => `unexpected: ${l}`), ...unexpected.filter((u) => u.closest).slice(0, 5).map((u) => `'${u.key}' might be meant as '${u.closest}'`)],
    });
  }
  const report: MappingReport = {
    naming: best.naming,
    prefix: best.prefix,
    matched: best.hits.size - mismatches.length,
    expected: g.params.size,
    missing,
    unexpected,
    shapeMismatches: mismatches,
    outside,
    ignoredBuffers,
    diagnostics,
  };
  if (best.hits.size === 0) diagnostics.splice(1); // nothing matched: the per-key lists say nothing more
  return { graph: { ...g, params }, report, missingNames, bound };
}

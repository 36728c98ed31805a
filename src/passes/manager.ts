// The pass manager: runs the optimization pipeline with LLVM-style instruments
// (--print-ir-after-all, --print-ir-after=PASS, --time-passes, --verify-each,
// --disable-pass=NAME) and collects every pass's records for the fusion report.

import { closest, VovcError, type Diagnostic } from '../diag/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/printer.js';
import { verify } from '../ir/verify.js';
import { concatInplace } from './concat-inplace.js';
import { dce } from './dce.js';
import { dropFlatten } from './drop-flatten.js';
import { foldBn } from './fold-bn.js';
import { fuseConvAct } from './fuse-conv-act.js';
import { fuseResidual } from './fuse-residual.js';
import { fuseScale } from './fuse-scale.js';
import { fuseSeGate } from './fuse-se-gate.js';
import type { FusionRecord, Pass } from './pass.js';

/**
 * The pipeline, in order. BN folding comes before activation fusion (the ReLU follows the
 * BN), activation fusion before the se_gate match (the eSE fc's hardsigmoid must already be in
 * its epilogue), the scale fusion before the residual fusion (an add after a gate belongs to
 * the scale), and concat placement after every fusion (it depends on which nodes remain).
 */
export const PIPELINE: readonly Pass[] = [dce, foldBn, fuseConvAct, fuseSeGate, fuseScale, fuseResidual, concatInplace, dropFlatten];

export function passNames(): string[] {
  return PIPELINE.map((p) => p.name);
}

export interface OptimizeOptions {
  /** Print the IR after every pass. */
  printAfterAll?: boolean;
  /** Print the IR after these passes. */
  printAfter?: string[];
  /** With printAfterAll / printAfter: print only when the pass changed the IR. */
  printChangedOnly?: boolean;
  /** Log each pass's wall time and a total. */
  timePasses?: boolean;
  /** Verify the IR before the first pass and after every pass. */
  verifyEach?: boolean;
  /** Skip these passes. */
  disable?: string[];
  /** Where instrument output goes (default: stderr). */
  log?: (s: string) => void;
  /** Run these passes instead of PIPELINE (tests, experiments). */
  pipeline?: readonly Pass[];
  /**
   * Buffer donation (as JAX's donate_argnums): the caller gives up the input graph's parameter
   * arrays, and passes may overwrite them in place (BN folding rescales conv weights where they
   * lie, so a build holds one copy of the weights, not two). The input graph's parameter data
   * must not be used afterwards. `vovc build` donates the graph it bound from the checkpoint.
   */
  donateParams?: boolean;
}

export interface PassTiming {
  readonly pass: string;
  readonly ms: number;
  readonly changed: boolean;
}

export interface OptimizeResult {
  readonly graph: Graph;
  /** What each pass did or declined to do, in pipeline order. */
  readonly report: FusionRecord[];
  /** One entry per pass that ran. */
  readonly timings: PassTiming[];
  /** Passes that were disabled. */
  readonly disabled: string[];
}

function checkNames(names: readonly string[], flag: string, known: string[]): void {
  for (const n of names) {
    if (known.includes(n)) continue;
    const near = closest(n, known);
    throw new VovcError({
      severity: 'error',
      code: 'E3003',
      message: `${flag}: unknown pass '${n}'`,
      subject: n,
      notes: [...(near ? [`did you mean '${near}'?`] : []), `passes: ${known.join(', ')}`],
    });
  }
}

function verifyOrThrow(g: Graph, when: string): void {
  const errs = verify(g);
  if (!errs.length) return;
  const diags: Diagnostic[] = errs.map((d) => ({ ...d, message: `${when}: ${d.message}` }));
  throw new VovcError(diags);
}

export function optimize(g: Graph, opts: OptimizeOptions = {}): OptimizeResult {
  const log = opts.log ?? ((s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'));
  const disable = opts.disable ?? [];
  const printAfter = opts.printAfter ?? [];
  const pipeline = opts.pipeline ?? PIPELINE;
  const known = pipeline.map((p) => p.name);
  checkNames(disable, '--disable-pass', known);
  checkNames(printAfter, '--print-ir-after', known);
  if (opts.verifyEach) verifyOrThrow(g, 'IR verification failed on the input graph, before any pass');
  const report: FusionRecord[] = [];
  const timings: PassTiming[] = [];
  let cur = g;
  for (const pass of pipeline) {
    if (disable.includes(pass.name)) continue;
    const t0 = performance.now();
    let next: Graph;
    try {
      next = pass.run(cur, { record: (r) => report.push({ pass: pass.name, ...r }), donatedParams: !!opts.donateParams });
    } catch (e) {
      // A shape error while a pass rebuilds the graph is a bug of that pass: say which one.
      if (e instanceof VovcError) throw new VovcError(e.diagnostics.map((d) => ({ ...d, message: `in pass '${pass.name}': ${d.message}` })), e.exitCode);
      throw new Error(`internal error in pass '${pass.name}': ${(e as Error).message}`, { cause: e });
    }
    const ms = performance.now() - t0;
    const changed = next !== cur;
    timings.push({ pass: pass.name, ms, changed });
    if (opts.verifyEach) verifyOrThrow(next, `IR verification failed after pass '${pass.name}'`);
    if ((opts.printAfterAll || printAfter.includes(pass.name)) && (changed || !opts.printChangedOnly)) {
      log(`// ----- IR after ${pass.name}${changed ? '' : ' (unchanged)'} -----\n${printGraph(next)}`);
    }
    cur = next;
  }
  if (!opts.verifyEach) verifyOrThrow(cur, `IR verification failed after the pass pipeline (last pass '${timings.at(-1)?.pass ?? 'none'}')`);
  if (opts.timePasses) {
    const total = timings.reduce((s, t) => s + t.ms, 0);
    const w = Math.max(...timings.map((t) => t.pass.length), 5);
    const lines = ['===== pass execution timing =====', ...timings.map((t) => `${t.ms.toFixed(3).padStart(10)} ms  ${t.pass.padEnd(w)}${t.changed ? '' : '  (no change)'}`), `${total.toFixed(3).padStart(10)} ms  total`];
    log(lines.join('\n'));
  }
  return { graph: cur, report, timings, disabled: [...disable] };
}

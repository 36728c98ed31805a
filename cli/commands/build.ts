// vovc build MODEL --target T --out DIR: writes a deployable artifact. Files are written to
// a staging folder and moved into DIR only when the whole build succeeded.
import { rmSync } from 'node:fs';
import { VovcError } from '../../src/diag/diagnostics.js';
import { makeStaging, commitStaging } from '../../src/util/fsx.js';
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, bindWeights, loadGraph, parse, parseShape, requireModel, type Command } from '../common.js';
import { PASS_OPTIONS, normalizeReportFlag, passOptions } from '../passflags.js';
import { extraOptions } from './run.js';

const USAGE = `usage: vovc build MODEL --target onnx|cuda|wgsl --out DIR [--weights FILE] [--input-shape N,C,H,W] [--set key=value] [--report[=json]]`;

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    if (!args.some((a) => a === '--target' || a.startsWith('--target='))) {
      if (args.includes('--help') || args.includes('-h')) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      throw new UsageError(`missing --target\n\n${USAGE}`);
    }
    const { target, backend, options } = await extraOptions(args);
    const r = parse(args, { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, ...PASS_OPTIONS, ...options, target: { type: 'string' }, out: { type: 'string', short: 'o' } }, USAGE);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    if (!v.out) throw new UsageError(`missing --out DIR\n\n${USAGE}`);
    if (v.report !== undefined && v.report !== 'text' && v.report !== 'json') throw new UsageError(`--report takes text or json, got '${v.report as string}'`);
    if (!backend.build) throw new VovcError({ severity: 'error', code: 'E8003', message: `target '${target}' runs models but writes no artifact`, subject: target });
    const log = (s: string) => (v.quiet ? undefined : process.stderr.write(s + '\n'));
    const inputShape = v['input-shape'] ? parseShape(v['input-shape'] as string) : undefined;
    const { graph: lowered } = loadGraph(model, { set: v.set as string[] | undefined, inputShape });
    const { graph, hasWeights } = await bindWeights(lowered, v, log);
    // An interrupted build leaves no partial artifact: the staging folder goes, DIR is untouched.
    // The handlers come first: a signal between creating the folder and handling signals
    // would end the process by default and leave the folder behind.
    let staging: string | undefined;
    const cleanup = () => staging && rmSync(staging, { recursive: true, force: true });
    const onSignal = () => {
      cleanup();
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      // The report is made first, from the shapes alone: the build below donates the graph's
      // weights to the backend (BN folding rescales them in place), and whatever fails, fails
      // before DIR is touched.
      let report: string | undefined;
      if (v.report !== undefined) {
        const { optimize } = await import('../../src/passes/manager.js');
        const { fusionReport } = await import('../../src/plan/report-cli.js');
        const { shapesOnly } = await import('../../src/ir/graph.js');
        const shapes = shapesOnly(graph);
        // Same passes as the build's; its instruments (--print-ir-*, --time-passes) print once, there.
        const passes = { ...passOptions(v), printAfterAll: false, printAfter: [], timePasses: false };
        report = fusionReport(shapes, optimize(shapes, passes), v.report as 'text' | 'json');
      }
      staging = makeStaging(v.out as string);
      // `graph` is this command's own (bound from the checkpoint or seeded just now) and is not
      // read again: its parameter arrays are donated, so the build holds one copy of the weights.
      await backend.build({ graph, options: v as never, log, hasWeights, stagingDir: staging, donateParams: true });
      // A signal that came during a synchronous backend is handled in the event loop's poll
      // phase: wait until one has run (the second immediate follows it), so that an interrupted
      // build exits here instead of committing.
      for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
      const files = commitStaging(staging, v.out as string);
      if (report !== undefined) process.stdout.write(report);
      log(`wrote ${files.length} files to ${v.out as string}: ${files.slice(0, 6).join(', ')}${files.length > 6 ? ', ...' : ''}`);
      return 0;
    } catch (e) {
      cleanup();
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

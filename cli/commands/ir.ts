// vovc ir MODEL [--opt] [--report[=json]] [pass flags]: prints the graph IR, optionally after
// the optimization pipeline, and the fusion report.
import { printGraph } from '../../src/ir/printer.js';
import { MODEL_OPTIONS, loadGraph, parse, parseShape, requireModel, UsageError, type Command } from '../common.js';
import { PASS_OPTIONS, normalizeReportFlag, passOptions } from '../passflags.js';

const USAGE = `usage: vovc ir MODEL [--opt] [--report[=json]] [--spans] [--set key=value] [--input-shape N,C,H,W]
  --opt                    run the optimization pipeline and print the optimized IR
  --report[=text|json]     print the fusion report (implies --opt)
  --print-ir-after-all     print the IR after every pass (stderr)
  --print-ir-after=PASS    print the IR after the named pass(es)
  --time-passes            time each pass
  --verify-each            run the verifier after every pass
  --disable-pass=NAME      skip a pass`;

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    const r = parse(args, { ...MODEL_OPTIONS, ...PASS_OPTIONS, opt: { type: 'boolean' }, spans: { type: 'boolean' } }, USAGE);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    const inputShape = v['input-shape'] ? parseShape(v['input-shape'] as string) : undefined;
    const { graph } = loadGraph(model, { set: v.set as string[] | undefined, inputShape });
    const report = v.report as string | undefined;
    if (report !== undefined && report !== 'text' && report !== 'json') throw new UsageError(`--report takes text or json, got '${report}'`);
    const passFlags = v['print-ir-after-all'] || v['print-ir-after'] || v['time-passes'] || v['verify-each'] || v['disable-pass'];
    if (!v.opt && !report && !passFlags) {
      process.stdout.write(printGraph(graph, { spans: !!v.spans }));
      return 0;
    }
    const { optimize } = await import('../../src/passes/manager.js');
    const opt = optimize(graph, passOptions(v));
    if (!report) {
      process.stdout.write(printGraph(opt.graph, { spans: !!v.spans }));
      return 0;
    }
    const { fusionReport } = await import('../../src/plan/report-cli.js');
    process.stdout.write(fusionReport(graph, opt, report as 'text' | 'json'));
    return 0;
  },
};

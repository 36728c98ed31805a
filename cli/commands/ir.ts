// vovc ir MODEL [--opt] [--report[=json]] [pass flags]: prints the graph IR, optionally after
// the optimization pipeline, and the fusion report.
import { loadModelGraph } from '../../src/driver/model.js';
import { printGraph } from '../../src/ir/printer.js';
import { MODEL_OPTIONS, parse, parseShape, requireModel, UsageError, type Command } from '../common.js';
import { PASS_HELP, PASS_OPTIONS, normalizeReportFlag, pipelineOptions } from '../passflags.js';

const USAGE = `usage: vovc ir MODEL [--opt] [--report[=json]] [--spans] [--set key=value] [--input-shape N,C,H,W]
  --opt                    run the optimization pipeline and print the optimized IR
  --report[=text|json]     print the fusion report (implies --opt)
  --spans                  show each node's DSL location
${PASS_HELP}`;

export const command: Command = {
  async run(rawArgs) {
    const args = normalizeReportFlag(rawArgs);
    const r = parse(args, { ...MODEL_OPTIONS, ...PASS_OPTIONS, opt: { type: 'boolean' }, spans: { type: 'boolean' } }, USAGE);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    const inputShape = v['input-shape'] ? parseShape(v['input-shape'] as string) : undefined;
    const { graph } = loadModelGraph({ model, set: v.set as string[] | undefined, inputShape });
    const report = v.report as string | undefined;
    if (report !== undefined && report !== 'text' && report !== 'json') throw new UsageError(`--report takes text or json, got '${report}'`);
    const passFlags = v['print-ir-after-all'] || v['print-ir-after'] || v['time-passes'] || v['verify-each'] || v['disable-pass'];
    if (!v.opt && !report && !passFlags) {
      process.stdout.write(printGraph(graph, { spans: !!v.spans }));
      return 0;
    }
    const { Pipeline } = await import('../../src/driver/pipeline.js');
    const pipeline = new Pipeline(graph, pipelineOptions(v));
    if (!report) {
      process.stdout.write(printGraph(pipeline.optimized().graph, { spans: !!v.spans }));
      // Under --verify-each the kernel plan is verified too.
      if (v['verify-each']) pipeline.plan();
      return 0;
    }
    const { renderFusionReport } = await import('../../src/analysis/fusion-report.js');
    process.stdout.write(renderFusionReport(pipeline.report(), report as 'text' | 'json'));
    return 0;
  },
};

// The fusion report as `vovc ir MODEL --opt --report[=json]` prints it.

import type { Graph } from '../ir/graph.js';
import type { OptimizeResult } from '../passes/manager.js';
import { buildPlan } from './build.js';
import { buildReport, renderReportJson, renderReportText } from './report.js';

export function fusionReport(before: Graph, opt: OptimizeResult, format: 'text' | 'json', opts: { perLaunch?: boolean } = {}): string {
  const r = buildReport(before, opt.graph, buildPlan(opt.graph), opt.report);
  return format === 'json' ? renderReportJson(r) : renderReportText(r, opts);
}

// The analysis library: per-node costs from the op table's rules (cost.ts), grouping
// (group.ts), accumulation (aggregate.ts), the roofline (roofline.ts), the model figures
// (analyze.ts), GPU profiles (gpus.ts), reports and their renderers. See docs/ANALYSIS.md.

export { countParams } from '../ir/graph.js';
export { aggregateGraph, analyzeGraph, finishAnalysis, groupKey, mergeAggregates, GROUP_BYS } from './analyze.js';
export type { Acc, Aggregate, AnalyzeOptions, GroupBy, GroupRow, Metrics, ModelAnalysis, RooflineFigures, RooflineSettings, Totals } from './analyze.js';
export { CONVENTIONS, costNodes } from './cost.js';
export type { NodeCost } from './cost.js';
export { ELEMENT_BYTES, PRECISIONS, findGpu, loadGpus, peakFlops } from './gpus.js';
export type { GpuProfile, Precision, Sourced } from './gpus.js';
export { SCHEMA, buildReport, modelLabel } from './report.js';
export type { AnalysisReport, Delta, DeltaMetric, ReportInput, ReportModel } from './report.js';
export { renderCsv } from './render-csv.js';
export { renderHtml } from './render-html.js';
export { renderMarkdown, renderTable } from './render-text.js';
export { expandSweep, parseSweep } from './sweep.js';
export type { SweepAxis } from './sweep.js';
export type { Int32Layer, Int32Overflow } from './int32.js';
export { PiecewiseAnalyzer } from './pieces.js';

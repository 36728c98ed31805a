// The analysis library: costs as a rule per IR op (cost.ts), grouping and roofline
// (analyze.ts), GPU profiles (gpus.ts), reports and their renderers. See docs/ANALYSIS.md.

export { countParams } from '../ir/graph.js';
export { aggregateGraph, analyzeGraph, finishAnalysis, groupKey, layerKey, mergeAggregates, GROUP_BYS } from './analyze.js';
export type { Acc, Aggregate, AnalyzeOptions, GroupBy, GroupRow, Metrics, ModelAnalysis, RooflineFigures, RooflineSettings, Totals } from './analyze.js';
export { COST_RULES, CONVENTIONS, costNodes } from './cost.js';
export type { CostInput, NodeCost } from './cost.js';
export { ELEMENT_BYTES, PRECISIONS, findGpu, loadGpus, peakFlops } from './gpus.js';
export type { GpuProfile, Precision, Sourced } from './gpus.js';
export { SCHEMA, buildReport, modelLabel } from './report.js';
export type { AnalysisReport, Delta, DeltaMetric, ReportInput, ReportModel } from './report.js';
export { renderCsv } from './render-csv.js';
export { renderHtml } from './render-html.js';
export { renderMarkdown, renderTable } from './render-text.js';
export { expandSweep, parseSweep } from './sweep.js';
export type { SweepAxis } from './sweep.js';
export { analyzeVariants } from './variants.js';
export type { Int32Layer, Int32Overflow } from './int32.js';
export { PiecewiseAnalyzer } from './pieces.js';
export type { VariantJob, VariantOptions } from './variants.js';

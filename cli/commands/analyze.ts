// vovc analyze MODEL...: parameters, mult-adds, FLOPs, memory access cost, bytes moved before
// and after fusion, roofline; several models or a sweep side by side. docs/ANALYSIS.md.
import { GROUP_BYS, type GroupBy } from '../../src/analysis/analyze.js';
import { findGpu, peakFlops, PRECISIONS, type GpuProfile, type Precision } from '../../src/hw/gpus.js';
import { buildReport, type ReportInput } from '../../src/analysis/report.js';
import { renderCsv } from '../../src/analysis/render-csv.js';
import { renderHtml } from '../../src/analysis/render-html.js';
import { renderMarkdown, renderTable } from '../../src/analysis/render-text.js';
import { expandSweep, parseSweep, type SweepAxis } from '../../src/analysis/sweep.js';
import { analyzeVariants, type VariantJob } from '../../src/driver/analyze.js';
import { checkOutputFile, writeFileAtomic } from '../../src/util/fsx.js';
import { VERSION } from '../../src/version.js';
import { MODEL_OPTIONS, UsageError, parse, parseShape, type Command } from '../common.js';

const FORMATS = ['table', 'json', 'csv', 'md', 'html'] as const;
type Format = (typeof FORMATS)[number];
const FUSION = ['auto', 'on', 'off'] as const;

/** The roofline of an HTML report needs a GPU; this one is used when --gpu is not given. */
export const HTML_DEFAULT_GPU = 'H100-SXM';

const USAGE = `usage: vovc analyze MODEL... [--input-shape N,C,H,W] [--set key=value ...]
                    [--sweep key=a..b|key=a,b,c ...] [--gpu NAME] [--precision fp32|tf32|fp16|bf16]
                    [--format table|json|csv|md|html] [--group layer|block|stage|op]
                    [--fusion auto|on|off] [--out FILE [--force]]

  MODEL        zoo names or .vov files; several are compared, with deltas against the first
  --set        applies to every model and variant
  --sweep      one variant per value (a..b: integers, inclusive); several --sweep: every combination
  --gpu        roofline with a GPU profile of data/gpus.json (${HTML_DEFAULT_GPU} by default for html)
  --precision  peak of the roofline and bytes per element (default fp32; fp16 and bf16 halve the bytes; the fused bytes come from the plan's dtypes)
  --group      rows of the tables (default: layer for one model, stage for several)
  --fusion     bytes of the optimized kernel plan (auto: on unless --sweep is given)
  --out        write to FILE (atomically) instead of stdout; an existing FILE only with --force`;

function choice<T extends string>(v: unknown, allowed: readonly T[], flag: string): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${String(v)}'\n\n${USAGE}`);
  return v as T;
}

export const command: Command = {
  async run(args) {
    const r = parse(
      args,
      {
        ...MODEL_OPTIONS,
        sweep: { type: 'string', multiple: true },
        gpu: { type: 'string' },
        precision: { type: 'string' },
        format: { type: 'string' },
        group: { type: 'string' },
        fusion: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
      },
      USAGE,
    );
    if (!r) return 0;
    if (r.values.out) checkOutputFile(r.values.out as string, '--out', !!r.values.force);
    const models = r.positionals;
    if (!models.length) throw new UsageError(`missing MODEL (a zoo name or a .vov file)\n\n${USAGE}`);
    const v = r.values;
    const format: Format = choice(v.format, FORMATS, '--format') ?? 'table';
    const precision: Precision = choice(v.precision, PRECISIONS, '--precision') ?? 'fp32';
    const fusionOpt = choice(v.fusion, FUSION, '--fusion') ?? 'auto';
    const inputShape = v['input-shape'] ? parseShape(v['input-shape'] as string) : undefined;
    const sets = (v.set as string[] | undefined) ?? [];
    const axes: SweepAxis[] = [];
    for (const s of (v.sweep as string[] | undefined) ?? []) {
      const a = parseSweep(s);
      if (typeof a === 'string') throw new UsageError(`${a}\n\n${USAGE}`);
      axes.push(a);
    }
    const combos = expandSweep(axes);
    if (typeof combos === 'string') throw new UsageError(`${combos}\n\n${USAGE}`);
    const compared = models.length * combos.length > 1;
    const groupBy: GroupBy = choice(v.group, GROUP_BYS, '--group') ?? (compared ? 'stage' : 'layer');
    const gpuName = (v.gpu as string | undefined) ?? (format === 'html' ? HTML_DEFAULT_GPU : undefined);
    // Checked here, so that a bad name or precision is one error, not one per variant.
    const gpu: GpuProfile | undefined = gpuName ? findGpu(gpuName) : undefined;
    if (gpu) peakFlops(gpu, precision);
    const fusion = fusionOpt === 'on' || (fusionOpt === 'auto' && axes.length === 0);
    // The HTML charts need the stage and layer levels whatever --group is.
    const levels: GroupBy[] = format === 'html' ? [...new Set<GroupBy>([groupBy, 'stage', 'layer'])] : [groupBy];

    const jobs: VariantJob[] = [];
    const assignments: Record<string, string>[] = [];
    for (const model of models) {
      combos.forEach((combo, i) => {
        const set = [...sets, ...Object.entries(combo).map(([k, x]) => `${k}=${x}`)];
        jobs.push({ model, set, inputShape, verify: i === 0 });
        assignments.push(Object.fromEntries(set.map((a) => [a.split('=', 1)[0], a.slice(a.indexOf('=') + 1)])));
      });
    }
    const analyses = analyzeVariants(jobs, { groupBy: levels, gpu, precision, fusion });
    const items: ReportInput[] = jobs.map((j, i) => ({ model: j.model, set: assignments[i], analysis: analyses[i] }));
    const report = buildReport(items, groupBy, `vovc ${VERSION}`);
    const text =
      format === 'json'
        ? JSON.stringify(report, null, 2) + '\n'
        : format === 'csv'
          ? renderCsv(report)
          : format === 'md'
            ? renderMarkdown(report)
            : format === 'html'
              ? renderHtml(report, analyses)
              : renderTable(report);
    if (v.out) {
      writeFileAtomic(v.out as string, text);
      if (!v.quiet) process.stderr.write(`wrote ${v.out} (${format}, ${items.length} model${items.length > 1 ? 's' : ''})\n`);
    } else {
      // Wait until the text is handed to the OS: the CLI exits as soon as this returns, and a
      // pipe takes only 64 KiB before the rest of a write is queued.
      await new Promise<void>((done, fail) => process.stdout.write(text, (e) => (e ? fail(e) : done())));
    }
    return 0;
  },
};

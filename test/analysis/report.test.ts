// Reports: the JSON object (schema vovc.analysis/1), CSV (RFC 4180), text and Markdown; the
// fused bytes against the kernel plans; the roofline arithmetic; deltas between models.
import { describe, expect, it } from 'vitest';
import { analyzeGraph, type ModelAnalysis } from '../../src/analysis/analyze.js';
import type { GpuProfile } from '../../src/hw/gpus.js';
import { int } from '../../src/analysis/columns.js';
import { buildReport, SCHEMA } from '../../src/analysis/report.js';
import { renderCsv } from '../../src/analysis/render-csv.js';
import { renderMarkdown, renderTable } from '../../src/analysis/render-text.js';
import { loadModel } from '../../src/dsl/zoo.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan } from '../../src/plan/types.js';

const graph = (name: string, set: string[] = [], inputShape = [1, 3, 64, 64]): Graph => lowerSpec(loadModel(name, { set, inputShape }).spec);
const planBytes = (p: KernelPlan) => p.launches.reduce((s, l) => s + l.cost.activationBytesRead + l.cost.weightBytesRead + l.cost.bytesWritten, 0);

/** A made-up GPU with round numbers: ridge at 10 FLOP/B. */
const GPU: GpuProfile = {
  name: 'Test',
  aliases: [],
  label: 'test GPU',
  peak: { fp32: { value: 1e12, source: 'test' }, tf32: null, fp16: { value: 4e12, source: 'test' }, bf16: null },
  bandwidth: { value: 1e11, source: 'test' },
};

/** RFC 4180 reader, strict: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') (field += '"'), (i += 2);
          else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
      if (text[i] === '"') throw new Error(`bare quote at ${i}`);
      field += text[i++];
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) i += 2;
    else if (i < text.length) throw new Error(`expected CRLF at ${i}, got ${JSON.stringify(text[i])}`);
    rows.push(row);
    row = [];
    if (i >= text.length) return rows;
  }
}

describe('bytes moved', () => {
  it('op-by-op bytes equal the op-by-op plan; fused bytes equal the optimized plan, attributed to groups', () => {
    for (const name of ['ese_vovnet19b_slim_dw', 'eca_vovnet39b', 'V-19-slim-eSE']) {
      const g = graph(name);
      const plan = buildPlan(optimize(g, { log: () => {} }).graph);
      const a = analyzeGraph(g, { plan });
      expect(a.totals.bytesOps, name).toBe(planBytes(buildPlan(g, { reuse: false })));
      expect(a.totals.bytesFused, name).toBe(planBytes(plan));
      expect(a.totals.bytesFused!).toBeLessThan(a.totals.bytesOps);
      for (const level of ['layer', 'block', 'stage', 'op'] as const) expect(a.groups[level]!.reduce((s, r) => s + r.bytesFused!, 0), level).toBe(a.totals.bytesFused);
      // fp16 and bf16 halve every byte figure; the fused ones come from a plan built in that precision
      for (const precision of ['fp16', 'bf16'] as const) {
        const h = analyzeGraph(g, { plan: buildPlan(optimize(g, { log: () => {} }).graph, { precision }), precision });
        expect(h.totals.bytesOps * 2).toBe(a.totals.bytesOps);
        expect(h.totals.bytesFused! * 2).toBe(a.totals.bytesFused);
      }
      // A plan of another precision is an internal error, not a silent rescale.
      expect(() => analyzeGraph(g, { plan, precision: 'fp16' })).toThrow(/fp32 plan analysed at fp16/);
    }
  });
});

describe('roofline', () => {
  it('each kernel takes max(FLOPs / peak, bytes / bandwidth); efficiency is FLOPs / time', () => {
    const g = graph('vovnet27_slim', [], [1, 3, 32, 32]);
    const a = analyzeGraph(g, { gpu: GPU, groupBy: ['layer'] });
    // Op by op, the stem's first layer is conv, BN, ReLU: three kernels.
    const [conv, bn, relu] = g.nodes;
    const t = (flops: number, elements: number) => Math.max(flops / 1e12, (elements * 4) / 1e11);
    const n = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
    const convT = t(2 * n(conv.shape) * 3 * 9, 3 * 32 * 32 + 64 * 27 + n(conv.shape));
    const bnT = t(0, 2 * n(bn.shape) + 4 * 64);
    const reluT = t(0, 2 * n(relu.shape));
    const stem0 = a.groups.layer!.find((r) => r.key === 'stem.0')!;
    expect(stem0.roofline!.timeS).toBeCloseTo(convT + bnT + reluT, 15);
    expect(stem0.intensity).toBeCloseTo(stem0.flops / stem0.bytesOps, 12);
    expect(a.totals.timeOpsS).toBeCloseTo(a.groups.layer!.reduce((s, r) => s + r.roofline!.timeS, 0), 15);
    expect(a.totals.efficiency).toBeCloseTo(a.totals.flops / a.totals.timeOpsS!, 0);
    expect(a.roofline).toMatchObject({ gpu: 'Test', ridge: 10, bytesBasis: 'op-by-op', precision: 'fp32' });
    // BN alone is memory-bound; the head's linear too (0.5 FLOP/B)
    expect(a.groups.layer!.find((r) => r.key === 'head')!.roofline!.bound).toBe('memory');
  });

  it('a GPU without the precision is a user error', () => {
    expect(() => analyzeGraph(graph('vovnet27_slim'), { gpu: GPU, precision: 'tf32' })).toThrow(/no tf32 mode/);
  });

  it('fp16 uses its own peak', () => {
    const g = graph('vovnet27_slim', [], [1, 3, 32, 32]);
    expect(analyzeGraph(g, { gpu: GPU, precision: 'fp16' }).roofline!.peakFlops).toBe(4e12);
  });
});

function report(...items: [string, Record<string, string>, ModelAnalysis][]) {
  return buildReport(items.map(([model, set, analysis]) => ({ model, set, analysis })), 'stage', 'vovc test');
}

describe('reports', () => {
  const a = analyzeGraph(graph('vovnet27_slim'), { gpu: GPU });
  const b = analyzeGraph(graph('vovnet27_slim', ['stage4.blocks=3']), { gpu: GPU });

  it('JSON: versioned schema, conventions, deltas against the first model', () => {
    const r = JSON.parse(JSON.stringify(report(['vovnet27_slim', {}, a], ['vovnet27_slim', { 'stage4.blocks': '3' }, b])));
    expect(r.schema).toBe(SCHEMA);
    expect(r.schema).toBe('vovc.analysis/1');
    expect(r.conventions.join(' ')).toMatch(/MAC \(memory access cost\)/);
    expect(r.models[0].deltas).toBeNull();
    const d = r.models[1].deltas;
    expect(d.params.abs).toBe(b.totals.params - a.totals.params);
    expect(d.memAccess.rel).toBeCloseTo((b.totals.memAccess - a.totals.memAccess) / a.totals.memAccess, 12);
    expect(d.params.abs).toBeGreaterThan(0);
    expect(r.models[1].groups.map((g: { key: string }) => g.key)).toEqual(['stem', 'stage2', 'stage3', 'stage4', 'stage5', 'head']);
  });

  it('CSV: RFC 4180, one header row, plain numbers, quoted fields where needed', () => {
    const r = report(['vovnet27_slim', {}, a], ['odd "name", with comma', { outputs: 'stage2,stage3' }, b]);
    const text = renderCsv(r);
    const rows = parseCsv(text);
    const [header, ...body] = rows;
    expect(header).toContain('memory_access_cost_eq1_elements');
    expect(header).toContain('mult_adds_conv_linear');
    expect(header.filter((h) => /^macs?$/i.test(h))).toEqual([]);
    expect(body.length).toBe(2 * (6 + 1));
    for (const row of body) expect(row.length).toBe(header.length);
    expect(body[7][0]).toBe('odd "name", with comma');
    expect(body[7][1]).toBe('outputs=stage2,stage3');
    const col = (h: string) => header.indexOf(h);
    for (const row of body) for (const h of ['params', 'mult_adds_conv_linear', 'memory_access_cost_eq1_elements', 'roofline_time_s']) expect(row[col(h)]).toMatch(/^-?\d+(\.\d+)?(e-?\d+)?$/);
    const total = body.find((x) => x[0] === 'vovnet27_slim' && x[col('group')] === 'total')!;
    expect(Number(total[col('memory_access_cost_eq1_elements')])).toBe(a.totals.memAccess);
    const total2 = body.find((x) => x[col('group')] === 'total' && x !== total)!;
    expect(Number(total2[col('delta_params')])).toBe(b.totals.params - a.totals.params);
  });

  it('table and Markdown state the conventions and never call memory access cost "MACs"', () => {
    for (const render of [renderTable, renderMarkdown]) {
      const one = render(report(['vovnet27_slim', {}, a]));
      expect(one).toMatch(/Conventions/);
      expect(one).toMatch(/FLOPs = 2 x mult-adds/);
      expect(one).toMatch(/BN .*pooling/);
      expect(one).toMatch(/grouped and depthwise convs/);
      expect(one).toContain(int(a.totals.memAccess));
      const two = render(report(['vovnet27_slim', {}, a], ['vovnet27_slim', { 'stage4.blocks': '3' }, b]));
      for (const text of [one, two]) {
        // "MACs" only ever names the mult-adds; "MAC" only ever comes with "(memory access cost)" or "(mem. access)"
        for (const m of text.matchAll(/\bMACs\b/g)) expect(text.slice(m.index! - 11, m.index! + 30)).toMatch(/^mult-adds \(MACs|^.{10}\(MACs, multiply-accumulates/);
        for (const m of text.matchAll(/\bMAC\b/g)) expect(text.slice(m.index!, m.index! + 25)).toMatch(/^MAC \((memory access cost|mem\. access)/);
      }
      expect(two).toMatch(/Deltas against vovnet27_slim/);
      expect(two).toMatch(/side by side/);
    }
    expect(renderMarkdown(report(['vovnet27_slim', {}, a]))).toMatch(/^\| stage \| params \|/m);
  });
});

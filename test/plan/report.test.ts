import { describe, expect, test } from 'vitest';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import { buildFusionReport as buildReport, renderFusionReport, renderReportText, type FusionReport } from '../../src/analysis/fusion-report.js';
import type { Graph } from '../../src/ir/graph.js';
import type { OptimizeResult } from '../../src/passes/manager.js';

const fusionReport = (g: Graph, opt: OptimizeResult, format: 'text' | 'json', o: { perLaunch?: boolean } = {}) => renderFusionReport(buildReport(g, opt.graph, buildPlan(opt.graph), opt.report), format, o);
import { builder, concat, conv } from '../passes/ir.js';
import { zooNames } from '../../src/dsl/zoo.js';
import { lower, TINY, zoo } from '../passes/specs.js';

describe('fusion report', () => {
  test('every zoo structure: all OSA concats in place with 0 copies, no BatchNorm left', () => {
    for (const name of zooNames()) {
      const g = zoo(name);
      const opt = optimize(g);
      const r = buildReport(g, opt.graph, buildPlan(opt.graph), opt.report);
      expect([name, r.concats.length, r.concats.every((x) => x.eliminated && x.copies.length === 0), r.keptCopies, r.batchnormsLeft]).toEqual([
        name,
        g.nodes.filter((n) => n.op === 'concat').length,
        true,
        [],
        [],
      ]);
      expect(r.after.totals.copyLaunches).toBe(0);
      expect(r.concats.length).toBeGreaterThan(0);
      expect(r.before.totals.copyLaunches).toBe(r.concats.length + g.nodes.filter((n) => n.op === 'flatten').length);
    }
  });

  test('fused launches name the IR ops they cover', () => {
    const g = zoo('ese_vovnet19b_dw');
    const opt = optimize(g);
    const r = buildReport(g, opt.graph, buildPlan(opt.graph), opt.report);
    const nodes = r.fused.map((f) => f.nodes.join(' + '));
    expect(nodes).toContain('stem.1.conv_pw + stem.1.bn + stem.1.relu');
    expect(nodes).toContain('stages.3.blocks.0.attn.gap + stages.3.blocks.0.attn.fc + stages.3.blocks.0.attn.gate');
    expect(nodes).toContain('head.flatten + head.fc');
    // Every unoptimized op is covered exactly once, except the in-place concats (no launch).
    const covered = buildPlan(opt.graph).launches.flatMap((l) => l.nodes);
    const expected = g.nodes.filter((n) => n.op !== 'concat').map((n) => n.id);
    expect([...covered].sort()).toEqual([...expected].sort());
  });

  test('kept copies and BatchNorms that cannot fold are listed with the reason', () => {
    const b = builder([1, 4, 6, 6]);
    const x = conv(b, 'x', 'input', 4);
    const cat = concat(b, 'cat', ['input', x]);
    b.output('y', conv(b, 'y', cat, 4, { k: 1 }));
    const g = b.build();
    const opt = optimize(g);
    const r = buildReport(g, opt.graph, buildPlan(opt.graph), opt.report);
    expect(r.keptCopies).toEqual([{ launch: 1, nodes: ['cat'], value: 'input', reason: 'kept concat copy: the graph input is a separate, read-only buffer' }]);
    const text = renderReportText(r);
    expect(text).toContain('concats: 1 of 1 not materialized, 1 copies kept');
    expect(text).toContain('#1 copy of input into cat: kept concat copy: the graph input is a separate, read-only buffer');
  });

  test('text and JSON renderings carry the same figures', () => {
    const g = lower(TINY['tiny-v1-residual'], 't');
    const opt = optimize(g);
    const json = JSON.parse(fusionReport(g, opt, 'json')) as FusionReport;
    const text = fusionReport(g, opt, 'text');
    const fmt = (x: number) => x.toLocaleString('en-US');
    const row = (label: string) => text.split('\n').find((l) => l.startsWith(label))!;
    expect(row('kernel launches')).toContain(`${fmt(json.before.totals.launches)}`);
    expect(row('kernel launches')).toContain(`${fmt(json.after.totals.launches)}`);
    expect(row('activation bytes moved')).toContain(fmt(json.after.totals.activationBytes));
    expect(row('weight bytes read')).toContain(fmt(json.before.totals.weightBytes));
    expect(json.after.totals.totalBytes).toBe(json.after.totals.activationBytes + json.after.totals.weightBytes);
    expect(json.after.launches.reduce((s, l) => s + l.activationBytesRead + l.activationBytesWritten, 0)).toBe(json.after.totals.activationBytes);
    expect(json.ratios.launches).toBeCloseTo(json.after.totals.launches / json.before.totals.launches, 12);
    expect(fusionReport(g, opt, 'text', { perLaunch: true })).toContain('per launch, after');
  });

  test('with fold-bn disabled the report lists every BatchNorm left', () => {
    const g = lower(TINY['tiny-timm-a'], 't');
    const opt = optimize(g, { disable: ['fold-bn'] });
    const r = buildReport(g, opt.graph, buildPlan(opt.graph), opt.report);
    expect(r.batchnormsLeft.length).toBe(g.nodes.filter((n) => n.op === 'batchnorm').length);
    expect(renderReportText(r)).toContain(`batchnorm ops left: ${r.batchnormsLeft.join(', ')}`);
  });
});

// `vovc analyze` says where 32-bit indexing would overflow: the layers whose tensors pass
// 2^31 - 1 elements or bytes, and the launches the kernel plan marks needs64bit. Shape-only.
import { describe, expect, test } from 'vitest';
import { analyzeGraph } from '../../src/analysis/analyze.js';
import { PiecewiseAnalyzer } from '../../src/analysis/pieces.js';
import { buildReport } from '../../src/analysis/report.js';
import { renderMarkdown, renderTable } from '../../src/analysis/render-text.js';
import { loadModel } from '../../src/dsl/zoo.js';
import { numel, valueShape, type Graph } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { vovc } from '../helpers/fixtures.js';
import { BIG, INT32_MAX, optimizedPlan, zooGraph } from './helpers.js';

/** Layer keys whose nodes read or write a tensor of more than `limit` units, in graph order (independent of int32.ts). */
function layersOver(g: Graph, unitsPerElement: number): string[] {
  const out: string[] = [];
  for (const n of g.nodes) {
    const shapes = [...n.inputs.map((v) => valueShape(g, v)), n.shape];
    if (shapes.some((s) => BigInt(numel(s)) * BigInt(unitsPerElement) > INT32_MAX) && !out.includes(n.layer)) out.push(n.layer);
  }
  return out;
}

describe('int32 overflow in the analysis of vovnet57 at 64x3x1024x1024', () => {
  const graph = zooGraph('vovnet57', BIG);
  const plan = optimizedPlan('vovnet57', BIG);
  const a = analyzeGraph(graph, { plan });

  test('element indices: the stage2 concat and the 1x1 conv that reads it', () => {
    expect(a.int32.elements.map((r) => r.layer)).toEqual(layersOver(graph, 1));
    expect(a.int32.elements.map((r) => [r.layer, r.shape, r.elements])).toEqual([
      ['stages.0.blocks.0.concat', [64, 768, 256, 256], 64 * 768 * 256 * 256],
      ['stages.0.blocks.0.conv_concat', [64, 768, 256, 256], 64 * 768 * 256 * 256],
    ]);
  });

  test('byte offsets: every layer past 2 GiB at 4 bytes per element, fewer at 2 (fp16)', () => {
    expect(a.int32.bytes.map((r) => r.layer)).toEqual(layersOver(graph, 4));
    expect(a.int32.bytes.find((r) => r.layer === 'stem.0')).toMatchObject({ shape: [64, 64, 512, 512], elements: 2 ** 30, bytes: 2 ** 32 });
    const half = analyzeGraph(graph, { precision: 'fp16' });
    expect(half.int32.bytes.map((r) => r.layer)).toEqual(layersOver(graph, 2));
    expect(half.int32.bytes.length).toBeLessThan(a.int32.bytes.length);
    expect(half.int32.planLaunches).toBeNull();
  });

  test('the plan: the layers of exactly the launches marked needs64bit', () => {
    const flagged = plan.launches.filter((l) => l.needs64bit);
    expect(a.int32.planLaunches).toEqual({ total: plan.launches.length, needs64bit: flagged.length });
    expect(a.int32.planLayers).toEqual([...new Set(flagged.map((l) => graph.nodes.find((n) => n.id === l.nodes[0])!.layer))]);
    expect(a.int32.planLayers).toContain('stages.0.blocks.0.conv_concat');
  });

  test('piecewise analysis (sweeps) gives the same lists as the whole graph', () => {
    const spec = loadModel('vovnet57', { inputShape: [...BIG] }).spec;
    expect(new PiecewiseAnalyzer(lowerSpec).analyze(spec).int32).toEqual(analyzeGraph(lowerSpec(spec)).int32);
  });

  test('table and Markdown carry an "int32 overflow" note naming the layers; JSON the lists', () => {
    const report = buildReport([{ model: 'vovnet57', set: {}, analysis: a }], 'layer', 'test');
    const table = renderTable(report);
    const note = table.slice(table.indexOf('== int32 overflow =='), table.indexOf('== By layer =='));
    expect(note).toContain('int32 element indices overflow in 2 layers (a tensor of more than 2^31 - 1 elements): stages.0.blocks.0.concat 64x768x256x256 = 3,221,225,472');
    expect(note).toContain(`int32 byte offsets overflow in ${a.int32.bytes.length} layers`);
    expect(note).toContain(`kernel plan: ${a.int32.planLaunches!.needs64bit} of ${plan.launches.length} launches need 64-bit indices`);
    expect(renderMarkdown(report)).toContain('## int32 overflow');
    expect(JSON.parse(JSON.stringify(report)).models[0].int32.elements[0].layer).toBe('stages.0.blocks.0.concat');
  });
});

describe('int32 overflow at ordinary shapes', () => {
  test('1x3x224x224: empty lists and no note', () => {
    const a = analyzeGraph(zooGraph('vovnet57', [1, 3, 224, 224]), { plan: optimizedPlan('vovnet57', [1, 3, 224, 224]) });
    expect(a.int32).toMatchObject({ elements: [], bytes: [], planLayers: [] });
    expect(a.int32.planLaunches?.needs64bit).toBe(0);
    expect(renderTable(buildReport([{ model: 'vovnet57', set: {}, analysis: a }], 'layer', 'test'))).not.toContain('int32');
  });

  test('vovc analyze --format json at 64x3x1024x1024, and a comparison names the model', { timeout: 120_000 }, async () => {
    const r = await vovc(['analyze', 'vovnet57', '--input-shape', BIG.join(','), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout).models[0];
    expect(m.int32.elements.map((x: { layer: string }) => x.layer)).toEqual(['stages.0.blocks.0.concat', 'stages.0.blocks.0.conv_concat']);
    expect(m.int32.planLaunches.needs64bit).toBeGreaterThan(0);
    const two = await vovc(['analyze', 'vovnet27_slim', 'vovnet57', '--input-shape', BIG.join(',')]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain('== int32 overflow: #2 vovnet57 ==');
  });
});

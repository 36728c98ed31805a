// Acceptance: parameters, mult-adds and memory access cost of the zoo models at 224 equal the
// published figures of VOVNET.md, read from the document itself.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../src/analysis/analyze.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { countParams } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO } from '../helpers/fixtures.js';

const MD = readFileSync(resolve(REPO, '../shared/docs/VOVNET.md'), 'utf8');
const num = (s: string) => Number(s.replace(/,/g, ''));

/** "| vovnet39 / vovnet39a | 22,600,296 | 7.072 |" rows: name -> [params, GMACs as printed]. */
function table(): Map<string, [number, string]> {
  const m = new Map<string, [number, string]>();
  for (const r of MD.matchAll(/^\| ([\w/ ]+?) \| ([\d,]{9,}) \| (\d+\.\d{3})/gm)) for (const n of r[1].split(' / ')) m.set(n.trim(), [num(r[2]), r[3]]);
  return m;
}

/** Backbone-only parameters of the detectron2 models: "V-39-eSE 25,184,128". */
function detectron2(): Map<string, number> {
  const para = MD.slice(MD.indexOf('Backbone-only parameters'), MD.indexOf("detectron2's own"));
  return new Map([...para.matchAll(/(V-[\w-]+?)\s+([\d,]{7,})/g)].map((r) => [r[1], num(r[2])]));
}

/** "Memory access cost at 1x3x224x224 ...: vovnet27_slim 12,641,504; ..." */
function memAccess(): Map<string, number> {
  const start = MD.indexOf('Memory access cost at 1x3x224x224');
  const para = MD.slice(start, MD.indexOf('\n', MD.indexOf('ese_vovnet99b', start)));
  return new Map([...para.matchAll(/(\w+)\s+([\d,]{9,})/g)].map((r) => [r[1], num(r[2])]));
}

const analyse = (name: string) => analyzeGraph(lowerSpec(loadModel(name, { inputShape: [1, 3, 224, 224] }).spec), { groupBy: ['op'] });

describe('published figures (VOVNET.md) at 1x3x224x224', () => {
  const pub = table();
  const d2 = detectron2();
  const mac = memAccess();
  const zoo = new Set(zooNames());

  it('the document yields the expected tables', () => {
    expect(pub.size).toBe(12);
    expect(d2.size).toBe(7);
    expect(mac.size).toBe(6);
  });

  it.each([...pub.keys()])('%s: parameters and GMACs (conv + linear)', (name) => {
    expect(zoo.has(name), `${name} in the zoo`).toBe(true);
    const a = analyse(name);
    const [params, gmacs] = pub.get(name)!;
    expect(a.totals.params).toBe(params);
    expect((a.totals.macs / 1e9).toFixed(3)).toBe(gmacs);
    expect(a.totals.flops).toBe(2 * a.totals.macs);
  });

  it.each([...d2.keys()])('%s: backbone parameters', (name) => {
    const g = lowerSpec(loadModel(name).spec);
    expect(analyzeGraph(g).totals.params).toBe(d2.get(name));
    expect(countParams(g)).toBe(d2.get(name));
  });

  it.each([...mac.keys()])('%s: memory access cost (eq. 1, general form)', (name) => {
    expect(analyse(name).totals.memAccess).toBe(mac.get(name));
  });

  it('eca_vovnet39b: the ECA conv1d adds 12,800 mult-adds (5 taps x 2,560 channels)', () => {
    const a = analyse('eca_vovnet39b');
    expect(a.groups.op!.find((r) => r.key === 'eca_conv1d')!.macs).toBe(12_800);
  });

  it("ese_vovnet39b: fvcore's count (BN 2 per element, global pooling) gives timm's 7.09", () => {
    const a = analyse('ese_vovnet39b');
    expect((a.totals.fvcoreMacs / 1e9).toFixed(2)).toBe('7.09');
    expect((a.totals.macs / 1e9).toFixed(2)).toBe('7.07');
  });
});

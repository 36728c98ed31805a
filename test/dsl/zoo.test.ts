// The zoo: every model parses, resolves, lowers and verifies; its structure equals the
// PyTorch reference generator's CONFIGS, and its parameter count the published figure.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { SHARED, countParams, referenceConfigs, specToConfig } from './reference.js';

const BRIEF = [
  'vovnet27_slim', 'vovnet39', 'vovnet57', 'vovnet39a', 'vovnet57a',
  'ese_vovnet19b_slim_dw', 'ese_vovnet19b_dw', 'ese_vovnet19b_slim', 'ese_vovnet39b', 'ese_vovnet57b', 'ese_vovnet99b', 'eca_vovnet39b',
  'V-19-slim-dw-eSE', 'V-19-dw-eSE', 'V-19-slim-eSE', 'V-19-eSE', 'V-39-eSE', 'V-57-eSE', 'V-99-eSE',
];

/** centermask2's DCN backbones and their parameter counts (its own module definitions; shared/fixtures-dcn/README.md). */
const DCN: Record<string, number> = { 'V-39-eSE-DCN': 26_957_731, 'V-57-eSE-DCN': 44_441_976, 'V-99-eSE-DCN': 74_937_641 };

/** Published parameter counts, read from VOVNET.md's table and its detectron2 paragraph. */
function publishedParams(): Map<string, number> {
  const md = readFileSync(resolve(SHARED, 'docs/VOVNET.md'), 'utf8');
  const num = (s: string) => Number(s.replace(/,/g, ''));
  const m = new Map<string, number>();
  for (const r of md.matchAll(/^\| ([\w/ ]+?) \| ([\d,]+) \| [\d.]+/gm)) for (const name of r[1].split(' / ')) m.set(name.trim(), num(r[2]));
  for (const r of md.matchAll(/(V-[\w-]+?) ([\d,]{7,})/g)) m.set(r[1], num(r[2]));
  return m;
}

const NAMING: Record<string, string> = { vovnet27_slim: 'vovnet-pytorch', vovnet39: 'vovnet-pytorch', vovnet57: 'vovnet-pytorch' };
const namingOf = (n: string) => NAMING[n] ?? (n.startsWith('V-') ? 'detectron2' : 'timm');

describe('zoo', () => {
  const names = zooNames();
  const specs = new Map<string, ModelSpec>(names.map((n) => [n, loadModel(n).spec]));
  const configs = referenceConfigs();
  const published = publishedParams();

  test('holds exactly the models of the brief, in a stable order', () => {
    expect(names).toEqual([...BRIEF, ...Object.keys(DCN)]);
    expect(zooNames()).toEqual(names);
  });

  test.each(BRIEF)('%s matches the reference CONFIGS', (name) => {
    const spec = specs.get(name)!;
    const ref = configs.get(name);
    expect(ref, `${name} in vovnet_ref.py`).toBeDefined();
    const { outputs: _, ...want } = ref!;
    expect(specToConfig(spec)).toEqual(want);
    expect(spec.naming).toBe(namingOf(name));
    expect(spec.preprocessing).toBe(spec.naming === 'detectron2' ? 'detectron2' : 'timm');
    expect(spec.input).toEqual([1, 3, 224, 224]);
    expect(spec.bnEps).toBe(1e-5);
    expect(spec.outputs).toEqual(name.startsWith('V-') ? ['stage2', 'stage3', 'stage4', 'stage5'] : ['logits']);
    // stem: 3x3 convs with strides 2, 1, 2; separable second and third in depthwise variants
    expect(spec.stem.map((l) => `${l.kind} ${l.kernel} /${l.stride}`)).toEqual(
      ref!.depthwise ? ['conv 3 /2', 'sepconv 3 /1', 'sepconv 3 /2'] : ['conv 3 /2', 'conv 3 /1', 'conv 3 /2'],
    );
    // stages 3..5 open with a 3x3/2 ceil-mode max-pool, stage2 with none
    expect(spec.stages.map((s) => (s.kind === 'osa' && s.pool ? `${s.pool.kernel}/${s.pool.stride}${s.pool.ceil ? ' ceil' : ''}` : '-'))).toEqual(['-', '3/2 ceil', '3/2 ceil', '3/2 ceil']);
  });

  test.each(BRIEF)('%s has the published parameter count', (name) => {
    expect(published.has(name), `${name} in VOVNET.md`).toBe(true);
    expect(countParams(specs.get(name)!)).toBe(published.get(name));
  });

  test.each(Object.entries(DCN))('%s has centermask2\'s parameter count and DCNv2 in stages 3-5', (name, params) => {
    const spec = specs.get(name)!;
    expect(countParams(spec)).toBe(params);
    expect(spec.stages.map((s) => (s.kind === 'osa' ? s.deform ?? 'none' : ''))).toEqual(['none', 'v2', 'v2', 'v2']);
    expect(spec.deformGroups).toBe(1);
    const g = lowerSpec(spec);
    expect(g.nodes.filter((n) => n.op === 'deform_conv2d')).toHaveLength(g.nodes.filter((n) => n.id.endsWith('.conv_offset')).length);
  });

  test('every part of every spec carries a span into the zoo files', () => {
    for (const spec of specs.values()) {
      expect(spec.source).toBe(spec.name);
      const spans = [spec.span, spec.head.span, ...spec.stem.map((l) => l.span), ...spec.stages.flatMap((s) => [s.span, s.kind === 'osa' ? s.pool?.span ?? s.span : s.span])];
      for (const s of spans) expect(s?.file).toMatch(/models[/\\]vovnet_v[\w]*\.vov$/);
    }
  });

  test('each spec is a fresh value (loading twice gives equal, independent objects)', () => {
    expect(loadModel('vovnet57').spec).toEqual(specs.get('vovnet57'));
    expect(loadModel('vovnet57').spec).not.toBe(specs.get('vovnet57'));
  });

  test('unknown zoo name: one VovcError with a suggestion, exit code 1', () => {
    try {
      loadModel('vovnet58');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VovcError);
      const err = e as VovcError;
      expect(err.exitCode).toBe(1);
      expect(err.diagnostics).toHaveLength(1);
      expect(err.diagnostics[0].message).toBe("unknown model 'vovnet58'");
      expect(err.diagnostics[0].notes?.[0]).toBe("did you mean 'vovnet57'?");
    }
  });

  test('every zoo model lowers and verifies without diagnostics', () => {
    for (const [name, spec] of specs) {
      const g = lowerSpec(spec);
      expect(verify(g), name).toEqual([]);
      expect(g.outputs.map((o) => o.name), name).toEqual(spec.outputs);
    }
  });
});

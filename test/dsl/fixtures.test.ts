// Each custom fixture net of shared/fixtures has a .vov file in test/models; it must describe
// exactly the case.json config: structure, naming, input shape, outputs and parameter count.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadModel } from '../../src/dsl/zoo.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO, SHARED, countParams, specToConfig } from './reference.js';

const CASES = ['tiny-v1-residual', 'tiny-dw-ese-all-backbone', 'tiny-timm-a'];

describe('fixture .vov files', () => {
  test.each(CASES)('%s matches its case.json', (name) => {
    const caseFile = resolve(SHARED, 'fixtures', name, 'case.json');
    expect(existsSync(caseFile), caseFile).toBe(true);
    const c = JSON.parse(readFileSync(caseFile, 'utf8'));
    const { spec } = loadModel(resolve(REPO, 'test/models', `${name}.vov`));
    expect(spec.name).toBe(name);
    const { outputs, ...config } = c.config;
    expect(specToConfig(spec)).toEqual(config);
    expect(spec.naming).toBe(c.convention);
    expect([...spec.input]).toEqual(c.input_shape);
    expect(spec.outputs).toEqual(outputs);
    expect(spec.outputs).toEqual(Object.keys(c.outputs));
    expect(countParams(spec)).toBe(c.params);
    // stem strides 2, 1, 2; separable in depthwise nets; ceil-mode 3x3/2 pools before stages 3..5
    expect(spec.stem.map((l) => `${l.kind}/${l.stride}`)).toEqual(config.depthwise ? ['conv/2', 'sepconv/1', 'sepconv/2'] : ['conv/2', 'conv/1', 'conv/2']);
    expect(spec.stages.map((s) => (s.kind === 'osa' && s.pool ? `${s.pool.kernel}/${s.pool.stride}/${s.pool.ceil}` : '-'))).toEqual(['-', '3/2/true', '3/2/true', '3/2/true']);
  });

  test.each(CASES)('%s lowers to the output shapes of its case.json', (name) => {
    const c = JSON.parse(readFileSync(resolve(SHARED, 'fixtures', name, 'case.json'), 'utf8'));
    const g = lowerSpec(loadModel(resolve(REPO, 'test/models', `${name}.vov`)).spec);
    expect(verify(g)).toEqual([]);
    const nodes = new Map(g.nodes.map((n) => [n.id, n]));
    const shapes = Object.fromEntries(g.outputs.map((o) => [o.name, [...nodes.get(o.value)!.shape]]));
    expect(shapes).toEqual(c.output_shapes);
  });
});

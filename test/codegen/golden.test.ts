// Golden snapshots of the emitted CUDA and WGSL for two small models, reviewed in diffs: a
// change to the renderer shows here as text. Refresh with VOVC_UPDATE_GOLDEN=1 npx vitest run
// test/codegen/golden.test.ts (then read the diff before committing it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSources } from '../../src/codegen/cuda/render.js';
import { compileWgslArtifact } from '../../src/codegen/wgsl/index.js';
import { artifactMeta } from '../../src/driver/meta.js';
import { loadModelGraph } from '../../src/driver/model.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import { REPO } from '../helpers/fixtures.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const MODELS = ['tiny-timm-a', 'tiny-dw-ese-all-backbone'];
// The version is not part of what is reviewed (it changes with every release).
const unversioned = (s: string) => s.replaceAll(/vovc \d+\.\d+\.\d+/g, 'vovc VERSION');

function snapshot(file: string, text: string): void {
  const path = join(GOLDEN, file);
  if (process.env.VOVC_UPDATE_GOLDEN === '1') writeFileSync(path, text);
  expect(existsSync(path), `${path} is missing (make it with VOVC_UPDATE_GOLDEN=1)`).toBe(true);
  expect(text, `${file} (refresh with VOVC_UPDATE_GOLDEN=1)`).toBe(readFileSync(path, 'utf8'));
}

describe('emitted code, golden', () => {
  for (const name of MODELS) {
    const { graph } = loadModelGraph({ model: join(REPO, 'test/models', `${name}.vov`) });
    const plan = new Pipeline(graph, { verifyEach: true, passes: { log: () => {} } }).plan();
    it(`${name}: CUDA vovc_model.cu and vovc_kernels.cuh`, () => {
      const files = renderSources(plan, artifactMeta(graph, false));
      snapshot(`${name}.cuda.txt`, unversioned(['vovc_kernels.cuh', 'vovc_model.cu'].map((f) => `==> ${f} <==\n${files.get(f)}`).join('\n')));
    });
    it(`${name}: WGSL shaders`, () => {
      const r = compileWgslArtifact(plan, '0.0.0');
      snapshot(`${name}.wgsl.txt`, unversioned(r.shaders.map((s) => `==> ${s.file} <==\n${s.code}`).join('\n')));
    });
  }
  it('tiny-timm-a fp16: the tensor-core CUDA artifact (vovc_model.cu, vovc_runtime.cu)', () => {
    const { graph } = loadModelGraph({ model: join(REPO, 'test/models', 'tiny-timm-a.vov') });
    const plan = new Pipeline(graph, { verifyEach: true, passes: { log: () => {} }, precision: 'fp16' }).plan();
    const files = renderSources(plan, artifactMeta(graph, false, 'fp16'));
    snapshot('tiny-timm-a.cuda-fp16.txt', unversioned(['vovc_model.cu', 'vovc_runtime.cu'].map((f) => `==> ${f} <==\n${files.get(f)}`).join('\n')));
  });
  it('tiny-v1-residual fp16: the packed WGSL shaders and their shader-f16 variants (odd 5x7 planes)', () => {
    const { graph } = loadModelGraph({ model: join(REPO, 'test/models', 'tiny-v1-residual.vov') });
    const plan = new Pipeline(graph, { verifyEach: true, passes: { log: () => {} }, precision: 'fp16', layout: { evenPlanes: true } }).plan();
    const r = compileWgslArtifact(plan, '0.0.0');
    snapshot('tiny-v1-residual.wgsl-fp16.txt', unversioned(r.shaders.flatMap((s) => [`==> ${s.file} <==\n${s.code}`, ...(s.f16 ? [`==> ${s.f16File} <==\n${s.f16}`] : [])]).join('\n')));
  });
});

// nvcc compiles the CUDA artifact for sm_80 and sm_90 with every warning an error: a fixture's
// optimized artifact, one with every pass disabled (so every launch kind of an unoptimized plan,
// from BatchNorm to the ECA conv1d, is a kernel too), and a zoo model with depthwise convs and
// eSE gates. Every zoo model's artifact renders, each launch naming a kernel its file defines.
// Without a GPU the nvcc-built demo must say "no GPU" and exit 3.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { renderLaunches, renderSources } from '../../src/codegen/cuda/render.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import { artifactMeta } from '../../src/driver/meta.js';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-nvcc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const hasNvcc = !spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).error;
const hasGpu = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
const ALL_PASSES = 'dce,fold-bn,fuse-conv-act,fuse-se-gate,fuse-scale,fuse-residual,concat-inplace,drop-flatten';

describe('every zoo model renders a CUDA artifact whose launches name the kernels it defines', () => {
  for (const name of zooNames()) {
    it(name, () => {
      const graph = lowerSpec(loadModel(name).spec);
      const plan = new Pipeline(graph).plan();
      const model = renderSources(plan, artifactMeta(graph, false)).get('vovc_model.cu')!;
      for (const l of renderLaunches(plan).launches) {
        const kernel = /^vovc::conv_igemm<(\w+)>$/.exec(l.kernel)?.[1] ?? l.kernel;
        expect(model, `launch ${l.index} of ${name}`).toMatch(new RegExp(`(struct ${kernel} \\{|void __launch_bounds__\\(\\d+\\) ${kernel}\\()`));
      }
    });
  }
});

describe.skipIf(!hasNvcc)('nvcc builds the artifact for sm_80 and sm_90 without warnings (skipped: nvcc not on the PATH)', () => {
  const nvccBuild = (dir: string) =>
    spawnSync(
      'nvcc',
      ['-std=c++17', '-O3', '-gencode', 'arch=compute_80,code=[sm_80,compute_80]', '-gencode', 'arch=compute_90,code=sm_90', '-Werror', 'all-warnings', '-Xcompiler', '-Wall,-Wextra,-Werror', '-I', dir, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', '-o', 'vovc_demo'],
      { cwd: dir, encoding: 'utf8' },
    );

  it('tiny-timm-a: builds clean; the demo runs it (or says no GPU)', { timeout: 900_000 }, async () => {
    const c = fixtureCases().find((f) => f.name === 'tiny-timm-a')!;
    const dir = join(work, 'art');
    const b = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'cuda', '--out', dir, '-q']);
    expect(b.code, b.stderr).toBe(0);
    const cc = nvccBuild(dir);
    expect(cc.status, cc.stderr + cc.stdout).toBe(0);
    expect((cc.stderr + cc.stdout).trim()).toBe('');
    mkdirSync(join(dir, 'out'));
    const r = spawnSync(join(dir, 'vovc_demo'), [c.input, 'out', '--weights', 'weights.bin'], { cwd: dir, encoding: 'utf8' });
    if (hasGpu) {
      expect(r.status, r.stderr).toBe(0);
      for (const [name, file] of c.outputs) expect(compare(readNpyF32(join(dir, 'out', `${name}.npy`)), readNpyF32(file), c.atol, c.rtol)).toMatchObject({ ok: true });
    } else {
      expect(r.status).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/no GPU/);
    }
  });

  for (const [label, args] of [
    ['eca_vovnet39b with every pass disabled (every unoptimized launch kind)', ['eca_vovnet39b', '--input-shape', '1,3,64,64', `--disable-pass=${ALL_PASSES}`]],
    ['ese_vovnet19b_dw (depthwise convs, eSE gates)', ['ese_vovnet19b_dw', '--input-shape', '1,3,64,64']],
    ['V-99-eSE-DCN (centermask2\'s DCNv2 backbone, 1x3x224x224: the sampler in the GEMM B tile)', ['V-99-eSE-DCN']],
    ['V-39-eSE-DCN at fp16 (the sampler in the tensor-core B tile)', ['V-39-eSE-DCN', '--input-shape', '1,3,64,64', '--precision', 'fp16']],
  ] as const) {
    it(label, { timeout: 900_000 }, async () => {
      const dir = join(work, args[0]);
      const b = await vovc(['build', ...args, '--target', 'cuda', '--no-weights', '--out', dir, '-q']);
      expect(b.code, b.stderr).toBe(0);
      const cc = nvccBuild(dir);
      expect(cc.status, cc.stderr + cc.stdout).toBe(0);
      expect((cc.stderr + cc.stdout).trim()).toBe('');
    });
  }
});

describe('vovc run --target cuda without a CUDA toolchain', () => {
  it('fails with exit 3 and a one-line "no GPU" message', async () => {
    const c = fixtureCases().find((f) => f.name === 'tiny-timm-a')!;
    const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'cuda', '-q'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no GPU/);
  });
});

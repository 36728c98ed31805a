// nvcc compiles the CUDA artifact for sm_80 and sm_90 with every warning an error, and every
// zoo model's artifact uses only kernels that compile covers (kernels are templates, so one
// translation unit instantiating every variant compiles each distinct kernel once). Without a
// GPU the nvcc-built demo must say "no GPU" and exit 3.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { planOf } from '../../src/codegen/cuda/artifact.js';
import { kernelVariants, renderLaunches, renderSources } from '../../src/codegen/cuda/render.js';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-nvcc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const hasNvcc = !spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).error;
const hasGpu = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
const quiet = () => undefined;

describe('every zoo model renders from the shared kernel set', () => {
  const variants = new Set(kernelVariants());
  let kernelsHeader: string | undefined;
  for (const name of zooNames()) {
    it(name, () => {
      const graph = lowerSpec(loadModel(name).spec);
      const { plan } = planOf(graph, {}, quiet);
      for (const l of renderLaunches(plan)) expect(variants, `launch ${l.index} of ${name}`).toContain(l.kernel);
      const header = renderSources(plan).get('vovc_kernels.cuh');
      kernelsHeader ??= header;
      expect(header).toBe(kernelsHeader);
    });
  }
});

describe.skipIf(!hasNvcc)('nvcc builds the artifact for sm_80 and sm_90 without warnings (skipped: nvcc not on the PATH)', () => {
  it('tiny-timm-a artifact plus every kernel variant', { timeout: 900_000 }, async () => {
    const c = fixtureCases().find((f) => f.name === 'tiny-timm-a')!;
    const dir = join(work, 'art');
    const b = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'cuda', '--out', dir, '-q']);
    expect(b.code, b.stderr).toBe(0);
    const refs = kernelVariants().map((k) => `  reinterpret_cast<const void*>(&${k}),`).join('\n');
    writeFileSync(join(dir, 'all_kernels.cu'), `#include "vovc_kernels.cuh"\nextern const void* const vovc_all_kernels[] = {\n${refs}\n};\n`);
    const args = ['-std=c++17', '-O3', '-gencode', 'arch=compute_80,code=[sm_80,compute_80]', '-gencode', 'arch=compute_90,code=sm_90', '-Werror', 'all-warnings', '-Xcompiler', '-Wall,-Wextra,-Werror',
      '-I', dir, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', 'all_kernels.cu', '-o', 'vovc_demo'];
    const cc = spawnSync('nvcc', args, { cwd: dir, encoding: 'utf8' });
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
});

describe('vovc run --target cuda without a CUDA toolchain', () => {
  it('fails with exit 3 and a one-line "no GPU" message', async () => {
    const c = fixtureCases().find((f) => f.name === 'tiny-timm-a')!;
    const r = await vovc(['run', c.model, '--input', c.input, '--target', 'cuda'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no GPU/);
  });
});

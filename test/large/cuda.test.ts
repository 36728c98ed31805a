// The CUDA backend at large shapes:
//   - the emitted launch file of vovnet57 at 64x3x1024x1024 instantiates the 64-bit kernel
//     variant exactly for the launches the plan flags, with views of the same index type and
//     int32 literals only where the kernel is 32-bit;
//   - the kernels themselves, run by g++ with the CPU shim at indices past 2^31 and 2^32 on
//     zero-stride views (test/large/index_overflow.cpp, under ASan and UBSan);
//   - the 64-bit variants forced on small models (plan option index64 'always') give
//     bit-identical outputs to the 32-bit ones, through the whole artifact.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { shimPath } from '../../src/codegen/cuda/artifact.js';
import { encodeBlob, renderSources } from '../../src/codegen/cuda/render.js';
import type { Graph } from '../../src/ir/graph.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { seedParams } from '../../src/model/init.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan } from '../../src/plan/types.js';
import { packWeights } from '../../src/plan/weights.js';
import { randomInput } from '../passes/specs.js';
import { BIG, INT32_MAX, optimizedPlan, zooGraph } from './helpers.js';

const HERE = import.meta.dirname;
const hasGxx = !spawnSync('g++', ['--version'], { stdio: 'ignore' }).error;
const work = mkdtempSync(join(tmpdir(), 'vovc-large-cuda-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface EmittedLaunch {
  index: number;
  kernel: string;
  grid: number[];
  block: number[];
  args: string;
}

/** The launches of vovc_model.cu, parsed back from the text. */
function parseLaunches(modelCu: string): EmittedLaunch[] {
  const re = /\{ {2}\/\/ \[(\d+)\][^\n]*\n\s*auto k = &([^;]+);\n\s*VOVC_LAUNCH\(k, dim3\(([^)]*)\), dim3\(([^)]*)\), 0, stream, ([^\n]*)\);/g;
  const dims = (s: string) => s.split(',').map(Number);
  return [...modelCu.matchAll(re)].map((m) => ({ index: Number(m[1]), kernel: m[2], grid: dims(m[3]), block: dims(m[4]), args: m[5] }));
}

const indexType = (kernel: string) => /<(int32_t|int64_t)\b/.exec(kernel)?.[1];

describe('vovc_model.cu of vovnet57 at 64x3x1024x1024', () => {
  const plan = optimizedPlan('vovnet57', BIG);
  const launches = parseLaunches(renderSources(plan).get('vovc_model.cu')!);

  test('one launch per plan launch; int64_t exactly where the plan sets needs64bit', () => {
    expect(launches.map((l) => l.index)).toEqual(plan.launches.map((l) => l.index));
    const mismatched = launches.filter((e) => (indexType(e.kernel) === 'int64_t') !== plan.launches[e.index].needs64bit).map((e) => `${e.index} ${e.kernel}`);
    expect(mismatched).toEqual([]);
    const wide = launches.filter((e) => indexType(e.kernel) === 'int64_t').length;
    expect(wide).toBe(plan.launches.filter((l) => l.needs64bit).length);
    expect(wide).toBeGreaterThan(0);
  });

  test('views take the kernel\'s index type; a 32-bit launch passes no offset or stride past int32', () => {
    for (const e of launches) {
      const I = indexType(e.kernel)!;
      const views = [...e.args.matchAll(/vovc::view<(\w+)>\(([^)]*)\)/g)];
      expect(views.length, `launch ${e.index}`).toBeGreaterThan(0);
      for (const [, type, args] of views) {
        expect(type, `launch ${e.index}`).toBe(I);
        if (I === 'int32_t') for (const a of args.split(',')) expect(BigInt(a.trim()) <= INT32_MAX, `launch ${e.index}: ${a}`).toBe(true);
      }
    }
  });

  test('grids and blocks within CUDA limits (x < 2^31, y and z < 65536, 256 threads)', () => {
    for (const e of launches) {
      expect(e.grid[0], `launch ${e.index}`).toBeLessThanOrEqual(Number(INT32_MAX));
      for (const d of e.grid.slice(1)) expect(d, `launch ${e.index}`).toBeLessThanOrEqual(65535);
      expect(e.block).toEqual([256]);
    }
  });

  test('the host side sizes the 17 GiB arena in size_t', () => {
    const cu = renderSources(plan).get('vovc_model.cu')!;
    expect(plan.arenaBytes).toBeGreaterThan(2 ** 32);
    expect(cu).toContain(`size_t vovc_arena_bytes(void) { return ${plan.arenaBytes}ull; }`);
    expect(cu).toContain(`size_t vovc_input_elements(void) { return ${64 * 3 * 1024 * 1024}; }`);
  });
});

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}... exited ${r.status ?? r.signal}:\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r.stdout;
}

const CXX = ['-std=c++20', '-O1', '-pthread'];

/** Renders `plan` into `dir` with the shim beside it. */
function renderInto(dir: string, plan: KernelPlan): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const files = renderSources(plan);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  copyFileSync(shimPath(), join(dir, 'cuda_shim.h'));
  return files;
}

describe.skipIf(!hasGxx)('kernels past 2^31 under g++ with ASan and UBSan (skipped without g++)', () => {
  test('ew, conv_igemm, pool2d, linear at 2^31..2^32 indices on zero-stride views', { timeout: 300_000 }, () => {
    const dir = join(work, 'overflow');
    renderInto(dir, optimizedPlan('vovnet27_slim', [1, 3, 64, 64]));
    copyFileSync(join(HERE, 'index_overflow.cpp'), join(dir, 'index_overflow.cpp'));
    run('g++', [...CXX, '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-I', dir, 'index_overflow.cpp', '-o', 'overflow'], dir);
    const out = run(join(dir, 'overflow'), [], dir);
    expect(out.trim().split('\n')).toEqual([
      'ok ew<int32_t>: grid-stride loop ending just below 2^31',
      'ok ew<int64_t>: 4295032832 elements, last thread',
      'ok conv_igemm<int64_t,1,1>: last block of 2^32 output pixels',
      'ok pool2d<int64_t>: 4295032832 elements, first thread',
      'ok linear<int64_t>: 2148526077 outputs, last thread',
    ]);
  });
});

describe.skipIf(!hasGxx)('64-bit kernels forced on small models equal the 32-bit ones (skipped without g++)', () => {
  const TINY = join(HERE, '../onnx/tiny.vov');
  const cases: { name: string; model: string; optimized: boolean }[] = [
    // Optimized: conv_igemm, dwconv, pool2d, se_gate (eSE), ew (scale), gap, linear.
    { name: 'tiny-ese-dw, optimized plan', model: `${TINY}:tiny-ese-dw`, optimized: true },
    // Op-by-op: ew for batchnorm, relu, sigmoid, mul, add, copy and the concat copies; eca1d.
    { name: 'tiny-eca, op-by-op plan', model: `${TINY}:tiny-eca`, optimized: false },
  ];
  let common: { runtime: string; demo: string } | undefined;

  for (const c of cases) {
    test(c.name, { timeout: 600_000 }, () => {
      const g0: Graph = seedParams(zooGraph(c.model, [2, 3, 40, 40]));
      const g = c.optimized ? optimize(g0, { log: () => {} }).graph : g0;
      const opts = { reuse: c.optimized };
      const plans = { 32: buildPlan(g, opts), 64: buildPlan(g, { ...opts, index64: 'always' }) };
      expect(plans[32].launches.some((l) => l.needs64bit)).toBe(false);
      const base = join(work, c.name.replace(/\W+/g, '_'));
      const dirs = { 32: join(base, 'i32'), 64: join(base, 'i64') };
      const files = { 32: renderInto(dirs[32], plans[32]), 64: renderInto(dirs[64], plans[64]) };
      // The two launch files differ in nothing but the index type.
      const cu32 = files[32].get('vovc_model.cu')!;
      const cu64 = files[64].get('vovc_model.cu')!;
      expect(cu32).not.toContain('<int64_t');
      expect(cu64).not.toContain('<int32_t');
      expect(cu64.replaceAll('<int64_t', '<int32_t')).toBe(cu32);

      // Runtime and demo do not depend on the model: compiled once for every case.
      if (!common) {
        common = { runtime: join(work, 'runtime.o'), demo: join(work, 'demo.o') };
        run('g++', [...CXX, '-x', 'c++', '-I', dirs[32], '-c', join(dirs[32], 'vovc_runtime.cu'), '-o', common.runtime], work);
        run('g++', [...CXX, '-x', 'c++', '-I', dirs[32], '-c', join(dirs[32], 'vovc_demo.cu'), '-o', common.demo], work);
      }
      const input = { shape: [...g.input.shape], data: randomInput(g.input.shape, 11) };
      const outputs: Record<number, Map<string, Float32Array>> = {};
      for (const bits of [32, 64] as const) {
        const dir = dirs[bits];
        run('g++', [...CXX, '-x', 'c++', '-I', dir, '-c', 'vovc_model.cu', '-o', 'model.o'], dir);
        run('g++', ['-pthread', 'model.o', common.runtime, common.demo, '-o', 'demo'], dir);
        writeFileSync(join(dir, 'weights.bin'), encodeBlob(packWeights(plans[bits], g)));
        writeFileSync(join(dir, 'input.npy'), writeNpy(input));
        mkdirSync(join(dir, 'out'));
        run(join(dir, 'demo'), ['input.npy', 'out', '--weights', 'weights.bin'], dir);
        outputs[bits] = new Map(plans[bits].outputs.map((o) => [o.name, readNpy(join(dir, 'out', `${o.name}.npy`)).data as Float32Array]));
      }
      for (const o of plans[32].outputs) {
        const a = outputs[32].get(o.name)!;
        const b = outputs[64].get(o.name)!;
        expect(a.length).toBe(o.elements);
        expect(a.every(Number.isFinite)).toBe(true);
        expect(new Set(a).size, `${o.name} is not constant`).toBeGreaterThan(1);
        expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)), `${o.name}: 64-bit differs from 32-bit`).toBe(true);
      }
      rmSync(base, { recursive: true, force: true });
    });
  }
});

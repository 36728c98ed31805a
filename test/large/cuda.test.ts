// The CUDA backend at large shapes:
//   - the emitted launch file of vovnet57 at 64x3x1024x1024 computes indices in 64 bits
//     exactly in the kernels of the launches the plan flags, with constants past int32 only
//     there (as long long);
//   - generated kernels, run by g++ with the CPU shim at indices past 2^31 and 2^32 on
//     zero-stride views (test/large/index_overflow.cpp, under ASan and UBSan);
//   - the 64-bit variants forced on small models (plan option index64 'always') give
//     bit-identical outputs to the 32-bit ones, through the whole artifact.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { shimPath } from '../../src/codegen/cuda/artifact.js';
import { encodeBlob, renderLaunch, renderSources } from '../../src/codegen/cuda/render.js';
import { artifactMeta } from '../../src/driver/meta.js';
import type { Graph } from '../../src/ir/graph.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { seedParams } from '../../src/model/init.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan, Launch, TensorView, WeightRef } from '../../src/plan/types.js';
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

/** The source of the kernel a launch names (a __global__ function, or a GEMM's hook struct). */
function kernelSource(modelCu: string, kernel: string): string {
  const name = /^vovc::conv_igemm<(\w+)>$/.exec(kernel)?.[1] ?? kernel;
  const start = modelCu.search(new RegExp(`(struct ${name} \\{|void __launch_bounds__\\(\\d+\\) ${name}\\()`));
  if (start < 0) throw new Error(`no kernel ${name}`);
  return modelCu.slice(start, modelCu.indexOf('\n}', start));
}

const META = artifactMeta(zooGraph('vovnet57', [1, 3, 64, 64]), false);

describe('vovc_model.cu of vovnet57 at 64x3x1024x1024', () => {
  const plan = optimizedPlan('vovnet57', BIG);
  const cu = renderSources(plan, META).get('vovc_model.cu')!;
  const launches = parseLaunches(cu);

  test('one launch per plan launch; 64-bit index math exactly where the plan sets needs64bit', () => {
    expect(launches.map((l) => l.index)).toEqual(plan.launches.map((l) => l.index));
    const wide = (e: EmittedLaunch) => /using I = int64_t;|const int64_t /.test(kernelSource(cu, e.kernel));
    const mismatched = launches.filter((e) => wide(e) !== plan.launches[e.index].needs64bit).map((e) => `${e.index} ${e.kernel}`);
    expect(mismatched).toEqual([]);
    expect(launches.filter(wide).length).toBe(plan.launches.filter((l) => l.needs64bit).length);
    expect(launches.filter(wide).length).toBeGreaterThan(0);
  });

  test('a 32-bit kernel holds no integer constant past int32; a 64-bit one writes its large constants as long long', () => {
    for (const e of launches) {
      const src = kernelSource(cu, e.kernel).replace(/\/\/[^\n]*/g, '');
      const big = [...src.matchAll(/\b(\d+)(LL)?\b/g)].filter((m) => BigInt(m[1]) > INT32_MAX);
      if (plan.launches[e.index].needs64bit) for (const m of big) expect(m[2], `launch ${e.index}: ${m[0]}`).toBe('LL');
      else expect(big.filter((m) => !m[2]).map((m) => m[0]), `launch ${e.index}`).toEqual([]);
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
  const files = renderSources(plan, META);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  copyFileSync(shimPath(), join(dir, 'cuda_shim.h'));
  return files;
}

type V4 = [number, number, number, number];
const view = (buffer: 'input' | 'arena', shape: V4, strides: V4, value: string): TensorView => ({ buffer, name: buffer, dtype: 'f32', layout: 'nchw', offset: 0, shape, strides, value });
const ref = (name: string, offset: number, shape: number[]): WeightRef => ({ name, dtype: 'f32', offset, shape, numel: shape.reduce((a, b) => a * b, 1) });
const COST = { macs: 0, flops: 0, otherOps: 0, activationBytesRead: 0, weightBytesRead: 0, bytesWritten: 0, samples: 0 };

/**
 * Launches at indices past 2^31 and 2^32 on zero-stride views, rendered as every artifact's
 * kernels are, and index_overflow.cpp's constants (shapes, grids).
 */
function overflowKernels(): string {
  const [N, H, W] = [2, 32768, 65537];
  const [n32, h32, w32] = [1, 32767, 65537];
  const [LN, LO] = [2049, (1 << 20) - 3];
  const [CN, CH, CW] = [64, 8192, 8192];
  const base = { nodes: ['t'], layer: 't', cost: COST, needs64bit: true };
  const launches: Launch[] = [
    { ...base, index: 0, kind: 'copy', attrs: {}, params: {}, inputs: [view('input', [N, 1, H, W], [0, 0, 0, 0], 'x')], output: view('arena', [N, 1, H, W], [W, 0, 0, 1], 'y') },
    { ...base, index: 1, kind: 'copy', needs64bit: false, attrs: {}, params: {}, inputs: [view('input', [n32, 1, h32, w32], [0, 0, 0, 0], 'x')], output: view('arena', [n32, 1, h32, w32], [w32, 0, 0, 1], 'y') },
    { ...base, index: 2, kind: 'maxpool', attrs: { kernel: [1, 1], stride: [1, 1], pad: [0, 0, 0, 0], ceil: false }, params: {}, inputs: [view('input', [N, 1, H, W], [0, 0, 0, 0], 'x')], output: view('arena', [N, 1, H, W], [W, 0, 0, 1], 'y') },
    { ...base, index: 3, kind: 'linear', attrs: {}, params: { weight: ref('w', 0, [LO, 1]), bias: ref('b', LO, [LO]) }, inputs: [view('input', [LN, 1, 1, 1], [0, 0, 0, 0], 'x')], output: view('arena', [LN, LO, 1, 1], [0, 1, 0, 0], 'y') },
    {
      ...base, index: 4, kind: 'conv', attrs: { kernel: [1, 1], stride: [1, 1], pad: [0, 0, 0, 0], groups: 1, act: 'none', residual: false }, params: { weight: ref('w', 0, [1, 1, 1, 1]) },
      inputs: [view('input', [CN, 1, CH, CW], [0, 0, 0, 0], 'x')], output: view('arena', [CN, 1, CH, CW], [CW, 0, 0, 1], 'y'),
    },
  ];
  const plan = { model: 'overflow', precision: 'fp32', outputs: [], launches, weights: { dtype: 'f32', totalElements: 2 * LO, entries: [] } } as unknown as KernelPlan;
  const out: string[] = [
    `constexpr long long COPY64_N = ${N}, COPY64_H = ${H}, COPY64_W = ${W}, COPY32_N = ${n32}, COPY32_H = ${h32}, COPY32_W = ${w32};`,
    `constexpr long long LIN_N = ${LN}, LIN_O = ${LO}, LIN_BIAS = ${LO}, LIN_WEIGHTS = ${2 * LO}, CONV_N = ${CN}, CONV_H = ${CH}, CONV_W = ${CW};`,
  ];
  const names = ['copy64', 'copy32', 'pool64', 'linear64'];
  for (const l of launches) {
    const r = renderLaunch(plan, l);
    out.push(...r.kernels);
    const vm = r.launches[0];
    if (l.kind === 'conv') out.push('using ConvBig = Conv4;');
    else {
      const [gx, gy] = vm.grid.replace(/dim3\(|\)/g, '').split(',').map(Number);
      out.push(`#define k_${names[l.index]} ${vm.kernel}`, `constexpr unsigned K_${names[l.index]}_GRID_X = ${gx}, K_${names[l.index]}_GRID_Y = ${gy};`);
    }
  }
  return out.join('\n');
}

describe.skipIf(!hasGxx)('kernels past 2^31 under g++ with ASan and UBSan (skipped without g++)', () => {
  test('copy, maxpool, linear and the GEMM conv at 2^31..2^32 indices on zero-stride views', { timeout: 300_000 }, () => {
    const dir = join(work, 'overflow');
    renderInto(dir, optimizedPlan('vovnet27_slim', [1, 3, 64, 64]));
    writeFileSync(join(dir, 'kernels.inc'), overflowKernels());
    copyFileSync(join(HERE, 'index_overflow.cpp'), join(dir, 'index_overflow.cpp'));
    run('g++', [...CXX, '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-I', dir, 'index_overflow.cpp', '-o', 'overflow'], dir);
    const out = run(join(dir, 'overflow'), [], dir);
    expect(out.trim().split('\n')).toEqual([
      'ok copy, 64-bit: the last of 4295032832 elements, and no thread past it',
      'ok copy, 32-bit: the last of 2^31 - 32769 elements, and no thread past it',
      'ok maxpool, 64-bit: the last of 4295032832 elements',
      'ok linear, 64-bit: the last of 2148526077 outputs',
      'ok conv GEMM, 64-bit: the last block of 2^32 output pixels',
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
      // The two launch files differ in the index type of every kernel.
      const cu32 = files[32].get('vovc_model.cu')!;
      const cu64 = files[64].get('vovc_model.cu')!;
      expect(cu32).not.toMatch(/using I = int64_t|const int64_t (?!kInputShape)/);
      expect(cu64).not.toMatch(/using I = int;|const int /);
      const same = (t: string) => t.replaceAll('int64_t', 'int').replace(/LL\b/g, '');
      expect(same(cu64)).toBe(same(cu32));

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
        writeFileSync(join(dir, 'weights.bin'), encodeBlob(packWeights(plans[bits], (name) => g.params.get(name)?.data)));
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

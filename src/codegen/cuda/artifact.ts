// What the 'cuda' and 'cuda-emu' targets share: kernel plan -> artifact files, and running a
// built artifact's demo program on one input.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VovcError, fail } from '../../diag/diagnostics.js';
import { readNpy, writeNpy } from '../../io/npy.js';
import type { KernelPlan, WeightData } from '../../plan/types.js';
import type { TargetContext, TargetImpl, Tensor } from '../../targets/contract.js';
import { writeChunks } from '../../util/fsx.js';
import { packageRoot } from '../../util/paths.js';
import { findGpu } from '../../hw/gpus.js';
import type { CudaOptions } from './options.js';
import { blobChunks, renderSources } from './render.js';

/** A file's contents: text, bytes, or bytes in chunks (weights.bin: views of the parameters). */
export type FileData = string | Buffer | readonly Uint8Array[];

/** The plan and its weights, as the driver hands them to a CUDA target. */
function planOf(ctx: TargetContext): { plan: KernelPlan; weights: WeightData } {
  if (ctx.input.stage !== 'plan') throw new Error('internal: the CUDA targets render kernel plans');
  return ctx.input;
}

/** Every file of the artifact (sources, plus weights.bin unless `withWeights` is false). */
export function artifactFiles(ctx: TargetContext, withWeights: boolean, options: Partial<CudaOptions> = {}): Map<string, FileData> {
  const { plan, weights } = planOf(ctx);
  if (plan.precision !== 'fp32' && options.gpu) {
    const cc = findGpu(options.gpu).sm?.computeCapability ?? '0';
    if (Number(cc) < 8) fail('E6115', `--precision ${plan.precision} runs the convolutions on tensor cores (mma.sync, cp.async: compute capability 8.0 or later); ${options.gpu} is ${cc}: build it at fp32`, { subject: '--gpu' });
  }
  const files = new Map<string, FileData>(renderSources(plan, ctx.meta, { gpu: options.gpu, ioNative: options.ioNative }));
  if (withWeights) files.set('weights.bin', blobChunks(plan, weights));
  return files;
}

export function writeFiles(dir: string, files: Map<string, FileData>): string[] {
  for (const [name, data] of files) {
    if (typeof data === 'string' || Buffer.isBuffer(data)) writeFileSync(join(dir, name), data);
    else writeChunks(join(dir, name), data as readonly Uint8Array[]);
  }
  return [...files.keys()].sort();
}

async function buildInto(ctx: TargetContext, options: CudaOptions, dir: string, extra: Map<string, FileData> = new Map()): Promise<string[]> {
  const files = artifactFiles(ctx, !options.noWeights, options);
  for (const [k, v] of extra) files.set(k, v);
  return writeFiles(dir, files);
}

/** A CUDA target: builds the artifact (plus `extra` files) and runs it with `toolchain`. */
export function cudaTarget(toolchain: () => Toolchain, ready: () => void, extra: () => Map<string, FileData> = () => new Map()): TargetImpl<CudaOptions> {
  return {
    build: (ctx, options, dir) => buildInto(ctx, options, dir, extra()),
    async run(ctx, options, input) {
      ready();
      return compileAndRun(ctx, input, toolchain(), options);
    },
  };
}

/** The shim that lets g++ compile the artifact's .cu files (shipped in templates/cuda-emu/). */
export function shimPath(): string {
  return join(packageRoot(), 'templates', 'cuda-emu', 'cuda_shim.h');
}

/** The harness's emulation of the tensor-core wrappers, beside the shim (vovc_tc.cuh includes it off nvcc). */
export function tcEmuPath(): string {
  return join(dirname(shimPath()), 'vovc_tc_emu.h');
}

export const SOURCES = ['vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu'];

export interface Toolchain {
  /** Names the compiler in messages. */
  name: string;
  /** The command that compiles the sources in `dir` into `exe`. */
  command(dir: string, exe: string): [string, string[]];
}

export function hasCommand(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * Builds the artifact's demo program (cached by a hash of the sources and the command, since
 * the weights are a run-time file) and runs it on `input`; returns the outputs it wrote.
 * Exit code 3 of the demo (no GPU) becomes VovcError exit 3.
 */
function compileAndRun(ctx: TargetContext, input: Tensor, toolchain: Toolchain, options: CudaOptions): Map<string, Tensor> {
  const { plan } = planOf(ctx);
  const model = plan.model;
  const files = artifactFiles(ctx, true, options);
  const hash = createHash('sha256');
  for (const f of SOURCES.concat(['vovc.h', 'vovc_cuda.h', 'vovc_kernels.cuh', 'vovc_model.h', 'vovc_tc.cuh'])) hash.update(f).update((files.get(f) as string | undefined) ?? '');
  hash.update(readFileSync(shimPath()));
  hash.update(readFileSync(tcEmuPath()));
  const [cmd0, args0] = toolchain.command('SRC', 'EXE');
  hash.update(JSON.stringify([cmd0, args0]));
  const cacheDir = join(tmpdir(), `vovc-cuda-cache-${process.getuid?.() ?? 0}`, hash.digest('hex').slice(0, 24));
  const exe = join(cacheDir, 'vovc_demo');
  const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-run-'));
  try {
    writeFiles(work, files);
    if (!existsSync(exe)) {
      const [cmd, args] = toolchain.command(work, join(work, 'vovc_demo'));
      ctx.log(`compiling ${model} with ${toolchain.name}`);
      const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.error) fail('E6110', `cannot start ${cmd}: ${r.error.message}`, { subject: cmd }, 3);
      if (r.status !== 0) fail('E6111', `${toolchain.name} failed on the ${model} artifact: ${firstLines(r.stderr || r.stdout)}`, { subject: work });
      mkdirSync(cacheDir, { recursive: true });
      renameSync(join(work, 'vovc_demo'), exe);
    }
    writeFileSync(join(work, 'input.npy'), writeNpy(input));
    const outDir = join(work, 'out');
    mkdirSync(outDir);
    const r = spawnSync(exe, ['input.npy', outDir, '--weights', 'weights.bin'], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) fail('E6112', `cannot run ${exe}: ${r.error.message}`, { subject: exe });
    const msg = (r.stderr || '').trim().split('\n').pop()?.replace(/^vovc_demo: /, '') ?? '';
    if (r.status === 3) throw new VovcError({ severity: 'error', code: 'E6113', message: msg.startsWith('no GPU') ? msg : `no GPU: ${msg}` }, 3);
    if (r.status !== 0) fail('E6114', `the ${model} demo program failed (exit ${r.status ?? r.signal}): ${msg}`, { subject: exe });
    const out = new Map<string, Tensor>();
    for (const o of plan.outputs) out.set(o.name, readNpy(join(outDir, `${o.name}.npy`)));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function firstLines(s: string): string {
  const lines = s.trim().split('\n').filter((l) => /error/i.test(l));
  return (lines.length ? lines : s.trim().split('\n')).slice(0, 3).join(' | ');
}

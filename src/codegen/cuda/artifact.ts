// What the 'cuda' and 'cuda-emu' targets share: graph -> optimized plan -> artifact files,
// and running a built artifact's demo program on one input.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VovcError, fail } from '../../diag/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { readNpy, writeNpy } from '../../io/npy.js';
import { writeChunks } from '../../util/fsx.js';
import { passOptions } from '../../passes/options.js';
import { optimize } from '../../passes/manager.js';
import { buildPlan } from '../../plan/build.js';
import type { KernelPlan } from '../../plan/types.js';
import { packageRoot } from '../../util/paths.js';
import type { BackendContext, BuildContext, OptionValues, Tensor } from '../backend.js';
import { blobChunks, renderSources } from './render.js';

export const CLI_OPTIONS = {
  'no-weights': { type: 'boolean' },
} as const;

/** The optimized plan of the context's graph and the graph it was built from. */
export function planOf(graph: Graph, options: OptionValues, log: (s: string) => void, donateParams = false): { plan: KernelPlan; optimized: Graph } {
  const optimized = optimize(graph, { ...passOptions(options), log, donateParams }).graph;
  return { plan: buildPlan(optimized), optimized };
}

/** A file's contents: text, bytes, or bytes in chunks (weights.bin: views of the parameters). */
export type FileData = string | Buffer | readonly Uint8Array[];

/** Every file of the artifact (sources, plus weights.bin unless `withWeights` is false). */
export function artifactFiles(graph: Graph, options: OptionValues, log: (s: string) => void, withWeights: boolean, donateParams = false): Map<string, FileData> {
  const { plan, optimized } = planOf(graph, options, log, donateParams);
  const files = new Map<string, FileData>(renderSources(plan));
  if (withWeights) files.set('weights.bin', blobChunks(plan, optimized));
  return files;
}

export function writeFiles(dir: string, files: Map<string, FileData>): string[] {
  for (const [name, data] of files) {
    if (typeof data === 'string' || Buffer.isBuffer(data)) writeFileSync(join(dir, name), data);
    else writeChunks(join(dir, name), data as readonly Uint8Array[]);
  }
  return [...files.keys()].sort();
}

export async function buildInto(ctx: BuildContext, extra: Map<string, FileData> = new Map()): Promise<string[]> {
  const files = artifactFiles(ctx.graph, ctx.options, ctx.log, !ctx.options['no-weights'], ctx.donateParams);
  for (const [k, v] of extra) files.set(k, v);
  return writeFiles(ctx.stagingDir, files);
}

/** The shim that lets g++ compile the artifact's .cu files (shipped in templates/cuda-emu/). */
export function shimPath(): string {
  return join(packageRoot(), 'templates', 'cuda-emu', 'cuda_shim.h');
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
export function compileAndRun(ctx: BackendContext, input: Tensor, toolchain: Toolchain): Map<string, Tensor> {
  const files = artifactFiles(ctx.graph, ctx.options, ctx.log, true);
  const hash = createHash('sha256');
  for (const f of SOURCES.concat(['vovc.h', 'vovc_cuda.h', 'vovc_kernels.cuh', 'vovc_model.h'])) hash.update(f).update(files.get(f) as string);
  hash.update(readFileSync(shimPath()));
  const [cmd0, args0] = toolchain.command('SRC', 'EXE');
  hash.update(JSON.stringify([cmd0, args0]));
  const cacheDir = join(tmpdir(), `vovc-cuda-cache-${process.getuid?.() ?? 0}`, hash.digest('hex').slice(0, 24));
  const exe = join(cacheDir, 'vovc_demo');
  const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-run-'));
  try {
    writeFiles(work, files);
    if (!existsSync(exe)) {
      const [cmd, args] = toolchain.command(work, join(work, 'vovc_demo'));
      ctx.log(`compiling ${ctx.graph.name} with ${toolchain.name}`);
      const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.error) fail('E6110', `cannot start ${cmd}: ${r.error.message}`, { subject: cmd }, 3);
      if (r.status !== 0) fail('E6111', `${toolchain.name} failed on the ${ctx.graph.name} artifact: ${firstLines(r.stderr || r.stdout)}`, { subject: work });
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
    if (r.status !== 0) fail('E6114', `the ${ctx.graph.name} demo program failed (exit ${r.status ?? r.signal}): ${msg}`, { subject: exe });
    const out = new Map<string, Tensor>();
    for (const o of ctx.graph.outputs) out.set(o.name, readNpy(join(outDir, `${o.name}.npy`)));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function firstLines(s: string): string {
  const lines = s.trim().split('\n').filter((l) => /error/i.test(l));
  return (lines.length ? lines : s.trim().split('\n')).slice(0, 3).join(' | ');
}

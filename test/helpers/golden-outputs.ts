// Byte identity of the fixture outputs across refactors: every target's output of every shared
// fixture is hashed (SHA-256 of its float32 bytes) and compared with test/golden/outputs/<target>.json.
//
// Recording (the hashes of a known-good tree): VOVC_RECORD_OUTPUTS=1 npx vitest run <the fixture
// tests> rewrites the JSON files; VOVC_RECORD_DIR=DIR also copies each output to
// DIR/<target>/<case>/<output>.npy so that a later change can be diffed against it.
//
// An entry that a deliberate change altered keeps the hash it had before in `before` with the
// largest |new - old| in `maxAbsDiffVsBefore` (docs: the closing note of the change that made it).
//
// onnxruntime's CPU kernels and llvmpipe's shader JIT pick code paths by the CPU's instruction
// set, so their outputs may differ in the last bit on another CPU: those files record the CPU
// they were made on, and on a different one the check is skipped with that reason. The reference
// interpreter (float64 JavaScript) and cuda-emu (g++ -O2 for generic x86-64) do not depend on it.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './fixtures.js';

export interface GoldenEntry {
  readonly sha256: string;
  /** Set when a deliberate change altered the output: the hash before it and the largest difference. */
  readonly before?: string;
  readonly maxAbsDiffVsBefore?: number;
}

export interface GoldenFile {
  readonly target: string;
  /** The CPU the hashes were recorded on, for targets whose bits depend on it (else null). */
  readonly cpu: string | null;
  readonly outputs: Record<string, GoldenEntry>;
}

const CPU_DEPENDENT = new Set(['onnx', 'onnx-faithful', 'wgsl']);
const FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512_bf16', 'avx512_fp16', 'amx_tile'];

/** The CPU model and the instruction-set flags that select numeric kernels. */
function cpuFingerprint(): string {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    const have = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
    flags = FLAGS.filter((f) => have.has(f));
  } catch {
    flags = ['unknown'];
  }
  return `${process.arch} ${cpus()[0]?.model.trim() ?? 'unknown'} [${flags.join(' ')}]`;
}

const goldenPath = (target: string) => join(REPO, 'test/golden/outputs', `${target}.json`);

const sha256 = (data: Float32Array): string => createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');

/**
 * Collects one target's outputs during a test file and checks (or records) them at the end.
 * `add` takes the output as the test saw it and, when recording with VOVC_RECORD_DIR, the .npy
 * file it came from.
 */
export class GoldenOutputs {
  private readonly seen = new Map<string, string>();
  private readonly files = new Map<string, string>();
  constructor(readonly target: string) {}

  static recording(): boolean {
    return process.env.VOVC_RECORD_OUTPUTS === '1';
  }

  add(caseName: string, output: string, data: Float32Array, npyFile?: string): void {
    const key = `${caseName}/${output}`;
    this.seen.set(key, sha256(data));
    if (npyFile) this.files.set(key, npyFile);
  }

  /** Why the comparison cannot be made here, or undefined when it can. */
  skipReason(): string | undefined {
    if (GoldenOutputs.recording()) return undefined;
    const path = goldenPath(this.target);
    if (!existsSync(path)) return `no recorded hashes at ${path}`;
    const g = JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;
    const cpu = cpuFingerprint();
    if (g.cpu !== null && g.cpu !== cpu) return `the ${this.target} hashes were recorded on ${g.cpu}; this CPU is ${cpu}, whose kernels may round differently`;
    return undefined;
  }

  /** In recording mode writes the JSON; else returns the entries that differ from it. */
  finish(): { key: string; expected: string | undefined; actual: string }[] {
    if (GoldenOutputs.recording()) {
      const path = goldenPath(this.target);
      const old = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as GoldenFile) : undefined;
      const outputs: Record<string, GoldenEntry> = {};
      for (const key of [...this.seen.keys()].sort()) {
        const prev = old?.outputs[key];
        const sha = this.seen.get(key)!;
        // A re-recording keeps an earlier deliberate change's record when the bits still match it.
        outputs[key] = prev && prev.sha256 === sha ? prev : { sha256: sha };
      }
      const file: GoldenFile = { target: this.target, cpu: CPU_DEPENDENT.has(this.target) ? cpuFingerprint() : null, outputs };
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify(file, null, 1) + '\n');
      const dir = process.env.VOVC_RECORD_DIR;
      if (dir) {
        for (const [key, src] of this.files) {
          const dst = join(dir, this.target, `${key}.npy`);
          mkdirSync(dirname(dst), { recursive: true });
          copyFileSync(src, dst);
        }
      }
      return [];
    }
    const g = JSON.parse(readFileSync(goldenPath(this.target), 'utf8')) as GoldenFile;
    const bad: { key: string; expected: string | undefined; actual: string }[] = [];
    for (const [key, actual] of this.seen) if (g.outputs[key]?.sha256 !== actual) bad.push({ key, expected: g.outputs[key]?.sha256, actual });
    for (const key of Object.keys(g.outputs)) if (!this.seen.has(key)) bad.push({ key, expected: g.outputs[key].sha256, actual: 'not produced' });
    return bad;
  }
}

// The shared PyTorch fixtures (../shared/fixtures beside the repository) and the pass rule
// of their README: every output has the expected shape, is finite, and satisfies
// |actual - expected| <= atol + rtol * |expected| elementwise.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FIXTURES = resolve(REPO, '../shared/fixtures');
/** The deformable-convolution cases: centermask2's own (shared) and the G > 1 ones made here with torchvision. */
export const DCN_FIXTURES = [resolve(REPO, '../shared/fixtures-dcn'), resolve(REPO, 'test/fixtures/dcn')];

export interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  /** Zoo name, or the path of the case's .vov file (test/models/<name>.vov) for custom nets. */
  readonly model: string;
  readonly weights: string;
  readonly input: string;
  readonly inputShape: readonly number[];
  /** output name -> expected .npy path */
  readonly outputs: ReadonlyMap<string, string>;
  readonly outputShapes: Readonly<Record<string, readonly number[]>>;
  readonly convention: string;
  readonly keyPrefix: string;
  readonly atol: number;
  readonly rtol: number;
  readonly config: Record<string, unknown>;
  readonly params: number;
  readonly macs: number;
  /** Deformable cases: centermask2's STAGE_WITH_DCN (stages 2.. in order), WITH_MODULATED_DCN, DEFORMABLE_GROUPS. */
  readonly dcn?: { readonly stage_with_dcn: readonly boolean[]; readonly modulated: boolean; readonly deformable_groups: number };
}

/** The cases of the fixture folders `roots` (default the shared fixtures), sorted by name. */
export function fixtureCases(roots: readonly string[] = [FIXTURES]): FixtureCase[] {
  for (const root of roots) if (!existsSync(root)) throw new Error(`fixtures not found at ${root}`);
  return roots.flatMap((root) => readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'case.json')))
    .map((d) => {
      const dir = join(root, d.name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      return {
        name: c.name,
        dir,
        model: c.model ?? join(REPO, 'test/models', `${c.name}.vov`),
        weights: join(dir, c.weights),
        input: join(dir, c.input),
        inputShape: c.input_shape,
        outputs: new Map(Object.entries(c.outputs as Record<string, string>).map(([k, f]) => [k, join(dir, f)])),
        outputShapes: c.output_shapes,
        convention: c.convention,
        keyPrefix: c.key_prefix ?? '',
        atol: c.tolerance.atol,
        rtol: c.tolerance.rtol,
        config: c.config,
        params: c.params,
        macs: c.macs,
        ...(c.dcn ? { dcn: c.dcn } : {}),
      };
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Minimal .npy reader for the tests (float32, C order), independent of src/io/npy.ts. */
export function readNpyF32(path: string): { shape: number[]; data: Float32Array } {
  const buf = readFileSync(path);
  const hlen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = buf[6] === 1 ? 10 : 12;
  const header = buf.subarray(start, start + hlen).toString('latin1');
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) throw new Error(`${path}: expected <f4 C order`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)![1].match(/\d+/g) ?? []).map(Number);
  const bytes = buf.subarray(start + hlen);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { shape, data };
}

export interface Comparison {
  ok: boolean;
  shapeOk: boolean;
  finite: boolean;
  maxAbs: number;
  /** max over elements of |a - e| / (atol + rtol |e|); <= 1 passes */
  worstRatio: number;
  failures: number;
}

export function compare(actual: { shape: readonly number[]; data: Float32Array }, expected: { shape: readonly number[]; data: Float32Array }, atol = 1e-4, rtol = 1e-4): Comparison {
  const shapeOk = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  let finite = true, maxAbs = 0, worstRatio = 0, failures = 0;
  if (!shapeOk || actual.data.length !== expected.data.length) return { ok: false, shapeOk: false, finite, maxAbs: Infinity, worstRatio: Infinity, failures: -1 };
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i], e = expected.data[i];
    if (!Number.isFinite(a)) finite = false;
    const d = Math.abs(a - e);
    const bound = atol + rtol * Math.abs(e);
    if (d > maxAbs) maxAbs = d;
    if (d / bound > worstRatio) worstRatio = d / bound;
    if (!(d <= bound)) failures++;
  }
  return { ok: shapeOk && finite && failures === 0, shapeOk, finite, maxAbs, worstRatio, failures };
}

/** ../shared/fixtures/compare.py's reduced-precision bounds: max|diff| <= k * max|expected| and cosine >= c. */
export const REDUCED_RULE = { tf32: [1e-2, 0.9999], fp16: [1e-2, 0.9999], bf16: [6e-2, 0.999] } as const;

export interface ReducedComparison {
  ok: boolean;
  /** max|actual - expected| / max|expected| */
  relMax: number;
  cosine: number;
}

/** compare.py --precision P for one output (shape, finiteness, the relative max and the cosine, in float64). */
export function compareReduced(actual: { shape: readonly number[]; data: Float32Array }, expected: { shape: readonly number[]; data: Float32Array }, precision: keyof typeof REDUCED_RULE): ReducedComparison {
  const shapeOk = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!shapeOk) return { ok: false, relMax: Infinity, cosine: 0 };
  let finite = true, maxDiff = 0, maxExp = 0, dot = 0, na = 0, ne = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i], e = expected.data[i];
    if (!Number.isFinite(a)) finite = false;
    maxDiff = Math.max(maxDiff, Math.abs(a - e));
    maxExp = Math.max(maxExp, Math.abs(e));
    dot += a * e;
    na += a * a;
    ne += e * e;
  }
  const relMax = maxDiff / maxExp;
  const cosine = dot / Math.sqrt(na * ne);
  const [k, c] = REDUCED_RULE[precision];
  return { ok: finite && relMax <= k && cosine >= c, relMax, cosine };
}

/** Runs `vovc` (the compiled CLI) and returns exit code, stdout and stderr. */
export async function vovc(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(REPO, 'dist/cli/vovc.js'), ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    p.on('error', rej);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

// The differential mode (Csmith-style): random small valid models with seeded random weights
// and seeded random inputs, run on every target through the compiled CLI
// (`vovc run case.vov --seed W --input x.npy --target T --save DIR`, one process per target),
// every target's outputs compared with the reference interpreter's (float64 inside).
//
// The rule (PyTorch semantics, docs/HARDENING.md): where the reference is finite, the target is
// finite and within atol = rtol = 1e-4 (|a - r| <= 1e-4 + 1e-4 |r|); where the reference is NaN,
// +Inf or -Inf, the target is the same. One documented exception: onnxruntime's CPU MaxPool
// drops NaN (a window [NaN, 9] gives 9), so for ONNX and an input holding NaN or Inf the
// elements where the reference is not finite are not compared; where they differ they are
// counted as a known difference ('onnx-nonfinite'), never a failure. Its finite elements are.
//
// Plain JS without imports from vovc (an oracle independent of src/io/npy.ts).
import fc from 'fast-check';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { smallValidProgram } from './dsl.mjs';
import { spawnMeasured } from './proc.mjs';

export const DIFF_TARGETS = ['reference', 'onnx', 'cuda-emu', 'wgsl'];
export const TOL = { atol: 1e-4, rtol: 1e-4 };
/**
 * A target's documented refusals of a valid model (docs/DIAGNOSTICS.md): exit 1 with one of
 * these is counted as 'refused', not a failure. E7102: a ceil-mode max pool whose last window
 * starts past the input, which PyTorch drops and ONNX MaxPool would not.
 */
const REFUSALS = { onnx: ['E7102'] };
/** Per target process: wall time (cuda-emu includes g++) and peak memory (of the process tree's largest). */
export const DIFF_BUDGETS = { timeMs: 60_000, memoryBytes: 1 << 30 };

/** What the input holds besides seeded normal values, and how often (out of 100). */
const INPUT_MODES = [
  ['finite', 55],
  ['nan', 10],
  ['+inf', 8],
  ['-inf', 8],
  ['mixed', 13],
  ['all-nan', 6],
];

const diffArb = fc.record({
  program: smallValidProgram,
  weightSeed: fc.nat({ max: 0xffffffff }),
  inputSeed: fc.nat(),
  mode: fc.nat(99),
  positions: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
});

/** Differential case `index`: { text, input: [N, C, H, W], weightSeed, inputSeed, mode, positions }. */
export function diffCaseAt(one, caseSeed, seed, index) {
  const c = one(diffArb, caseSeed(seed ^ 0xd1ff, index));
  let m = c.mode;
  let mode = INPUT_MODES[0][0];
  for (const [name, share] of INPUT_MODES) {
    if (m < share) {
      mode = name;
      break;
    }
    m -= share;
  }
  return { text: c.program.text, pick: c.program.pick, input: c.program.input, weightSeed: c.weightSeed, inputSeed: c.inputSeed, mode, positions: c.positions };
}

/** mulberry32 */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The case's input: seeded standard normal values (Box-Muller), then its NaN / Inf. */
export function makeInput(c) {
  const n = c.input.reduce((a, d) => a * d, 1);
  const u = uniform(c.inputSeed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    x[i] = r * Math.cos(t);
    if (i + 1 < n) x[i + 1] = r * Math.sin(t);
  }
  const at = c.positions.map((p) => p % n);
  if (c.mode === 'all-nan') x.fill(NaN);
  else if (c.mode === 'nan') for (const i of at) x[i] = NaN;
  else if (c.mode === '+inf') for (const i of at) x[i] = Infinity;
  else if (c.mode === '-inf') for (const i of at) x[i] = -Infinity;
  else if (c.mode === 'mixed') at.forEach((i, k) => (x[i] = [NaN, Infinity, -Infinity][k % 3]));
  return x;
}

/** A .npy (version 1.0, little-endian float32, C order). */
export function writeNpy(shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Reads a float32 C-order .npy: { shape, data }. */
export function readNpy(buf) {
  if (buf.readUInt32BE(0) !== 0x934e554d) throw new Error('not a .npy file');
  const v = buf[6];
  const hlen = v === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = v === 1 ? 10 : 12;
  const header = buf.subarray(start, start + hlen).toString('latin1');
  if (!/'descr': '<f4'/.test(header) || /'fortran_order': True/.test(header)) throw new Error(`unexpected .npy header ${header}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)[1].match(/\d+/g) ?? []).map(Number);
  const bytes = buf.subarray(start + hlen);
  return { shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
}

const cls = (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');

function coords(shape, i) {
  const c = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    c.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `[${c.join(',')}]`;
}

/**
 * Compares a target's output `a` with the reference's `r` (same shape). `lenient`: elements
 * where the reference is not finite are only counted when they differ (ONNX on a non-finite
 * input). Returns { n, bad, known, maxErr, first?, masks: { NaN, +Inf, -Inf } of the reference }.
 */
export function compare(r, a, shape, lenient = false) {
  let bad = 0;
  let known = 0;
  let maxErr = 0;
  let first;
  const masks = { NaN: 0, '+Inf': 0, '-Inf': 0 };
  for (let i = 0; i < r.length; i++) {
    const y = r[i];
    const x = a[i];
    const k = cls(y);
    let ok;
    if (k === 'finite') {
      const err = Math.abs(x - y);
      ok = Number.isFinite(x) && err <= TOL.atol + TOL.rtol * Math.abs(y);
      if (Number.isFinite(x) && err > maxErr) maxErr = err;
    } else {
      masks[k]++;
      ok = k === 'NaN' ? Number.isNaN(x) : x === y;
      if (!ok && lenient) {
        known++;
        continue;
      }
    }
    if (!ok) {
      bad++;
      first ??= `${coords(shape, i)}: ${x} (${cls(x)}), reference ${y} (${k})`;
    }
  }
  return { n: r.length, bad, known, maxErr, masks, ...(first ? { first } : {}) };
}

/** The command line of one target's run (relative to `dir`, for replay notes). */
export const runArgs = (c, target, dir) => ['run', join(dir, 'case.vov') + (c.pick ? `:${c.pick}` : ''), '--seed', String(c.weightSeed), '--input', join(dir, 'x.npy'), '--target', target, '--save', join(dir, target), '--quiet'];

/** Writes the case's files into `dir`: case.vov and x.npy. */
export function writeDiffCase(c, dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'case.vov'), c.text);
  writeFileSync(join(dir, 'x.npy'), writeNpy(c.input, makeInput(c)));
}

/**
 * Runs case `c` on `targets` (reference first) with the CLI at `cli`, in `dir`. Returns
 * { outcome: 'ok' | 'bug', problems: [{ target, kind, message }], known, refused: { target: code }, runs: { target: { ms, maxRssBytes, code } }, slow: [target] }.
 * kind: 'exit' (a target refused a valid model or crashed), 'missing' (an output absent or of
 * another shape), 'mismatch', 'budget: memory', 'budget: output'; 'slow' targets ran past the time
 * budget (the driver re-runs them alone before it names a 'budget: time').
 */
export async function runDiffCase({ cli, c, dir, targets, limitMs, env, outputBytes }) {
  writeDiffCase(c, dir);
  const problems = [];
  const runs = {};
  const slow = [];
  const refused = {};
  const finiteInput = c.mode === 'finite';
  for (const t of targets) {
    const r = await spawnMeasured(process.execPath, [cli, ...runArgs(c, t, dir)], { limitMs, env });
    runs[t] = { ms: Math.round(r.ms), maxRssBytes: r.maxRssBytes, code: r.code };
    const say = (kind, message) => problems.push({ target: t, kind, message });
    const refusal = r.code === 1 && !/internal error|\n\s+at /.test(r.stderr) ? /error (E\d{4}):/.exec(r.stderr)?.[1] : undefined;
    if (r.timedOut) say('exit', `no exit within ${limitMs / 1000} s`);
    else if (refusal && REFUSALS[t]?.includes(refusal)) refused[t] = refusal;
    else if (r.code !== 0) say('exit', `exit ${r.code ?? r.signal}: ${r.stderr.split('\n').filter((l) => /error|Error/.test(l)).slice(0, 3).join(' | ').slice(0, 600) || r.stderr.slice(0, 600)}`);
    if (r.maxRssBytes > DIFF_BUDGETS.memoryBytes) say('budget: memory', `peak resident set ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB (budget ${(DIFF_BUDGETS.memoryBytes / 2 ** 20).toFixed(0)} MiB)`);
    if (r.stdoutBytes + r.stderrBytes > outputBytes) say('budget: output', `printed ${r.stdoutBytes + r.stderrBytes} bytes (budget ${outputBytes})`);
    if (!r.timedOut && r.ms > DIFF_BUDGETS.timeMs) slow.push(t);
  }
  const known = {};
  const refDir = join(dir, 'reference');
  if (runs.reference?.code === 0) {
    const names = readdirSync(refDir).filter((f) => f.endsWith('.npy')).sort();
    for (const t of targets) {
      if (t === 'reference' || runs[t].code !== 0) continue;
      for (const f of names) {
        const ref = readNpy(readFileSync(join(refDir, f)));
        const file = join(dir, t, f);
        if (!existsSync(file)) {
          problems.push({ target: t, kind: 'missing', message: `no ${f}` });
          continue;
        }
        const out = readNpy(readFileSync(file));
        if (out.shape.join(',') !== ref.shape.join(',')) {
          problems.push({ target: t, kind: 'missing', message: `${f} has shape [${out.shape}], the reference's [${ref.shape}]` });
          continue;
        }
        const m = compare(ref.data, out.data, ref.shape, t === 'onnx' && !finiteInput);
        if (m.known) known[t] = (known[t] ?? 0) + m.known;
        if (m.bad) problems.push({ target: t, kind: 'mismatch', message: `${f}: ${m.bad} of ${m.n} elements differ (reference NaN ${m.masks.NaN}, +Inf ${m.masks['+Inf']}, -Inf ${m.masks['-Inf']}; largest finite error ${m.maxErr.toExponential(2)}); first at ${m.first}` });
      }
    }
  }
  return { outcome: problems.length ? 'bug' : 'ok', problems, known, refused, runs, slow };
}

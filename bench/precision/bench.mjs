// Reduced precision on the CPU side (bench/gpu times the CUDA artifacts on a GPU):
//  1. bytes moved per precision: `vovc ir vovnet57 --opt --report=json --precision P` (the
//     plan's dtypes), before (op by op) and after (fused, planned);
//  2. artifact sizes per precision: the ONNX file and the CUDA weights.bin of vovnet57;
//  3. onnxruntime-node CPU latency of the fp16 vs the fp32 ONNX file, 1x3x224x224, same process,
//     runs interleaved, level 'all', intra-op threads = cores; and the fp16 file's accuracy
//     against the fp32 one by compare.py's rule (max|diff| / max|fp32|, cosine).
//
//   npm run build && node bench/precision/bench.mjs [--latency-runs 20]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSession, runSession } from '../../dist/src/codegen/onnx/index.js';

const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const latencyRuns = arg('--latency-runs', 20);
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cli = join(repo, 'dist/cli/vovc.js');
const vovc = (args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const PRECISIONS = ['fp32', 'tf32', 'fp16', 'bf16'];

console.log(`${cpus()[0].model}, ${availableParallelism()} threads; node ${process.version}\n`);

// 1. Bytes moved.
console.log('| vovnet57 1x3x224x224 | arena | activation bytes moved (before -> after) | weight bytes | DRAM bytes total (before -> after) |');
console.log('|---|---:|---:|---:|---:|');
for (const p of PRECISIONS) {
  const r = JSON.parse(vovc(['ir', 'vovnet57', '--opt', '--report=json', '--precision', p]));
  const [b, a] = [r.before.totals, r.after.totals];
  console.log(`| ${p} (${r.storage}) | ${mib(a.arenaBytes)} | ${mib(b.activationBytes)} -> ${mib(a.activationBytes)} | ${mib(a.weightBytes)} | ${mib(b.totalBytes)} -> ${mib(a.totalBytes)} |`);
}

// 2. Artifact sizes (seeded weights).
const out = mkdtempSync(join(tmpdir(), 'vovc-bench-precision-'));
const sizes = {};
for (const p of PRECISIONS) {
  const row = {};
  if (p === 'fp32' || p === 'fp16') {
    vovc(['build', 'vovnet57', '--target', 'onnx', '--precision', p, '--out', join(out, `onnx-${p}`), '-q']);
    row.onnx = statSync(join(out, `onnx-${p}`, 'vovnet57.onnx')).size;
  }
  vovc(['build', 'vovnet57', '--target', 'cuda', '--precision', p, '--out', join(out, `cuda-${p}`), '-q']);
  row.cuda = statSync(join(out, `cuda-${p}`, 'weights.bin')).size;
  sizes[p] = row;
}
console.log('\n| vovnet57 | ONNX file | ratio | CUDA weights.bin | ratio |\n|---|---:|---:|---:|---:|');
for (const p of PRECISIONS) {
  const s = sizes[p];
  const onnx = s.onnx ? `${(s.onnx / 1e6).toFixed(1)} MB | ${(s.onnx / sizes.fp32.onnx).toFixed(3)}` : '- | -';
  console.log(`| ${p} | ${onnx} | ${(s.cuda / 1e6).toFixed(1)} MB | ${(s.cuda / sizes.fp32.cuda).toFixed(3)} |`);
}

// 3. onnxruntime latency, fp16 vs fp32, interleaved.
const x = { shape: [1, 3, 224, 224], data: Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37)) };
const sessions = {};
for (const p of ['fp32', 'fp16']) sessions[p] = await createSession(join(out, `onnx-${p}`, readdirSync(join(out, `onnx-${p}`))[0]), 'all');
const lat = { fp32: [], fp16: [] };
const last = {};
for (let r = -3; r < latencyRuns; r++) {
  for (const p of ['fp32', 'fp16']) {
    const t0 = performance.now();
    last[p] = (await runSession(sessions[p], x, ['logits'])).get('logits').data;
    if (r >= 0) lat[p].push(performance.now() - t0);
  }
}
let maxDiff = 0, maxRef = 0, dot = 0, n32 = 0, n16 = 0;
for (let i = 0; i < last.fp32.length; i++) {
  const [a, b] = [last.fp16[i], last.fp32[i]];
  maxDiff = Math.max(maxDiff, Math.abs(a - b));
  maxRef = Math.max(maxRef, Math.abs(b));
  dot += a * b;
  n16 += a * a;
  n32 += b * b;
}
console.log(`\n| onnxruntime-node CPU, vovnet57 1x3x224x224, level all, ${availableParallelism()} threads | median | min | runs |\n|---|---:|---:|---:|`);
for (const p of ['fp32', 'fp16']) console.log(`| ${p} file | ${median(lat[p]).toFixed(1)} ms | ${Math.min(...lat[p]).toFixed(1)} ms | ${lat[p].length} |`);
console.log(`fp16 / fp32 median latency: ${(median(lat.fp16) / median(lat.fp32)).toFixed(2)}; fp16 logits vs fp32: max|diff|/max|fp32| ${(maxDiff / maxRef).toExponential(2)}, cosine ${(dot / Math.sqrt(n16 * n32)).toFixed(6)}`);
for (const s of Object.values(sessions)) await s.release();
rmSync(out, { recursive: true, force: true });

// ONNX backend benchmarks:
//  1. build time of vovnet57 with its 147 MB checkpoint, wall clock with Node's start included:
//     `node dist/cli/vovc.js build vovnet57 --target onnx --weights W --out DIR`, median of N runs,
//     for the optimized (default) and the --faithful file, interleaved;
//  2. where the in-process time of one build goes (checkpoint load, bind, optimize, compile to
//     protobuf chunks, write);
//  3. onnxruntime CPU latency of the optimized vs the faithful file at 1x3x224x224: medians,
//     same process, runs interleaved, intra-op threads = cores, graph optimization level 'all'.
//
//   npx tsc -p . && node bench/onnx/bench.mjs [--runs 5] [--latency-runs 20]
//
// The checkpoint (vovnet57's parameters, seeded values, timm key names) is written once to
// $TMPDIR/vovc-bench-onnx/vovnet57.safetensors.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitOnnx } from '../../dist/src/codegen/onnx/emit.js';
import { createSession, runSession, writeOnnx } from '../../dist/src/codegen/onnx/index.js';
import { metadataProps } from '../../dist/src/codegen/onnx/meta.js';
import { artifactMeta } from '../../dist/src/driver/meta.js';
import { serialize } from '../../dist/src/codegen/onnx/proto.js';
import { loadModel } from '../../dist/src/dsl/zoo.js';
import { lowerSpec } from '../../dist/src/model/lower.js';
import { seedParams } from '../../dist/src/model/init.js';
import { optimize } from '../../dist/src/passes/manager.js';
import { loadCheckpoint } from '../../dist/src/weights/checkpoint.js';
import { bindCheckpoint } from '../../dist/src/weights/mapping.js';
import { writeSafetensors } from '../../dist/src/weights/safetensors.js';

const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const runs = arg('--runs', 5);
const latencyRuns = arg('--latency-runs', 20);
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cli = join(repo, 'dist/cli/vovc.js');
const dir = join(tmpdir(), 'vovc-bench-onnx');
const weights = join(dir, 'vovnet57.safetensors');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

mkdirSync(dir, { recursive: true });
if (!existsSync(weights)) {
  const g = seedParams(lowerSpec(loadModel('vovnet57').spec));
  writeFileSync(weights, writeSafetensors([...g.params].map(([key, p]) => ({ key, shape: p.shape, data: p.data }))));
}
console.log(`checkpoint: ${weights} (${(statSync(weights).size / 1e6).toFixed(1)} MB); ${cpus()[0].model}, ${availableParallelism()} threads; node ${process.version}`);

// 1. CLI build wall time, Node start included.
const out = mkdtempSync(join(tmpdir(), 'vovc-bench-onnx-out-'));
const wall = { optimized: [], faithful: [] };
for (let r = 0; r <= runs; r++) {
  for (const mode of ['optimized', 'faithful']) {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, 'build', 'vovnet57', '--target', 'onnx', '--weights', weights, '--out', join(out, mode), '--quiet', ...(mode === 'faithful' ? ['--faithful'] : [])], { stdio: 'inherit' });
    if (r > 0) wall[mode].push(performance.now() - t0); // run 0 warms the page cache
  }
}
const sizes = Object.fromEntries(['optimized', 'faithful'].map((m) => [m, statSync(join(out, m, 'vovnet57.onnx')).size]));
console.log('\n| vovc build vovnet57 --target onnx --weights (147 MB) | median wall, Node start included | runs | file |');
console.log('|---|---|---|---|');
for (const m of ['optimized', 'faithful']) console.log(`| ${m} | ${ms(median(wall[m]))} (min ${ms(Math.min(...wall[m]))}) | ${runs} | ${(sizes[m] / 1e6).toFixed(1)} MB |`);
const node = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  node.push(performance.now() - t0);
}
console.log(`(bare \`node -e 0\`: ${ms(median(node))})`);

// 2. In-process breakdown of one optimized build (median of `runs`).
const phases = { 'load checkpoint': [], bind: [], optimize: [], 'emit ONNX graph': [], serialize: [], write: [] };
const lowered = lowerSpec(loadModel('vovnet57').spec);
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  const lap = (k) => {
    const n = performance.now();
    phases[k].push(n - t);
    t = n;
  };
  const ck = await loadCheckpoint(weights);
  lap('load checkpoint');
  const g = bindCheckpoint(lowered, ck.tensors).graph;
  lap('bind');
  const og = optimize(g).graph;
  lap('optimize');
  const meta = artifactMeta(g, true);
  const parts = emitOnnx(og, { opset: 17, producerVersion: meta.vovcVersion, dynamicBatch: false, dynamicHw: false, docString: '', metadata: metadataProps(meta, 'optimized') });
  lap('emit ONNX graph');
  const c = serialize(parts);
  lap('serialize');
  writeOnnx(c, out, 'inproc.onnx');
  lap('write');
}
console.log('\n| phase of one optimized build, in process | median |\n|---|---|');
for (const [k, v] of Object.entries(phases)) console.log(`| ${k} | ${ms(median(v))} |`);

// 3. onnxruntime latency, optimized vs faithful, interleaved.
const x = { shape: [1, 3, 224, 224], data: Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37)) };
const sessions = {};
for (const m of ['optimized', 'faithful']) {
  const t0 = performance.now();
  sessions[m] = await createSession(join(out, m, 'vovnet57.onnx'), 'all');
  console.log(`${m}: session created in ${ms(performance.now() - t0)}`);
}
const lat = { optimized: [], faithful: [] };
for (let r = -3; r < latencyRuns; r++) {
  for (const m of ['optimized', 'faithful']) {
    const t0 = performance.now();
    await runSession(sessions[m], x, ['logits']);
    if (r >= 0) lat[m].push(performance.now() - t0);
  }
}
console.log(`\n| onnxruntime-node CPU, vovnet57 1x3x224x224, level all, ${availableParallelism()} threads | median | min |\n|---|---|---|`);
for (const m of ['optimized', 'faithful']) console.log(`| ${m} | ${lat[m].length && median(lat[m]).toFixed(1)} ms | ${Math.min(...lat[m]).toFixed(1)} ms |`);
for (const s of Object.values(sessions)) await s.release();
rmSync(out, { recursive: true, force: true });

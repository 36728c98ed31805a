// What deformable convolution costs at run time: onnxruntime-node CPU latency of centermask2's
// V-39-eSE-DCN (DCNv2 in stages 3-5) against the plain V-39-eSE, same process, runs
// interleaved, seeded weights, 1x3xSxS, intra-op threads = cores, graph optimization 'all':
// the DCN file as DeformConv (opset 19, the default) and decomposed (GridSample + Conv, opset 17).
//
//   npx tsc -p . && node bench/dcn/bench.mjs [--size 224] [--runs 10]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileOnnx, createSession, runSession } from '../../dist/src/codegen/onnx/index.js';
import { artifactMeta } from '../../dist/src/driver/meta.js';
import { loadModel } from '../../dist/src/dsl/zoo.js';
import { lowerSpec } from '../../dist/src/model/lower.js';
import { seedParams } from '../../dist/src/model/init.js';
import { optimize } from '../../dist/src/passes/manager.js';

const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const size = arg('--size', 224);
const runs = arg('--runs', 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'vovc-bench-dcn-'));

const variants = [
  ['V-39-eSE', {}],
  ['V-39-eSE-DCN', {}],
  ['V-39-eSE-DCN', { opset: 17, deformLowering: 'decompose' }],
];
const sessions = [];
for (const [model, extra] of variants) {
  const g = seedParams(lowerSpec(loadModel(model, { inputShape: [1, 3, size, size] }).spec));
  const opt = optimize(g).graph;
  const onnx = compileOnnx(opt, { faithful: false, externalData: false, dynamicBatch: false, dynamicHw: false, ioNative: false, ...extra }, artifactMeta(g, true, 'fp32'));
  const bytes = Buffer.concat(onnx.model);
  sessions.push({ label: `${model}${extra.deformLowering ? ' (decomposed, opset 17)' : model.endsWith('DCN') ? ' (DeformConv, opset 19)' : ''}`, s: await createSession(bytes, 'all'), t: [] });
}
const x = { shape: [1, 3, size, size], data: Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37)) };
for (const v of sessions) await runSession(v.s, x, ['stage5']); // warm-up
for (let r = 0; r < runs; r++) {
  for (const v of sessions) {
    const t0 = performance.now();
    await runSession(v.s, x, ['stage5']);
    v.t.push(performance.now() - t0);
  }
}
const base = median(sessions[0].t);
console.log(`onnxruntime-node CPU, 1x3x${size}x${size}, ${runs} interleaved runs, ${availableParallelism()} threads (${cpus()[0].model})`);
console.log('| model | median ms | vs V-39-eSE |');
console.log('|---|---|---|');
for (const v of sessions) console.log(`| ${v.label} | ${median(v.t).toFixed(1)} | ${(median(v.t) / base).toFixed(2)}x |`);
rmSync(dir, { recursive: true, force: true });

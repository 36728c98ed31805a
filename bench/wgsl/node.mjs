// Per-run time of vovc's WGSL module in Node (Dawn via the `webgpu` package; on a machine
// without a GPU that is Mesa's llvmpipe through Dawn's OpenGL backend), seeded weights: the
// artifact's own host module (model.js: upload, dispatches, readback), runs after one warm-up.
// Usage: npx tsc -p . && node bench/wgsl/node.mjs [--models a,b] [--sizes 64] [--runs N]
//   [--baseline DIR]: also the module built by another vovc checkout's dist/ (DIR, built with
//   `npx tsc -p .`), on the same device, runs interleaved with this one's.
// Chromium's SwiftShader (the adapter of bench.mjs) instead of llvmpipe: prefix
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
// (Dawn's Vulkan backend then finds it first). Mesa caches compiled shaders on disk; set
// MESA_SHADER_CACHE_DISABLE=true to see cold compile times.
// Prints one line per model and build: adapter, createModel time, median and min per-run ms.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { wgslCompiler } from './compile.mjs';

process.env.EGL_PLATFORM ??= 'surfaceless';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { models: { type: 'string', default: 'vovnet27_slim' }, sizes: { type: 'string', default: '64' }, runs: { type: 'string', default: '7' }, baseline: { type: 'string' } } });
const dist = (root, p) => import(pathToFileURL(join(root, 'dist/src', p)).href);

const { loadModel } = await dist(REPO, 'dsl/zoo.js');
const { lowerSpec } = await dist(REPO, 'model/lower.js');
const { seedParams } = await dist(REPO, 'model/init.js');
const { nodeDevice } = await dist(REPO, 'codegen/wgsl/dawn.js');
const builds = [['vovc', await wgslCompiler(REPO)]];
if (args.baseline) builds.push([`baseline ${args.baseline}`, await wgslCompiler(resolve(args.baseline))]);

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-node-'));
try {
  for (const model of args.models.split(',')) {
    for (const size of args.sizes.split(',').map(Number)) {
      const shape = [1, 3, size, size];
      const g = seedParams(lowerSpec(loadModel(model, { inputShape: shape }).spec));
      const { device, description } = await nodeDevice();
      const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
      const runs = [];
      for (const [label, compileWgsl] of builds) {
        const { blob, rendered } = compileWgsl(g);
        const file = join(dir, `${model}-${size}-${runs.length}.mjs`);
        writeFileSync(file, rendered.hostJs);
        const { createModel } = await import(pathToFileURL(file).href);
        const t0 = performance.now();
        const m = await createModel(device, blob.buffer);
        const setup = performance.now() - t0;
        await m.run(x); // the first run also compiles the shaders in some drivers (llvmpipe)
        runs.push({ label, m, setup, shaders: rendered.shaders.length, times: [] });
      }
      for (let r = 0; r < Number(args.runs); r++) {
        for (const run of runs) {
          const t = performance.now();
          await run.m.run(x);
          run.times.push(performance.now() - t);
        }
      }
      for (const run of runs) {
        run.m.destroy();
        console.log(`${model} 1x3x${size}x${size}, ${run.label} on ${description}: ${run.shaders} shaders, createModel ${run.setup.toFixed(0)} ms, per run median ${median(run.times).toFixed(1)} ms, min ${Math.min(...run.times).toFixed(1)} ms (${run.times.length} runs)`);
      }
      device.destroy();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Per-run time of vovc's WGSL module in Node (Dawn via the `webgpu` package; on a machine
// without a GPU that is Mesa's llvmpipe through Dawn's OpenGL backend), seeded weights.
// Usage: npx tsc -p . && node bench/wgsl/node.mjs [--models a,b] [--sizes 64] [--runs N]
// Chromium's SwiftShader (the adapter of bench.mjs) instead of llvmpipe: prefix
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
// (Dawn's Vulkan backend then finds it first). Mesa caches compiled shaders on disk; set
// MESA_SHADER_CACHE_DISABLE=true to see cold compile times.
// Prints one line per model: adapter, pipeline creation time, median and min per-run ms.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

process.env.EGL_PLATFORM ??= 'surfaceless';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(pathToFileURL(join(REPO, 'dist/src', p)).href);
const { values: args } = parseArgs({ options: { models: { type: 'string', default: 'vovnet27_slim' }, sizes: { type: 'string', default: '64' }, runs: { type: 'string', default: '7' } } });

const { loadModel } = await dist('dsl/zoo.js');
const { lowerSpec } = await dist('model/lower.js');
const { seedParams } = await dist('model/init.js');
const { compileWgsl } = await dist('codegen/wgsl/index.js');
const { nodeDevice } = await dist('codegen/wgsl/dawn.js');

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-node-'));
try {
  for (const model of args.models.split(',')) {
    for (const size of args.sizes.split(',').map(Number)) {
      const shape = [1, 3, size, size];
      const g = seedParams(lowerSpec(loadModel(model, { inputShape: shape }).spec));
      const { blob, rendered } = compileWgsl(g);
      const file = join(dir, `${model}-${size}.mjs`);
      writeFileSync(file, rendered.hostJs);
      const { createModel } = await import(pathToFileURL(file).href);
      const { device, description } = await nodeDevice();
      const t0 = performance.now();
      const m = await createModel(device, blob.buffer);
      const setup = performance.now() - t0;
      const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
      await m.run(x); // the first run finishes pipeline compilation in some drivers
      const times = [];
      for (let r = 0; r < Number(args.runs); r++) {
        const t = performance.now();
        await m.run(x);
        times.push(performance.now() - t);
      }
      m.destroy();
      device.destroy();
      console.log(`${model} 1x3x${size}x${size} on ${description}: ${rendered.shaders.length} shaders, createModel ${setup.toFixed(0)} ms, per run median ${median(times).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)} ms (${times.length} runs)`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

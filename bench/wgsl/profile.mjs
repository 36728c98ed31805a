// Per-dispatch time of vovc's WGSL shaders in Node (Dawn; llvmpipe on a machine without a GPU):
// every dispatch of one forward pass in its own submission, waited for, repeated, median per
// dispatch. Seeded weights. For finding the slow kernels, not for end-to-end numbers.
// Usage: npx tsc -p . && node bench/wgsl/profile.mjs [--model vovnet27_slim] [--size 64] [--runs 3]
// Chromium's SwiftShader (the adapter of bench.mjs) instead of llvmpipe: prefix
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
// (Dawn's Vulkan backend then finds it first). Mesa caches compiled shaders on disk; set
// MESA_SHADER_CACHE_DISABLE=true to see cold compile times.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { wgslCompiler } from './compile.mjs';

process.env.EGL_PLATFORM ??= 'surfaceless';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(pathToFileURL(join(REPO, 'dist/src', p)).href);
const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'vovnet27_slim' }, size: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' } } });

const { loadModel } = await dist('dsl/zoo.js');
const { lowerSpec } = await dist('model/lower.js');
const { seedParams } = await dist('model/init.js');
const compileWgsl = await wgslCompiler(REPO);
const { nodeDevice } = await dist('codegen/wgsl/dawn.js');

const size = Number(args.size);
const g = seedParams(lowerSpec(loadModel(args.model, { inputShape: [1, 3, size, size] }).spec));
const { plan, blob, rendered } = compileWgsl(g);
const { device, description } = await nodeDevice();
const buffers = new Map();
for (const [name, bytes] of Object.entries(rendered.buffers)) buffers.set(name, device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
for (const [name, [b, e]] of Object.entries(rendered.chunks)) device.queue.writeBuffer(buffers.get(name), 0, blob.buffer, b, e - b);
const pipelines = rendered.shaders.map((s) => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: s.code }), entryPoint: 'main' } }));
const groups = rendered.dispatches.map((d) => device.createBindGroup({ layout: pipelines[d.shader].getBindGroupLayout(0), entries: d.bindings.map((b) => ({ binding: b.binding, resource: { buffer: buffers.get(b.buffer) } })) }));
const once = async (i) => {
  const d = rendered.dispatches[i];
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipelines[d.shader]);
  pass.setBindGroup(0, groups[i]);
  pass.dispatchWorkgroups(...d.groups);
  pass.end();
  const t = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t;
};
for (let i = 0; i < rendered.dispatches.length; i++) await once(i); // compiles on first use
const times = rendered.dispatches.map(() => []);
for (let r = 0; r < Number(args.runs); r++) for (let i = 0; i < rendered.dispatches.length; i++) times[i].push(await once(i));
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
let total = 0;
console.log(`${args.model} 1x3x${size}x${size} on ${description}; median of ${args.runs} per dispatch`);
rendered.dispatches.forEach((d, i) => {
  const s = rendered.shaders[d.shader];
  const l = plan.launches[s.launch];
  const ms = med(times[i]);
  total += ms;
  const wg = /@workgroup_size\((\d+)\)/.exec(s.code)[1];
  console.log(`${s.file.padEnd(18)} ${ms.toFixed(1).padStart(8)} ms  ${(l.cost.macs / 1e6).toFixed(1).padStart(7)} MMAC  ${(l.cost.macs / ms / 1e6).toFixed(2).padStart(6)} GMAC/s  groups ${d.groups.join('x')} x ${wg}  ${l.nodes[0]} [${l.inputs[0]?.shape.join('x')}] -> [${l.output.shape.join('x')}]`);
});
console.log(`sum ${total.toFixed(0)} ms`);
device.destroy();
process.exit(0);

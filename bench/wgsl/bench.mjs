// WGSL / WebGPU benchmark: vovc's WGSL module vs onnxruntime-web (its C++ WebGPU EP from
// ort.webgpu.min.mjs, and its wasm EP) on the same ONNX model (vovc's onnx backend), in one
// headless Chromium on one adapter (SwiftShader), runs interleaved, medians after warm-up.
// Usage: npx tsc -p . && node bench/wgsl/bench.mjs [--sizes 64,224] [--models a,b] [--rounds N]
//   [--baseline DIR]: also time the WGSL module built by another vovc checkout's dist/ (DIR is
//   that checkout, built with `npx tsc -p .`), interleaved with the others, e.g. the previous
//   commit for a before/after on the same adapter.
//   [--fp16]: also time vovc's packed-fp16 module (`--precision fp16`), interleaved with the
//   others; the table then gives fp16 / fp32 of vovc from the same run.
// Prints a markdown table (append it to BENCHMARKS.md under "## WGSL / WebGPU").
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { sizes: { type: 'string', default: '64,224' }, models: { type: 'string', default: 'vovnet27_slim,ese_vovnet19b_dw' }, rounds: { type: 'string' }, baseline: { type: 'string' }, fp16: { type: 'boolean', default: false } } });

// Artifacts as a user makes them: `vovc build` (seeded weights), of this checkout and of the baseline's.
const build = (repo, model, shape, target, out, extra = []) => execFileSync(process.execPath, [join(repo, 'dist/cli/vovc.js'), 'build', model, '--input-shape', shape.join(','), '--target', target, '--out', out, '-q', ...extra], { stdio: 'inherit' });

const root = mkdtempSync(join(tmpdir(), 'vovc-wgsl-bench-'));
const cases = [];
for (const model of args.models.split(',')) {
  for (const size of args.sizes.split(',').map(Number)) {
    const shape = [1, 3, size, size];
    const dir = `${model}-${size}`;
    build(REPO, model, shape, 'wgsl', join(root, dir, 'wgsl'));
    if (args.baseline) build(resolve(args.baseline), model, shape, 'wgsl', join(root, dir, 'base'));
    if (args.fp16) build(REPO, model, shape, 'wgsl', join(root, dir, 'wgsl16'), ['--precision', 'fp16']);
    build(REPO, model, shape, 'onnx', join(root, dir, 'onnx'));

    const onnxFile = readdirSync(join(root, dir, 'onnx')).find((f) => f.endsWith('.onnx'));
    renameSync(join(root, dir, 'onnx', onnxFile), join(root, dir, 'onnx', 'model.onnx'));
    cases.push({ model, size, shape, dir });
  }
}

const ORT = join(REPO, 'node_modules/onnxruntime-web/dist');
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  let file;
  if (path === '/') file = join(REPO, 'bench/wgsl/harness.html');
  else if (path.startsWith('/ort/')) file = join(ORT, path.slice(5));
  else file = join(root, path);
  if (file.includes('..') || !existsSync(file)) return res.writeHead(404).end();
  // COOP/COEP: without cross-origin isolation wasm threads silently drop to one.
  res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }).end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.VOVC_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const rows = [];
const adapterInfo = { text: '' };
try {
  for (const c of cases) {
    const page = await browser.newPage();
    page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
    await page.goto(url);
    await page.waitForFunction(() => window.ready);
    const subs = [['vovc', 'wgsl'], ...(args.fp16 ? [['fp16', 'wgsl16']] : []), ...(args.baseline ? [['base', 'base']] : [])];
    const names = await page.evaluate(([d, s, b]) => window.setup(d, s, b), [c.dir, c.shape, subs]);
    adapterInfo.text ||= await page.evaluate(async () => { const a = await navigator.gpu.requestAdapter(); const i = a.info; return [i.vendor, i.architecture, i.description].filter(Boolean).join(' / '); });
    // Warm-up: pipelines compile on the first WebGPU runs; wasm needs ~2 s to reach V8's top tier.
    for (const n of names) {
      const t0 = Date.now();
      let k = 0;
      while (k < 2 || (n === 'wasm' && Date.now() - t0 < 2500)) { await page.evaluate((m) => window.timeOnce(m), n); k++; }
    }
    const rounds = Number(args.rounds ?? (c.size >= 224 ? 3 : 9));
    const t = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < rounds; r++) for (const n of names) t[n].push(await page.evaluate((m) => window.timeOnce(m), n));
    const m = Object.fromEntries(names.map((n) => [n, median(t[n])]));
    rows.push({ ...c, rounds, ...m });
    process.stderr.write(`${c.model} ${c.size}: ${JSON.stringify(m)}\n`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
  rmSync(root, { recursive: true, force: true });
}
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`Headless Chromium ${browser.version?.() ?? ''} (Debian), WebGPU adapter: ${adapterInfo.text || 'SwiftShader'}; batch 1, fp32${args.fp16 ? ' (and vovc packed fp16)' : ''}; median of interleaved runs after warm-up; onnxruntime-web ${JSON.parse(readFileSync(join(REPO, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version}.\n`);
const b = args.baseline ? [' baseline vovc (ms) |', ' --- |', (r) => ` ${f(r.base)} |`] : ['', '', () => ''];
const h = args.fp16 ? [' vovc WGSL packed fp16 (ms) | fp16 / fp32 |', ' --- | --- |', (r) => ` ${f(r.fp16)} | ${(r.fp16 / r.vovc).toFixed(2)} |`] : ['', '', () => ''];
console.log(`| model | input | runs | vovc WGSL (ms) |${h[0]}${b[0]} ORT WebGPU EP (ms) | ORT wasm EP (ms) | ORT WebGPU / vovc | ORT wasm / vovc |`);
console.log(`| --- | --- | --- | --- |${h[1]}${b[1]} --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.model} | ${r.size}x${r.size} | ${r.rounds} | ${f(r.vovc)} |${h[2](r)}${b[2](r)} ${f(r.webgpu)} | ${f(r.wasm)} | ${(r.webgpu / r.vovc).toFixed(2)} | ${(r.wasm / r.vovc).toFixed(2)} |`);

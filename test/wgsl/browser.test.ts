// The demo page of a built WGSL artifact in headless Chromium (Debian's /usr/bin/chromium,
// WebGPU on SwiftShader), served from 127.0.0.1: its outputs must match the fixture's expected
// values (fp32), or pass compare.py's fp16 rule (every fixture, packed fp16). Saves a screenshot to
// test-output/wgsl-demo-<case>-<precision>.png. Skips (saying why) when
// Chromium is not installed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildTarget } from '../helpers/targets.js';
import { REPO, compare, compareReduced, fixtureCases, readNpyF32, type FixtureCase } from '../helpers/fixtures.js';
import { fixtureGraph } from './load.js';

const CHROMIUM = process.env.VOVC_CHROMIUM ?? '/usr/bin/chromium';
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.bin': 'application/octet-stream' };

/** A static file server for `dir` on 127.0.0.1 at a random port. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds `c` into a served folder, opens its demo page and returns its outputs (and whether it ran shader-f16). */
async function runDemo(c: FixtureCase, precision: 'fp32' | 'fp16', flags: Record<string, string> = {}): Promise<{ outputs: Record<string, number[]>; shaderF16: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'vovc-wgsl-demo-'));
  const { server, url } = await serve(dir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    await buildTarget('wgsl', await fixtureGraph(c), dir, { 'sample-input': c.input, ...flags }, true, precision);
    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    await page.goto(url);
    await page.waitForFunction(() => (window as any).vovcDone || (window as any).vovcError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => (window as any).vovcError as string | undefined);
    expect(error, console.join('\n')).toBeUndefined();
    const outputs = await page.evaluate(() => (window as any).vovcOutputs as Record<string, number[]>);
    const shaderF16 = await page.evaluate(() => (window as any).vovcShaderF16 as boolean);
    const outDir = join(REPO, 'test-output');
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, `wgsl-demo-${c.name}-${precision}.png`), fullPage: true });
    return { outputs, shaderF16 };
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!existsSync(CHROMIUM))(`wgsl demo page in headless Chromium (${CHROMIUM}; skipped when absent)`, () => {
  const cases = fixtureCases();
  const c = cases.find((k) => k.name === 'tiny-dw-ese-all-backbone')!;

  it(`${c.name} through index.html within atol ${c.atol}, rtol ${c.rtol}`, async () => {
    const { outputs } = await runDemo(c, 'fp32');
    for (const [name, file] of c.outputs) {
      const r = compare({ shape: c.outputShapes[name], data: Float32Array.from(outputs[name]) }, readNpyF32(file), c.atol, c.rtol);
      expect({ name, ...r }).toMatchObject({ name, ok: true });
    }
  }, 300_000);

  // Packed fp16 (SwiftShader has no shader-f16), judged by compare.py's fp16 rule; one case
  // with --io native (the page converts binary16 bits at both ends).
  for (const k of cases) {
    const native = k.name === 'tiny-v1-residual';
    it(`${k.name} at fp16 (packed${native ? ', --io native' : ''}) passes the fp16 rule`, async () => {
      const { outputs, shaderF16 } = await runDemo(k, 'fp16', native ? { io: 'native' } : {});
      expect(shaderF16).toBe(false);
      for (const [name, file] of k.outputs) {
        const r = compareReduced({ shape: k.outputShapes[name], data: Float32Array.from(outputs[name]) }, readNpyF32(file), 'fp16');
        expect(r.ok, `${k.name}/${name}: max|diff|/max|exp| ${r.relMax.toExponential(2)}, cosine ${r.cosine.toFixed(6)}`).toBe(true);
      }
    }, 300_000);
  }
});

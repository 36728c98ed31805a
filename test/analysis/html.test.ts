// --format html in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is downloaded): the page opens with every network request refused, its charts
// render (non-empty SVG), the table sorts, and a screenshot goes to test-output/. Skips,
// saying why, when Chromium is not installed.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { REPO, vovc } from '../helpers/fixtures.js';

const CHROMIUM = process.env.VOVC_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = join(REPO, 'test-output');

describe.skipIf(!existsSync(CHROMIUM))(`analysis HTML in headless Chromium (${CHROMIUM}; skipped when absent)`, () => {
  it('one model and a comparison: charts render offline, tables sort', async () => {
    mkdirSync(OUT, { recursive: true });
    const pages = [
      { name: 'analysis-one', args: ['ese_vovnet19b_dw', '--input-shape', '1,3,128,128'], models: 1 },
      { name: 'analysis-compare', args: ['models/cifar/densenet40.vov', 'models/cifar/osa40.vov', '--gpu', 'titan-x'], models: 2 },
    ];
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      for (const p of pages) {
        const file = join(OUT, `${p.name}.html`);
        const r = await vovc(['analyze', ...p.args, '--format', 'html', '--out', file, '--force']);
        expect(r.code, r.stderr).toBe(0);
        const html = readFileSync(file, 'utf8');
        expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
        // A 1200 px window: the page must not be wider (wide tables scroll in their own box).
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const requests: string[] = [];
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (url === `file://${file}`) return route.continue();
          requests.push(url);
          return route.abort();
        });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`file://${file}`);
        expect(requests, 'requests besides the page itself').toEqual([]);
        const charts = await page.$$eval('svg.chart', (svgs) =>
          svgs.map((s) => {
            const box = s.getBoundingClientRect();
            return { kind: s.getAttribute('data-chart'), w: box.width, h: box.height, marks: s.querySelectorAll('rect.seg, circle.pt, polyline.roof').length };
          }),
        );
        expect(charts.map((c) => c.kind)).toEqual(['macs', 'memAccess', 'roofline']);
        for (const c of charts) {
          expect(c.w * c.h, `${p.name} ${c.kind}`).toBeGreaterThan(10_000);
          expect(c.marks, `${p.name} ${c.kind}`).toBeGreaterThan(p.models);
        }
        // Sorting: click "params" twice (ascending, then descending).
        const table = p.models === 1 ? '#groups' : '#totals';
        const col = await page.$$eval(`${table} thead th`, (ths) => ths.findIndex((t) => t.textContent === 'params'));
        const values = () => page.$$eval(`${table} tbody tr`, (rows, i) => rows.map((r) => Number((r.children[i] as HTMLElement).dataset.v)), col);
        await page.click(`${table} thead th:nth-child(${col + 1})`);
        const asc = await values();
        expect(asc).toEqual([...asc].sort((a, b) => a - b));
        await page.click(`${table} thead th:nth-child(${col + 1})`);
        const desc = await values();
        expect(desc).toEqual([...asc].sort((a, b) => b - a));
        expect(errors).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${p.name}: page width`).toBeLessThanOrEqual(1200);
        // The roofline says its times are modelled, not measured.
        if (html.includes('data-chart="roofline"')) expect(html).toMatch(/Times are modelled lower bounds/);
        await page.screenshot({ path: join(OUT, `${p.name}.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});

// Build time and peak memory of `vovc build`, this checkout against another one (A/B, runs
// interleaved: A B A B ...), per model and target, with a seeded checkpoint:
//
//   npx tsc -p . && node bench/build/ab.mjs --baseline DIR [--models vovnet57,ese_vovnet19b_dw]
//                                           [--targets onnx,cuda,wgsl] [--runs 5]
//
// DIR is another vovc checkout with its dist/ built (e.g. a git worktree of an older commit).
// Wall time and peak RSS come from GNU time (/usr/bin/time -v), one build at a time. Prints a
// Markdown table of medians (with the spread, min..max) and the ratio this / baseline.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/src/dsl/zoo.js';
import { seedParams } from '../../dist/src/model/init.js';
import { lowerSpec } from '../../dist/src/model/lower.js';
import { writeSafetensors } from '../../dist/src/weights/safetensors.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, models: { type: 'string', default: 'vovnet57,ese_vovnet19b_dw' }, targets: { type: 'string', default: 'onnx,cuda,wgsl' }, runs: { type: 'string', default: '5' } } });
if (!args.baseline) throw new Error('--baseline DIR is required (a vovc checkout with dist/ built)');
const REPO = resolve(new URL('../..', import.meta.url).pathname);
const sides = [['this', REPO], ['baseline', resolve(args.baseline)]];
const dir = join(tmpdir(), 'vovc-bench-ab');
mkdirSync(dir, { recursive: true });

function measure(repo, argv) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(repo, 'dist/cli/vovc.js'), ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`vovc ${argv.join(' ')} in ${repo} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '';
  return { mb: (kb * 1024) / 1e6, s: wall.split(':').reduce((t, x) => t * 60 + Number(x), 0) };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (a, d) => `${median(a).toFixed(d)} (${Math.min(...a).toFixed(d)}..${Math.max(...a).toFixed(d)})`;

console.log(`node ${process.version}; ${args.runs} runs per side, interleaved; median (min..max)\n`);
console.log('| model | target | this s | baseline s | s ratio | this MB | baseline MB | MB ratio |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const model of args.models.split(',')) {
  const ckpt = join(dir, `${model}.safetensors`);
  if (!existsSync(ckpt)) {
    const g = seedParams(lowerSpec(loadModel(model).spec));
    writeFileSync(ckpt, writeSafetensors([...g.params].map(([key, p]) => ({ key, shape: p.shape, data: p.data }))));
  }
  for (const target of args.targets.split(',')) {
    const got = { this: { s: [], mb: [] }, baseline: { s: [], mb: [] } };
    for (let i = 0; i < Number(args.runs); i++) {
      for (const [label, repo] of i % 2 ? [...sides].reverse() : sides) {
        const out = join(dir, `out-${label}`);
        const m = measure(repo, ['build', model, '--target', target, '--weights', ckpt, '--out', out, '-q']);
        got[label].s.push(m.s);
        got[label].mb.push(m.mb);
        rmSync(out, { recursive: true, force: true });
      }
    }
    const [a, b] = [got.this, got.baseline];
    console.log(`| ${model} | ${target} | ${fmt(a.s, 2)} | ${fmt(b.s, 2)} | ${(median(a.s) / median(b.s)).toFixed(2)} | ${fmt(a.mb, 1)} | ${fmt(b.mb, 1)} | ${(median(a.mb) / median(b.mb)).toFixed(2)} |`);
  }
}

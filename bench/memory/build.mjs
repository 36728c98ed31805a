// Peak memory of `vovc build` with weights, per zoo model and target, against the bound
//   2 x checkpoint size + resident memory of `vovc --version`
// (the checkpoint read once, one more copy for what the backend writes, plus the CLI itself).
//
//   npx tsc -p . && node bench/memory/build.mjs [--models a,b] [--targets onnx,cuda,wgsl] [--keep]
//
// Each model gets a seeded checkpoint (.safetensors, timm key names: the canonical names of
// the lowered graph) in $TMPDIR/vovc-bench-memory, made once. Peak RSS is GNU time's
// "Maximum resident set size"; builds run one at a time. Prints a Markdown table.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, zooNames } from '../../dist/src/dsl/zoo.js';
import { lowerSpec } from '../../dist/src/model/lower.js';
import { seedParams } from '../../dist/src/model/init.js';
import { writeSafetensors } from '../../dist/src/weights/safetensors.js';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const models = arg('--models')?.split(',') ?? zooNames();
const targets = arg('--targets')?.split(',') ?? ['onnx', 'cuda', 'wgsl'];
const cli = new URL('../../dist/cli/vovc.js', import.meta.url).pathname;
const dir = join(tmpdir(), 'vovc-bench-memory');
mkdirSync(dir, { recursive: true });

/** Runs `node vovc.js ...args` under /usr/bin/time -v; returns peak RSS in bytes and wall seconds. */
function measure(args) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`vovc ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '';
  const seconds = wall.split(':').reduce((s, x) => s * 60 + Number(x), 0);
  return { rss: kb * 1024, seconds };
}

function checkpoint(name) {
  const file = join(dir, `${name}.safetensors`);
  if (!existsSync(file)) {
    const g = seedParams(lowerSpec(loadModel(name).spec));
    writeFileSync(file, writeSafetensors([...g.params].map(([key, p]) => ({ key, shape: p.shape, data: p.data }))));
  }
  return file;
}

const MB = (b) => (b / 1e6).toFixed(1);
const versions = [0, 1, 2].map(() => measure(['--version']).rss).sort((a, b) => a - b);
const base = versions[1];
console.log(`node ${process.version}, ${execFileSync('uname', ['-m']).toString().trim()}; RSS of 'vovc --version' ${MB(base)} MB (median of 3)\n`);
console.log('| model | checkpoint MB | target | peak RSS MB | bound MB | peak / bound | beyond one copy MB | build s |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|');
let over = 0;
for (const name of models) {
  const file = checkpoint(name);
  const size = statSync(file).size;
  for (const target of targets) {
    const out = join(dir, `out-${name}-${target}`);
    rmSync(out, { recursive: true, force: true });
    const { rss, seconds } = measure(['build', name, '--target', target, '--weights', file, '--out', out, '--quiet']);
    if (!process.argv.includes('--keep')) rmSync(out, { recursive: true, force: true });
    const bound = 2 * size + base;
    if (rss > bound) over++;
    // What the build holds beyond `vovc --version` and one copy of the checkpoint: its modules,
    // their heap, the rendered sources; about constant across models when the weights are held once.
    const beyond = rss - size - base;
    console.log(`| ${name} | ${MB(size)} | ${target} | ${MB(rss)} | ${MB(bound)} | ${(rss / bound).toFixed(2)}${rss > bound ? ' (over)' : ''} | ${MB(beyond)} | ${seconds.toFixed(1)} |`);
  }
}
console.log(over ? `\n${over} build(s) over the bound` : '\nevery build within the bound');

// Times `vovc check MODEL` for every zoo model (wall clock, Node start included, median of 5)
// next to `vovc --version` (the floor: Node start + module loading) measured in the same run.
// Usage: npm run build && node bench/cli/check.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const cli = fileURLToPath(new URL('../../dist/cli/vovc.js', import.meta.url));
const N = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(args) {
  const runs = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`vovc ${args.join(' ')} failed: ${r.stderr}`);
  }
  return median(runs);
}

const models = execFileSync(process.execPath, [cli, 'list']).toString().trim().split('\n').map((l) => l.split(/\s+/)[0]);
const base = time(['--version']);
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, node ${process.version}`);
console.log(`| command | median of ${N} (ms, wall) | ratio to \`vovc --version\` |`);
console.log('|---|---|---|');
console.log(`| vovc --version | ${base.toFixed(0)} | 1.00 |`);
for (const m of models) {
  const t = time(['check', m]);
  console.log(`| vovc check ${m} | ${t.toFixed(0)} | ${(t / base).toFixed(2)} |`);
}

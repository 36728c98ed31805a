// Times a 1000-variant sweep end to end (wall clock, Node start included, median of N runs):
//   vovc analyze vovnet57 --sweep stage4.blocks=1..40 --sweep stage3.mid=100..124 --format csv
// next to `vovc --version` (Node start + module loading), and the CPU time of the runs (the
// machine is shared: wall time under load says little, CPU time says what the work costs).
// Usage: npx tsc -p . && node bench/analysis/sweep.mjs [N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli/vovc.js', import.meta.url));
const N = Number(process.argv[2] ?? 5);
const SWEEP = ['analyze', 'vovnet57', '--sweep', 'stage4.blocks=1..40', '--sweep', 'stage3.mid=100..124', '--format', 'csv'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall ms and child CPU ms (user + system, from /usr/bin/time's format) of one run. */
function run(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`vovc ${args.join(' ')} failed: ${r.stderr}`);
  const [u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: (u + s) * 1000 };
}

const dir = mkdtempSync(join(tmpdir(), 'vovc-bench-sweep-'));
const out = join(dir, 'sweep.csv');
const base = [];
const sweep = [];
const load = [];
for (let i = 0; i < N; i++) {
  // Interleaved, so that both see the same load.
  base.push(run(['--version']));
  load.push(loadavg()[0]);
  sweep.push(run([...SWEEP, '--out', out, '--quiet']));
}
const rows = readFileSync(out, 'utf8').trim().split('\r\n').length - 1;
rmSync(dir, { recursive: true, force: true });
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, node ${process.version}; load average during the runs ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`);
console.log(`| command | median of ${N}: wall (ms) | CPU (ms) |`);
console.log('|---|---|---|');
console.log(`| vovc --version | ${median(base.map((r) => r.wall)).toFixed(0)} | ${median(base.map((r) => r.cpu)).toFixed(0)} |`);
console.log(`| vovc ${SWEEP.join(' ')} (1000 variants, ${rows} CSV rows) | ${median(sweep.map((r) => r.wall)).toFixed(0)} | ${median(sweep.map((r) => r.cpu)).toFixed(0)} |`);

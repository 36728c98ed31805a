// One command for the benchmarks of BENCHMARKS.md: `npm run bench` (builds first) runs each
// bench script in turn and prints its table. `npm run bench -- NAME...` runs only those;
// `--list` names them. bench/gpu runs on a GPU machine instead (bench/gpu/README.md), and the
// browser comparison (wgsl) takes tens of minutes on a CPU-only adapter, so it runs only
// when named.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const BENCHES = {
  check: ['cli/check.mjs'],
  reference: ['reference/run.mjs'],
  weights: ['weights/load.mjs'],
  onnx: ['onnx/bench.mjs'],
  precision: ['precision/bench.mjs'],
  analysis: ['analysis/sweep.mjs'],
  memory: ['memory/build.mjs'],
  wgsl: ['wgsl/bench.mjs'],
  // A/B against another checkout: needs --baseline DIR, so it runs only when named (npm run bench -- ab --baseline DIR).
  ab: ['build/ab.mjs'],
};
const DEFAULT = ['check', 'reference', 'weights', 'onnx', 'precision', 'analysis', 'memory'];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  console.log(Object.keys(BENCHES).join('\n'));
  process.exit(0);
}
const names = args.length ? args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) : DEFAULT;
let failed = 0;
for (const name of names) {
  const b = BENCHES[name];
  if (!b) {
    console.error(`unknown benchmark '${name}' (${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n### ${name}: node bench/${b[0]}\n`);
  const extra = name === 'ab' ? args.slice(args.indexOf('ab') + 1).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')) : [];
  const r = spawnSync(process.execPath, [here(b[0]), ...b.slice(1), ...extra], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${name} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);

// Reference interpreter speed on a whole model (default vovnet57 at 1x3x224x224, seeded
// weights), median of --runs runs.
//
//   npx tsc -p . && node bench/reference/run.mjs [--model vovnet57] [--runs 5] [--threads N]
//                                                [--in-process] [--profile]
//
// Default: times the user-facing command, `node dist/cli/vovc.js run MODEL --target reference
// --input X.npy --save DIR`, as a child process: the process wall time (start-up, lowering,
// seeding 36.6M weights, writing the .npy) and the interpreter's own time, which the CLI logs.
// --in-process: lowers and seeds once, then times runReference alone, with the process CPU
// time beside the wall time (the machine is shared: CPU seconds / wall seconds shows how much
// of it the run got). --profile (in-process): time per op kind, conv time per layer shape,
// peak bytes of live activations.
// GFLOP/s counts 2 FLOPs per multiply-accumulate of the convs and linears.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const model = arg('model', 'vovnet57');
const runs = Number(arg('runs', 5));
const threads = arg('threads', undefined);
const inProcess = process.argv.includes('--in-process');
const profile = process.argv.includes('--profile');
const shape = [1, 3, 224, 224];
const cli = new URL('../../dist/cli/vovc.js', import.meta.url).pathname;

const { loadGraph } = await import('../../dist/cli/common.js');
const { seedParams } = await import('../../dist/src/model/init.js');
const { runReference } = await import('../../dist/src/runtime/reference.js');

/** conv + linear multiply-accumulates, from the graph's shapes. */
function macs(g) {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const shapeOf = (v) => (v === 'input' ? g.input.shape : byId.get(v).shape);
  let total = 0;
  for (const n of g.nodes) {
    const x = shapeOf(n.inputs[0]);
    if (n.op === 'conv2d') total += n.shape.reduce((a, b) => a * b, 1) * (x[1] / n.attrs.groups) * n.attrs.kernel[0] * n.attrs.kernel[1];
    if (n.op === 'linear') total += n.shape[0] * n.shape[1] * x[1];
    if (n.op === 'se_gate' && n.attrs.mode === 'ese') total += x[0] * x[1] * x[1];
  }
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { graph: lowered } = loadGraph(model, { inputShape: shape });
const work = macs(lowered);
let seed = 7;
const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
console.log(`${model} 1x3x224x224: ${(work / 1e9).toFixed(3)} GMACs; ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores; threads ${threads ?? 'default'}; node ${process.version}`);

if (inProcess) {
  const g = seedParams(lowered);
  const wall = [];
  const cpu = [];
  const byOp = new Map();
  const convByShape = new Map();
  let peak = 0;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const onNode = profile && r > 0
      ? (n, ms, live) => {
          peak = Math.max(peak, live);
          byOp.set(n.op, (byOp.get(n.op) ?? 0) + ms);
          if (n.op === 'conv2d') {
            const key = `${n.attrs.kernel[0]}x${n.attrs.kernel[1]}/s${n.attrs.stride[0]} -> [${n.shape.slice(1).join(',')}]`;
            const x = lowered.nodes.find((m) => m.id === n.inputs[0])?.shape ?? lowered.input.shape;
            const work = n.shape.reduce((a, b) => a * b, 1) * (x[1] / n.attrs.groups) * n.attrs.kernel[0] * n.attrs.kernel[1];
            const [t, m] = convByShape.get(key) ?? [0, 0];
            convByShape.set(key, [t + ms, m + work]);
          }
        }
      : undefined;
    await runReference(g, { shape, data: input }, { threads: threads === undefined ? undefined : Number(threads), onNode });
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    console.log(`run ${r + 1}: ${wall.at(-1).toFixed(0)} ms wall, ${cpu.at(-1).toFixed(0)} ms CPU`);
  }
  const w = median(wall);
  console.log(`median ${w.toFixed(0)} ms wall (${((2 * work) / w / 1e6).toFixed(2)} GFLOP/s), ${median(cpu).toFixed(0)} ms CPU (${((2 * work) / median(cpu) / 1e6).toFixed(2)} GFLOP/s per busy core)`);
  if (profile) {
    const k = runs - 1;
    console.log(`peak live activations: ${(peak / 2 ** 20).toFixed(1)} MiB`);
    for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(16)} ${(ms / k).toFixed(1)} ms`);
    for (const [key, [ms, m]] of [...convByShape].sort((a, b) => b[1][0] - a[1][0])) console.log(`  conv ${key.padEnd(30)} ${(ms / k).toFixed(1).padStart(7)} ms ${((2 * m) / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s`);
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'vovc-bench-ref-'));
  try {
    // A minimal .npy v1 writer: header padded so that the data starts at a multiple of 64.
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(header.length).buffer), Buffer.from(header, 'latin1'), Buffer.from(input.buffer)]);
    writeFileSync(join(dir, 'input.npy'), npy);
    const wall = [];
    const interp = [];
    for (let r = 0; r < runs; r++) {
      const args = [cli, 'run', model, '--target', 'reference', '--input', join(dir, 'input.npy'), '--save', join(dir, 'out'), ...(threads ? ['--threads', threads] : [])];
      const t0 = performance.now();
      const p = spawnSync(process.execPath, args, { encoding: 'utf8' });
      wall.push(performance.now() - t0);
      if (p.status !== 0) throw new Error(`vovc run failed (${p.status}):\n${p.stderr}`);
      const m = p.stderr.match(/on reference: ([\d.]+) ms/);
      if (!m) throw new Error(`no interpreter time in the CLI's log:\n${p.stderr}`);
      interp.push(Number(m[1]));
      console.log(`run ${r + 1}: ${wall.at(-1).toFixed(0)} ms command, ${interp.at(-1).toFixed(0)} ms interpreter`);
    }
    const t = median(interp);
    console.log(`median ${median(wall).toFixed(0)} ms per command, ${t.toFixed(0)} ms in the interpreter (${((2 * work) / t / 1e6).toFixed(2)} GFLOP/s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
// The fuzz campaign of vovc (npm run fuzz): DSL programs and mutated checkpoint files through
// the compiled API in worker threads, then a slice of both through the CLI binary.
//
//   node fuzz/run.mjs [--dsl N] [--weights N] [--cli-dsl N] [--cli-weights N] [--seed S]
//                     [--workers W] [--timeout S] [--out DIR] [--quiet]
//   node fuzz/run.mjs --replay dsl:INDEX|weights:INDEX|cli-dsl:INDEX|cli-weights:INDEX [--seed S]
//
// A case passes when vovc succeeds or reports a user error: a VovcError with well-formed
// diagnostics in-process, exit 0 or 1 with an 'error E....' line and no stack trace from the
// CLI. Anything else is a bug: another exception, a malformed diagnostic, a valid program
// rejected, a case running past --timeout seconds (its worker is replaced and the case re-run
// alone with three times the time before it counts as a hang), another exit code.
// Every case is a function of (seed, index), so a failure is replayed with --replay.
// Writes OUT/summary.json and OUT/failures/*.json (default test-output/fuzz); exits 1 on a bug.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { dslCase, dslContext, weightFixtures, weightsCaseAt } from './cases.mjs';
import { loadApi } from './api.mjs';
import { runDslCase, runWeightsCase } from './oracle.mjs';
import { mutateWeights } from './weights.mjs';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
// The campaign runs a private copy of dist/: other builds of the tree (npx tsc rewrites dist/
// file by file) must not change the code under test halfway. It stays inside the repository,
// so that the copy finds node_modules/, models/ and templates/ like dist/ does.
const DIST = join(REPO, 'test-output', `fuzz-dist-${process.pid}`);
const CLI = join(DIST, 'cli/vovc.js');

const { values: opt } = parseArgs({
  options: {
    dsl: { type: 'string', default: '100000' },
    weights: { type: 'string', default: '10000' },
    'cli-dsl': { type: 'string', default: '300' },
    'cli-weights': { type: 'string', default: '100' },
    seed: { type: 'string', default: '20240601' },
    workers: { type: 'string', default: String(Math.max(1, Math.min(4, availableParallelism()))) },
    timeout: { type: 'string', default: '30' },
    chunk: { type: 'string', default: '250' },
    out: { type: 'string', default: join(REPO, 'test-output/fuzz') },
    replay: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const seed = Number(opt.seed) | 0;
const timeoutMs = Number(opt.timeout) * 1000;
const log = (s) => opt.quiet || process.stderr.write(s + '\n');

// ---- in-process campaign in worker threads -------------------------------------------------------

function newStats() {
  return { cases: 0, ok: 0, diag: 0, bug: 0, ms: 0, byKind: {}, slowest: [] };
}

function record(stats, m) {
  stats.cases++;
  stats[m.outcome]++;
  stats.ms += m.ms;
  const k = (stats.byKind[m.kind] ??= { ok: 0, diag: 0, bug: 0 });
  k[m.outcome]++;
  stats.slowest.push({ index: m.index, kind: m.kind, ms: Math.round(m.ms) });
  if (stats.slowest.length > 20) stats.slowest = stats.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5);
}

/**
 * Runs every chunk on a pool of workers. A worker whose current case runs past `limitMs` is
 * terminated and replaced; the case is returned in `stuck` and its chunk goes on after it.
 */
function runPool(chunks, workers, limitMs, stats, bugs) {
  const queue = [...chunks];
  const stuck = [];
  const total = chunks.reduce((a, c) => a + c.to - c.from, 0);
  let done = 0;
  let lastLog = 0;
  return new Promise((resolveAll) => {
    let live = 0;
    const start = () => {
      if (!queue.length) return;
      live++;
      const w = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { repo: REPO, seed, dist: DIST } });
      const state = { chunk: undefined, next: 0, since: 0, ready: false, startedAt: Date.now() };
      const give = () => {
        state.chunk = queue.shift();
        if (!state.chunk) return void w.terminate();
        state.next = state.chunk.from;
        state.since = Date.now();
        w.postMessage(state.chunk);
      };
      const timer = setInterval(() => {
        // Worker start-up (loading dist/) is no fuzz case: it gets two minutes, so that a short
        // --timeout on a loaded machine does not replace workers forever.
        if (state.ready ? Date.now() - state.since <= limitMs : Date.now() - state.startedAt <= Math.max(limitMs, 120_000)) return;
        clearInterval(timer);
        if (state.chunk) {
          stuck.push({ task: state.chunk.task, index: state.next });
          if (state.next + 1 < state.chunk.to) queue.unshift({ ...state.chunk, from: state.next + 1 });
          done++;
        }
        state.chunk = undefined;
        void w.terminate();
      }, Math.min(1000, limitMs / 4));
      w.on('message', (m) => {
        if (m.type === 'ready') {
          state.ready = true;
          give();
        } else if (m.type === 'case') {
          if (!state.chunk) return; // a late report from a worker being replaced
          record(stats[m.task], m);
          state.next = m.index + 1;
          state.since = Date.now();
          done++;
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            log(`  ${done}/${total} cases, ${bugs.length} failures`);
          }
        } else if (m.type === 'bug') {
          bugs.push(m);
          log(`  FAILURE ${m.task}:${m.index} (${m.kind}): ${m.message.split('\n')[0]}`);
        } else if (m.type === 'chunk-done') give();
      });
      w.on('error', (e) => {
        bugs.push({ type: 'bug', task: state.chunk?.task ?? 'worker', index: state.next, kind: 'worker', message: `worker died: ${e.message}`, stack: e.stack });
        if (state.chunk) record(stats[state.chunk.task], { index: state.next, kind: 'worker', outcome: 'bug', ms: 0 });
        if (state.chunk && state.next + 1 < state.chunk.to) queue.unshift({ ...state.chunk, from: state.next + 1 });
        state.chunk = undefined;
      });
      w.on('exit', () => {
        clearInterval(timer);
        live--;
        if (queue.length) start();
        else if (live === 0) resolveAll(stuck);
      });
    };
    if (!queue.length) return resolveAll(stuck);
    for (let i = 0; i < Math.min(workers, queue.length); i++) start();
  });
}

function chunksOf(task, n, size) {
  const out = [];
  for (let from = 0; from < n; from += size) out.push({ task, from, to: Math.min(n, from + size) });
  return out;
}

// ---- CLI slice ---------------------------------------------------------------------------------------

function spawnVovc(args, limitMs) {
  return new Promise((res) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stdout.resume();
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stderr, ms: performance.now() - t0, timedOut: signal === 'SIGKILL' });
    });
  });
}

/** Exit 0, or 1 with a diagnostic; never a stack trace, an internal error or a time-out. */
function cliVerdict(r) {
  if (r.timedOut) return `no exit within ${timeoutMs / 1000} s`;
  if (r.code === 0) return undefined;
  if (r.code !== 1) return `exit code ${r.code ?? r.signal}`;
  if (/internal error|\n\s+at /.test(r.stderr)) return 'internal error or stack trace';
  if (!/(^|\n)\S*:?\s*error [EW]\d{4}: /.test(r.stderr)) return 'exit 1 without a diagnostic';
  return undefined;
}

/** Every fourth DSL case is built (seeded weights, ONNX) rather than only checked. */
function cliDslArgs(c, file, index, outDir) {
  const model = c.zoo ?? (c.pick ? `${file}:${c.pick}` : file);
  const args = index % 4 === 3 ? ['build', model, '--target', 'onnx', '--out', outDir, '--quiet'] : ['check', model, '--quiet'];
  for (const s of c.set ?? []) args.push(`--set=${s}`);
  const shape = c.inputShape;
  // --input-shape takes exactly four positive integers (anything else is exit 2, by design).
  if (shape && shape.length === 4 && shape.every((d) => d >= 1)) args.push(`--input-shape=${shape.join(',')}`);
  return args;
}

const cliWeightsArgs = (f, file, outDir) => ['build', f.model, '--target', 'onnx', '--weights', file, '--out', outDir, `--input-shape=${f.inputShape.join(',')}`, '--quiet'];

async function runCli(ctx, fixtures, nDsl, nWeights, workers, stats, bugs) {
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-cli-'));
  const jobs = [];
  for (let i = 0; i < nDsl; i++) jobs.push({ task: 'cli-dsl', index: i });
  for (let i = 0; i < nWeights; i++) jobs.push({ task: 'cli-weights', index: i });
  let next = 0;
  const one = async (slot) => {
    for (let j; (j = jobs[next++]); ) {
      const dir = join(tmp, String(slot));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      let args;
      let kind;
      let input;
      if (j.task === 'cli-dsl') {
        const c = dslCase(ctx, seed ^ 0xc11, j.index);
        const file = join(dir, 'case.vov');
        if (c.zoo === undefined) writeFileSync(file, c.text);
        args = cliDslArgs(c, file, j.index, join(dir, 'out'));
        kind = c.kind;
        input = { text: c.text, args };
      } else {
        const c = weightsCaseAt(fixtures.length, seed ^ 0xc11, j.index);
        const f = fixtures[c.fixture];
        const file = join(dir, `weights${extname(f.weights)}`);
        writeFileSync(file, mutateWeights(f.bytes, c.muts));
        args = cliWeightsArgs(f, file, join(dir, 'out'));
        kind = f.name;
        input = { fixture: f.name, muts: c.muts };
      }
      const r = await spawnVovc(args, timeoutMs * 2);
      const bad = cliVerdict(r);
      record(stats[j.task], { index: j.index, kind, outcome: bad ? 'bug' : r.code === 0 ? 'ok' : 'diag', ms: r.ms });
      if (bad) {
        bugs.push({ task: j.task, index: j.index, kind, message: `vovc ${args.join(' ')}: ${bad}`, stack: r.stderr.slice(0, 4000), input });
        log(`  FAILURE ${j.task}:${j.index}: ${bad}`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, s) => one(s)));
  rmSync(tmp, { recursive: true, force: true });
}

// ---- replay ------------------------------------------------------------------------------------------

async function replay(spec) {
  const [task, idx] = spec.split(':');
  const index = Number(idx);
  const api = await loadApi(REPO, DIST);
  const ctx = dslContext(REPO, api.zooNames());
  const fixtures = weightFixtures(REPO);
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-replay-'));
  try {
    if (task === 'dsl' || task === 'cli-dsl') {
      const c = dslCase(ctx, task === 'dsl' ? seed : seed ^ 0xc11, index);
      process.stdout.write(`kind ${c.kind}${c.zoo ? `, zoo model ${c.zoo}` : ''}${c.pick ? `, model ${c.pick}` : ''}${c.set?.length ? `, --set ${JSON.stringify(c.set)}` : ''}${c.inputShape ? `, input shape ${JSON.stringify(c.inputShape)}` : ''}\n`);
      if (c.text !== undefined) process.stdout.write(`---- case.vov ----\n${c.text}\n------------------\n`);
      const file = join(tmp, 'case.vov');
      if (task === 'dsl') process.stdout.write(`outcome: ${runDslCase(api, c, file)}\n`);
      else {
        if (c.zoo === undefined) writeFileSync(file, c.text);
        const r = await spawnVovc(cliDslArgs(c, file, index, join(tmp, 'out')), timeoutMs * 2);
        process.stdout.write(`exit ${r.code}\n${r.stderr}`);
      }
    } else {
      const c = weightsCaseAt(fixtures.length, task === 'weights' ? seed : seed ^ 0xc11, index);
      const f = fixtures[c.fixture];
      const bytes = mutateWeights(f.bytes, c.muts);
      const file = join(REPO, 'test-output/fuzz', `replay-${task}-${index}${extname(f.weights)}`);
      mkdirSync(join(REPO, 'test-output/fuzz'), { recursive: true });
      writeFileSync(file, bytes);
      process.stdout.write(`fixture ${f.name}, mutations ${JSON.stringify(c.muts)}\nwrote ${file}\n`);
      if (task === 'weights') {
        const graph = api.lowerSpec(api.loadModel(f.model, { inputShape: f.inputShape }).spec);
        process.stdout.write(`outcome: ${await runWeightsCase(api, bytes, file, graph)}\n`);
      } else {
        const r = await spawnVovc(cliWeightsArgs(f, file, join(tmp, 'out')), timeoutMs * 2);
        process.stdout.write(`exit ${r.code}\n${r.stderr}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- main --------------------------------------------------------------------------------------------

async function main() {
  rmSync(DIST, { recursive: true, force: true });
  cpSync(join(REPO, 'dist'), DIST, { recursive: true });
  try {
    if (opt.replay) await replay(opt.replay);
    else await campaign();
  } finally {
    rmSync(DIST, { recursive: true, force: true });
  }
}

async function campaign() {
  rmSync(join(opt.out, 'failures'), { recursive: true, force: true });
  const workers = Math.max(1, Number(opt.workers));
  const nDsl = Number(opt.dsl);
  const nWeights = Number(opt.weights);
  const stats = { dsl: newStats(), weights: newStats(), 'cli-dsl': newStats(), 'cli-weights': newStats() };
  const bugs = [];
  const t0 = performance.now();
  log(`vovc fuzz: seed ${seed}, ${nDsl} DSL cases, ${nWeights} weight files, ${workers} workers, ${opt.timeout} s per case`);
  const chunk = Number(opt.chunk);
  const stuck = await runPool([...chunksOf('weights', nWeights, chunk), ...chunksOf('dsl', nDsl, chunk)], workers, timeoutMs, stats, bugs);
  // A case that ran out of time is run alone with three times the time before it counts as a hang
  // (on a loaded machine a slow case is not yet a hang).
  for (const s of stuck) {
    log(`  re-running ${s.task}:${s.index} alone (it ran past ${opt.timeout} s)`);
    const again = await runPool([{ task: s.task, from: s.index, to: s.index + 1 }], 1, 3 * timeoutMs, stats, bugs);
    if (again.length) {
      record(stats[s.task], { index: s.index, kind: 'hang', outcome: 'bug', ms: 3 * timeoutMs });
      bugs.push({ task: s.task, index: s.index, kind: 'hang', message: `no result within ${(3 * timeoutMs) / 1000} s (hang)` });
      log(`  FAILURE ${s.task}:${s.index}: hang`);
    }
  }
  const inProcessS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const nCliDsl = Number(opt['cli-dsl']);
  const nCliWeights = Number(opt['cli-weights']);
  if (nCliDsl + nCliWeights > 0) {
    log(`CLI: ${nCliDsl} DSL cases (vovc check, every fourth vovc build --target onnx), ${nCliWeights} weight files (vovc build --target onnx)`);
    const api = await loadApi(REPO, DIST);
    await runCli(dslContext(REPO, api.zooNames()), weightFixtures(REPO), nCliDsl, nCliWeights, workers, stats, bugs);
  }
  const cliS = (performance.now() - t1) / 1000;
  const summary = {
    seed,
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    workers,
    timeoutS: Number(opt.timeout),
    inProcessSeconds: Math.round(inProcessS),
    cliSeconds: Math.round(cliS),
    stats: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, { ...s, ms: Math.round(s.ms), slowest: s.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5) }])),
    failures: bugs.map((b) => ({ task: b.task, index: b.index, kind: b.kind, message: b.message.split('\n')[0] })),
  };
  mkdirSync(join(opt.out, 'failures'), { recursive: true });
  writeFileSync(join(opt.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  for (const b of bugs) writeFileSync(join(opt.out, 'failures', `${b.task}-${b.index}.json`), JSON.stringify(b, null, 2) + '\n');
  const line = (name, s) => `${name.padEnd(12)} ${String(s.cases).padStart(7)} cases  ${String(s.ok).padStart(7)} ok  ${String(s.diag).padStart(7)} diagnostics  ${String(s.bug).padStart(4)} failures  (${(s.ms / Math.max(1, s.cases)).toFixed(1)} ms/case)`;
  process.stdout.write(
    [
      `seed ${seed}: in-process ${inProcessS.toFixed(0)} s, CLI ${cliS.toFixed(0)} s`,
      ...Object.entries(stats).map(([k, s]) => line(k, s)),
      `DSL kinds: ${Object.entries(stats.dsl.byKind).map(([k, v]) => `${k} ${v.ok}/${v.diag}/${v.bug}`).join(', ')} (ok/diagnostics/failures)`,
      `weight files: ${Object.entries(stats.weights.byKind).map(([k, v]) => `${k} ${v.ok}/${v.diag}/${v.bug}`).join(', ')}`,
      `${bugs.length} failures${bugs.length ? ` (see ${join(opt.out, 'failures')}; replay with --replay TASK:INDEX --seed ${seed})` : ''}`,
      '',
    ].join('\n'),
  );
  process.exitCode = bugs.length ? 1 : 0;
}

await main();

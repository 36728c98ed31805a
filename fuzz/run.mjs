#!/usr/bin/env node
// The fuzz campaign of vovc (npm run fuzz): DSL programs and checkpoint files (mutated fixtures
// and scaling files built from scratch) through the compiled API in worker threads, a slice of
// both through the CLI binary, then the differential mode: small random models run on every
// target and compared with the reference.
//
//   node fuzz/run.mjs [--dsl N] [--weights N] [--cli-dsl N] [--cli-weights N] [--diff N]
//                     [--seed S] [--workers W] [--timeout S] [--time-budget S]
//                     [--memory-budget MB] [--output-budget KB] [--targets a,b] [--deadline S] [--diff-from K]
//                     [--out DIR] [--quiet]
//   node fuzz/run.mjs --replay dsl:INDEX|weights:INDEX|cli-dsl:INDEX|cli-weights:INDEX|diff:INDEX [--seed S]
//
// A case passes when vovc succeeds or reports a user error: a VovcError with well-formed
// diagnostics in-process, exit 0 or 1 with an 'error E....' line and no stack trace from the
// CLI; a differential case when every target's outputs match the reference's. Anything else is
// a bug: another exception, a malformed diagnostic, a valid program rejected, another exit code,
// a mismatch. So is a case over a budget (fuzz/oracle.mjs BUDGETS): more than --output-budget
// printed ('budget: output'); more than --time-budget seconds of vovc's time or more than
// --memory-budget of peak resident memory, measured again with the case alone in a process of
// its own ('budget: time', 'budget: memory'); no result within --timeout seconds (its worker is
// replaced and the case re-run alone with three times the time before it counts as a hang).
// Every case is a function of (seed, index), so a failure is replayed with --replay.
// Writes OUT/summary.json and OUT/failures/*.json (default test-output/fuzz); exits 1 on a bug.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { caseSeed, dslCase, dslContext, one, weightFixtures, weightsBytes, weightsCaseAt } from './cases.mjs';
import { loadApi } from './api.mjs';
import { DIFF_BUDGETS, DIFF_TARGETS, TOL, diffCaseAt, runArgs, runDiffCase, writeDiffCase } from './diff.mjs';
import { BUDGETS, runDslCase, runWeightsCase, setBudgets } from './oracle.mjs';
import { MEMORY_METHOD, spawnMeasured } from './proc.mjs';

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
    diff: { type: 'string', default: '500' },
    // The first differential case (a campaign stopped at its --deadline goes on from there).
    'diff-from': { type: 'string', default: '0' },
    seed: { type: 'string', default: '20240601' },
    workers: { type: 'string', default: String(Math.max(1, Math.min(4, availableParallelism()))) },
    timeout: { type: 'string', default: '30' },
    'time-budget': { type: 'string', default: String(BUDGETS.timeMs / 1000) },
    'memory-budget': { type: 'string', default: String(BUDGETS.memoryBytes / 2 ** 20) },
    'output-budget': { type: 'string', default: String(BUDGETS.outputBytes / 1024) },
    targets: { type: 'string', default: DIFF_TARGETS.join(',') },
    chunk: { type: 'string', default: '250' },
    // Wall seconds from the start after which the differential mode starts no new model (0: none).
    deadline: { type: 'string', default: '0' },
    out: { type: 'string', default: join(REPO, 'test-output/fuzz') },
    replay: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const seed = Number(opt.seed) | 0;
const STARTED = Date.now();
const deadline = Number(opt.deadline) > 0 ? STARTED + Number(opt.deadline) * 1000 : Infinity;
const timeoutMs = Number(opt.timeout) * 1000;
setBudgets({ timeMs: Number(opt['time-budget']) * 1000, memoryBytes: Number(opt['memory-budget']) * 2 ** 20, outputBytes: Number(opt['output-budget']) * 1024 });
const log = (s) => opt.quiet || process.stderr.write(s + '\n');
const MiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
// Dawn needs no display on Mesa's llvmpipe.
const CHILD_ENV = { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' };

// ---- statistics ------------------------------------------------------------------------------------

function newStats() {
  return { cases: 0, ok: 0, diag: 0, bug: 0, ms: 0, byKind: {}, slowest: [], peakRssBytes: 0, maxPrintedBytes: 0 };
}

function record(stats, m) {
  stats.cases++;
  stats[m.outcome]++;
  stats.ms += m.ms;
  const k = (stats.byKind[m.kind] ??= { ok: 0, diag: 0, bug: 0 });
  k[m.outcome]++;
  if (m.maxRssBytes > stats.peakRssBytes) stats.peakRssBytes = m.maxRssBytes;
  if (m.printed > stats.maxPrintedBytes) stats.maxPrintedBytes = m.printed;
  stats.slowest.push({ index: m.index, kind: m.kind, ms: Math.round(m.ms) });
  if (stats.slowest.length > 20) stats.slowest = stats.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5);
}

/** A case recorded with `from` turns out to be a failure (over a budget when re-run alone). */
function reclassify(stats, kind, from) {
  stats[from]--;
  stats.bug++;
  const k = (stats.byKind[kind] ??= { ok: 0, diag: 0, bug: 0 });
  k[from]--;
  k.bug++;
}

// ---- in-process campaign in worker threads -------------------------------------------------------

/**
 * Runs every chunk on a pool of workers. A worker whose current case runs past `limitMs` is
 * terminated and replaced; the case is returned in `stuck` and its chunk goes on after it. A
 * case whose vovc time passes the time budget, or during which the process's resident set grew
 * past the memory budget (sampled), or whose worker ran out of heap, is returned in `suspects`:
 * the driver re-runs it alone.
 */
function runPool(chunks, workers, limitMs, stats, bugs) {
  const queue = [...chunks];
  const stuck = [];
  const suspects = new Map();
  const outcomes = new Map();
  const suspect = (task, index, why) => {
    const key = `${task}:${index}`;
    const s = suspects.get(key) ?? { task, index, why: new Set() };
    s.why.add(why);
    suspects.set(key, s);
  };
  const states = new Set();
  const total = chunks.reduce((a, c) => a + c.to - c.from, 0);
  let done = 0;
  let lastLog = 0;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    for (const st of states) if (st.chunk && st.inCase && rss - st.rss0 > BUDGETS.memoryBytes) suspect(st.chunk.task, st.next, 'memory');
  }, 200);
  return new Promise((resolveAll) => {
    let live = 0;
    const finish = () => {
      clearInterval(sampler);
      resolveAll({ stuck, suspects: [...suspects.values()].map((s) => ({ ...s, why: [...s.why], recorded: outcomes.get(`${s.task}:${s.index}`) })) });
    };
    const start = () => {
      if (!queue.length) return;
      live++;
      // The heap cap is a guard (a case past it is re-run alone and measured); the budget itself is the measured peak.
      const w = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { repo: REPO, seed, dist: DIST }, resourceLimits: { maxOldGenerationSizeMb: Math.max(2048, (2 * BUDGETS.memoryBytes) / 2 ** 20) } });
      const state = { chunk: undefined, next: 0, since: 0, ready: false, startedAt: Date.now(), inCase: false, rss0: 0 };
      states.add(state);
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
        } else if (m.type === 'start') {
          state.inCase = true;
          state.rss0 = process.memoryUsage.rss();
        } else if (m.type === 'case') {
          if (!state.chunk) return; // a late report from a worker being replaced
          state.inCase = false;
          record(stats[m.task], m);
          if (m.outcome !== 'bug' && m.vovcMs > BUDGETS.timeMs) suspect(m.task, m.index, 'time');
          if (suspects.has(`${m.task}:${m.index}`)) outcomes.set(`${m.task}:${m.index}`, { outcome: m.outcome, kind: m.kind });
          state.next = m.index + 1;
          state.since = Date.now();
          done++;
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            log(`  ${done}/${total} cases, ${bugs.length} failures`);
          }
        } else if (m.type === 'bug') {
          bugs.push(m);
          log(`  FAILURE ${m.task}:${m.index} (${m.kind}): ${m.message.split('\n')[0].slice(0, 300)}`);
        } else if (m.type === 'chunk-done') give();
      });
      w.on('error', (e) => {
        if (state.chunk && e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          // Not recorded yet: the re-run alone decides (and records it).
          suspect(state.chunk.task, state.next, 'heap');
          done++;
        } else {
          bugs.push({ type: 'bug', task: state.chunk?.task ?? 'worker', index: state.next, kind: 'worker', message: `worker died: ${e.message}`, stack: e.stack });
          if (state.chunk) record(stats[state.chunk.task], { index: state.next, kind: 'worker', outcome: 'bug', ms: 0 });
        }
        if (state.chunk && state.next + 1 < state.chunk.to) queue.unshift({ ...state.chunk, from: state.next + 1 });
        state.chunk = undefined;
      });
      w.on('exit', () => {
        clearInterval(timer);
        states.delete(state);
        live--;
        if (queue.length) start();
        else if (live === 0) finish();
      });
    };
    if (!queue.length) return finish();
    for (let i = 0; i < Math.min(workers, queue.length); i++) start();
  });
}

function chunksOf(task, n, size) {
  const out = [];
  for (let from = 0; from < n; from += size) out.push({ task, from, to: Math.min(n, from + size) });
  return out;
}

/**
 * Case `task:index` alone in a fresh process (fuzz/one.mjs), with `limitMs` from the moment
 * vovc is loaded: { timedOut, result?, crash?, maxRssBytes }.
 */
async function runAlone(task, index, limitMs) {
  const r = await spawnMeasured(process.execPath, [join(REPO, 'fuzz/one.mjs'), '--dist', DIST, '--seed', String(seed), '--case', `${task}:${index}`], { limitMs, readyLine: 'ready', env: process.env });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.timedOut) return { timedOut: true };
  if (!line) return { crash: `exit ${r.code ?? r.signal}: ${r.stderr.slice(-600)}`, oom: /heap out of memory|Allocation failed|ENOMEM|Cannot allocate/i.test(r.stderr), maxRssBytes: r.maxRssBytes };
  const result = JSON.parse(line);
  return { result, maxRssBytes: Math.max(result.maxRssBytes, r.maxRssBytes) };
}

/**
 * The re-runs alone: stuck cases (past --timeout) get three times the time before they count
 * as a hang; suspects of time or memory are measured. Each one's verdict is recorded.
 */
async function rerunAlone({ stuck, suspects }, stats, bugs) {
  const fail = (s, kind, message, extra = {}) => {
    bugs.push({ task: s.task, index: s.index, kind, message, ...extra });
    log(`  FAILURE ${s.task}:${s.index}: ${message}`);
  };
  for (const s of stuck) {
    log(`  re-running ${s.task}:${s.index} alone (it ran past ${opt.timeout} s)`);
    const a = await runAlone(s.task, s.index, 3 * timeoutMs);
    if (a.timedOut) {
      record(stats[s.task], { index: s.index, kind: 'hang', outcome: 'bug', ms: 3 * timeoutMs });
      fail(s, 'hang', `no result within ${(3 * timeoutMs) / 1000} s (hang)`);
      continue;
    }
    suspects.push({ ...s, why: ['stuck'], again: a });
  }
  const seen = new Set(stuck.map((s) => `${s.task}:${s.index}`));
  for (const s of suspects) {
    if (!s.again && seen.has(`${s.task}:${s.index}`)) continue; // stuck as well: re-run above
    if (!s.again) log(`  re-running ${s.task}:${s.index} alone (${s.why.join(', ')} over budget among the others)`);
    const a = s.again ?? (await runAlone(s.task, s.index, 3 * timeoutMs));
    // Cases that died with their worker (heap, stuck) were not recorded: they are now. A
    // recorded case found over a budget alone becomes a failure.
    const settle = (outcome, ms) => {
      if (!s.recorded) record(stats[s.task], { index: s.index, kind: a.result?.kind ?? s.why[0], outcome, ms, maxRssBytes: a.maxRssBytes });
      else if (outcome === 'bug' && s.recorded.outcome !== 'bug') reclassify(stats[s.task], s.recorded.kind, s.recorded.outcome);
    };
    if (a.timedOut) {
      settle('bug', 3 * timeoutMs);
      fail(s, 'hang', `no result within ${(3 * timeoutMs) / 1000} s (hang)`);
    } else if (a.crash) {
      settle('bug', 0);
      fail(s, a.oom ? 'budget: memory' : 'crash', a.oom ? `budget: memory: the case alone ran out of memory (peak ${MiB(a.maxRssBytes)}; ${a.crash.split('\n')[0]})` : `the case alone crashed: ${a.crash}`);
    } else {
      const over = [];
      if (a.maxRssBytes > BUDGETS.memoryBytes) over.push(['budget: memory', `budget: memory: peak resident set ${MiB(a.maxRssBytes)} with the case alone (budget ${MiB(BUDGETS.memoryBytes)}; ${MiB(a.result.baseRssBytes)} before it)`]);
      if (a.result.vovcMs > BUDGETS.timeMs) over.push(['budget: time', `budget: time: ${(a.result.vovcMs / 1000).toFixed(1)} s with the case alone (budget ${BUDGETS.timeMs / 1000} s)`]);
      settle(over.length ? 'bug' : a.result.outcome, a.result.ms);
      for (const [kind, message] of over) fail(s, kind, message, { caseKind: a.result.kind });
      if (a.result.bug && !s.recorded) bugs.push({ task: s.task, index: s.index, kind: a.result.kind, ...a.result.bug });
      if (over.length || a.result.bug) continue;
      log(`    ${s.task}:${s.index} alone: ${a.result.outcome}, ${(a.result.vovcMs / 1000).toFixed(1)} s, peak ${MiB(a.maxRssBytes)}: within the budgets`);
    }
  }
}

// ---- CLI slice ---------------------------------------------------------------------------------------

const spawnVovc = (args, limitMs) => spawnMeasured(process.execPath, [CLI, ...args], { limitMs, env: CHILD_ENV });

/** Exit 0, or 1 with a diagnostic; never a stack trace, an internal error or a time-out; within the output and memory budgets. */
function cliVerdict(r) {
  if (r.timedOut) return `no exit within ${(2 * timeoutMs) / 1000} s`;
  if (r.stdoutBytes + r.stderrBytes > BUDGETS.outputBytes) return `budget: output: printed ${r.stdoutBytes} + ${r.stderrBytes} bytes (budget ${BUDGETS.outputBytes})`;
  if (r.maxRssBytes > BUDGETS.memoryBytes) return `budget: memory: peak resident set ${MiB(r.maxRssBytes)} (budget ${MiB(BUDGETS.memoryBytes)})`;
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

/** Writes CLI case `j`'s files into `dir`: { args, kind, input }. */
function cliCase(ctx, fixtures, j, dir) {
  if (j.task === 'cli-dsl') {
    const c = dslCase(ctx, seed ^ 0xc11, j.index);
    const file = join(dir, 'case.vov');
    if (c.zoo === undefined) writeFileSync(file, c.text);
    const args = cliDslArgs(c, file, j.index, join(dir, 'out'));
    // Linux takes arguments of at most 128 KB and ~2 MB in all: a longer --set is cut to 100,000
    // characters, and a case past 1 MB in all is run with fewer --set.
    let total = 0;
    const fits = args.map((a) => a.slice(0, 100_000)).filter((a) => (total += a.length + 1) < 1 << 20);
    return { args: fits, kind: c.kind, input: { text: c.text?.length > 1 << 20 ? undefined : c.text, args: fits.map((a) => (a.length > 4096 ? `${a.slice(0, 4096)}... (cut)` : a)) } };
  }
  const c = weightsCaseAt(fixtures.length, seed ^ 0xc11, j.index);
  const w = weightsBytes(fixtures, c);
  const file = join(dir, `weights${w.ext}`);
  writeFileSync(file, w.bytes);
  return { args: cliWeightsArgs(w.f, file, join(dir, 'out')), kind: w.kind, input: w.input };
}

async function runCli(ctx, fixtures, nDsl, nWeights, workers, stats, bugs) {
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-cli-'));
  const jobs = [];
  for (let i = 0; i < nDsl; i++) jobs.push({ task: 'cli-dsl', index: i });
  for (let i = 0; i < nWeights; i++) jobs.push({ task: 'cli-weights', index: i });
  const slow = [];
  let next = 0;
  const one = async (slot, j) => {
    const dir = join(tmp, String(slot));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const { args, kind, input } = cliCase(ctx, fixtures, j, dir);
    const r = await spawnVovc(args, timeoutMs * 2);
    return { r, args, kind, input, bad: cliVerdict(r) };
  };
  const fail = (j, x) => {
    bugs.push({ task: j.task, index: j.index, kind: x.bad.startsWith('budget: ') ? x.bad.split(':').slice(0, 2).join(':') : x.kind, message: `vovc ${x.args.map((a) => (a.length > 200 ? `${a.slice(0, 200)}...` : a)).join(' ')}: ${x.bad}`, stack: x.r.stderr.slice(0, 4000), input: x.input, caseKind: x.kind });
    log(`  FAILURE ${j.task}:${j.index}: ${x.bad}`);
  };
  await Promise.all(
    Array.from({ length: workers }, async (_, s) => {
      for (let j; (j = jobs[next++]); ) {
        const x = await one(s, j);
        record(stats[j.task], { index: j.index, kind: x.kind, outcome: x.bad ? 'bug' : x.r.code === 0 ? 'ok' : 'diag', ms: x.r.ms, maxRssBytes: x.r.maxRssBytes, printed: x.r.stdoutBytes + x.r.stderrBytes });
        if (x.bad) fail(j, x);
        else if (x.r.ms > BUDGETS.timeMs) slow.push({ j, outcome: x.r.code === 0 ? 'ok' : 'diag', kind: x.kind });
      }
    }),
  );
  // Over the time budget among the others: alone now (the whole process's time, start-up included).
  for (const s of slow) {
    log(`  re-running ${s.j.task}:${s.j.index} alone (${BUDGETS.timeMs / 1000} s time budget)`);
    const x = await one('alone', s.j);
    if (!x.bad && x.r.ms > BUDGETS.timeMs) x.bad = `budget: time: ${(x.r.ms / 1000).toFixed(1)} s alone (budget ${BUDGETS.timeMs / 1000} s)`;
    if (x.bad) {
      reclassify(stats[s.j.task], s.kind, s.outcome);
      fail(s.j, x);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

// ---- differential mode ---------------------------------------------------------------------------------

const diffCase = (index) => diffCaseAt(one, caseSeed, seed, index);

/** The targets that run here: each is tried on a fixed small model; one that cannot run is skipped with its reason. */
async function availableTargets(wanted, tmp) {
  const probe = { text: 'model probe\n  input 1x3x9x9\n  stem: conv 3x3 3->4\n  stage2: maxpool 2x2, osa 4 -> 4, layers 1\n  head: classifier 2\n', input: [1, 3, 9, 9], weightSeed: 1, inputSeed: 1, mode: 'finite', positions: [0] };
  const dir = join(tmp, 'probe');
  writeDiffCase(probe, dir);
  const ok = [];
  const skipped = {};
  for (const t of wanted) {
    if (t === 'cuda-emu') {
      try {
        execFileSync('g++', ['--version'], { stdio: 'ignore' });
      } catch {
        skipped[t] = 'no g++ on the PATH';
        continue;
      }
    }
    const r = await spawnVovc(runArgs(probe, t, dir), 300_000);
    if (r.code === 0) ok.push(t);
    else skipped[t] = `a probe run failed (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n').slice(0, 2).join(' | ').slice(0, 400)}`;
  }
  return { ok, skipped };
}

async function runDiff(n, workers, stats, bugs) {
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-diff-'));
  const wanted = opt.targets.split(',').filter(Boolean);
  const { ok: targets, skipped } = await availableTargets(wanted.includes('reference') ? wanted : ['reference', ...wanted], tmp);
  for (const [t, why] of Object.entries(skipped)) log(`  diff: skipping target ${t}: ${why}`);
  const known = {};
  const refused = {};
  const perTarget = Object.fromEntries(targets.map((t) => [t, { ms: 0, runs: 0, peakRssBytes: 0 }]));
  const modes = {};
  const slow = [];
  const limitMs = Math.max(3 * DIFF_BUDGETS.timeMs, timeoutMs * 2);
  const runOne = (index, dir, only = targets, env = CHILD_ENV) => runDiffCase({ cli: CLI, c: diffCase(index), dir, targets: only, limitMs, env, outputBytes: BUDGETS.outputBytes });
  const report = (index, c, problems) => {
    for (const p of problems) {
      const kind = p.kind.startsWith('budget') ? p.kind : `diff: ${p.kind}`;
      bugs.push({ task: 'diff', index, kind, message: `${p.target}: ${p.message}`, input: { text: c.text, input: c.input, weightSeed: c.weightSeed, inputSeed: c.inputSeed, mode: c.mode, positions: c.positions }, replay: `node fuzz/run.mjs --replay diff:${index} --seed ${seed}` });
      log(`  FAILURE diff:${index} (${p.target}, ${p.kind}): ${p.message.slice(0, 300)}`);
    }
  };
  let next = Number(opt['diff-from']);
  let done = 0;
  let stopped;
  let lastLog = Date.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, slot) => {
      for (let index; (index = next++) < n; ) {
        if (Date.now() > deadline) {
          stopped ??= index;
          break;
        }
        const c = diffCase(index);
        const dir = join(tmp, String(slot));
        rmSync(dir, { recursive: true, force: true });
        const t0 = performance.now();
        const r = await runOne(index, dir);
        const ms = performance.now() - t0;
        const peak = Math.max(...Object.values(r.runs).map((x) => x.maxRssBytes));
        record(stats.diff, { index, kind: c.mode, outcome: r.outcome, ms, maxRssBytes: peak });
        modes[c.mode] = (modes[c.mode] ?? 0) + 1;
        for (const [t, x] of Object.entries(r.runs)) {
          perTarget[t].ms += x.ms;
          perTarget[t].runs++;
          perTarget[t].peakRssBytes = Math.max(perTarget[t].peakRssBytes, x.maxRssBytes);
        }
        for (const [t, k] of Object.entries(r.known)) (known[t] ??= { cases: 0, elements: 0 }), known[t].cases++, (known[t].elements += k);
        for (const [t, code] of Object.entries(r.refused)) ((refused[t] ??= {})[code] ??= []).push(index);
        report(index, c, r.problems);
        for (const t of r.slow) slow.push({ index, target: t, outcome: r.outcome });
        done++;
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          log(`  diff: ${done}/${n} models, ${bugs.filter((b) => b.task === 'diff').length} failures`);
        }
      }
    }),
  );
  for (const s of slow) {
    log(`  re-running diff:${s.index} on ${s.target} alone (${DIFF_BUDGETS.timeMs / 1000} s budget per target)`);
    const dir = join(tmp, 'alone');
    rmSync(dir, { recursive: true, force: true });
    // A TMPDIR of its own: cuda-emu's build cache (under the temporary folder) must not make the re-run fast.
    const own = join(dir, 'tmp');
    mkdirSync(own, { recursive: true });
    const r = await runOne(s.index, dir, s.target === 'reference' ? ['reference'] : ['reference', s.target], { ...CHILD_ENV, TMPDIR: own });
    const ms = r.runs[s.target].ms;
    if (ms > DIFF_BUDGETS.timeMs) {
      if (s.outcome === 'ok') reclassify(stats.diff, diffCase(s.index).mode, 'ok');
      report(s.index, diffCase(s.index), [{ target: s.target, kind: 'budget: time', message: `budget: time: ${(ms / 1000).toFixed(1)} s alone (budget ${DIFF_BUDGETS.timeMs / 1000} s)` }]);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  const from = Number(opt['diff-from']);
  if (stopped !== undefined) log(`  diff: the --deadline passed: models ${from}..${stopped - 1} ran; go on with --diff-from ${stopped}`);
  return { targets, skipped, from, ...(stopped !== undefined ? { deadline: `stopped at the --deadline of ${opt.deadline} s: models ${from}..${stopped - 1} ran (${done}); go on with --diff-from ${stopped}` } : {}), known, refused, perTarget: Object.fromEntries(Object.entries(perTarget).map(([t, x]) => [t, { msPerRun: Math.round(x.ms / Math.max(1, x.runs)), runs: x.runs, peakRssMiB: Math.round(x.peakRssBytes / 2 ** 20) }])), modes };
}

// ---- replay ------------------------------------------------------------------------------------------

async function replay(spec) {
  const [task, idx] = spec.split(':');
  const index = Number(idx);
  const api = await loadApi(REPO, DIST);
  const ctx = dslContext(REPO, api.zooNames());
  const fixtures = weightFixtures(REPO);
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-replay-'));
  const keep = join(REPO, 'test-output/fuzz');
  mkdirSync(keep, { recursive: true });
  const show = (s) => (s.length > 20_000 ? `${s.slice(0, 20_000)}\n... (${s.length} characters in all)` : s);
  try {
    if (task === 'diff') {
      const c = diffCase(index);
      const dir = join(keep, `replay-diff-${index}`);
      rmSync(dir, { recursive: true, force: true });
      process.stdout.write(`input [${c.input.join(', ')}] (${c.mode}${c.mode === 'finite' ? '' : `, positions ${JSON.stringify(c.positions)}`}), weights --seed ${c.weightSeed}\n---- case.vov ----\n${c.text}\n------------------\n`);
      const wanted = opt.targets.split(',').filter((t) => t && t !== 'reference');
      const r = await runDiffCase({ cli: CLI, c, dir, targets: ['reference', ...wanted], limitMs: 600_000, env: CHILD_ENV, outputBytes: BUDGETS.outputBytes });
      process.stdout.write(`wrote ${dir}/case.vov and x.npy; each target: node dist/cli/vovc.js ${runArgs(c, 'TARGET', dir).join(' ')}\n`);
      for (const [t, x] of Object.entries(r.runs)) process.stdout.write(`  ${t}: exit ${x.code}, ${x.ms} ms, peak ${MiB(x.maxRssBytes)}\n`);
      for (const [t, k] of Object.entries(r.known)) process.stdout.write(`  known difference: ${t} differs at ${k} non-finite reference elements (onnxruntime's MaxPool drops NaN)\n`);
      for (const [t, code] of Object.entries(r.refused)) process.stdout.write(`  refused: ${t} refuses the model with ${code} (documented)\n`);
      for (const p of r.problems) process.stdout.write(`  FAILURE ${p.target} (${p.kind}): ${p.message}\n`);
      process.stdout.write(`outcome: ${r.outcome}\n`);
      return;
    }
    if (task === 'dsl' || task === 'cli-dsl') {
      const c = dslCase(ctx, task === 'dsl' ? seed : seed ^ 0xc11, index);
      process.stdout.write(`kind ${c.kind}${c.zoo ? `, zoo model ${c.zoo}` : ''}${c.pick ? `, model ${c.pick}` : ''}${c.set?.length ? `, --set ${show(JSON.stringify(c.set))}` : ''}${c.inputShape ? `, input shape ${JSON.stringify(c.inputShape)}` : ''}\n`);
      if (c.text !== undefined) process.stdout.write(`---- case.vov ----\n${show(c.text)}\n------------------\n`);
      if (c.text !== undefined && c.text.length > 20_000) {
        writeFileSync(join(keep, `replay-${task}-${index}.vov`), c.text);
        process.stdout.write(`wrote ${join(keep, `replay-${task}-${index}.vov`)}\n`);
      }
      const file = join(tmp, 'case.vov');
      if (task === 'dsl') {
        const m = {};
        process.stdout.write(`outcome: ${runDslCase(api, c, file, m)} (${m.ms?.toFixed(0)} ms, ${m.printed} bytes printed)\n`);
      } else {
        const { args } = cliCase(ctx, fixtures, { task, index }, tmp);
        const r = await spawnVovc(args, timeoutMs * 2);
        process.stdout.write(`exit ${r.code}, ${r.ms.toFixed(0)} ms, peak ${MiB(r.maxRssBytes)}, ${r.stdoutBytes} + ${r.stderrBytes} bytes printed\n${show(r.stderr)}`);
      }
    } else {
      const c = weightsCaseAt(fixtures.length, task === 'weights' ? seed : seed ^ 0xc11, index);
      const w = weightsBytes(fixtures, c);
      const file = join(keep, `replay-${task}-${index}${w.ext}`);
      writeFileSync(file, w.bytes);
      process.stdout.write(`fixture ${w.f.name}, ${c.scale ? `scaling file ${JSON.stringify(c.scale)}` : `mutations ${JSON.stringify(c.muts)}`}\nwrote ${file} (${w.bytes.length} bytes)\n`);
      if (task === 'weights') {
        const graph = api.lowerSpec(api.loadModel(w.f.model, { inputShape: w.f.inputShape }).spec);
        const m = {};
        process.stdout.write(`outcome: ${await runWeightsCase(api, w.bytes, file, graph, m)} (${m.ms?.toFixed(0)} ms, ${m.printed} bytes printed)\n`);
      } else {
        const r = await spawnVovc(cliWeightsArgs(w.f, file, join(tmp, 'out')), timeoutMs * 2);
        process.stdout.write(`exit ${r.code}, ${r.ms.toFixed(0)} ms, peak ${MiB(r.maxRssBytes)}\n${show(r.stderr)}`);
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
    if (opt.replay) {
      try {
        await replay(opt.replay);
      } catch (e) {
        // The oracle's verdict on the replayed case: the failure and what vovc threw.
        if (e?.name !== 'Bug') throw e;
        process.stdout.write(`outcome: FAILURE: ${e.message}\n${e.cause?.stack ?? ''}\n`);
        process.exitCode = 1;
      }
    } else await campaign();
  } finally {
    rmSync(DIST, { recursive: true, force: true });
  }
}

async function campaign() {
  rmSync(join(opt.out, 'failures'), { recursive: true, force: true });
  const workers = Math.max(1, Number(opt.workers));
  const nDsl = Number(opt.dsl);
  const nWeights = Number(opt.weights);
  const stats = { dsl: newStats(), weights: newStats(), 'cli-dsl': newStats(), 'cli-weights': newStats(), diff: newStats() };
  const bugs = [];
  const t0 = performance.now();
  log(`vovc fuzz: seed ${seed}, ${nDsl} DSL cases, ${nWeights} weight files, ${workers} workers, ${opt.timeout} s per case; budgets ${BUDGETS.timeMs / 1000} s, ${MiB(BUDGETS.memoryBytes)}, ${BUDGETS.outputBytes / 1024} KB printed`);
  const chunk = Number(opt.chunk);
  const pool = await runPool([...chunksOf('weights', nWeights, chunk), ...chunksOf('dsl', nDsl, chunk)], workers, timeoutMs, stats, bugs);
  await rerunAlone(pool, stats, bugs);
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
  const t2 = performance.now();
  const nDiff = Number(opt.diff);
  let diff;
  if (nDiff > 0) {
    log(`differential: models ${opt['diff-from']}..${nDiff - 1}, small, on ${opt.targets}, compared with the reference (atol ${TOL.atol}, rtol ${TOL.rtol})`);
    diff = await runDiff(nDiff, workers, stats, bugs);
  }
  const diffS = (performance.now() - t2) / 1000;
  const summary = {
    seed,
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    workers,
    timeoutS: Number(opt.timeout),
    budgets: { timeS: BUDGETS.timeMs / 1000, memoryMiB: BUDGETS.memoryBytes / 2 ** 20, outputKiB: BUDGETS.outputBytes / 1024, memoryMethod: MEMORY_METHOD, diffTargetTimeS: DIFF_BUDGETS.timeMs / 1000, diffTargetMemoryMiB: DIFF_BUDGETS.memoryBytes / 2 ** 20 },
    // The driver's own peak: its worker threads run the in-process cases.
    driverPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    inProcessSeconds: Math.round(inProcessS),
    cliSeconds: Math.round(cliS),
    diffSeconds: Math.round(diffS),
    ...(diff ? { diff } : {}),
    stats: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, { ...s, ms: Math.round(s.ms), peakRssMiB: Math.round(s.peakRssBytes / 2 ** 20), peakRssBytes: undefined, slowest: s.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5) }])),
    failures: bugs.map((b) => ({ task: b.task, index: b.index, kind: b.kind, message: b.message.split('\n')[0].slice(0, 500) })),
  };
  mkdirSync(join(opt.out, 'failures'), { recursive: true });
  writeFileSync(join(opt.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const seen = new Map();
  for (const b of bugs) {
    const name = `${b.task}-${b.index}`;
    const k = (seen.get(name) ?? 0) + 1;
    seen.set(name, k);
    writeFileSync(join(opt.out, 'failures', `${name}${k > 1 ? `-${k}` : ''}.json`), JSON.stringify(b, null, 2) + '\n');
  }
  const line = (name, s) => `${name.padEnd(12)} ${String(s.cases).padStart(7)} cases  ${String(s.ok).padStart(7)} ok  ${String(s.diag).padStart(7)} diagnostics  ${String(s.bug).padStart(4)} failures  (${(s.ms / Math.max(1, s.cases)).toFixed(1)} ms/case)`;
  process.stdout.write(
    [
      `seed ${seed}: in-process ${inProcessS.toFixed(0)} s, CLI ${cliS.toFixed(0)} s, differential ${diffS.toFixed(0)} s`,
      ...Object.entries(stats).map(([k, s]) => line(k, s)),
      `DSL kinds: ${Object.entries(stats.dsl.byKind).map(([k, v]) => `${k} ${v.ok}/${v.diag}/${v.bug}`).join(', ')} (ok/diagnostics/failures)`,
      `weight files: ${Object.entries(stats.weights.byKind).map(([k, v]) => `${k} ${v.ok}/${v.diag}/${v.bug}`).join(', ')}`,
      ...(diff ? [`differential: targets ${diff.targets.join(', ')}${Object.keys(diff.skipped).length ? ` (skipped: ${Object.entries(diff.skipped).map(([t, w]) => `${t}: ${w}`).join('; ')})` : ''}; inputs ${Object.entries(diff.modes).map(([m, k]) => `${m} ${k}`).join(', ')}; known differences ${JSON.stringify(diff.known)}; documented refusals ${JSON.stringify(diff.refused)}`] : []),
      `${bugs.length} failures${bugs.length ? ` (see ${join(opt.out, 'failures')}; replay with --replay TASK:INDEX --seed ${seed})` : ''}`,
      '',
    ].join('\n'),
  );
  process.exitCode = bugs.length ? 1 : 0;
}

await main();

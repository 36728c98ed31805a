// One in-process fuzz case, as the worker threads (fuzz/worker.mjs) and the one-case process
// (fuzz/one.mjs, a case re-run alone to measure its time and memory) run it.
//
// run(task, index) -> { kind, outcome: 'ok' | 'diag' | 'bug', ms, vovcMs, printed, bug? }
//   ms: the whole case (generation included); vovcMs: vovc's own work (fuzz/oracle.mjs);
//   printed: the bytes vovc prints for it; bug: { message, stack, input } for a failure.
//
// Self-tests of the driver (environment, `task:index`): VOVC_FUZZ_HANG_AT never ends,
// VOVC_FUZZ_SLOW_AT takes a second longer than the time budget, VOVC_FUZZ_HOG_AT holds 100 MB
// more than the memory budget for a second and a half.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dslCase, dslContext, weightFixtures, weightsBytes, weightsCaseAt } from './cases.mjs';
import { BUDGETS, Bug, runDslCase, runWeightsCase } from './oracle.mjs';
import { loadApi } from './api.mjs';

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export async function makeRunner({ repo, dist, seed }) {
  const api = await loadApi(repo, dist);
  const ctx = dslContext(repo, api.zooNames());
  let fixtures;
  const weightCases = () => (fixtures ??= weightFixtures(repo).map((f) => ({ ...f, graph: api.lowerSpec(api.loadModel(f.model, { inputShape: f.inputShape }).spec) })));
  const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-'));
  const vovFile = join(tmp, 'case.vov');
  const env = process.env;

  const failure = (e, input) => {
    const cause = e instanceof Bug && e.cause ? e.cause : e;
    return { message: e.message, stack: cause?.stack ?? String(cause), input };
  };

  async function run(task, index) {
    const t0 = performance.now();
    const self = `${task}:${index}`;
    if (env.VOVC_FUZZ_HANG_AT === self) for (;;);
    const m = {};
    let kind;
    let outcome;
    let bug;
    if (task === 'dsl') {
      const c = dslCase(ctx, seed, index);
      kind = c.kind;
      try {
        outcome = runDslCase(api, c, vovFile, m);
      } catch (e) {
        outcome = 'bug';
        bug = failure(e, { text: c.text?.length > 4 << 20 ? `${c.text.slice(0, 1 << 20)}... (cut)` : c.text, pick: c.pick, zoo: c.zoo, set: c.set?.map((s) => (s.length > 1 << 16 ? `${s.slice(0, 1 << 16)}... (cut)` : s)), inputShape: c.inputShape });
      }
    } else {
      const c = weightsCaseAt(weightCases().length, seed, index);
      let w;
      try {
        w = weightsBytes(fixtures, c);
      } catch (e) {
        e.message = `the generator itself failed (a fuzzer bug): ${e.message}`;
        return { kind: c.scale ? `scale-${c.scale.kind}` : fixtures[c.fixture].name, outcome: 'bug', ms: performance.now() - t0, vovcMs: 0, printed: 0, bug: failure(e, c) };
      }
      kind = w.kind;
      try {
        outcome = await runWeightsCase(api, w.bytes, join(tmp, `weights${w.ext}`), w.f.graph, m);
      } catch (e) {
        outcome = 'bug';
        bug = failure(e, { ...w.input, bytes: !c.scale && w.bytes.length <= 4 << 20 ? Buffer.from(w.bytes).toString('base64') : undefined });
      }
    }
    if (env.VOVC_FUZZ_SLOW_AT === self) {
      sleep(BUDGETS.timeMs + 1000);
      m.ms = (m.ms ?? 0) + BUDGETS.timeMs + 1000;
    }
    if (env.VOVC_FUZZ_HOG_AT === self) {
      const hog = Buffer.alloc(BUDGETS.memoryBytes + (100 << 20), 1);
      sleep(1500);
      hog[0] = 2;
    }
    return { kind, outcome, ms: performance.now() - t0, vovcMs: m.ms ?? 0, printed: m.printed ?? 0, ...(bug ? { bug } : {}) };
  }

  return { run, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

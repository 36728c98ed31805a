// Fuzz worker thread: runs chunks of cases against the compiled vovc (dist/) and reports every
// case to the driver, which watches the time each case takes and replaces a worker stuck in
// one (fuzz/run.mjs).
//
// In:  { task: 'dsl' | 'weights', from, to } per chunk.
// Out: { type: 'ready' } once; { type: 'case', task, index, kind, outcome, ms } per case;
//      { type: 'bug', task, index, kind, message, stack, input } per failure;
//      { type: 'chunk-done' } per chunk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { dslCase, dslContext, weightFixtures, weightsCaseAt } from './cases.mjs';
import { Bug, runDslCase, runWeightsCase } from './oracle.mjs';
import { loadApi } from './api.mjs';
import { mutateWeights } from './weights.mjs';

const { repo, seed, dist } = workerData;
const api = await loadApi(repo, dist);
const ctx = dslContext(repo, api.zooNames());
let fixtures;
const weightCases = () => (fixtures ??= weightFixtures(repo).map((f) => ({ ...f, graph: api.lowerSpec(api.loadModel(f.model, { inputShape: f.inputShape }).spec) })));
// The driver's own test: this case never ends, as a hang in vovc would not.
const hangAt = process.env.VOVC_FUZZ_HANG_AT;
const tmp = mkdtempSync(join(tmpdir(), 'vovc-fuzz-'));
const vovFile = join(tmp, 'case.vov');

process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function report(task, index, kind, input, e) {
  const cause = e instanceof Bug && e.cause ? e.cause : e;
  parentPort.postMessage({ type: 'bug', task, index, kind, message: e.message, stack: cause?.stack ?? String(cause), input });
}

async function runChunk({ task, from, to }) {
  for (let index = from; index < to; index++) {
    const t0 = performance.now();
    if (hangAt === `${task}:${index}`) for (;;);
    let kind;
    let outcome;
    if (task === 'dsl') {
      const c = dslCase(ctx, seed, index);
      kind = c.kind;
      try {
        outcome = runDslCase(api, c, vovFile);
      } catch (e) {
        outcome = 'bug';
        report(task, index, kind, { text: c.text, pick: c.pick, zoo: c.zoo, set: c.set, inputShape: c.inputShape }, e);
      }
    } else {
      const c = weightsCaseAt(weightCases().length, seed, index);
      const f = fixtures[c.fixture];
      kind = f.name;
      let bytes;
      try {
        bytes = mutateWeights(f.bytes, c.muts);
      } catch (e) {
        e.message = `the mutator itself failed (a fuzzer bug): ${e.message}`;
        report(task, index, kind, { fixture: f.name, muts: c.muts }, e);
      }
      try {
        outcome = bytes ? await runWeightsCase(api, bytes, join(tmp, `weights${extname(f.weights)}`), f.graph) : 'bug';
      } catch (e) {
        outcome = 'bug';
        report(task, index, kind, { fixture: f.name, muts: c.muts, bytes: bytes.length <= 4 << 20 ? Buffer.from(bytes).toString('base64') : undefined }, e);
      }
    }
    parentPort.postMessage({ type: 'case', task, index, kind, outcome, ms: performance.now() - t0 });
  }
  parentPort.postMessage({ type: 'chunk-done' });
}

parentPort.on('message', (m) => void runChunk(m));
parentPort.postMessage({ type: 'ready' });

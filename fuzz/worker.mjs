// Fuzz worker thread: runs chunks of cases against the compiled vovc (dist/) and reports every
// case to the driver, which watches the time each case takes (and the process's memory) and
// replaces a worker stuck in one (fuzz/run.mjs).
//
// In:  { task: 'dsl' | 'weights', from, to } per chunk.
// Out: { type: 'ready' } once; { type: 'start', task, index } before each case;
//      { type: 'case', task, index, kind, outcome, ms, vovcMs, printed } per case;
//      { type: 'bug', task, index, kind, message, stack, input } per failure;
//      { type: 'chunk-done' } per chunk.
import { parentPort, workerData } from 'node:worker_threads';
import { makeRunner } from './runner.mjs';

const { repo, seed, dist } = workerData;
const runner = await makeRunner({ repo, dist, seed });
process.on('exit', () => runner.cleanup());

async function runChunk({ task, from, to }) {
  for (let index = from; index < to; index++) {
    parentPort.postMessage({ type: 'start', task, index });
    const r = await runner.run(task, index);
    // A budget failure is named by its budget ('budget: output'), the case's kind kept beside it.
    if (r.bug) parentPort.postMessage({ type: 'bug', task, index, kind: r.bug.message.startsWith('budget: ') ? r.bug.message.split(':').slice(0, 2).join(':') : r.kind, caseKind: r.kind, ...r.bug });
    parentPort.postMessage({ type: 'case', task, index, kind: r.kind, outcome: r.outcome, ms: r.ms, vovcMs: r.vovcMs, printed: r.printed });
  }
  parentPort.postMessage({ type: 'chunk-done' });
}

parentPort.on('message', (m) => void runChunk(m));
parentPort.postMessage({ type: 'ready' });

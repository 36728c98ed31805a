// The worker-thread pool of the reference interpreter. Workers run the conv kernels of
// gemm.ts on SharedArrayBuffer-backed tensors: each message names a kernel, the job (typed
// arrays passed as shared-buffer views, so nothing is copied), the chunks of the output and a
// shared counter through which the threads share them out; the reply says when the worker
// found no chunk left.
//
// The workers' code is gemm.ts's functions as source text, evaluated in the worker: there is
// no worker .js file to locate, so the pool works from dist/ and from the TypeScript sources
// under vitest alike.
//
// Idle workers are unref'd so that a cached pool never keeps the process alive; a worker is
// ref'd while it has work, so that an awaited task cannot be abandoned by an exiting process.

import { Worker } from 'node:worker_threads';
import { ACTIVATIONS, ACTIVATION_NAMES } from '../ir/activations.js';
import { WORKER_FUNCTIONS, type ConvJob, type SharedView } from './gemm.js';

/** The activation table's reference functions by position (ConvJob.act), as worker source; none is null. */
const ACTS_SOURCE = `[${ACTIVATION_NAMES.map((a) => (a === 'none' ? 'null' : `(${ACTIVATIONS[a].ref.toString()})`)).join(', ')}]`;

const SOURCE = `'use strict';
${WORKER_FUNCTIONS.map((f) => f.toString()).join('\n\n')}
const ACTS = ${ACTS_SOURCE};
const { parentPort } = require('node:worker_threads');
const ws = createWorkspace(true);
parentPort.on('message', (m) => {
  try {
    runChunks(m.kind, decodeJob(m.job, ACTS), m.chunks, new Int32Array(m.counter), ws);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.stack) || e) });
  }
});
`;

export type TaskKind = 'gemm' | 'dw';

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

function encode(a: Float32Array | null): SharedView | null {
  if (a === null) return null;
  if (!(a.buffer instanceof SharedArrayBuffer)) throw new Error('internal: a tensor handed to a worker is not in shared memory');
  return [a.buffer, a.byteOffset, a.length];
}

class PoolWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  broken: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error) p.reject(new Error(`internal: reference worker failed: ${m.error}`));
      else p.resolve();
    });
    const die = (e: Error) => {
      this.broken = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => die(new Error(`internal: reference worker crashed: ${e.stack ?? e}`)));
    worker.on('exit', (code) => die(new Error(`internal: reference worker exited (code ${code})`)));
  }

  run(kind: TaskKind, job: ConvJob, chunks: readonly (readonly number[])[], counter: SharedArrayBuffer): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    // The activation crosses as its table position (job.act); a function cannot be posted.
    const msg = { ...job, x: encode(job.x), w: encode(job.w), bias: encode(job.bias), res: encode(job.res), out: encode(job.out), actFn: null };
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, kind, job: msg, chunks, counter });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** `size` worker threads; the calling thread is the pool's extra member (see runReference). */
export class Pool {
  private readonly workers: PoolWorker[];
  /** Convs handed to the workers so far. */
  dispatched = 0;

  constructor(readonly size: number) {
    this.workers = Array.from({ length: size }, () => new PoolWorker(new Worker(SOURCE, { eval: true })));
  }

  get healthy(): boolean {
    return this.workers.every((w) => !w.broken);
  }

  /** Has every worker take chunks of `job` from `counter` (see runChunks) until none is left. */
  run(kind: TaskKind, job: ConvJob, chunks: readonly (readonly number[])[], counter: SharedArrayBuffer): Promise<void> {
    this.dispatched++;
    return Promise.all(this.workers.map((w) => w.run(kind, job, chunks, counter))).then(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Pools by size, reused across runs (a run that asks for another size never disturbs one in flight). */
const pools = new Map<number, Pool>();

/** A pool of `size` workers, reused across runs while it stays healthy. */
export function getPool(size: number): Pool {
  let p = pools.get(size);
  if (!p || !p.healthy) {
    if (p) void p.close();
    p = new Pool(size);
    pools.set(size, p);
  }
  return p;
}


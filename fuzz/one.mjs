#!/usr/bin/env node
// One in-process fuzz case alone in a fresh process, measured: the driver (fuzz/run.mjs) runs a
// case here when it ran past the time-out, the time budget or the memory budget among the
// others, before it names it a hang or a budget failure.
//
//   node fuzz/one.mjs --dist DIST --seed S --case dsl:INDEX|weights:INDEX
//
// Prints 'ready' when vovc is loaded (the driver's clock starts there), then one JSON line:
// { kind, outcome, ms, vovcMs, printed, bug?, maxRssBytes, baseRssBytes } (maxRssBytes: the
// peak resident set of this process, baseRssBytes: after loading vovc, before the case).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeRunner } from './runner.mjs';

const { values: opt } = parseArgs({ options: { dist: { type: 'string' }, seed: { type: 'string', default: '20240601' }, case: { type: 'string' } } });
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const [task, idx] = opt.case.split(':');
const runner = await makeRunner({ repo, dist: opt.dist, seed: Number(opt.seed) | 0 });
process.stdout.write('ready\n');
const baseRssBytes = process.memoryUsage.rss();
try {
  const r = await runner.run(task, Number(idx));
  process.stdout.write(JSON.stringify({ ...r, maxRssBytes: process.resourceUsage().maxRSS * 1024, baseRssBytes }) + '\n');
} finally {
  runner.cleanup();
}

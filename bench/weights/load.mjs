// Checkpoint loading throughput: loadCheckpoint on a ~150 MB .pth and .safetensors, next to
// `cat FILE > /dev/null` on the same files in the same run (the page cache is warm for both).
//
//   npx tsc -p . && node bench/weights/load.mjs [--runs 5]
//
// The files (float32 tensors shaped like vovnet57's, 36.6M parameters, plus int64
// num_batches_tracked counters) are made once in $TMPDIR/vovc-bench-weights.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../dist/src/weights/checkpoint.js';
import { writeSafetensors } from '../../dist/src/weights/safetensors.js';
import { odict, pth, tensor } from '../../test/weights/helpers/torchwriter.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const dir = join(tmpdir(), 'vovc-bench-weights');
const files = { pth: join(dir, 'model.pth'), safetensors: join(dir, 'model.safetensors') };

/** conv+bn layers of vovnet57's widths: [out, in, k] per conv, 36.6M parameters in all. */
function layers() {
  const convs = [[64, 3, 3], [64, 64, 3], [128, 64, 3]];
  let cin = 128;
  const stages = [[128, 256, 1], [160, 512, 1], [192, 768, 4], [224, 1024, 3]];
  for (const [mid, out, blocks] of stages) {
    for (let b = 0; b < blocks; b++) {
      let c = cin;
      for (let l = 0; l < 5; l++) convs.push([mid, (c = l ? mid : cin), 3]);
      convs.push([out, cin + 5 * mid, 1]);
      cin = out;
    }
  }
  return convs;
}

function makeFiles() {
  mkdirSync(dir, { recursive: true });
  let seed = 1;
  const random = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1);
  const entries = [];
  layers().forEach(([out, cin, k], i) => {
    entries.push({ key: `features.${i}.conv.weight`, shape: [out, cin, k, k], data: random(out * cin * k * k) });
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) entries.push({ key: `features.${i}.bn.${p}`, shape: [out], data: random(out) });
    entries.push({ key: `features.${i}.bn.num_batches_tracked`, shape: [], data: null, int: new BigInt64Array([1n]) });
  });
  entries.push({ key: 'classifier.weight', shape: [1000, 1024], data: random(1024000) }, { key: 'classifier.bias', shape: [1000], data: random(1000) });

  writeFileSync(files.safetensors, writeSafetensors(entries, { format: 'pt' }));
  const storages = {};
  const items = entries.map((e, i) => {
    storages[i] = e.data ?? e.int;
    return [e.key, tensor({ key: String(i), storageType: e.data ? 'FloatStorage' : 'LongStorage', shape: e.shape })];
  });
  writeFileSync(files.pth, pth(odict(items), storages, { archive: 'model' }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time(fn) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

if (!existsSync(files.pth) || !existsSync(files.safetensors)) makeFiles();
console.log(`checkpoint loading, median of ${runs} (node ${process.version})`);
console.log('file               size MB   cat ms  cat MB/s   load ms  load MB/s  load/cat');
for (const [format, file] of Object.entries(files)) {
  const mb = statSync(file).size / 1e6;
  const ck = await loadCheckpoint(file); // warm-up, and a check that it loads
  if (ck.format !== format || ck.tensors.length !== layers().length * 6 + 2) throw new Error(`${file}: unexpected checkpoint`);
  const cat = await time(() => execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]));
  const load = await time(() => loadCheckpoint(file));
  const row = [format.padEnd(16), mb.toFixed(1).padStart(8), cat.toFixed(1).padStart(8), (mb / (cat / 1000)).toFixed(0).padStart(9),
    load.toFixed(1).padStart(9), (mb / (load / 1000)).toFixed(0).padStart(10), (load / cat).toFixed(2).padStart(9)];
  console.log(row.join(' '));
}

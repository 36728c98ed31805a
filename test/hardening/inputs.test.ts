// Hostile and unusual inputs (the hostile-inputs issue, items 1, 6 and 7): each case ends in a
// diagnostic and exit 1 (a usage error: 2), quickly, with bounded memory and output, or loads
// as torch would. The .pth files are made with test/weights/helpers/torchwriter.mjs, except the
// protocol-0/1 files of test/hardening/data (made by torch: see its README).
import { mkdtempSync, writeFileSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { REPO, vovc } from '../helpers/fixtures.js';
import { dict, pth, tensor, zip, pickle } from '../weights/helpers/torchwriter.mjs';

const dir = mkdtempSync(join(tmpdir(), 'vovc-inputs-'));
const DATA = join(REPO, 'test/hardening/data');

/** Runs vovc and checks the bounds every hostile input must meet: exit code, time, stderr size, no stack trace. */
async function refused(args: string[], code = 1, pattern?: RegExp): Promise<string> {
  const t0 = performance.now();
  const r = await vovc(args, { timeoutMs: 30_000 });
  const ms = performance.now() - t0;
  expect(r.code, r.stderr).toBe(code);
  expect(ms, 'seconds').toBeLessThan(10_000);
  expect(r.stderr.length).toBeLessThan(100_000);
  expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  if (pattern) expect(r.stderr).toMatch(pattern);
  return r.stderr;
}

describe('special files are refused unread', () => {
  const fifo = join(dir, 'pipe');
  spawnSync('mkfifo', [fifo]);
  const zeroVov = join(dir, 'zero.vov');
  symlinkSync('/dev/zero', zeroVov);
  it('/dev/zero as a model file', () => refused(['check', zeroVov], 1, /E1301: cannot read model file .*zero\.vov': it is not a regular file \(a device\)/));
  it('a FIFO as a model file (would block)', () => refused(['check', fifo], 1, /E1301.*a FIFO/));
  it('/dev/zero as --input', () => refused(['run', 'vovnet27_slim', '--input', '/dev/zero'], 1, /E4101: \/dev\/zero: cannot read: it is not a regular file \(a device\)/));
  it('a FIFO as --input', () => refused(['run', 'vovnet27_slim', '--input', fifo], 1, /E4101.*a FIFO/));
  it('a FIFO as --weights', () => refused(['weights', 'inspect', fifo], 1, /E4101.*a FIFO/));
  it('a FIFO as --image', () => refused(['run', 'vovnet27_slim', '--image', fifo], 1, /E4203.*a FIFO/));
});

describe('small things', () => {
  for (const seed of ['abc', '1e400', '', '-1', '4294967296', '1.5']) {
    it(`--seed '${seed}' is a usage error`, () => refused(['build', 'vovnet27_slim', '--input-shape', '1,3,32,32', '--target', 'onnx', '--out', join(dir, 'seed'), `--seed=${seed}`], 2, /--seed must be an integer from 0 to 4294967295/));
  }
  it('a byte order mark at the start of a .vov file is ignored', async () => {
    const f = join(dir, 'bom.vov');
    writeFileSync(f, '\ufeffmodel bom extends vovnet27_slim\n  stage4: blocks 2\n');
    const r = await vovc(['check', f]);
    expect(r.code, r.stderr).toBe(0);
  });
  it("--set 'stageN=...' with two osa items is refused as the same line in a file is", () => refused(['check', 'vovnet39', '--set', 'stage4=osa 192 -> 768 x1, osa 100 -> 200'], 1, /E1008: duplicate 'mid' on one line/));
  it('a protocol-1 torch.save file loads, with its transposed view and the True of protocol 1', async () => {
    const ck = await loadCheckpoint(join(DATA, 'protocol1.pth'));
    expect(ck.wrapperPath).toEqual(['model']);
    const byKey = new Map(ck.tensors.map((t) => [t.key, t]));
    expect(Array.from(byKey.get('w')!.data!)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(byKey.get('t')!.shape).toEqual([3, 2]);
    expect(Array.from(byKey.get('t')!.data!)).toEqual([10, 13, 11, 14, 12, 15]);
  });
  it('a protocol-0 file (which torch.load cannot read either) is refused and says why', () => refused(['weights', 'inspect', join(DATA, 'protocol0.pth')], 1, /E4131.*protocol-0 persistent id \(PERSID\).*torch\.load cannot read back either/));
  it('a zip with two data.pkl entries is refused as ambiguous', () => {
    const p = pickle(dict([['w', tensor({ key: '0', shape: [2] })]]));
    const f = join(dir, 'dup.pth');
    writeFileSync(f, zip([['archive/data.pkl', p], ['archive/data/0', Buffer.alloc(8)], ['archive/version', Buffer.from('3\n')], ['archive/data.pkl', p]]));
    return refused(['weights', 'inspect', f], 1, /E4130: .* holds entry 'archive\/data\.pkl' twice; refusing an ambiguous archive/);
  });
});

describe('checkpoint amplification', () => {
  it('17 million MEMOIZE opcodes: E4131 at the memo bound, not a crash', () => {
    const body = Buffer.concat([Buffer.from([0x80, 4, 0x5d]), Buffer.alloc(17_000_000, 0x94), Buffer.from([0x2e])]);
    const f = join(dir, 'memo.pth');
    writeFileSync(f, zip([['archive/data.pkl', body], ['archive/version', Buffer.from('3\n')]]));
    return refused(['weights', 'inspect', f], 1, /E4131: .*more than 4194304 memo entries/);
  });
  it('300 transposed views of one 4 MB storage: inspect decodes nothing; binding them all overdraws the budget (E4133)', async () => {
    const n = 1000 * 1000;
    const entries = Array.from({ length: 300 }, (_, i) => [`v${i}`, tensor({ key: '0', numel: n, shape: [1000, 1000], stride: [1, 1000] })]);
    const f = join(dir, 'views.pth');
    writeFileSync(f, pth(dict(entries), { 0: new Float32Array(n) }));
    const r = await vovc(['weights', 'inspect', f, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/300 tensors, 300000000 floating-point values/);
    const ck = await loadCheckpoint(f);
    expect(ck.tensors[0].data!.length).toBe(n);
    expect(() => ck.tensors.forEach((t) => t.data)).toThrow(/E4133|would expand the checkpoint's tensors past \d+ bytes \(4x the file\)/);
  });
});

describe('work and output bounded by what the input can legitimately need', () => {
  it('a 22 KB .vov line of 1000 repeated items: a screenful of diagnostics, not 999 copies of the line', async () => {
    const f = join(dir, 'long.vov');
    writeFileSync(f, `model x extends vovnet27_slim\n  stage2: ${Array(1000).fill('layers 3').join(', ')}\n`);
    const err = await refused(['check', f], 1, /E1008: duplicate 'layers' on one line/);
    expect(err).toMatch(/and \d+ more diagnostics \(at most 5 per line and 50 in all are shown\)/);
    expect(err.length).toBeLessThan(5_000);
    // the quoted line is a window around the span
    expect(err.split('\n').every((l) => l.length < 300)).toBe(true);
  });
  it('an extends chain of 20,000 models resolves in linear time', async () => {
    const f = join(dir, 'chain.vov');
    const lines = ['model m19999 extends m19998', ...Array.from({ length: 19998 }, (_, i) => `model m${19998 - i} extends m${19997 - i}`), 'model m0 extends vovnet27_slim', '  stage4: blocks 2'];
    writeFileSync(f, lines.join('\n') + '\n');
    const t0 = performance.now();
    const r = await vovc(['check', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
  it('a --set key of 100,000 dots: the message is cut', async () => {
    const err = await refused(['check', 'vovnet27_slim', '--set', `${'.'.repeat(100_000)}=3`], 1, /E1202: unknown --set key/);
    expect(err.length).toBeLessThan(10_000);
  });
  it('2000 zero-size tensors under long keys: the key report is bounded (no 2000 x 2000 "did you mean")', async () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) header[`stages.${i % 4}.blocks.${i}.conv_mid.${i % 5}.some_really_long_module_name_to_make_keys_long_${String(i).padStart(6, '0')}.weight`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const f = join(dir, 'zero.safetensors');
    writeFileSync(f, Buffer.concat([len, h]));
    await refused(['build', 'vovnet27_slim', '--weights', f, '--target', 'onnx', '--out', join(dir, 'zb')], 1, /E400\d/);
    const t0 = performance.now();
    const r = await vovc(['weights', 'inspect', f, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
  it('weights inspect on a detectron2 checkpoint answers in well under a second of work', async () => {
    const t0 = performance.now();
    const r = await vovc(['weights', 'inspect', join(REPO, '../shared/fixtures/tiny-dw-ese-all-backbone/weights.pth'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('shapes too large for the machine are refused with the numbers, before allocation', () => {
  it('a run whose activations and weights pass --max-memory: E8007 naming each part', async () => {
    const f = join(dir, 'in256.npy');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 256, 256), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = Buffer.from(`${header}${' '.repeat(pad)}\n`, 'latin1');
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
    writeFileSync(f, Buffer.concat([pre, h, Buffer.alloc(4 * 3 * 256 * 256)]));
    await refused(['run', 'vovnet57', '--input', f, '--max-memory', '32M'], 1, /E8007: running 'vovnet57' at input \[1, 3, 256, 256\] needs at least .* GiB \(activations alive at once .*, weights .*, input and outputs .*\), more than the memory budget of .* \(--max-memory=32M\)/);
    const r = await vovc(['run', 'vovnet57', '--input', f], { env: { VOVC_MAX_MEMORY: '32M' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E8007: .*\(VOVC_MAX_MEMORY=32M\)/);
    await refused(['run', 'vovnet57', '--input', f, '--max-memory', 'lots'], 1, /E8007: --max-memory must be a size such as 8G/);
  });
  it('an input dimension past 2^31 - 1 (here 2^53 + 1) is a DSL error, not an internal error in the ONNX writer', () =>
    refused(['build', 'vovnet57', '--input-shape', '1,3,9007199254740993,64', '--target', 'onnx', '--out', join(dir, 'big')], 1, /E1108: bad input shape .*: expected dimensions up to 2147483647/));
  it('a tensor past 2^50 elements is refused at lowering (E2005)', () =>
    refused(['build', 'vovnet57', '--input-shape', '1000000,3,2000000,64', '--target', 'cuda', '--no-weights', '--out', join(dir, 'big2')], 1, /E2005: tensor 'stem\.0\.conv' .* more than the 1125899906842624 \(2\^50\)/));
});

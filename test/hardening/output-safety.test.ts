// Output safety of `vovc build` and `vovc run --save`, through the compiled CLI, for every
// target that builds here: DIR changes only when the whole build succeeded, each file is
// replaced by a rename (never rewritten in place), files vovc did not write are kept, and no
// name can leave the output folder.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { safeJoin } from '../../src/util/fsx.js';
import { vovc } from '../helpers/fixtures.js';
import { INPUT, MODEL, TARGETS, WEIGHTS, buildArgs, contents, leftovers, recordEvents, snapshot, targetInfo, tempDir, type Target } from './util.js';

const root = tempDir('hardening');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh parent folder; DIR is parent/out. */
const fresh = () => {
  const parent = join(root, String(n++));
  mkdirSync(parent);
  return { parent, out: join(parent, 'out') };
};

/** DIR as a user has it: an older artifact (other bytes) and files of their own. */
function populate(out: string, artifact: string[]): void {
  for (const f of artifact) {
    mkdirSync(join(out, f, '..'), { recursive: true });
    writeFileSync(join(out, f), `old ${f}\n`);
  }
  writeFileSync(join(out, 'notes.txt'), 'mine\n');
  writeFileSync(join(out, '.hidden'), 'mine too\n');
  mkdirSync(join(out, 'mine/deeper'), { recursive: true });
  writeFileSync(join(out, 'mine/deeper/data.bin'), Buffer.from([0, 1, 2, 3]));
}

/** Bytes cut in the middle of the data section: the loader fails after reading the whole file. */
function truncatedWeights(dir: string): string {
  const p = join(dir, 'cut.safetensors');
  const b = readFileSync(WEIGHTS);
  writeFileSync(p, b.subarray(0, b.length - 1000));
  return p;
}

const expectDiagnostic = (r: { code: number; stderr: string }, code: string) => {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`error ${code}: `));
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
};

describe.each(TARGETS)('vovc build --target %s', (target: Target) => {
  it('a build that fails on its weights leaves an existing DIR exactly as it was', async ({ skip }) => {
    const info = await targetInfo(target);
    skip(!info.ok, info.why);
    const { parent, out } = fresh();
    populate(out, info.files);
    const before = snapshot(out);
    const r = await vovc(buildArgs(target, out).map((a) => (a === WEIGHTS ? truncatedWeights(parent) : a)));
    expectDiagnostic(r, 'E4120');
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(parent)).toEqual([]);
  });

  it('a build that fails at the commit (a folder in the way of its last file) changes nothing', async ({ skip }) => {
    const info = await targetInfo(target);
    skip(!info.ok, info.why);
    const { parent, out } = fresh();
    populate(out, info.files);
    // The last file in commit order: every other file would already have been moved.
    const last = info.files[info.files.length - 1];
    rmSync(join(out, last));
    mkdirSync(join(out, last));
    const before = snapshot(out);
    expectDiagnostic(await vovc(buildArgs(target, out)), 'E8102');
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(parent)).toEqual([]);
  });

  it('a successful build replaces its own files by renames and keeps every other file', async ({ skip }) => {
    const info = await targetInfo(target);
    skip(!info.ok, info.why);
    const { parent, out } = fresh();
    populate(out, info.files);
    const before = snapshot(out);
    const events = recordEvents(out);
    const r = await vovc(buildArgs(target, out));
    const seen = await events.stop();
    expect(r.code, r.stderr).toBe(0);
    const after = snapshot(out);
    for (const [p, e] of Object.entries(before)) {
      if (info.files.some((f) => f.startsWith(`${p}/`))) continue; // a folder of the artifact (wgsl's shaders/)
      if (info.files.includes(p)) {
        // A new inode: the file was renamed into place, not truncated and rewritten.
        expect(after[p].ino, p).not.toBe(e.ino);
        expect(after[p].sha, p).not.toBe(e.sha);
      } else expect(after[p], p).toEqual(e);
    }
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    // Writes in place show up as 'change' events on the file; renames as 'rename' only.
    expect(seen.filter((e) => e.type === 'change' && info.files.includes(e.file))).toEqual([]);
    expect(leftovers(parent)).toEqual([]);
  });
});

describe('vovc build: failures inside the backend and on the command line', () => {
  it('an option the ONNX backend refuses (--opset 7) leaves DIR as it was', async () => {
    const { parent, out } = fresh();
    populate(out, ['tiny-timm-a.onnx']);
    const before = snapshot(out);
    expectDiagnostic(await vovc(buildArgs('onnx', out, ['--opset', '7'])), 'E7101');
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(parent)).toEqual([]);
  });

  it('a bad --report value is refused before anything is written', async () => {
    const { parent, out } = fresh();
    const r = await vovc(buildArgs('onnx', out, ['--report=xml']));
    expect(r.code, r.stderr).toBe(2);
    expect(snapshot(parent)).toEqual({});
  });
});

describe('names cannot leave the output folder', () => {
  const models: [string, string][] = [
    ['a model named ../x', 'model ../x'],
    ['a model named /abs', 'model /abs'],
    ['a model name with a slash', 'model a/b'],
    ['a model named ..', 'model ..'],
    ['an output name with a slash', 'model ok\n  outputs stage2/../../x'],
    ['an output name ..', 'model ok\n  outputs ..'],
  ];
  const body = '\n  input 1x3x32x32\n  stem: conv 3x3 3->8 /2\n  stage2: osa 8 -> 16 x1, layers 2\n  head: backbone\n';
  it.each(models)('%s is a DSL error and nothing is written', async (_, header) => {
    const { parent, out } = fresh();
    const file = join(parent, 'm.vov');
    writeFileSync(file, header + body);
    const r = await vovc(['build', file, '--target', 'onnx', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/m\.vov:\d+:\d+: error E10\d\d: /);
    expect(Object.keys(snapshot(parent))).toEqual(['m.vov']);
  });

  it("'file.vov:name' cannot name a path", async () => {
    const { parent, out } = fresh();
    const file = join(parent, 'm.vov');
    writeFileSync(file, `model ok${body}`);
    const r = await vovc(['build', `${file}:../ok`, '--target', 'onnx', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(Object.keys(snapshot(parent))).toEqual(['m.vov']);
  });

  it.each(['../x', '/abs/x', 'a/../../x', '..'])('the writer refuses the name %s (E8101)', (name) => {
    const { out } = fresh();
    let err: unknown;
    try {
      safeJoin(out, name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VovcError);
    expect((err as VovcError).diagnostics[0].code).toBe('E8101');
  });

  it('names inside the folder are accepted', () => {
    const { out } = fresh();
    expect(safeJoin(out, 'shaders/conv.wgsl')).toBe(join(out, 'shaders/conv.wgsl'));
    expect(safeJoin(out, 'a/../b.bin')).toBe(join(out, 'b.bin'));
  });
});

describe('vovc run --save DIR', () => {
  const run = (out: string) => vovc(['run', MODEL, '--weights', WEIGHTS, '--input', INPUT, '--target', 'reference', '--save', out, '--quiet']);

  it('replaces each output file by a rename and keeps the other files of DIR', async () => {
    const { parent, out } = fresh();
    populate(out, ['logits.npy']);
    const before = snapshot(out);
    const events = recordEvents(out);
    const r = await run(out);
    const seen = await events.stop();
    expect(r.code, r.stderr).toBe(0);
    const after = snapshot(out);
    expect(after['logits.npy'].ino).not.toBe(before['logits.npy'].ino);
    expect(readFileSync(join(out, 'logits.npy')).subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    for (const p of Object.keys(before).filter((k) => k !== 'logits.npy')) expect(after[p], p).toEqual(before[p]);
    expect(seen.filter((e) => e.type === 'change' && e.file === 'logits.npy')).toEqual([]);
    expect(leftovers(parent)).toEqual([]);
  });

  it('a run that fails leaves DIR as it was', async () => {
    const { parent, out } = fresh();
    populate(out, ['logits.npy']);
    const before = snapshot(out);
    const r = await vovc(['run', MODEL, '--weights', truncatedWeights(parent), '--input', INPUT, '--target', 'reference', '--save', out, '--quiet']);
    expectDiagnostic(r, 'E4120');
    expect(snapshot(out)).toEqual(before);
  });
});

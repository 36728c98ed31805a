// The rough edges a new user hits (the tools issue): each one seen on main, each a test here.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'vovc-rough-'));

describe('a flag typo: exit 2, the closest flag, the usage line', () => {
  const cases: [string[], RegExp][] = [
    [['build', 'vovnet27_slim', '--sett', 'x=1'], /^vovc: unknown flag '--sett'; did you mean --set\?\n\nusage: vovc build /],
    [['build', 'vovnet27_slim', '--targt', 'onnx'], /^vovc: unknown flag '--targt'; did you mean --target\?/],
    [['run', 'vovnet27_slim', '--inptu', 'x.npy'], /^vovc: unknown flag '--inptu'; did you mean --input\?\n\nusage: vovc run /],
    [['check', 'vovnet27_slim', '--sett', 'x=1'], /^vovc: unknown flag '--sett'; did you mean --set\?\n\nusage: vovc check/],
    [['analyze', 'vovnet27_slim', '--formt', 'json'], /^vovc: unknown flag '--formt'; did you mean --format\?/],
    [['ir', 'vovnet27_slim', '--optt'], /^vovc: unknown flag '--optt'; did you mean --opt\?/],
    [['list', '--jsn'], /^vovc: unknown flag '--jsn'; did you mean --json\?/],
    [['weights', 'inspect', 'x.pth', '--jsno'], /^vovc: unknown flag '--jsno'; did you mean --json\?/],
    [['build', 'vovnet27_slim', '--target', 'onnx', '--out', 'x', '--no-weights'], /^vovc: unknown flag '--no-weights' \(a flag of --target cuda, cuda-emu, not of onnx\)/],
    [['run', 'vovnet27_slim', '--input', 'x.npy', '--opset', '17'], /^vovc: unknown flag '--opset' \(a flag of --target onnx, not of reference\)/],
  ];
  it.each(cases)('%j', async (args, re) => {
    const r = await vovc(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/To specify a positional argument|\n\s+at /);
  });
});

describe('without --weights: a warning every time (also under -q), and the artifact says so', () => {
  it('vovc run', async () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }";
    const h = Buffer.from(header.padEnd(118) + '\n', 'latin1');
    const f = join(dir, 'x.npy');
    writeFileSync(f, Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0]), h, Buffer.alloc(4 * 3 * 32 * 32)]));
    const r = await vovc(['run', 'vovnet27_slim', '--input', f, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe("vovnet27_slim: warning W8008: no --weights: using vovc's seeded initialization (seed 0), not trained weights; the artifact records this");
  });
  for (const target of ['onnx', 'cuda', 'wgsl']) {
    it(`vovc build --target ${target}`, async () => {
      const out = join(dir, target);
      const r = await vovc(['build', 'vovnet27_slim', '--target', target, '--input-shape', '1,3,32,32', '--out', out, '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning W8008: no --weights/);
      if (target === 'onnx') expect(readFileSync(join(out, 'vovnet27_slim.onnx')).includes(Buffer.from('seeded (no checkpoint given)'))).toBe(true);
      if (target === 'cuda') expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/seeded initialization \(no checkpoint was given\)/);
      if (target === 'wgsl') {
        expect(readFileSync(join(out, 'model.js'), 'utf8')).toMatch(/export const weightsOrigin = "seeded: vovc's deterministic initialization/);
        expect(JSON.parse(readFileSync(join(out, 'weights.json'), 'utf8')).origin).toMatch(/^seeded/);
      }
    });
  }
});

describe('output paths are checked before any work, in vovc\'s words', () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const cases: [string[], RegExp][] = [
    [['build', 'vovnet27_slim', '--target', 'onnx', '--out', file], /^--out: error E8104: '.*a-file' is a file, not a folder$/m],
    [['build', 'vovnet27_slim', '--target', 'onnx', '--out', join(file, 'sub')], /^--out: error E8104: '.*a-file\/sub' is under '.*a-file', which is a file$/m],
    [['run', 'vovnet27_slim', '--input', join(dir, 'x.npy'), '--save', file], /^--save: error E8104: '.*a-file' is a file, not a folder$/m],
    [['analyze', 'vovnet27_slim', '--out', file], /^--out: error E8105: '.*a-file' exists; vovc replaces a file only with --force$/m],
    [['analyze', 'vovnet27_slim', '--out', dir], /^--out: error E8104: '.*' is a folder, not a file$/m],
    [['weights', 'convert', 'w.pth', '--model', 'vovnet27_slim', '--to', file], /^--to: error E8105: '.*a-file' exists; vovc replaces a file only with --force$/m],
  ];
  it.each(cases)('%j', async (args, re) => {
    const r = await vovc([...args, '-q']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR|EPERM|\n\s+at /);
  });
  it('analyze --out FILE --force replaces the file', async () => {
    const r = await vovc(['analyze', 'vovnet27_slim', '--out', file, '--force', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/vovc analysis/);
  });
});

describe('more rough edges', () => {
  it('the README\'s way onto the PATH works: npx vovc inside the clone', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('npx', ['--no-install', 'vovc', 'list'], { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vovnet27_slim\s+3525736$/m);
  });
  it('an NHWC input is named as such, pointing at the .npy, with the transpose', async () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 64, 64, 3), }";
    const h = Buffer.from(header.padEnd(118) + '\n', 'latin1');
    const f = join(dir, 'nhwc.npy');
    writeFileSync(f, Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0]), h, Buffer.alloc(4 * 3 * 64 * 64)]));
    const r = await vovc(['run', 'vovnet27_slim', '--input', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nhwc\.npy: error E8002: input has shape \[1, 64, 64, 3\], which looks NHWC \(3 channels last\); vovc takes NCHW \[1, 3, 64, 64\]/);
    expect(r.stderr).toMatch(/x\.transpose\(0, 3, 1, 2\)/);
  });
  it('--outputs stage9 is --outputs\' error, not --set:1:9', async () => {
    const r = await vovc(['run', 'vovnet27_slim', '--input', join(dir, 'x.npy'), '--outputs', 'stage9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vovc: unknown output 'stage9' in --outputs; did you mean stage2\?/);
    expect(r.stderr).not.toMatch(/--set:/);
  });
  it('a corrupt image names its path once', async () => {
    const f = join(dir, 'bad.jpg');
    writeFileSync(f, Buffer.from([0xff, 0xd8, 1, 2, 3, 4, 5]));
    const r = await vovc(['run', 'vovnet27_slim', '--image', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.split(f).length - 1).toBe(1);
  });
  it('analyze labels a model file by its model name', async () => {
    const r = await vovc(['analyze', join(import.meta.dirname, '../models/tiny-timm-a.vov')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^== vovc analysis: tiny-timm-a \(.*tiny-timm-a\.vov\) \(input 1x3x33x33\) ==/);
  });
});

describe('weights inspect names the naming a file follows, as run does', () => {
  it('a detectron2 checkpoint of a custom net (no zoo model fits) is labelled detectron2', async () => {
    const r = await vovc(['weights', 'inspect', join(import.meta.dirname, '../../../shared/fixtures/tiny-dw-ese-all-backbone/weights.pth'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}naming: detectron2, key prefix 'backbone\.bottom_up\.'$/m);
  });
});

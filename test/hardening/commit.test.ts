// The all-or-nothing output folder (the hostile-inputs issue, item 3), through the compiled CLI:
// SIGKILL at every rename of a build's commit (strace fault injection), two builds racing into
// one folder, a symlinked --out (also across file systems), a symlinked folder inside --out,
// another model rebuilt into the same folder, and the temporary files of a killed
// `weights convert`. At every instant --out holds one build's files whole (or, inside the crash
// window, no folder); the next run recovers and leaves nothing behind; the user's files survive.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, vovc } from '../helpers/fixtures.js';
import { MODEL, WEIGHTS, contents, leftovers, tempDir } from './util.js';

const root = tempDir('commit');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hasStrace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
const CLI = join(REPO, 'dist/cli/vovc.js');
const SHAPE = '1,3,33,33';
/** A build of the fixture net with seeded weights: `seed` makes the bytes differ between builds. */
const args = (out: string, seed: number, target = 'onnx') => ['build', MODEL, '--target', target, '--seed', String(seed), '--input-shape', SHAPE, '--out', out, '--quiet'];

const USER = { 'notes.txt': 'mine\n', 'build/CMakeCache.txt': 'cache\n', '.hidden': 'x\n' } as const;
const putUserFiles = (out: string) => {
  for (const [f, text] of Object.entries(USER)) {
    mkdirSync(join(out, f, '..'), { recursive: true });
    writeFileSync(join(out, f), text);
  }
};
/** DIR's files without the user's: the build's, to compare with a reference build. */
const buildFiles = (out: string) => Object.fromEntries(Object.entries(contents(out)).filter(([k]) => !(k in USER)));
const userFilesIntact = (out: string) => Object.entries(USER).every(([f, text]) => existsSync(join(out, f)) && readFileSync(join(out, f), 'utf8') === text);

/** Reference builds (clean folders) of each seed. */
const refs = new Map<number, Record<string, string>>();
async function ref(seed: number, target = 'onnx'): Promise<Record<string, string>> {
  const key = seed * 10 + (target === 'onnx' ? 0 : 1);
  if (!refs.has(key)) {
    const out = join(root, `ref-${key}`);
    const r = await vovc(args(out, seed, target));
    expect(r.code, r.stderr).toBe(0);
    refs.set(key, contents(out));
  }
  return refs.get(key)!;
}

function runStrace(straceArgs: string[], vovcArgs: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((res) => {
    const p = spawn('strace', ['-f', '-o', '/dev/null', ...straceArgs, process.execPath, CLI, ...vovcArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code, signal) => res({ code, signal, stderr }));
  });
}

describe.skipIf(!hasStrace)('SIGKILL at the K-th rename of a rebuild (skipped: strace not installed)', () => {
  it('for every K: --out holds the old build or the new one whole (or no folder); the next run recovers; user files survive', async () => {
    const A = await ref(1), B = await ref(2), C = await ref(3);
    const pristine = join(root, 'pristine');
    expect((await vovc(args(pristine, 1))).code).toBe(0);
    putUserFiles(pristine);
    // How many renames a whole rebuild makes (the journal's own write counts too).
    const count = join(root, 'count');
    cpSync(pristine, count, { recursive: true });
    const log = join(root, 'renames.log');
    spawnSync('strace', ['-f', '-o', log, '-e', 'trace=rename,renameat,renameat2', process.execPath, CLI, ...args(count, 2)]);
    const renames = readFileSync(log, 'utf8').split('\n').filter((l) => /rename/.test(l) && !/resumed/.test(l)).length;
    expect(renames).toBeGreaterThanOrEqual(3);
    const states: string[] = [];
    for (let k = 1; k <= renames + 1; k++) {
      const parent = join(root, `k${k}`);
      const out = join(parent, 'out');
      mkdirSync(parent);
      cpSync(pristine, out, { recursive: true });
      const r = await runStrace(['-e', `inject=rename,renameat,renameat2:signal=SIGKILL:when=${k}`], args(out, 2));
      // Right after the kill: the old build whole, the new one whole, or no folder.
      const now = existsSync(out) ? buildFiles(out) : null;
      const state = now === null ? 'none' : JSON.stringify(now) === JSON.stringify(A) ? 'old' : JSON.stringify(now) === JSON.stringify(B) ? 'new' : 'MIXED';
      states.push(`${k}:${state}${r.signal ? '' : ' (finished)'}`);
      expect(state, `K=${k}: ${Object.keys(now ?? {}).join(', ')}`).not.toBe('MIXED');
      // The next run (under the lock) finishes or undoes the swap, then builds.
      const next = await vovc(args(out, 3));
      expect(next.code, `K=${k}: ${next.stderr}`).toBe(0);
      expect(buildFiles(out), `K=${k}`).toEqual(C);
      expect(userFilesIntact(out), `K=${k}: user files`).toBe(true);
      expect(leftovers(parent), `K=${k}`).toEqual([]);
    }
    // Every K up to the last rename was a kill; the crash window was seen.
    expect(states.some((s) => s.includes(':none')), states.join(' ')).toBe(true);
  }, 600_000);

  it('two builds racing into one folder (one of them slowed at every rename): both succeed, one after the other; --out holds one whole', async () => {
    const B = await ref(2), C = await ref(3);
    const parent = join(root, 'race');
    const out = join(parent, 'out');
    expect((await vovc(args(out, 1))).code).toBe(0);
    putUserFiles(out);
    const slow = runStrace(['-e', 'inject=rename,renameat,renameat2:delay_enter=300000'], args(out, 2));
    await new Promise((r) => setTimeout(r, 200));
    const fast = vovc(args(out, 3));
    const [s, f] = await Promise.all([slow, fast]);
    expect(s.code, s.stderr).toBe(0);
    expect(f.code, f.stderr).toBe(0);
    const final = JSON.stringify(buildFiles(out));
    expect([JSON.stringify(B), JSON.stringify(C)]).toContain(final);
    expect(userFilesIntact(out)).toBe(true);
    expect(leftovers(parent)).toEqual([]);
  }, 300_000);
});

describe('where --out points', () => {
  it('a symlinked --out writes into the folder it points to (the link stays), on another file system too', async () => {
    const A = await ref(1);
    const targets = [join(root, 'real-a')];
    // /dev/shm is a tmpfs: a different file system from the temp folder on most machines.
    if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(root).dev) targets.push(join('/dev/shm', `vovc-real-${process.pid}`));
    for (const real of targets) {
      mkdirSync(real, { recursive: true });
      const link = join(root, `link-${targets.indexOf(real)}`);
      symlinkSync(real, link);
      const r = await vovc(args(link, 1));
      expect(r.code, r.stderr).toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(real);
      expect(buildFiles(real)).toEqual(A);
      expect(leftovers(join(real, '..'))).toEqual([]);
      rmSync(real, { recursive: true, force: true });
    }
  }, 120_000);

  it('a symlinked folder inside --out where the build writes a folder (wgsl shaders/) is refused; nothing is written through it', async () => {
    const parent = join(root, 'shaders-link');
    const out = join(parent, 'out');
    const elsewhere = join(parent, 'elsewhere');
    mkdirSync(out, { recursive: true });
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(out, 'shaders'));
    const r = await vovc(args(out, 1, 'wgsl'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error E8102: cannot write 'shaders' into .*: a symbolic link vovc did not write is where the build puts a folder/);
    expect(contents(elsewhere)).toEqual({});
    expect(leftovers(parent)).toEqual([]);
  }, 120_000);

  it("another model rebuilt into the same folder: the first model's files go, the user's stay", async () => {
    const parent = join(root, 'other-model');
    const out = join(parent, 'out');
    expect((await vovc(args(out, 1))).code).toBe(0);
    putUserFiles(out);
    const r = await vovc(['build', 'vovnet27_slim', '--target', 'onnx', '--input-shape', '1,3,32,32', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const files = Object.keys(buildFiles(out)).sort();
    expect(files).toEqual(['.vovc-manifest.json', 'vovnet27_slim.onnx']);
    expect(userFilesIntact(out)).toBe(true);
  }, 120_000);

  it('a file of the user at the name of a new file is refused (never overwritten), DIR unchanged', async () => {
    const parent = join(root, 'user-clash');
    const out = join(parent, 'out');
    expect((await vovc(args(out, 1))).code).toBe(0);
    // A second model whose file name the first build did not write: the user's file of that name stays.
    writeFileSync(join(out, 'vovnet27_slim.onnx'), 'my own file\n');
    const before = contents(out);
    const r = await vovc(['build', 'vovnet27_slim', '--target', 'onnx', '--input-shape', '1,3,32,32', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/E8102: cannot write 'vovnet27_slim\.onnx' into .*: a file vovc did not write/);
    expect(contents(out)).toEqual(before);
    expect(leftovers(parent)).toEqual([]);
  }, 120_000);
});

describe('single-file outputs', () => {
  it("weights convert: a killed run's temporary file is removed by the next one; --to as a symlink replaces the file it points to", async () => {
    const dir = join(root, 'convert');
    mkdirSync(dir);
    const to = join(dir, 'w.safetensors');
    writeFileSync(`${to}.vovc-999999999-0.tmp`, 'left by a killed run');
    const real = join(dir, 'real.safetensors');
    writeFileSync(real, 'old');
    symlinkSync(real, to);
    const r = await vovc(['weights', 'convert', WEIGHTS, '--model', MODEL, '--to', to, '--force', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(`${to}.vovc-999999999-0.tmp`)).toBe(false);
    expect(lstatSync(to).isSymbolicLink()).toBe(true);
    expect(readFileSync(real).subarray(8, 9).toString()).toBe('{');
    expect(leftovers(dir)).toEqual([]);
  }, 120_000);
});

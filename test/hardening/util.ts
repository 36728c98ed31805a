// Helpers of the output-safety tests: folder snapshots (content, inode, mtime of every entry),
// leftovers of a build (staging folders, temporary files), the targets that build here, and a
// recorder of file-system events.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FIXTURES, REPO, vovc } from '../helpers/fixtures.js';

export const TARGETS = ['onnx', 'cuda', 'wgsl'] as const;
export type Target = (typeof TARGETS)[number];

/** The model every test builds: the tiny-timm-a fixture net with its PyTorch weights. */
const CASE = join(FIXTURES, 'tiny-timm-a');
export const MODEL = join(REPO, 'test/models/tiny-timm-a.vov');
export const WEIGHTS = join(CASE, 'weights.safetensors');
export const INPUT = join(CASE, 'input.npy');
const SHAPE = '1,3,33,33';

export const buildArgs = (target: Target, out: string, extra: string[] = []) => ['build', MODEL, '--target', target, '--weights', WEIGHTS, '--input-shape', SHAPE, '--out', out, '--quiet', ...extra];

export const tempDir = (tag: string) => mkdtempSync(join(tmpdir(), `vovc-${tag}-`));

export interface Entry {
  readonly kind: 'file' | 'dir' | 'link';
  readonly ino: number;
  readonly mtimeMs: number;
  readonly sha?: string;
}

/** Every entry below `dir` (relative path -> kind, inode, mtime, content hash), sorted. */
export function snapshot(dir: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out[rel] = { kind: 'dir', ino: st.ino, mtimeMs: st.mtimeMs };
        walk(p);
      } else if (st.isSymbolicLink()) out[rel] = { kind: 'link', ino: st.ino, mtimeMs: st.mtimeMs, sha: createHash('sha256').update(`-> ${readlinkSync(p)}`).digest('hex') };
      else out[rel] = { kind: 'file', ino: st.ino, mtimeMs: st.mtimeMs, sha: createHash('sha256').update(readFileSync(p)).digest('hex') };
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Files below `dir` with their bytes' hashes (no inodes or times): what a build produced. */
export function contents(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(dir)).flatMap(([k, e]) => (e.sha ? [[k, e.sha]] : [])));
}

/** What a build may leave behind by mistake: staging folders beside DIR, temporary files in it. */
export function leftovers(parent: string): string[] {
  return Object.keys(snapshot(parent)).filter((p) => /\.vovc-(staging|old)-|\.vovc-lock$|\.vovc-journal$/.test(p) || /\.tmp$/.test(p));
}

const available = new Map<Target, Promise<{ ok: boolean; why: string; files: string[] }>>();

/** Whether `target` builds the test model on this machine, and the files it writes (once per target). */
export function targetInfo(target: Target): Promise<{ ok: boolean; why: string; files: string[] }> {
  let p = available.get(target);
  if (!p) {
    p = (async () => {
      const out = join(tempDir('probe'), 'out');
      const r = await vovc(buildArgs(target, out));
      return { ok: r.code === 0, why: `vovc build --target ${target} exits ${r.code} here: ${r.stderr.split('\n')[0]}`, files: Object.keys(contents(out)) };
    })();
    available.set(target, p);
  }
  return p;
}

/**
 * Records file-system events in `dir` and its subfolders (one non-recursive fs.watch each:
 * Node's recursive mode on Linux reports every event as 'change'). On Linux (inotify) a file
 * written in place gives 'change' events, one renamed into place only 'rename'.
 */
export function recordEvents(dir: string): { stop: () => Promise<{ type: string; file: string }[]> } {
  const events: { type: string; file: string }[] = [];
  const dirs = ['', ...Object.entries(snapshot(dir)).flatMap(([p, e]) => (e.kind === 'dir' ? [p] : []))];
  const watchers: FSWatcher[] = dirs.map((d) => watch(join(dir, d), (type, file) => events.push({ type, file: d ? `${d}/${String(file)}` : String(file) })));
  return {
    async stop() {
      // Events are delivered asynchronously: let the last ones arrive.
      await new Promise((r) => setTimeout(r, 200));
      for (const w of watchers) w.close();
      return events;
    },
  };
}

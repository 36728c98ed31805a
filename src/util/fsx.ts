// Output safety: nothing half-written. Files are written under a temporary name in the
// destination folder and renamed into place (rename is atomic within one file system);
// a build goes to a staging folder and its files are moved only when the build succeeded.

import { accessSync, closeSync, constants, existsSync, lstatSync, statSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync, writevSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fail } from '../diag/diagnostics.js';

let counter = 0;

/**
 * Writes `data` to `path` atomically (temporary file in the same folder + rename); a symlinked
 * `path` is replaced as the file it points to. Temporary files that killed runs left for the
 * same path are removed first.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const given = path;
  if (isLink(path)) path = realpathSync(path);
  for (const p of new Set([given, path])) {
    for (const e of readdirSync(dirname(p))) {
      const m = /\.vovc-(\d+)-\d+\.tmp$/.exec(e);
      if (m && e.slice(0, -m[0].length) === basename(p) && !alive(Number(m[1]))) rmSync(join(dirname(p), e), { force: true });
    }
  }
  const tmp = `${path}.vovc-${process.pid}-${counter++}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The nearest existing ancestor of `p` (p itself when it exists), and what it is (a link as what it points to). */
function nearestExisting(p: string): { path: string; kind: 'dir' | 'file' | 'link' } {
  for (let q = resolve(p); ; q = dirname(q)) {
    const k = kind(q);
    if (k === 'link') return { path: q, kind: existsSync(q) ? (statSync(q).isDirectory() ? 'dir' : 'file') : 'link' };
    if (k !== 'none') return { path: q, kind: k };
    if (dirname(q) === q) return { path: q, kind: 'dir' };
  }
}

/** Why vovc cannot create or write in folder `p`: a file at or above it, a read-only folder. */
function unwritable(p: string): string | undefined {
  const at = nearestExisting(p);
  if (at.kind === 'link') return `'${at.path}' is a symbolic link to nothing`;
  if (at.kind === 'file') return at.path === resolve(p) ? `'${p}' is a file, not a folder` : `'${p}' is under '${at.path}', which is a file`;
  try {
    accessSync(at.path, constants.W_OK);
  } catch {
    return `cannot write '${p}': the folder '${at.path}' is not writable`;
  }
  return undefined;
}

/**
 * Checks, before any work, that an output folder (--out DIR, --save DIR) can be made or written:
 * E8104 in vovc's words for a file in the way or a read-only folder.
 */
export function checkOutputDir(p: string, flag: string): void {
  const why = unwritable(p);
  if (why) fail('E8104', why, { subject: flag });
}

/**
 * Checks, before any work, an output file (--to, analyze --out): its folder as checkOutputDir
 * does, a folder at its path, and an existing file, which is replaced only with --force (E8105).
 */
export function checkOutputFile(p: string, flag: string, force: boolean): void {
  const k = kind(p);
  if (k === 'dir' || (k === 'link' && existsSync(p) && statSync(p).isDirectory())) fail('E8104', `'${p}' is a folder, not a file`, { subject: flag });
  if (k !== 'none' && !force) fail('E8105', `'${p}' exists; vovc replaces a file only with --force`, { subject: flag });
  const why = unwritable(dirname(resolve(p)));
  if (why) fail('E8104', why, { subject: flag });
}

/** Resolves `name` inside `dir`, refusing names that would escape it ("../x", absolute paths). */
export function safeJoin(dir: string, name: string): string {
  const root = resolve(dir);
  const p = resolve(root, name);
  if (p !== root && !p.startsWith(root + sep)) fail('E8101', `output name '${name}' would be written outside the output folder ${dir}`, { subject: name });
  return p;
}

/**
 * An all-or-nothing output folder. A build is staged in a sibling of the resolved `--out` (same
 * file system; a symlinked `--out` is resolved first, nothing inside is ever followed), then
 * swapped in whole under a lock:
 *
 *   1. lock `.<name>.vovc-lock` (a folder holding the owner's pid; a second build waits, a dead
 *      owner's lock is taken over), recover an interrupted swap (step 4) and remove the staging
 *      folders and temporary files of dead processes;
 *   2. check every path of the new build against what DIR holds: an entry vovc did not write
 *      (not in DIR's manifest `.vovc-manifest.json`; without a manifest, every file whose name
 *      the new build does not produce) in the way of a new file or folder is E8102, nothing moved;
 *   3. write the manifest into the staging folder, and a journal `.<name>.vovc-journal` naming the
 *      staged folder, the aside name of the old one and the user's entries to carry over;
 *   4. rename DIR aside, rename the staging folder to DIR, move the user's entries from the old
 *      folder into the new one, delete the old folder and the journal. A crash between the two
 *      renames leaves no DIR (the only window); the next run under the lock reads the journal
 *      and finishes the swap (or, when the staged folder is gone, puts the old one back).
 *
 * So at no instant does DIR hold files of two builds; the files of an earlier vovc build that
 * this one does not produce go with the old folder; files vovc did not write survive.
 */
const MANIFEST = '.vovc-manifest.json';
const LOCK_WAIT_MS = 120_000;

interface Names {
  readonly out: string;
  readonly parent: string;
  readonly lock: string;
  readonly journal: string;
  /** Prefix of this folder's staging, aside and temporary names. */
  readonly hidden: string;
}

/** The resolved output folder and its sibling names (a symlinked DIR is the folder it points to). */
function namesOf(outDir: string): Names {
  let out = resolve(outDir);
  try {
    if (lstatSync(out).isSymbolicLink()) out = realpathSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // A dangling symlink: realpath fails; say so rather than create something beside it.
    if (isLink(out)) fail('E8102', `cannot write into ${outDir}: it is a symbolic link to a folder that does not exist`, { subject: outDir });
  }
  const parent = dirname(out);
  const name = basename(out);
  return { out, parent, lock: join(parent, `.${name}.vovc-lock`), journal: join(parent, `.${name}.vovc-journal`), hidden: `.${name}.vovc-` };
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Whether process `pid` is alive (EPERM: alive, someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a staging, aside or temporary name of `hidden` carries (`<hidden>staging-<pid>-...`), or undefined. */
function pidOf(entry: string, hidden: string): number | undefined {
  const m = new RegExp(`^${hidden.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:staging|old)-(\\d+)-`).exec(entry);
  return m ? Number(m[1]) : undefined;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the folder's lock (waiting for a live owner, taking over a dead one's); returns its release. */
function lock(n: Names, outDir: string): () => void {
  mkdirSync(n.parent, { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(n.lock);
      writeFileSync(join(n.lock, 'pid'), String(process.pid));
      return () => rmSync(n.lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: number | undefined;
    try {
      owner = Number(readFileSync(join(n.lock, 'pid'), 'utf8'));
    } catch {
      owner = undefined; // being created or removed right now
    }
    if (owner !== undefined && Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      rmSync(n.lock, { recursive: true, force: true });
      continue;
    }
    if (owner === undefined && Date.now() - start > 5_000) {
      // A lock folder without a pid for seconds: its creator died between mkdir and the write.
      rmSync(n.lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - start > LOCK_WAIT_MS) fail('E8103', `another vovc (pid ${owner}) is writing ${outDir}; waited ${LOCK_WAIT_MS / 1000} s`, { subject: outDir });
    sleepMs(50);
  }
}

interface Journal {
  readonly staged: string;
  readonly aside: string;
  /** The user's entries (paths relative to DIR) to move from the old folder into the new one. */
  readonly keep: readonly string[];
}

/** Finishes (or undoes) a swap a killed run left, and removes dead processes' staging and temporary files. Under the lock. */
function recover(n: Names): void {
  if (existsSync(n.journal)) {
    const j = JSON.parse(readFileSync(n.journal, 'utf8')) as Journal;
    if (!existsSync(n.out)) {
      if (existsSync(j.staged)) renameSync(j.staged, n.out);
      else if (existsSync(j.aside)) renameSync(j.aside, n.out); // the new build never arrived: the old one back
    }
    if (existsSync(j.aside) && existsSync(n.out)) {
      carry(j.aside, n.out, j.keep);
      rmSync(j.aside, { recursive: true, force: true });
    }
    rmSync(n.journal, { force: true });
  }
  for (const e of readdirSync(n.parent)) {
    const pid = pidOf(e, n.hidden);
    if (pid !== undefined && !alive(pid)) rmSync(join(n.parent, e), { recursive: true, force: true });
  }
}

/** Moves the entries `keep` (relative paths) that still exist in `from` into `to` (never over something). */
function carry(from: string, to: string, keep: readonly string[]): void {
  for (const rel of keep) {
    const src = join(from, rel);
    const dst = join(to, rel);
    if (!existsSync(src) && !isLink(src)) continue; // already moved
    if (existsSync(dst) || isLink(dst)) continue;
    mkdirSync(dirname(dst), { recursive: true });
    renameSync(src, dst);
  }
}

/** Staging folder for a build into `outDir` (a sibling of the resolved folder: the same file system). */
export function makeStaging(outDir: string): string {
  const n = namesOf(outDir);
  mkdirSync(n.parent, { recursive: true });
  return mkdtempSync(join(n.parent, `${n.hidden}staging-${process.pid}-`));
}

/** What is at `p` without following a link: nothing, a folder, a file, a link. */
function kind(p: string): 'none' | 'dir' | 'file' | 'link' {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

/** Every file below `dir` (links count as files: never followed), relative, sorted. */
function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** The files an earlier build recorded in DIR's manifest (undefined: no manifest). */
function manifestOf(out: string): Set<string> | undefined {
  try {
    const m = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as { files?: unknown };
    return Array.isArray(m.files) ? new Set(m.files.filter((f): f is string => typeof f === 'string')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The user's entries of the old folder: the top-most entries holding nothing vovc wrote, as
 * relative paths (a folder of the user's moves as one entry). `ours(path)` tells vovc's files.
 */
function userEntries(dir: string, ours: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const inner = userEntries(dir, ours, r);
      const all = readdirSync(join(dir, r)).length;
      // A folder none of whose content is vovc's is the user's, whole (it keeps its inode).
      if (inner.length === all && !listFiles(join(dir, r)).some((f) => ours(`${r}/${f}`))) out.push(r);
      else out.push(...inner);
    } else if (!ours(r)) out.push(r);
  }
  return out;
}

/**
 * Swaps the staged build into `outDir` as described above; returns the build's files (relative
 * paths, the manifest not included).
 */
export function commitStaging(staging: string, outDir: string): string[] {
  const n = namesOf(outDir);
  const files = listFiles(staging);
  const release = lock(n, outDir);
  try {
    recover(n);
    const oldKind = kind(n.out);
    if (oldKind === 'file' || oldKind === 'link') fail('E8102', `cannot write into ${outDir}: it is a file, not a folder`, { subject: outDir });
    const manifest = JSON.stringify({ generator: 'vovc', files }, null, 1) + '\n';
    if (oldKind === 'none') {
      writeFileSync(join(staging, MANIFEST), manifest);
      renameSync(staging, n.out);
      return files;
    }
    const recorded = manifestOf(n.out);
    const produced = new Set(files);
    // Without a manifest (a folder of an older vovc, or the user's), the files this build
    // produces are taken as an earlier build's; with one, exactly the files it lists.
    const ours = (rel: string) => rel === MANIFEST || (recorded ? recorded.has(rel) : produced.has(rel));
    const keep = userEntries(n.out, ours);
    // Every new path must be free of the user's entries: a file of theirs at a new file's path,
    // or anything of theirs where the build needs a folder (a link is never followed).
    const newDirs = new Set(files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    for (const k of keep) {
      const clash = produced.has(k) ? 'a file' : newDirs.has(k) && kind(join(n.out, k)) !== 'dir' ? 'a folder' : files.find((f) => f.startsWith(`${k}/`)) ? 'a folder' : undefined;
      if (clash) {
        const what = kind(join(n.out, k)) === 'link' ? 'a symbolic link' : kind(join(n.out, k)) === 'dir' ? 'a folder' : 'a file';
        fail('E8102', `cannot write '${k}' into ${outDir}: ${what} vovc did not write is where the build puts ${clash}`, { subject: join(n.out, k), notes: ['vovc never overwrites or deletes what it did not write: move it away, or build into another folder'] });
      }
    }
    writeFileSync(join(staging, MANIFEST), manifest);
    const aside = join(n.parent, `${n.hidden}old-${process.pid}-${Date.now()}`);
    writeFileAtomic(n.journal, JSON.stringify({ staged: staging, aside, keep } satisfies Journal));
    renameSync(n.out, aside);
    renameSync(staging, n.out);
    carry(aside, n.out, keep);
    rmSync(aside, { recursive: true, force: true });
    rmSync(n.journal, { force: true });
    return files;
  } finally {
    release();
  }
}

/**
 * Writes `chunks` to `path` in order with writev, so that big artifacts (weights as views of
 * the parameters' memory) reach the file without being concatenated into one buffer first.
 */
export function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    // Batches stay under the usual IOV_MAX (1024); writevSync may write less than asked.
    for (let i = 0; i < chunks.length; ) {
      let batch = chunks.slice(i, i + 512);
      i += batch.length;
      while (batch.length) {
        let n = writevSync(fd, batch);
        while (batch.length && n >= batch[0].length) n -= batch.shift()!.length;
        if (n > 0) batch[0] = batch[0].subarray(n);
      }
    }
  } finally {
    closeSync(fd);
  }
}

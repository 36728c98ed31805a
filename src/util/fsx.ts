// Output safety: nothing half-written. Files are written under a temporary name in the
// destination folder and renamed into place (rename is atomic within one file system);
// a build goes to a staging folder and its files are moved only when the build succeeded.

import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writevSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fail } from '../diag/diagnostics.js';

let counter = 0;

/** Writes `data` to `path` atomically (temporary file in the same folder + rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.vovc-${process.pid}-${counter++}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Resolves `name` inside `dir`, refusing names that would escape it ("../x", absolute paths). */
export function safeJoin(dir: string, name: string): string {
  const root = resolve(dir);
  const p = resolve(root, name);
  if (p !== root && !p.startsWith(root + sep)) fail('E8101', `output name '${name}' would be written outside the output folder ${dir}`, { subject: name });
  return p;
}

/** Staging folder for a build into `outDir` (a sibling temp folder on the same file system). */
export function makeStaging(outDir: string): string {
  const parent = dirname(resolve(outDir));
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, '.vovc-staging-'));
}

/** What is at `p`: nothing, a folder, or something else (a file, a link). */
function kind(p: string): 'none' | 'dir' | 'other' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/**
 * Moves every file of `staging` into `outDir` (each by rename, replacing an older file of the
 * same name; files vovc did not write are left alone), then removes `staging`.
 */
export function commitStaging(staging: string, outDir: string): string[] {
  const files = listFiles(staging);
  // Every destination is checked before the first rename, so that a folder in the way of a
  // file (or a file in the way of a folder) fails the build with DIR untouched, not half-replaced.
  const root = resolve(outDir);
  for (const f of files) {
    const dst = safeJoin(outDir, f);
    for (let p = dirname(dst); ; p = dirname(p)) {
      if (kind(p) === 'other') fail('E8102', `cannot write '${f}' into ${outDir}: '${relative(root, p) || outDir}' is a file, not a folder`, { subject: p });
      if (p === root) break;
    }
    if (kind(dst) === 'dir') fail('E8102', `cannot write '${f}' into ${outDir}: a folder of that name is in the way`, { subject: dst });
  }
  mkdirSync(outDir, { recursive: true });
  for (const f of files) {
    const dst = safeJoin(outDir, f);
    mkdirSync(dirname(dst), { recursive: true });
    if (statSync(join(staging, f)).isFile()) renameSync(join(staging, f), dst);
  }
  rmSync(staging, { recursive: true, force: true });
  return files;
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

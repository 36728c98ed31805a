// Loading a checkpoint file: .safetensors or a PyTorch zip (.pth / .pt / .bin), told apart by
// their first bytes, never by the file name.
//
// A .pth often wraps the state dict: {'state_dict': sd}, {'model': sd, 'optimizer': ...},
// {'state_dict': sd, 'state_dict_ema': ema}, or nested, {'model': {'module': sd}}. We follow
// only the wrapper keys below, so an optimizer's dicts of tensors (state -> {exp_avg: ...})
// are never taken for the model; among several dicts of tensors the first key in WRAPPERS
// wins, and the path taken is recorded.

import { basename } from 'node:path';
import { fail } from '../diag/diagnostics.js';
import { readWholeFile } from '../io/files.js';
import { progressBar } from '../util/progress.js';
import { parseSafetensors } from './safetensors.js';
import type { TensorEntry } from './tensor.js';
import { TensorRef, decodeBudget, materialize, readTorchZip, unpickleTorch } from './torchzip.js';
import { PyDict, describe } from './unpickler.js';

export type { TensorEntry } from './tensor.js';

export interface Checkpoint {
  readonly path: string;
  readonly format: 'safetensors' | 'pth';
  /** In file order: data-offset order for .safetensors, dict order for .pth. */
  readonly tensors: TensorEntry[];
  /** The keys leading from the pickled object to the state dict, e.g. ['state_dict']; [] when it is the object itself. */
  readonly wrapperPath: string[];
  /** safetensors: its "__metadata__"; pth: the archive's format version and byte order. */
  readonly metadata: Record<string, string>;
}

export interface LoadOptions {
  /** Called as the file is read. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Draw a progress bar on the terminal for large files (see util/progress.ts). */
  progress?: boolean;
}

/** Wrapper keys, in order of preference. */
const WRAPPERS = ['state_dict', 'model', 'state_dict_ema', 'model_ema', 'ema', 'module'] as const;
const MAX_WRAPPER_DEPTH = 4;

/** Reads and decodes every tensor of a checkpoint. Values may be views of the file buffer. */
export async function loadCheckpoint(path: string, opts: LoadOptions = {}): Promise<Checkpoint> {
  const bar = opts.progress ? progressBar(`loading ${basename(path)}`) : undefined;
  let buf: Buffer;
  try {
    buf = await readWholeFile(path, (done, total) => {
      opts.onProgress?.(done, total);
      bar?.update(done, total);
    });
  } finally {
    bar?.finish();
  }
  switch (sniff(buf)) {
    case 'safetensors': {
      const { tensors, metadata } = parseSafetensors(buf, path, true);
      return { path, format: 'safetensors', tensors, wrapperPath: [], metadata };
    }
    case 'zip': {
      const archive = await readTorchZip(buf, path);
      const { dict, wrapperPath } = findStateDict(unpickleTorch(archive, path), path);
      const tensors: TensorEntry[] = [];
      // Tensors are checked now and decoded when first read, within one budget for the file.
      const budget = decodeBudget(buf.length);
      for (const [k, v] of dict.map) if (typeof k === 'string' && v instanceof TensorRef) tensors.push(materialize(k, v, archive.littleEndian, path, budget));
      const metadata: Record<string, string> = { byteorder: archive.littleEndian ? 'little' : 'big' };
      if (archive.version !== undefined) metadata.version = archive.version;
      return { path, format: 'pth', tensors, wrapperPath, metadata };
    }
    case 'legacy-pickle':
      return fail('E4102', `${path}: legacy PyTorch checkpoint (torch.save before 1.6, or _use_new_zipfile_serialization=False) is not supported: re-save it with a recent torch.save, or convert it to .safetensors`);
    default: {
      const head = [...buf.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      return fail('E4102', `${path}: not a checkpoint: expected a .safetensors file or a PyTorch zip (.pth), but the file starts with bytes ${head || '(empty file)'}`);
    }
  }
}

/** The container format from the first bytes. */
function sniff(buf: Uint8Array): 'safetensors' | 'zip' | 'legacy-pickle' | undefined {
  // Zip: a local file header, or the end record of an empty archive.
  if (buf[0] === 0x50 && buf[1] === 0x4b && ((buf[2] === 3 && buf[3] === 4) || (buf[2] === 5 && buf[3] === 6))) return 'zip';
  // safetensors: a u64 header length, then the JSON object's '{'.
  if (buf.length >= 9 && buf[8] === 0x7b && buf[5] === 0 && buf[6] === 0 && buf[7] === 0) return 'safetensors';
  // Old torch.save: a pickle (PROTO 2) of the magic number.
  if (buf[0] === 0x80 && buf[1] === 0x02) return 'legacy-pickle';
  return undefined;
}

/** A dict whose values are mostly tensors; the rest (an epoch counter, an _extra_state) is ignored. */
function isStateDict(v: unknown): v is PyDict {
  if (!(v instanceof PyDict)) return false;
  let tensors = 0;
  for (const x of v.map.values()) if (x instanceof TensorRef) tensors++;
  return tensors > 0 && 2 * tensors >= v.map.size;
}

/** Finds the state dict in the pickled object, following wrapper keys in order of preference. */
function findStateDict(root: unknown, path: string): { dict: PyDict; wrapperPath: string[] } {
  // Depth-first in WRAPPERS order is the same as ranking every candidate path by the
  // preference of its keys, first key first.
  const search = (v: unknown, at: string[]): { dict: PyDict; wrapperPath: string[] } | undefined => {
    if (isStateDict(v)) return { dict: v, wrapperPath: at };
    if (!(v instanceof PyDict) || at.length >= MAX_WRAPPER_DEPTH) return undefined;
    for (const w of WRAPPERS) {
      const found = search(v.map.get(w), [...at, w]);
      if (found) return found;
    }
    return undefined;
  };
  const found = search(root, []);
  if (found) return found;
  if (!(root instanceof PyDict)) fail('E4140', `${path}: the checkpoint holds ${describe(root)}, not a dict of tensors`);
  const keys = [...root.map.keys()].map(String);
  return fail('E4140', `${path}: no dict of tensors found: expected a state dict, or one under ${WRAPPERS.map((w) => `'${w}'`).join(', ')}; the top-level keys are ${keys.slice(0, 10).join(', ') || '(none)'}${keys.length > 10 ? ', ...' : ''}`);
}

/** Tensors holding NaN or infinite values, with how many. */
/**
 * NaN and +-Infinity values of `a`, a block at a time: a small function that V8 optimizes after
 * a few calls, where one loop over a whole tensor would first run in the interpreter, boxing
 * every float it loads (young-generation garbage, megabytes of resident memory).
 */
function countNonFinite(a: ArrayLike<number>): number {
  let count = 0;
  for (let b = 0; b < a.length; b += 4096) count += countBlock(a, b, Math.min(a.length, b + 4096));
  return count;
}

function countBlock(a: ArrayLike<number>, begin: number, end: number): number {
  let count = 0;
  // x - x is 0 for every finite x and NaN for NaN and +-Infinity.
  for (let i = begin; i < end; i++) if (a[i] - a[i] !== 0) count++;
  return count;
}

export function findNonFinite(entries: readonly { readonly key: string; readonly data: Float32Array | null }[]): { key: string; count: number }[] {
  const out: { key: string; count: number }[] = [];
  for (const e of entries) {
    if (!e.data) continue;
    const count = countNonFinite(e.data);
    if (count) out.push({ key: e.key, count });
  }
  return out;
}

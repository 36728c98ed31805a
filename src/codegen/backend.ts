// The contract between the CLI and a backend. A backend module (src/codegen/<target>/index.ts)
// exports `backend: Backend`; the CLI imports it lazily by target name, so a command only
// pays for the backend it uses.

import type { ParseArgsConfig } from 'node:util';
import type { Graph } from '../ir/graph.js';

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Values of the CLI options a backend declared, plus the common ones. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface BackendContext {
  /** The lowered graph (unoptimized), parameters bound (data null when built without weights). */
  readonly graph: Graph;
  /** Parsed command-line options (common + the backend's own). */
  readonly options: OptionValues;
  /** Progress / info messages (stderr; quiet under --quiet). */
  readonly log: (msg: string) => void;
  /** Whether real weights were given (false: seeded or shape-only). */
  readonly hasWeights: boolean;
}

export interface BuildContext extends BackendContext {
  /**
   * A fresh staging directory. Write every artifact file here; the CLI moves the files into
   * the destination atomically (temporary name + rename) only when the whole build succeeded.
   */
  readonly stagingDir: string;
}

export interface Backend {
  readonly target: string;
  /** One-line description for `vovc build --help`. */
  readonly description: string;
  /** Extra command-line options this backend accepts (node:util parseArgs format). */
  readonly cliOptions?: NonNullable<ParseArgsConfig['options']>;
  /** Writes the artifact; returns the relative paths written, in a stable order. */
  build?(ctx: BuildContext): Promise<string[]>;
  /**
   * Runs the model on `input` (whose shape the graph was lowered for) and returns the
   * requested outputs by name. Throws VovcError(..., 3) when the target cannot run here.
   */
  run?(ctx: BackendContext, input: Tensor, outputs: readonly string[]): Promise<Map<string, Tensor>>;
}

/** Module path of each target, relative to this file. */
export const TARGETS: Readonly<Record<string, string>> = {
  reference: '../runtime/backend.js',
  onnx: './onnx/index.js',
  cuda: './cuda/index.js',
  'cuda-emu': './cuda/emu.js',
  wgsl: './wgsl/index.js',
};

export async function loadBackend(target: string): Promise<Backend> {
  const rel = TARGETS[target];
  if (!rel) throw new Error(`internal: unknown target ${target}`);
  const mod = (await import(new URL(rel, import.meta.url).href)) as { backend: Backend };
  return mod.backend;
}

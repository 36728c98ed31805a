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
  /**
   * The caller donates `graph`'s parameter arrays: the backend's passes may overwrite them
   * (OptimizeOptions.donateParams) and the caller never reads them again. `vovc build` sets it.
   */
  readonly donateParams?: boolean;
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

type BackendModule = { backend: Backend };

/**
 * Each target's module, imported on first use (a command pays only for the backend it uses).
 * The specifiers are literal so that a bundler can follow them.
 */
export const TARGETS: Readonly<Record<string, () => Promise<BackendModule>>> = {
  reference: () => import('../runtime/backend.js'),
  onnx: () => import('./onnx/index.js'),
  cuda: () => import('./cuda/index.js'),
  'cuda-emu': () => import('./cuda/emu.js'),
  wgsl: () => import('./wgsl/index.js'),
};

export async function loadBackend(target: string): Promise<Backend> {
  const load = TARGETS[target];
  if (!load) throw new Error(`internal: unknown target ${target}`);
  return (await load()).backend;
}

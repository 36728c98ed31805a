// Small helpers of the DSL tests: model text in a temporary .vov file, stage lookup, and the
// diagnostics of a load that must fail.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { VovcError, type Diagnostic } from '../../src/diag/diagnostics.js';
import type { LoadOptions } from '../../src/dsl/zoo.js';
import { loadModel } from '../../src/dsl/zoo.js';
import type { DenseStage, ModelSpec, OsaStage } from '../../src/model/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'vovc-dsl-'));
let count = 0;

/** Writes `text` to a fresh .vov file and returns its path. */
export function vovFile(text: string, name = `m${++count}.vov`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export function osa(spec: ModelSpec, name: string): OsaStage {
  const s = spec.stages.find((x) => x.name === name);
  if (!s || s.kind !== 'osa') throw new Error(`no OSA stage ${name}`);
  return s;
}

export function dense(spec: ModelSpec, name: string): DenseStage {
  const s = spec.stages.find((x) => x.name === name);
  if (!s || s.kind !== 'dense') throw new Error(`no dense stage ${name}`);
  return s;
}

/** The diagnostics of a load that must fail with a VovcError (exit code 1). */
export function loadErrors(model: string, opts?: LoadOptions): Diagnostic[] {
  try {
    loadModel(model, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(VovcError);
    expect((e as VovcError).exitCode).toBe(1);
    expect((e as VovcError).sources).toBeDefined();
    return [...(e as VovcError).diagnostics];
  }
  throw new Error(`${model} loaded without error`);
}

/** DenseNet-40 (the paper's CIFAR-10 comparison): three dense blocks of 12 layers, growth 12. */
export const DENSENET40 = `
model densenet40
  input 1x3x32x32
  stem: conv 3x3 3->16
  stage2: dense growth 12 x12, transition 1x1 -> 160 avgpool 2x2
  stage3: dense growth 12 x12, transition 1x1 -> 304 avgpool 2x2
  stage4: dense growth 12 x12
  head: classifier 10
`;

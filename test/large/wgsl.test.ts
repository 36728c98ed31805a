// The WGSL backend refuses, with one diagnostic naming the tensor and the WebGPU limit, a plan
// whose buffers one storage binding cannot hold (src/codegen/wgsl/guard.ts), before rendering.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkBufferLimits } from '../../src/codegen/wgsl/guard.js';
import { compileWgslArtifact } from '../../src/codegen/wgsl/index.js';
import { VERSION } from '../../src/version.js';
import { MAX_BUFFER_BYTES, MAX_STORAGE_BINDING_BYTES } from '../../src/codegen/wgsl/limits.js';
import { VovcError } from '../../src/diag/diagnostics.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan } from '../../src/plan/types.js';
import { vovc } from '../helpers/fixtures.js';
import { builder, op } from '../passes/ir.js';
import { BIG, optimizedPlan } from './helpers.js';

function refusal(f: () => unknown): VovcError {
  try {
    f();
  } catch (e) {
    if (e instanceof VovcError) return e;
    throw e;
  }
  throw new Error('expected a VovcError');
}

const tensorBytes = (plan: KernelPlan) => [plan.input.elements * 4, ...plan.outputs.map((o) => o.elements * 4), ...plan.arena.map((b) => b.elements * 4)];

const out = mkdtempSync(join(tmpdir(), 'vovc-large-wgsl-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('WGSL refuses buffers WebGPU cannot bind', () => {
  test('vovnet57 at 64x3x1024x1024: E5305 names the largest tensor, its shape and bytes, and the limits', () => {
    const e = refusal(() => compileWgslArtifact(optimizedPlan('vovnet57', BIG), VERSION));
    const d = e.diagnostics[0];
    expect(d.code).toBe('E5305');
    expect(d.message).toContain(`tensor 'stages.0.blocks.0.concat' [64, 768, 256, 256] in the arena needs ${64 * 768 * 256 * 256 * 4} bytes`);
    expect(d.message).toContain(`maxStorageBufferBindingSize, ${MAX_STORAGE_BINDING_BYTES} bytes`);
    expect(d.message).toContain(`maxBufferSize is ${MAX_BUFFER_BYTES}`);
    // The input (805 MB) is over the limit as well, and is among the others listed.
    const over = tensorBytes(optimizedPlan('vovnet57', BIG)).filter((b) => b > MAX_STORAGE_BINDING_BYTES).length;
    expect(d.notes?.[0]).toMatch(new RegExp(`^${over - 1} more tensors exceed it: `));
  });

  test('a graph input over the limit is named as the input buffer', () => {
    const b = builder([1, 1, 8192, 8192]);
    b.output('y', op(b, 'g', 'global_avg_pool', ['input']));
    const d = refusal(() => checkBufferLimits(buildPlan(b.build()))).diagnostics[0];
    expect(d.code).toBe('E5305');
    expect(d.message).toContain(`tensor 'input' [1, 1, 8192, 8192] in the input buffer needs ${8192 * 8192 * 4} bytes`);
  });

  test('every tensor within the limit but the arena over it: E5108 names the arena and its largest tensor', () => {
    const plan = optimizedPlan('vovnet57', [1, 3, 800, 800]);
    expect(Math.max(...tensorBytes(plan))).toBeLessThanOrEqual(MAX_STORAGE_BINDING_BYTES);
    expect(plan.arenaBytes).toBeGreaterThan(MAX_STORAGE_BINDING_BYTES);
    const d = refusal(() => checkBufferLimits(plan)).diagnostics[0];
    expect(d.code).toBe('E5108');
    expect(d.message).toContain(`the arena needs ${plan.arenaBytes} bytes`);
    const largest = plan.arena.reduce((a, b) => (b.elements > a.elements ? b : a));
    expect(d.notes?.[0]).toBe(`its largest tensor is '${largest.value}' (${largest.elements * 4} bytes)`);
  });

  test('a plan within the limits passes', () => {
    expect(() => checkBufferLimits(optimizedPlan('vovnet57', [1, 3, 224, 224]))).not.toThrow();
  });

  test('vovc build --target wgsl: one error line, exit 1, nothing written', { timeout: 120_000 }, async () => {
    const dir = join(out, 'w57');
    const r = await vovc(['build', 'vovnet57', '--target', 'wgsl', '--input-shape', BIG.join(','), '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error E5305: wgsl: tensor 'stages\.0\.blocks\.0\.concat' \[64, 768, 256, 256\] in the arena needs 12884901888 bytes, more than one WebGPU storage binding holds/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(dir)).toBe(false);
  });
});

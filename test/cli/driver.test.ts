// The driver runs each stage once per command: `vovc build --report` optimizes once (the pass
// instruments print once) and reports what it builds; `--help` lists every target's flags
// without loading a backend; `--verify-each` verifies the plan too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-driver-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('one driver', () => {
  it('build --report --time-passes: the pipeline runs once; the report equals vovc ir --opt --report', async () => {
    const b = await vovc(['build', 'vovnet27_slim', '--input-shape', '1,3,64,64', '--target', 'cuda', '--no-weights', '--report', '--time-passes', '--out', join(work, 'cuda')]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr.match(/pass execution timing/g)).toHaveLength(1);
    const ir = await vovc(['ir', 'vovnet27_slim', '--input-shape', '1,3,64,64', '--opt', '--report']);
    expect(b.stdout).toBe(ir.stdout);
    // ONNX --faithful builds the unoptimized graph: its report comes from the shapes alone.
    const f = await vovc(['build', 'vovnet27_slim', '--input-shape', '1,3,64,64', '--target', 'onnx', '--faithful', '--report', '--out', join(work, 'onnx')]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toBe(ir.stdout);
  });

  it('build --help lists the flags of every target that builds, grouped by target', async () => {
    const r = await vovc(['build', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--target onnx:', '--opset N', '--faithful', '--external-data', '--dynamic-batch', '--dynamic-hw', '--target cuda:', '--no-weights', '--target wgsl:', '--sample-input X.npy']) expect(r.stdout).toContain(s);
    expect(r.stdout).not.toContain('--target reference:');
  });

  it('--verify-each verifies the IR after every pass and the kernel plan', async () => {
    const r = await vovc(['ir', 'ese_vovnet19b_dw', '--input-shape', '1,3,64,64', '--opt', '--verify-each']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('se_gate(');
  });
});

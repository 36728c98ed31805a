// The harness's tensor-core emulation (templates/cuda-emu/vovc_tc_emu.h) against products
// computed in double (test/cuda/tc/emu_check.cu): the PTX ISA's fragment layouts for
// mma.m16n8k16 (f16, bf16), mma.m16n8k8 (tf32) and ldmatrix (.trans), a kernel that swaps two
// fragment registers computing wrong numbers, and cp.async data landing only at its wait (NaN
// before). In both shim modes (fibers, and one thread per CUDA thread), and under
// ThreadSanitizer in the thread mode.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-tc-emu-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hasGxx = !spawnSync('g++', ['--version'], { stdio: 'ignore' }).error;

function check(flags: string[], env: Record<string, string> = {}): Map<string, number> {
  const exe = join(work, `emu_check${flags.join('').replace(/\W/g, '')}`);
  const cc = spawnSync('g++', ['-std=c++20', '-O1', '-pthread', ...flags, '-x', 'c++', '-I', join(REPO, 'templates/cuda-emu'), join(REPO, 'test/cuda/tc/emu_check.cu'), '-o', exe], { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  const r = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.stderr).not.toMatch(/ThreadSanitizer/);
  expect(r.status, r.stderr).toBe(0);
  return new Map(r.stdout.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
}

function expectFaithful(m: Map<string, number>): void {
  // Products of 16-bit (and tf32) operands are exact in fp32 and these sums are too.
  expect(m.get('mma_f16')).toBe(0);
  expect(m.get('mma_bf16')).toBe(0);
  expect(m.get('mma_tf32')).toBe(0);
  expect(m.get('swapped')).toBeGreaterThan(1);
  expect(m.get('cp_async_before_wait_nan')).toBe(32);
  expect(m.get('cp_async_after_wait_ok')).toBe(32);
}

describe.skipIf(!hasGxx)('the tensor-core emulation follows the PTX ISA layouts (skipped: no g++)', () => {
  it('fiber mode', () => expectFaithful(check([])), 120_000);
  it('thread mode (VOVC_SHIM_THREADS)', () => expectFaithful(check(['-DVOVC_SHIM_THREADS'])), 120_000);
  const tsan = spawnSync('sh', ['-c', `printf 'int main(){return 0;}' | g++ -x c++ -fsanitize=thread - -o ${join(work, 'probe')} && ${join(work, 'probe')}`], { stdio: 'ignore' }).status === 0;
  it.skipIf(!tsan)('thread mode under ThreadSanitizer (skipped when -fsanitize=thread programs cannot run)', () => expectFaithful(check(['-g', '-fsanitize=thread', '-DVOVC_SHIM_THREADS'], { TSAN_OPTIONS: 'halt_on_error=1 exitcode=66' })), 300_000);
});

// ThreadSanitizer over the emulated kernels: the tiny-* fixture nets built for cuda-emu,
// compiled with -fsanitize=thread and the shim's thread mode (one std::thread per CUDA thread,
// a std::barrier per block), so a missing __syncthreads or two threads writing one element
// show up as a data race. The outputs must still match the fixture. tiny-timm-a also runs at
// fp16: the tensor-core kernels and their emulation (warp barrier points, cp.async) under TSAN.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, compareReduced, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-tsan-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tsanWorks = (() => {
  const probe = spawnSync('sh', ['-c', `printf 'int main(){return 0;}' | g++ -x c++ -fsanitize=thread - -o ${join(work, 'probe')} && ${join(work, 'probe')}`], { stdio: 'ignore' });
  return probe.status === 0;
})();

describe.skipIf(!tsanWorks)('ThreadSanitizer finds no race in the emulated kernels (skipped when g++ cannot build and run -fsanitize=thread programs)', () => {
  const runs = fixtureCases()
    .filter((f) => f.name.startsWith('tiny-'))
    .flatMap((c) => [{ c, precision: 'fp32' as const }, ...(c.name === 'tiny-timm-a' ? [{ c, precision: 'fp16' as const }] : [])]);
  for (const { c, precision } of runs) {
    it(`${c.name}${precision === 'fp32' ? '' : ` ${precision}`}`, { timeout: 900_000 }, async () => {
      const dir = join(work, `${c.name}-${precision}`);
      const b = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'cuda-emu', '--precision', precision, '--out', dir, '-q']);
      expect(b.code, b.stderr).toBe(0);
      const cc = spawnSync('g++', ['-std=c++20', '-O1', '-g', '-fsanitize=thread', '-DVOVC_SHIM_THREADS', '-pthread', '-x', 'c++', '-I', dir, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', '-o', 'demo_tsan'], { cwd: dir, encoding: 'utf8' });
      expect(cc.status, cc.stderr).toBe(0);
      mkdirSync(join(dir, 'out'));
      const r = spawnSync(join(dir, 'demo_tsan'), [c.input, 'out', '--weights', 'weights.bin'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TSAN_OPTIONS: 'halt_on_error=1 exitcode=66' } });
      expect(r.stderr).not.toMatch(/ThreadSanitizer/);
      expect(r.status, r.stderr).toBe(0);
      for (const [name, file] of c.outputs) {
        const [got, want] = [readNpyF32(join(dir, 'out', `${name}.npy`)), readNpyF32(file)];
        if (precision === 'fp16') expect(compareReduced(got, want, precision).ok).toBe(true);
        else {
          const cmp = compare(got, want, c.atol, c.rtol);
          expect(cmp, `${c.name}/${name}: max |diff| ${cmp.maxAbs}`).toMatchObject({ ok: true });
        }
      }
    });
  }
});

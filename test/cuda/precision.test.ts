// Reduced-precision CUDA artifacts: every shared fixture through `vovc run --target cuda-emu
// --precision fp16|bf16|tf32` (the tensor-core kernels exactly as emitted, their mma.sync,
// ldmatrix and cp.async emulated by the harness) judged by compare.py's rule (ThreadSanitizer
// over an fp16 build is in tsan.test.ts); weights.bin half the fp32 size; and, when nvcc is present, the
// nvcc facts: sm_80 and sm_90 builds with every warning an error, MMA instructions of the
// right type in the PTX, no spills and no stack in any kernel.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareReduced, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'vovc-cuda-precision-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cases = fixtureCases();
const hasGxx = !spawnSync('g++', ['--version'], { stdio: 'ignore' }).error;
const hasNvcc = !spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).error;

describe.skipIf(!hasGxx)('cuda-emu at reduced precision passes compare.py on every fixture (skipped: no g++)', () => {
  for (const c of cases) {
    for (const precision of ['fp16', 'bf16', 'tf32'] as const) {
      it(`${c.name} --precision ${precision}`, { timeout: 600_000 }, async () => {
        const save = join(work, `${c.name}-${precision}`);
        const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'cuda-emu', '--precision', precision, '--save', save, '--outputs', [...c.outputs.keys()].join(','), '-q']);
        expect(r.code, r.stderr).toBe(0);
        for (const [name, file] of c.outputs) {
          const cmp = compareReduced(readNpyF32(join(save, `${name}.npy`)), readNpyF32(file), precision);
          expect(cmp.ok, `${c.name}/${name}: max|diff|/max|exp| ${cmp.relMax.toExponential(2)}, cosine ${cmp.cosine.toFixed(6)}`).toBe(true);
        }
      });
    }
  }
});

describe('the fp16 CUDA artifact', () => {
  it('vovnet57: weights.bin is half the fp32 size; the README and the blob header say fp16', async () => {
    const size = async (p: string[]) => {
      const dir = join(work, `size-${p.join('') || 'fp32'}`);
      const r = await vovc(['build', 'vovnet57', '--target', 'cuda', '--out', dir, '-q', ...p]);
      expect(r.code, r.stderr).toBe(0);
      return dir;
    };
    const [d32, d16] = [await size([]), await size(['--precision', 'fp16'])];
    const ratio = statSync(join(d16, 'weights.bin')).size / statSync(join(d32, 'weights.bin')).size;
    expect(ratio).toBeGreaterThan(0.49);
    expect(ratio).toBeLessThan(0.501);
    expect(readFileSync(join(d16, 'weights.bin')).readUInt32LE(28)).toBe(1);
    expect(readFileSync(join(d32, 'weights.bin')).readUInt32LE(28)).toBe(0);
    expect(readFileSync(join(d16, 'README.md'), 'utf8')).toContain('Precision **fp16**');
    expect(readFileSync(join(d32, 'vovc_model.cu'), 'utf8')).not.toContain('conv_tc');
  }, 120_000);

  it('the emulated runtime refuses a blob of another precision', async () => {
    const c = cases.find((x) => x.name === 'tiny-timm-a')!;
    const dir16 = join(work, 'mix16');
    const dir32 = join(work, 'mix32');
    for (const [dir, p] of [[dir16, 'fp16'], [dir32, 'fp32']] as const) {
      const r = await vovc(['build', c.model, '--weights', c.weights, '--input-shape', c.inputShape.join(','), '--target', 'cuda-emu', '--precision', p, '--out', dir, '-q']);
      expect(r.code, r.stderr).toBe(0);
    }
    const cc = spawnSync('g++', ['-std=c++20', '-O1', '-pthread', '-x', 'c++', '-I', dir16, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', '-o', 'demo'], { cwd: dir16, encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    mkdirSync(join(dir16, 'out'));
    const r = spawnSync(join(dir16, 'demo'), [c.input, 'out', '--weights', join(dir32, 'weights.bin')], { cwd: dir16, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('blob element type 0, this fp16 artifact expects 1');
  }, 300_000);
});

describe.skipIf(!hasGxx)('--io native (skipped: no g++)', () => {
  it('tiny-v1-residual fp16 and bf16: the storage bits at the C API give the same outputs as float32 I/O', { timeout: 600_000 }, async () => {
    const c = cases.find((x) => x.name === 'tiny-v1-residual')!;
    for (const precision of ['fp16', 'bf16']) {
      const outs: Buffer[] = [];
      for (const io of ['float32', 'native']) {
        const save = join(work, `io-${precision}-${io}`);
        const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'cuda-emu', '--precision', precision, '--io', io, '--save', save, '-q']);
        expect(r.code, r.stderr).toBe(0);
        outs.push(readFileSync(join(save, 'logits.npy')));
      }
      // Rounding the input on the host or in the graph is the same rounding to nearest even.
      expect(outs[1].equals(outs[0])).toBe(true);
    }
    const dir = join(work, 'io-native-build');
    const b = await vovc(['build', c.model, '--target', 'cuda', '--precision', 'fp16', '--io', 'native', '--no-weights', '--input-shape', c.inputShape.join(','), '--out', dir, '-q']);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, 'vovc.h'), 'utf8')).toContain('typedef uint16_t vovc_io;');
    expect(readFileSync(join(dir, 'vovc_runtime.cu'), 'utf8')).not.toContain('to_storage');
    const bad = await vovc(['build', c.model, '--target', 'cuda', '--io', 'half', '--out', join(work, 'bad-io')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('E6116');
  });
});

describe.skipIf(!hasNvcc)('nvcc: reduced-precision artifacts for sm_80 and sm_90 (skipped: nvcc not on the PATH)', () => {
  const MMA = { fp16: 'mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32', bf16: 'mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32', tf32: 'mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32' } as const;
  for (const precision of ['fp16', 'bf16', 'tf32'] as const) {
    it(`${precision}: no warnings, ${MMA[precision]} in the PTX, no spills, no stack`, { timeout: 600_000 }, async () => {
      const dir = join(work, `nvcc-${precision}`);
      // fp16 with --io native: the demo's host-side conversions compile under nvcc too.
      const b = await vovc(['build', 'ese_vovnet19b_dw', '--target', 'cuda', '--precision', precision, '--no-weights', '--input-shape', '1,3,64,64', '--out', dir, '-q', ...(precision === 'fp16' ? ['--io', 'native'] : [])]);
      expect(b.code, b.stderr).toBe(0);
      const cc = spawnSync('nvcc', ['-std=c++17', '-O3', '-gencode', 'arch=compute_80,code=[sm_80,compute_80]', '-gencode', 'arch=compute_90,code=sm_90', '-Werror', 'all-warnings', '-Xcompiler', '-Wall,-Wextra,-Werror', '-Xptxas', '-v', '-I', dir, 'vovc_model.cu', 'vovc_runtime.cu', 'vovc_demo.cu', '-o', 'vovc_demo'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(cc.status, cc.stderr.slice(0, 4000)).toBe(0);
      const frames = cc.stderr.split('\n').filter((l) => /bytes stack frame/.test(l));
      expect(frames.length).toBeGreaterThan(0);
      for (const f of frames) expect(f.trim()).toBe('0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads');
      const ptx = spawnSync('nvcc', ['-std=c++17', '-O3', '-arch=sm_80', '-ptx', '-I', dir, 'vovc_model.cu', '-o', 'model.ptx'], { cwd: dir, encoding: 'utf8' });
      expect(ptx.status, ptx.stderr).toBe(0);
      const text = readFileSync(join(dir, 'model.ptx'), 'utf8');
      expect(text).toContain(MMA[precision]);
      if (precision !== 'tf32') expect(text).toContain('ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16');
      else expect(text).toContain('cvt.rna.tf32.f32');
      expect(text).toContain('cp.async.cg.shared.global');
    });
  }
});

// vovc bench: the method's fields, the JSON schema, what is refused (docs/BENCH.md). No timing
// thresholds: only that the figures are there, ordered and consistent.
import { describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

describe('vovc bench', () => {
  for (const target of ['onnx', 'reference', 'wgsl']) {
    it(`--target ${target} --json: the schema, the method, ordered figures`, async () => {
      const r = await vovc(['bench', 'vovnet27_slim', '--target', target, '--input-shape', '1,3,32,32', '--runs', '5', '--json'], { env: { EGL_PLATFORM: 'surfaceless' } });
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ schema: 'vovc.bench/1', model: 'vovnet27_slim', input: [1, 3, 32, 32], target, precision: 'fp32', weights: 'seeded', runs: 5 });
      expect(j.method).toMatchObject({ warmupMinRuns: 3, warmupGroup: 5, warmupTolerance: 0.05, warmupMaxSeconds: 10, timedRuns: 5 });
      expect(j.timesMs).toHaveLength(5);
      expect(j.minMs).toBeLessThanOrEqual(j.q1Ms);
      expect(j.q1Ms).toBeLessThanOrEqual(j.medianMs);
      expect(j.medianMs).toBeLessThanOrEqual(j.q3Ms);
      expect(j.q3Ms).toBeLessThanOrEqual(j.maxMs);
      expect(j.iqrMs).toBeCloseTo(j.q3Ms - j.q1Ms, 9);
      expect(j.warmup.runs).toBeGreaterThanOrEqual(3);
      expect(j.machine.threads).toBeGreaterThan(0);
      expect(Object.keys(j.settings).length).toBeGreaterThan(0);
    }, 120_000);
  }
  it('the text report states the median, the IQR, the warm-up, the machine and the settings', async () => {
    const r = await vovc(['bench', 'ese_vovnet19b_dw', '--target', 'onnx', '--input-shape', '1,3,32,32', '--runs', '3', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vovc bench: ese_vovnet19b_dw \[1, 3, 32, 32\] on onnx at fp32 \(seeded weights\)\n {2}median [\d.]+ ms {2}min .* IQR .* runs 3\n {2}warm-up: \d+ runs in [\d.]+ s, .*\n {2}machine: .*\n {2}target: runtime onnxruntime-node [\d.]+; execution provider cpu; graph optimization all; intra-op threads \d+/);
  }, 120_000);
  it('cuda-emu is refused (it checks correctness, not speed): exit 2', async () => {
    const r = await vovc(['bench', 'vovnet27_slim', '--target', 'cuda-emu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E8008: cuda-emu checks correctness, not speed/);
  });
  it('--runs 0 is a usage error', async () => {
    const r = await vovc(['bench', 'vovnet27_slim', '--target', 'onnx', '--runs', '0']);
    expect(r.code).toBe(2);
  });
});

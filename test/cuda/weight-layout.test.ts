// The CUDA weight layout: the plan's own offsets at fp32; with tensor cores, each groups-1
// convolution weight as [COUT][KP] rows (KP = K rounded up to 8), every entry on
// ALIGN_ELEMENTS, nothing overlapping, and weights.bin holding exactly that many elements.
import { describe, expect, it } from 'vitest';
import { cudaWeightLayout } from '../../src/codegen/cuda/render.js';
import { loadModelGraph } from '../../src/driver/model.js';
import { Pipeline } from '../../src/driver/pipeline.js';
import type { Precision } from '../../src/ir/precision.js';
import { ALIGN_ELEMENTS } from '../../src/plan/types.js';

const plan = (model: string, precision: Precision) => new Pipeline(loadModelGraph({ model, inputShape: [1, 3, 64, 64] }).graph, { passes: { log: () => {} }, precision }).plan();

describe('cudaWeightLayout', () => {
  it('fp32 is the plan layout', () => {
    const p = plan('vovnet27_slim', 'fp32');
    const l = cudaWeightLayout(p);
    expect(l.pitch.size).toBe(0);
    expect(l.totalElements).toBe(p.weights.totalElements);
    for (const e of p.weights.entries) expect(l.offset.get(e.name)).toBe(e.offset);
  });

  for (const precision of ['tf32', 'fp16', 'bf16'] as const) {
    it(`${precision}: padded conv rows, aligned, disjoint`, () => {
      const p = plan('ese_vovnet19b_dw', precision);
      const l = cudaWeightLayout(p);
      const convs = p.launches.filter((x) => x.kind === 'conv' && x.attrs.groups === 1);
      expect(l.pitch.size).toBe(new Set(convs.map((c) => c.params.weight.name)).size);
      for (const c of convs) {
        const [, cin, kh, kw] = c.params.weight.shape;
        const k = cin * kh * kw;
        const pitch = l.pitch.get(c.params.weight.name)!;
        expect(pitch % 8).toBe(0);
        expect(pitch - k).toBeGreaterThanOrEqual(0);
        expect(pitch - k).toBeLessThan(8);
      }
      // The stem's first conv: K = 3 * 3 * 3 = 27 -> 32.
      expect(l.pitch.get(convs[0].params.weight.name)).toBe(32);
      const spans = p.weights.entries.map((e) => ({ at: l.offset.get(e.name)!, size: l.pitch.has(e.name) ? e.shape[0] * l.pitch.get(e.name)! : e.numel })).sort((a, b) => a.at - b.at);
      spans.forEach((s, i) => {
        expect(s.at % ALIGN_ELEMENTS).toBe(0);
        if (i > 0) expect(s.at).toBeGreaterThanOrEqual(spans[i - 1].at + spans[i - 1].size);
      });
      expect(l.totalElements).toBeGreaterThanOrEqual(spans[spans.length - 1].at + spans[spans.length - 1].size);
    });
  }
});

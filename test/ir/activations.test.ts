// The activation table: each entry's C-style expression (what CUDA and WGSL compute) agrees
// with its reference function (what the interpreter computes) and with PyTorch's formula; the
// ONNX lowerings are the documented ones per opset.
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, ACTIVATION_NAMES } from '../../src/ir/activations.js';
import { evaluate } from '../../src/ir/expr.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const TORCH: Record<string, (v: number) => number> = {
  none: (v) => v,
  relu: (v) => Math.max(v, 0),
  hardsigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
  sigmoid,
  silu: (v) => v * sigmoid(v),
  hardswish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
};

describe('activation table', () => {
  const xs = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);

  it('has every activation the IR, the DSL and the tests name', () => {
    expect(ACTIVATION_NAMES).toEqual(Object.keys(TORCH));
  });

  for (const name of ACTIVATION_NAMES) {
    it(`${name}: reference function and C-style expression follow PyTorch`, () => {
      const a = ACTIVATIONS[name];
      for (const x of xs) {
        const want = TORCH[name](x);
        expect(Math.abs(a.ref(x) - want), `${name}(${x}) reference`).toBeLessThan(1e-12);
        // The expression's literals are float32 (1/6 rounded): within float32 precision.
        expect(Math.abs(evaluate(a.expr, x) - want), `${name}(${x}) expression`).toBeLessThan(1e-7 * Math.max(1, Math.abs(want)));
      }
    });
  }

  it('ONNX lowerings: Hardswish is HardSwish from opset 14 and x * HardSigmoid(1/6, 1/2) at 13; SiLU is x * Sigmoid', () => {
    const ops = (name: keyof typeof ACTIVATIONS, opset: number) => ACTIVATIONS[name].onnx(opset).map((s) => `${s.op}${s.timesInput ? '(x)' : ''}${s.floats ? `[${s.floats.map(([k, v]) => `${k}=${v}`).join(',')}]` : ''}`);
    expect(ops('hardswish', 14)).toEqual(['HardSwish']);
    expect(ops('hardswish', 13)).toEqual([`HardSigmoid[alpha=${1 / 6},beta=0.5]`, 'Mul(x)']);
    expect(ops('silu', 21)).toEqual(['Sigmoid', 'Mul(x)']);
    expect(ops('hardsigmoid', 17)).toEqual([`HardSigmoid[alpha=${1 / 6},beta=0.5]`]);
    expect(ops('none', 17)).toEqual([]);
  });
});

// A deliberately naive CPU executor of KernelPlans, for tests: every launch reads and writes
// through its strided views into ONE arena array, so a wrong offset, a wrong stride or two
// live blocks sharing bytes shows up as a wrong (or NaN: the arena starts poisoned) result.
// Arithmetic in float64, one rounding per stored value.
import type { Graph } from '../../src/ir/graph.js';
import { packWeights } from '../../src/plan/weights.js';
import type { ConvLaunchAttrs, KernelPlan, Launch, PoolLaunchAttrs, TensorView, WeightRef } from '../../src/plan/types.js';

/** Every launch kind's attributes as one loose record (this executor reads them by name). */
type AnyAttrs = Partial<Omit<ConvLaunchAttrs & PoolLaunchAttrs, 'kernel'> & { kernel: unknown; mode: string; eps: number; fn: string }>;
type AnyParams = Partial<Record<'weight' | 'bias' | 'running_mean' | 'running_var', WeightRef>>;

export interface PlanRun {
  outputs: Map<string, Float32Array>;
}

export function executePlan(plan: KernelPlan, g: Graph, input: Float32Array): PlanRun {
  const arena = new Float32Array(plan.arenaBytes / 4).fill(NaN);
  const outputs = new Map(plan.outputs.map((o) => [o.name, new Float32Array(o.elements).fill(NaN)]));
  const blob = packWeights(plan, (name) => g.params.get(name)?.data);
  const buf = (v: TensorView) => (v.buffer === 'arena' ? arena : v.buffer === 'input' ? input : outputs.get(v.name)!);
  for (const l of plan.launches) run(l, buf, blob);
  return { outputs };
}

type Buf = (v: TensorView) => Float32Array;

function at(v: TensorView, n: number, c: number, h: number, w: number): number {
  return v.offset + n * v.strides[0] + c * v.strides[1] + h * v.strides[2] + w * v.strides[3];
}

function w(blob: Float32Array, r: WeightRef | undefined, i: number): number {
  return r ? blob[r.offset + i] : 0;
}

function act(x: number, a: string | undefined): number {
  switch (a) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'hardsigmoid':
      return Math.min(1, Math.max(0, x / 6 + 0.5));
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'hardswish':
      return (x * Math.min(6, Math.max(0, x + 3))) / 6;
    default:
      return x;
  }
}

/** Calls f(n, c, h, w) over the output view's shape, storing what f returns. */
function each(l: Launch, buf: Buf, f: (n: number, c: number, h: number, w: number) => number): void {
  const o = l.output;
  const out = buf(o);
  const [N, C, H, W] = o.shape;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let x = 0; x < W; x++) out[at(o, n, c, h, x)] = f(n, c, h, x);
}

function run(l: Launch, buf: Buf, blob: Float32Array): void {
  const a = l.attrs as AnyAttrs;
  const params = l.params as AnyParams;
  const get = (i: number) => {
    const v = l.inputs[i];
    const b = buf(v);
    return (n: number, c: number, h: number, x: number) => b[at(v, n, c, h, x)];
  };
  const x0 = l.inputs.length ? get(0) : () => 0;
  const [, Cin, Hin, Win] = l.inputs[0]?.shape ?? [0, 0, 0, 0];
  switch (l.kind) {
    case 'conv':
    case 'dwconv': {
      const [kh, kw] = a.kernel as [number, number];
      const [sh, sw] = a.stride!;
      const [pt, pl] = a.pad!;
      const g = a.groups!;
      const cout = l.output.shape[1];
      const cpg = Cin / g;
      const opg = cout / g;
      const r = a.residual ? get(1) : undefined;
      const W = params.weight!;
      each(l, buf, (n, co, oh, ow) => {
        let s = w(blob, params.bias, co);
        const cbase = Math.floor(co / opg) * cpg;
        for (let ci = 0; ci < cpg; ci++)
          for (let i = 0; i < kh; i++) {
            const ih = oh * sh - pt + i;
            if (ih < 0 || ih >= Hin) continue;
            for (let j = 0; j < kw; j++) {
              const iw = ow * sw - pl + j;
              if (iw < 0 || iw >= Win) continue;
              s += x0(n, cbase + ci, ih, iw) * blob[W.offset + ((co * cpg + ci) * kh + i) * kw + j];
            }
          }
        s = act(s, a.act);
        return r ? s + r(n, co, oh, ow) : s;
      });
      return;
    }
    case 'maxpool':
    case 'avgpool': {
      const [kh, kw] = a.kernel as [number, number];
      const [sh, sw] = a.stride!;
      each(l, buf, (n, c, oh, ow) => {
        const h0 = oh * sh;
        const w0 = ow * sw;
        const h1 = Math.min(h0 + kh, Hin);
        const w1 = Math.min(w0 + kw, Win);
        let m = l.kind === 'maxpool' ? -Infinity : 0;
        for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) m = l.kind === 'maxpool' ? Math.max(m, x0(n, c, i, j)) : m + x0(n, c, i, j);
        return l.kind === 'maxpool' ? m : m / ((h1 - h0) * (w1 - w0));
      });
      return;
    }
    case 'gap':
      each(l, buf, (n, c) => {
        let s = 0;
        for (let i = 0; i < Hin; i++) for (let j = 0; j < Win; j++) s += x0(n, c, i, j);
        return s / (Hin * Win);
      });
      return;
    case 'se_gate': {
      const N = l.inputs[0].shape[0];
      const mean = new Float64Array(N * Cin);
      for (let n = 0; n < N; n++)
        for (let c = 0; c < Cin; c++) {
          let s = 0;
          for (let i = 0; i < Hin; i++) for (let j = 0; j < Win; j++) s += x0(n, c, i, j);
          mean[n * Cin + c] = Math.fround(s / (Hin * Win));
        }
      const k = (a.kernel as unknown as number | undefined) ?? 1;
      each(l, buf, (n, co) => {
        let s = 0;
        if (a.mode === 'ese') {
          s = w(blob, params.bias, co);
          for (let ci = 0; ci < Cin; ci++) s += mean[n * Cin + ci] * w(blob, params.weight, co * Cin + ci);
        } else {
          for (let j = 0; j < k; j++) {
            const ci = co + j - (k - 1) / 2;
            if (ci >= 0 && ci < Cin) s += mean[n * Cin + ci] * w(blob, params.weight, j);
          }
        }
        return act(Math.fround(s), a.act);
      });
      return;
    }
    case 'eca_conv1d': {
      const k = a.kernel as unknown as number;
      each(l, buf, (n, co) => {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const ci = co + j - (k - 1) / 2;
          if (ci >= 0 && ci < Cin) s += x0(n, ci, 0, 0) * w(blob, params.weight, j);
        }
        return s;
      });
      return;
    }
    case 'scale': {
      const s = get(1);
      const r = a.residual ? get(2) : undefined;
      each(l, buf, (n, c, h, x) => Math.fround(x0(n, c, h, x) * s(n, c, 0, 0)) + (r ? r(n, c, h, x) : 0));
      return;
    }
    case 'linear':
      each(l, buf, (n, o) => {
        let s = w(blob, params.bias, o);
        for (let i = 0; i < Cin; i++) s += x0(n, i, 0, 0) * w(blob, params.weight, o * Cin + i);
        return s;
      });
      return;
    case 'copy':
      each(l, buf, x0);
      return;
    case 'concat': {
      const parts = l.inputs.map((v, i) => ({ c: v.shape[1], f: get(i) }));
      each(l, buf, (n, c, h, x) => {
        for (const p of parts) {
          if (c < p.c) return p.f(n, c, h, x);
          c -= p.c;
        }
        throw new Error('concat: channel out of range');
      });
      return;
    }
    case 'batchnorm': {
      const p = params;
      each(l, buf, (n, c, h, x) => ((x0(n, c, h, x) - w(blob, p.running_mean, c)) / Math.sqrt(w(blob, p.running_var, c) + a.eps!)) * w(blob, p.weight, c) + w(blob, p.bias, c));
      return;
    }
    case 'act':
      each(l, buf, (n, c, h, x) => act(x0(n, c, h, x), a.fn));
      return;
    case 'add': {
      const y = get(1);
      each(l, buf, (n, c, h, x) => x0(n, c, h, x) + y(n, c, h, x));
      return;
    }
    case 'mul': {
      const y = get(1);
      const bc = l.inputs[1].shape[2] === 1 && l.inputs[1].shape[3] === 1;
      each(l, buf, (n, c, h, x) => x0(n, c, h, x) * (bc ? y(n, c, 0, 0) : y(n, c, h, x)));
      return;
    }
  }
}

// The activation table: every elementwise activation vovc knows, defined once. Each entry is
// read by every stage that needs it:
//   ref    the reference interpreter's float64 function (src/runtime/);
//   expr   the C-style expression the CUDA and WGSL renderers print (src/codegen/cstyle/);
//   onnx   the ONNX lowering, per opset (src/codegen/onnx/);
// and its name is the IR's (the `act` op, a conv's or gate's epilogue), the DSL's and the
// analyzer's. Adding an activation is one entry here (plus, for a conv-unit activation, its
// name in the DSL's list, src/model/spec.ts).
//
// `ref` functions must be self-contained (no closures, no imports): the interpreter's worker
// threads receive them as source text.
//
// Non-finite values follow PyTorch: NaN propagates through every activation (ReLU of NaN is NaN);
// the renderers' max, min and clamp are NaN-propagating (src/codegen/cstyle/), unlike IEEE fmax.

import { X, add, clamp, div, exp, lit, max, mul, neg, type Expr } from './expr.js';

/** One ONNX node of an activation's lowering, applied to the previous step's output. */
export interface OnnxActStep {
  readonly op: string;
  /** Float attributes, in the order they are written. */
  readonly floats?: readonly (readonly [string, number])[];
  /** The node's second operand is the activation's input (x * f(x)). */
  readonly timesInput?: boolean;
}

export interface ActivationDef {
  /** One line for docs and help. */
  readonly doc: string;
  readonly ref: (v: number) => number;
  readonly expr: Expr;
  readonly onnx: (opset: number) => readonly OnnxActStep[];
}

/** PyTorch's Hardsigmoid: relu6(x + 3) / 6 = clamp(x / 6 + 1/2, 0, 1) (not ONNX's default alpha 0.2). */
const HARDSIGMOID_ONNX: OnnxActStep = { op: 'HardSigmoid', floats: [['alpha', 1 / 6], ['beta', 0.5]] };
/** clamp(x * (1/6) + 1/2, 0, 1): the hard-sigmoid every C-like backend computes (one product, one sum). */
const HARDSIGMOID_EXPR = clamp(add(mul(X, lit(1 / 6)), lit(0.5)), lit(0), lit(1));

const TABLE = {
  none: {
    doc: 'identity (no activation)',
    ref: (v: number) => v,
    expr: X,
    onnx: () => [],
  },
  relu: {
    doc: 'max(x, 0) (NaN stays NaN, as in PyTorch)',
    ref: (v: number) => (v > 0 || v !== v ? v : 0),
    expr: max(X, lit(0)),
    onnx: () => [{ op: 'Relu' }],
  },
  hardsigmoid: {
    doc: 'relu6(x + 3) / 6 = clamp(x / 6 + 1/2, 0, 1), PyTorch nn.Hardsigmoid (the eSE gate)',
    ref: (v: number) => (v <= -3 ? 0 : v >= 3 ? 1 : (v + 3) / 6),
    expr: HARDSIGMOID_EXPR,
    onnx: () => [HARDSIGMOID_ONNX],
  },
  sigmoid: {
    doc: '1 / (1 + exp(-x)) (the ECA gate)',
    ref: (v: number) => 1 / (1 + Math.exp(-v)),
    expr: div(lit(1), add(lit(1), exp(neg(X)))),
    onnx: () => [{ op: 'Sigmoid' }],
  },
  silu: {
    doc: 'x * sigmoid(x) = x / (1 + exp(-x)), PyTorch nn.SiLU (swish)',
    ref: (v: number) => v / (1 + Math.exp(-v)),
    expr: div(X, add(lit(1), exp(neg(X)))),
    // No SiLU op in opsets 13..21.
    onnx: () => [{ op: 'Sigmoid' }, { op: 'Mul', timesInput: true }],
  },
  hardswish: {
    doc: 'x * relu6(x + 3) / 6, PyTorch nn.Hardswish',
    // PyTorch's formula, so that -inf gives NaN (-inf * 0) as it does there.
    ref: (v: number) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
    expr: mul(X, HARDSIGMOID_EXPR),
    // HardSwish exists from opset 14; at 13, x * HardSigmoid(alpha 1/6, beta 1/2)(x).
    onnx: (opset: number) => (opset >= 14 ? [{ op: 'HardSwish' }] : [HARDSIGMOID_ONNX, { op: 'Mul', timesInput: true }]),
  },
} satisfies Record<string, ActivationDef>;

export type Activation = keyof typeof TABLE;

export const ACTIVATIONS: Readonly<Record<Activation, ActivationDef>> = TABLE;

/** Every activation name, in table order (the order is the interpreter's activation code). */
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as Activation[];

export function isActivation(name: string): name is Activation {
  return Object.prototype.hasOwnProperty.call(ACTIVATIONS, name);
}

// Cost rules, one per IR op kind, in one table (as the shape rules live in src/ir/ops.ts):
// the analysis is a pass over the same graph the compiler lowers, not a second model of the
// network. Every figure is computed from shapes alone, so parameter data may be absent.
//
// Conventions (stated again in every report header, see CONVENTIONS below):
// - mult-adds (MACs): multiply-accumulates of conv2d, linear, the eSE fc (a 1x1 conv with
//   bias) and the ECA conv1d. A conv contributes numel(output) * (C_in / groups) * kh * kw,
//   so a grouped or depthwise conv counts only the channels each output actually reads.
//   Biases add no mult-adds. FLOPs = 2 x mult-adds, exactly (nothing else is added).
// - "other ops": what BN, pooling and the elementwise ops would add if counted (they are
//   not in the mult-adds): BN 1 per element (inference BN is one multiply-add per element,
//   y = a*x + b); max / avg pooling one per window element read (numel(out) * kh * kw);
//   global average pooling one per input element; ReLU, hardsigmoid, sigmoid, add, mul and
//   the fused scale one per output element. Concat and flatten: none.
// - memory access cost (the paper's eq. 1, general form), in elements: numel(input) +
//   numel(output) + numel(weight) for every conv; conv bias not counted; the depthwise and
//   pointwise halves of a separable conv are two convs; the eSE fc and the ECA conv1d count
//   as convs; linear, concat, pooling, BN, activations and the attention multiply do not.
// - bytes op-by-op: every op reads each input and each parameter (BN running statistics
//   included) once and writes its output once; concat and flatten are copies.

import type { ConvAttrs, Graph, Node, OpKind, Shape } from '../ir/graph.js';
import { INPUT, numel } from '../ir/graph.js';

/** The cost of one IR node, in counts (elements, multiply-accumulates), never bytes. */
export interface NodeCost {
  /** Learnable parameters the node owns (weights, biases, BN gamma and beta). */
  readonly params: number;
  /** Multiply-accumulates of conv / linear / eSE fc / ECA conv1d. */
  readonly macs: number;
  /** What the node would add to the mult-adds if BN, pooling and elementwise ops were counted. */
  readonly otherOps: number;
  /** Memory access cost (eq. 1), elements; 0 for ops that are not convs. */
  readonly memAccess: number;
  /** Elements of the node's output, for conv and linear nodes (fvcore's activation count). */
  readonly activations: number;
  /** Elements an op-by-op execution reads (inputs + every parameter, running stats included). */
  readonly elementsRead: number;
  /** Elements it writes (its output). */
  readonly elementsWritten: number;
}

/** What a cost rule sees: the node and its input shapes. */
export interface CostInput {
  readonly node: Node;
  readonly inputs: readonly Shape[];
}

/** What a cost rule says about one node. */
export interface Work {
  readonly macs: number;
  readonly otherOps: number;
  readonly memAccess: number;
  /** Learnable parameter elements (weights, biases, BN gamma and beta). */
  readonly params: number;
  /** Parameter elements an execution reads (learnable ones plus BN running statistics). */
  readonly paramElements: number;
}

type CostRule = (c: CostInput) => Work;

// The rules size parameters from shapes and attributes, as the op table's parameter rules
// (src/ir/ops.ts) define them and the verifier checks them; looking each parameter up by name
// in g.params would cost more than all the rest of the analysis (test/analysis/cost.test.ts
// checks the two agree on every zoo model).

const NONE: Work = { macs: 0, otherOps: 0, memAccess: 0, params: 0, paramElements: 0 };
const perOutput: CostRule = ({ node }) => ({ ...NONE, otherOps: numel(node.shape) });
const pool: CostRule = ({ node }) => {
  const k = (node.attrs as { kernel: readonly [number, number] }).kernel;
  return { ...NONE, otherOps: numel(node.shape) * k[0] * k[1] };
};
const hasBias = (n: Node) => n.params.bias !== undefined;

/**
 * Mult-adds and eq. 1 of an attention fc on an [N,C,1,1] input: the eSE fc is a C -> C 1x1
 * conv with bias (C*C mult-adds per image, C*C weights); the ECA conv1d slides k taps along
 * the channels (C*k mult-adds, k weights, no bias).
 */
function gateWork(eca: boolean, input: Shape, k: number, otherOps: number): Work {
  const [n, c] = input;
  const weight = eca ? k : c * c;
  const bias = eca ? 0 : c;
  return { macs: n * (eca ? c * k : c * c), otherOps, memAccess: 2 * n * c + weight, params: weight + bias, paramElements: weight + bias };
}

/** The cost-rule table. A new op kind is added here once; the type makes a missing entry an error. */
export const COST_RULES: { readonly [K in OpKind]: CostRule } = {
  conv2d: ({ node, inputs }) => {
    const a = node.attrs as ConvAttrs;
    const x = inputs[0];
    const out = numel(node.shape);
    const perOut = (x[1] / a.groups) * a.kernel[0] * a.kernel[1];
    const weight = node.shape[1] * perOut;
    const params = weight + (hasBias(node) ? node.shape[1] : 0);
    // A fused epilogue (optimized graphs) adds its elementwise work to the other ops.
    const epilogue = (a.act !== 'none' ? 1 : 0) + (a.residual ? 1 : 0);
    return { macs: out * perOut, otherOps: epilogue * out, memAccess: numel(x) + out + weight, params, paramElements: params };
  },
  linear: ({ node, inputs }) => {
    const features = numel(inputs[0]) / inputs[0][0];
    const params = node.shape[1] * features + (hasBias(node) ? node.shape[1] : 0);
    return { ...NONE, macs: node.shape[0] * node.shape[1] * features, params, paramElements: params };
  },
  eca_conv1d: ({ node, inputs }) => gateWork(true, inputs[0], (node.attrs as { kernel: number }).kernel, 0),
  // The fused gate also pools its input and applies the activation.
  se_gate: ({ node, inputs }) => {
    const a = node.attrs as { mode: 'ese' | 'eca'; kernel: number };
    return gateWork(a.mode === 'eca', node.shape, a.kernel, numel(inputs[0]) + numel(node.shape));
  },
  batchnorm: ({ node }) => {
    const c = node.shape[1];
    return { ...NONE, otherOps: numel(node.shape), params: 2 * c, paramElements: 4 * c };
  },
  relu: perOutput,
  hardsigmoid: perOutput,
  sigmoid: perOutput,
  add: perOutput,
  mul: perOutput,
  scale: ({ node }) => ({ ...NONE, otherOps: numel(node.shape) * ((node.attrs as { residual: boolean }).residual ? 2 : 1) }),
  maxpool: pool,
  avgpool: pool,
  global_avg_pool: ({ inputs }) => ({ ...NONE, otherOps: numel(inputs[0]) }),
  concat: () => NONE,
  flatten: () => NONE,
};

/** Costs every node of `g`, in node order. (Hot in sweeps: no per-node allocation beyond the results.) */
export function costNodes(g: Graph): NodeCost[] {
  const valueShapes = new Map<string, Shape>([[INPUT, g.input.shape]]);
  const out: NodeCost[] = new Array(g.nodes.length);
  const inputs: Shape[] = [];
  for (let i = 0; i < g.nodes.length; i++) {
    const node = g.nodes[i];
    inputs.length = 0;
    let inElements = 0;
    for (const v of node.inputs) {
      const s = valueShapes.get(v)!;
      inputs.push(s);
      inElements += numel(s);
    }
    const w = COST_RULES[node.op]({ node, inputs });
    const outElements = numel(node.shape);
    out[i] = {
      params: w.params,
      macs: w.macs,
      otherOps: w.otherOps,
      memAccess: w.memAccess,
      activations: node.op === 'conv2d' || node.op === 'linear' ? outElements : 0,
      elementsRead: inElements + w.paramElements,
      elementsWritten: outElements,
    };
    valueShapes.set(node.id, node.shape);
  }
  return out;
}

/** The conventions every report states in its header, one sentence each. */
export const CONVENTIONS: readonly string[] = [
  'mult-adds (MACs, multiply-accumulates) count conv2d, linear, the eSE fc and the ECA conv1d: numel(output) x (C_in/groups) x kh x kw per conv, so grouped and depthwise convs count only the input channels each output reads; biases add none.',
  'FLOPs = 2 x mult-adds, exactly; BN, pooling and elementwise ops are not in them.',
  '"other ops" is what BN (1 per element), max/avg pooling (1 per window element), global average pooling (1 per input element) and ReLU / sigmoid / add / attention multiply (1 per element) would add to the mult-adds; concat and flatten add none.',
  'MAC (memory access cost) is the paper\'s eq. 1 in its general form, in elements: numel(input) + numel(output) + numel(weight) per conv, conv bias not counted; the depthwise and pointwise halves of a separable conv are two convs; the eSE fc and ECA conv1d count as convs; linear, concat, pooling, BN, activations and the attention multiply do not count.',
  'parameters: conv and linear weights and biases, BN gamma and beta; not BN running statistics.',
  'activations: output elements of conv and linear ops (fvcore\'s convention).',
  'bytes op-by-op: each IR op reads its inputs and parameters (BN running statistics included) and writes its output once; concat and flatten are copies. Bytes fused: the same per launch of the optimized kernel plan (fused epilogues, in-place concat); each launch is attributed to the group of its first IR node.',
];

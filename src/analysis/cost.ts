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

import type { Graph, Node, OpKind, Shape } from '../ir/graph.js';
import { INPUT, numel } from '../ir/graph.js';
import { OPS, type OpRule } from '../ir/ops.js';

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

/** What a cost rule sees: the node, its input shapes and the shape of its weight (if any). */
export interface CostInput {
  readonly node: Node;
  readonly inputs: readonly Shape[];
  readonly weight: Shape | undefined;
}

interface Work {
  macs: number;
  otherOps: number;
  memAccess: number;
}

type CostRule = (c: CostInput) => Work;

const NONE: Work = { macs: 0, otherOps: 0, memAccess: 0 };
const perOutput: CostRule = ({ node }) => ({ macs: 0, otherOps: numel(node.shape), memAccess: 0 });
const pool: CostRule = ({ node }) => {
  const k = (node.attrs as { kernel: readonly [number, number] }).kernel;
  return { macs: 0, otherOps: numel(node.shape) * k[0] * k[1], memAccess: 0 };
};

/** eq. 1 for one conv: input + output + weight elements. */
const convMemAccess = (input: Shape, output: Shape, weight: Shape) => numel(input) + numel(output) + numel(weight);

/** Mult-adds and memory access cost of an eSE fc (C -> C 1x1 conv on [N,C,1,1]) or an ECA conv1d (k taps per channel). */
function gateWork(mode: 'ese' | 'eca', input: Shape, weight: Shape): Work {
  const [n, c] = input;
  const macs = mode === 'ese' ? n * c * c : n * c * weight[weight.length - 1];
  return { macs, otherOps: 0, memAccess: convMemAccess(input, input, weight) };
}

/** The cost-rule table. A new op kind is added here once; the type makes a missing entry an error. */
export const COST_RULES: { readonly [K in OpKind]: CostRule } = {
  conv2d: ({ node, inputs, weight }) => {
    const w = weight!;
    const macs = numel(node.shape) * w[1] * w[2] * w[3];
    // A fused epilogue (optimized graphs) adds its elementwise work to the other ops.
    const a = node.attrs as { act: string; residual: boolean };
    const epilogue = (a.act !== 'none' ? 1 : 0) + (a.residual ? 1 : 0);
    return { macs, otherOps: epilogue * numel(node.shape), memAccess: convMemAccess(inputs[0], node.shape, w) };
  },
  linear: ({ node, weight }) => ({ macs: node.shape[0] * numel(weight!), otherOps: 0, memAccess: 0 }),
  eca_conv1d: ({ inputs, weight }) => gateWork('eca', inputs[0], weight!),
  se_gate: ({ node, inputs, weight }) => {
    const w = gateWork((node.attrs as { mode: 'ese' | 'eca' }).mode, node.shape, weight!);
    // The fused gate also pools its input and applies the activation.
    return { ...w, otherOps: numel(inputs[0]) + numel(node.shape) };
  },
  batchnorm: perOutput,
  relu: perOutput,
  hardsigmoid: perOutput,
  sigmoid: perOutput,
  add: perOutput,
  mul: perOutput,
  scale: ({ node }) => ({ macs: 0, otherOps: numel(node.shape) * ((node.attrs as { residual: boolean }).residual ? 2 : 1), memAccess: 0 }),
  maxpool: pool,
  avgpool: pool,
  global_avg_pool: ({ inputs }) => ({ macs: 0, otherOps: numel(inputs[0]), memAccess: 0 }),
  concat: () => NONE,
  flatten: () => NONE,
};

/** Parameter roles that are learnable (BN running statistics are buffers, not parameters). */
const isLearnable = (role: string) => role !== 'running_mean' && role !== 'running_var';

/** Costs every node of `g`, in node order. (Hot in sweeps: no per-node allocation beyond the result.) */
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
    // Parameter shapes come from the op table's rule, as the verifier checks them: looking
    // each one up by name in g.params costs more than the rest of the analysis.
    const shapes = (OPS[node.op] as OpRule<OpKind>).params(node.attrs as never, inputs, node.shape);
    let weight: Shape | undefined;
    let learnable = 0;
    let paramElements = 0;
    for (const r in shapes) {
      const optional = r.charCodeAt(r.length - 1) === 63; // 'bias?': present only when the node has one
      const role = optional ? r.slice(0, -1) : r;
      if (optional && node.params[role] === undefined) continue;
      const shape = shapes[r];
      if (role === 'weight') weight = shape;
      const e = numel(shape);
      paramElements += e;
      if (isLearnable(role)) learnable += e;
    }
    const w = COST_RULES[node.op]({ node, inputs, weight });
    const outElements = numel(node.shape);
    out[i] = {
      params: learnable,
      macs: w.macs,
      otherOps: w.otherOps,
      memAccess: w.memAccess,
      activations: node.op === 'conv2d' || node.op === 'linear' ? outElements : 0,
      elementsRead: inElements + paramElements,
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

// Per-node costs of a graph from the op table's cost rules (src/ir/ops.ts, one rule per op,
// beside its shape rule): the analysis is a pass over the same graph the compiler lowers, not a
// second model of the network. Every figure is computed from shapes alone, so parameter data
// may be absent.
//
// The conventions of MACs, FLOPs, other ops, memory access cost and parameters are defined
// with the rules (src/ir/ops.ts) and stated in every report header (CONVENTIONS below). The
// analysis adds one of its own:
// - bytes op-by-op: every op reads each input and each parameter (BN running statistics
//   included) once and writes its output once; concat and flatten are copies.

import type { Graph } from '../ir/graph.js';
import { INPUT, numel, type Shape } from '../ir/graph.js';
import { workOf } from '../ir/ops.js';

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
  /** Bilinearly sampled values (deformable convs; 0 elsewhere): not in macs or otherOps. */
  readonly samples: number;
}

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
    const w = workOf(node.op, node.attrs, inputs, node.shape, node.params);
    const outElements = numel(node.shape);
    out[i] = {
      params: w.params,
      macs: w.macs,
      otherOps: w.otherOps,
      memAccess: w.memAccess,
      activations: node.op === 'conv2d' || node.op === 'deform_conv2d' || node.op === 'linear' ? outElements : 0,
      elementsRead: inElements + w.paramElements,
      elementsWritten: outElements,
      samples: w.samples ?? 0,
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
  'deformable convs (DCN): the offset conv is a conv; the deformable conv\'s mult-adds are its GEMM\'s (as a conv of the same shape); the bilinear sampling is counted apart, never in the mult-adds or FLOPs: 7 FLOPs per sampled value (4 neighbour products, 3 sums) plus 1 for the mask of DCNv2, and 4 neighbour reads per sampled value plus the offsets and mask logits once per (tap, group, pixel) as its bytes.',
  'activations: output elements of conv and linear ops (fvcore\'s convention).',
  'bytes op-by-op: each IR op reads its inputs and parameters (BN running statistics included) and writes its output once; concat and flatten are copies. Bytes fused: the same per launch of the optimized kernel plan (fused epilogues, in-place concat); each launch is attributed to the group of its first IR node.',
];

// What the .onnx file says about itself in metadata_props: the model, the compiler, the input
// normalization a caller must apply, and the analysis totals.

import type { Graph, Node } from '../../ir/graph.js';
import { nodeMap, numel, valueShape } from '../../ir/graph.js';
import { VERSION } from '../../version.js';

/**
 * Learnable parameters (timm's convention: conv and linear weights and biases, BN gamma and
 * beta; not BN running statistics) and conv+linear multiply-accumulates of the whole input
 * batch. Valid for the unoptimized and the optimized graph alike, except that BN folding
 * turns gamma/beta into conv biases: count on the unoptimized graph for the published figures.
 */
export function analysisTotals(g: Graph): { parameters: number; macs: number } {
  const counted = new Set<string>();
  let macs = 0;
  const nodes = nodeMap(g);
  const shapeOf = (v: string) => valueShape(g, v, nodes);
  for (const n of g.nodes) {
    for (const [role, name] of Object.entries(n.params)) if (!(n.op === 'batchnorm' && role.startsWith('running_'))) counted.add(name);
    macs += nodeMacs(n, shapeOf);
  }
  let parameters = 0;
  for (const name of counted) parameters += numel(g.params.get(name)!.shape);
  return { parameters, macs };
}

function nodeMacs(n: Node, shapeOf: (v: string) => readonly number[]): number {
  const w = (k: number) => numel(n.shape) * k;
  switch (n.op) {
    case 'conv2d': {
      const a = (n as Node<'conv2d'>).attrs;
      return w((shapeOf(n.inputs[0])[1] / a.groups) * a.kernel[0] * a.kernel[1]);
    }
    case 'linear':
      return w(shapeOf(n.inputs[0])[1]);
    case 'eca_conv1d':
      return w((n as Node<'eca_conv1d'>).attrs.kernel);
    case 'se_gate': {
      const a = (n as Node<'se_gate'>).attrs;
      return w(a.mode === 'ese' ? n.shape[1] : a.kernel);
    }
    default:
      return 0;
  }
}

/** Input normalization by preprocessing family (docs: VOVNET.md, "Preprocessing"). */
export const PREPROCESSING = {
  timm: { channels: 'RGB', range: '0..1', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  detectron2: { channels: 'BGR', range: '0..255', mean: [103.53, 116.28, 123.675], std: [1, 1, 1] },
} as const;

export interface MetaInfo {
  /** The unoptimized graph (for the analysis totals). */
  readonly graph: Graph;
  readonly mode: 'faithful' | 'optimized';
  readonly hasWeights: boolean;
}

export function metadataProps({ graph: g, mode, hasWeights }: MetaInfo): [string, string][] {
  const pre = PREPROCESSING[g.meta.preprocessing];
  const { parameters, macs } = analysisTotals(g);
  const props: [string, string][] = [
    ['model', g.name],
    ['vovc_version', VERSION],
    ['graph', mode],
    ['weights', hasWeights ? 'checkpoint' : 'seeded (no checkpoint given)'],
    ['preprocessing', g.meta.preprocessing],
    ['input_channels', pre.channels],
    ['input_range', pre.range],
    ['input_mean', pre.mean.join(',')],
    ['input_std', pre.std.join(',')],
    ['input_normalization', `${pre.channels} in ${pre.range}, per channel (x - mean) / std`],
    ['parameters', String(parameters)],
    ['macs', String(macs)],
    ['macs_input_shape', g.input.shape.join('x')],
  ];
  if (g.meta.source) props.push(['source', g.meta.source]);
  return props;
}

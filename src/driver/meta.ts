// What every artifact records about itself (ArtifactMeta), computed once by the driver from
// the unoptimized graph: the figures come from the op table's cost rules, the normalization
// from the preprocessing family.

import { countParams, type Graph } from '../ir/graph.js';
import { workOf } from '../ir/ops.js';
import { INPUT, valueShape } from '../ir/graph.js';
import { NORMALIZATION } from '../image/normalization.js';
import type { Precision } from '../ir/precision.js';
import type { ArtifactMeta } from '../targets/contract.js';
import { VERSION } from '../version.js';

export function artifactMeta(g: Graph, hasWeights: boolean, precision: Precision = 'fp32'): ArtifactMeta {
  let macs = 0;
  const shapes = new Map<string, readonly number[]>([[INPUT, g.input.shape]]);
  for (const n of g.nodes) {
    macs += workOf(n.op, n.attrs, n.inputs.map((v) => shapes.get(v) ?? valueShape(g, v)), n.shape, n.params).macs;
    shapes.set(n.id, n.shape);
  }
  return {
    model: g.name,
    ...(g.meta.source ? { source: g.meta.source } : {}),
    vovcVersion: VERSION,
    weights: hasWeights ? 'checkpoint' : 'seeded',
    preprocessing: g.meta.preprocessing,
    normalization: NORMALIZATION[g.meta.preprocessing],
    inputShape: [...g.input.shape],
    parameters: countParams(g),
    macs,
    precision,
  };
}

// Grouping of IR nodes for the analyzer's tables: by layer (the conv unit, attention module,
// head or node the lowering assigned, Node.layer), block (Node.scope), stage, or op kind.

import type { Node } from '../ir/graph.js';
import { isOp } from '../ir/graph.js';

export type GroupBy = 'layer' | 'block' | 'stage' | 'op';
export const GROUP_BYS: readonly GroupBy[] = ['layer', 'block', 'stage', 'op'];

/** The op column: convs by kernel or grouping, activations by function, the rest by op. */
function opKey(n: Node): string {
  if (isOp(n, 'act')) return n.attrs.fn;
  if (!isOp(n, 'conv2d')) return n.op;
  const a = n.attrs;
  if (a.groups > 1) return a.groups === n.shape[1] ? 'conv2d depthwise' : 'conv2d grouped';
  return `conv2d ${a.kernel[0]}x${a.kernel[1]}`;
}

export function groupKey(n: Node, by: GroupBy): string {
  switch (by) {
    case 'layer':
      return n.layer;
    case 'block':
      return n.scope;
    case 'stage': {
      const d = n.scope.indexOf('.');
      return d < 0 ? n.scope : n.scope.slice(0, d);
    }
    case 'op':
      return opKey(n);
  }
}

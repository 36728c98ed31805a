// OSA aggregation without a materialized concat. A concat marked `inplace` is not a kernel:
// its value is one buffer, and each producer writes its output straight into its channel
// slice of that buffer (a strided view), so the 1x1 aggregation conv reads one ordinary
// tensor. docs/PASSES.md explains why vovc writes into slices instead of letting the consumer
// gather from separate buffers.
//
// A producer cannot write in place, and a copy into its slice is kept, when its value
//   - is the graph input (a separate, read-only buffer);
//   - is a graph output (it lives in its own output buffer);
//   - already writes into another concat slice (a value feeding two concats, or the same
//     concat twice): it writes into the first, in graph order, and is copied into the others.
// An in-place concat may itself be an input of another in-place concat (DenseNet's running
// tensor); its slices then nest.

import type { Graph, Node } from '../ir/graph.js';
import { INPUT, nodeMap, valueShape } from '../ir/graph.js';
import { applyRewrite, asAdd, emptyRewrite, outputValues, type Pass } from './pass.js';

export interface SlicePlacement {
  readonly value: string;
  /** First channel of this input within the concat, and its channel count. */
  readonly channel: number;
  readonly width: number;
  /** true: the producer writes into the slice; false: a copy launch fills it. */
  readonly direct: boolean;
  /** Why a copy is kept (when not direct). */
  readonly reason?: string;
}

/**
 * For each concat (all of them, or only those marked inplace), where each input goes.
 * The pass and the plan builder both call this, so the report and the plan agree.
 */
export function concatPlacement(g: Graph, onlyInplace: boolean): Map<string, SlicePlacement[]> {
  const outs = outputValues(g);
  const outName = new Map(g.outputs.map((o) => [o.value, o.name]));
  const claimed = new Map<string, string>();
  const result = new Map<string, SlicePlacement[]>();
  const nodes = nodeMap(g);
  for (const c of g.nodes) {
    if (c.op !== 'concat' || (onlyInplace && !(c as Node<'concat'>).attrs.inplace)) continue;
    let channel = 0;
    const list: SlicePlacement[] = [];
    for (const v of c.inputs) {
      let reason: string | undefined;
      if (v === INPUT) reason = 'the graph input is a separate, read-only buffer';
      else if (outs.has(v)) reason = `'${v}' is graph output '${outName.get(v)}', which lives in its own buffer`;
      else if (claimed.has(v)) reason = `'${v}' already writes into its slice of '${claimed.get(v)}' (a value feeding two concats)`;
      else claimed.set(v, c.id);
      const width = valueShape(g, v, nodes)[1];
      list.push({ value: v, channel, width, direct: !reason, ...(reason ? { reason } : {}) });
      channel += width;
    }
    result.set(c.id, list);
  }
  return result;
}

export const concatInplace: Pass = {
  name: 'concat-inplace',
  description: 'OSA concat not materialized: producers write straight into channel slices of one buffer',
  run(g, rec) {
    const rw = emptyRewrite();
    const placement = concatPlacement(g, false);
    for (const c of g.nodes) {
      if (c.op !== 'concat' || (c as Node<'concat'>).attrs.inplace || c.shape.length !== 4) continue;
      rw.replace.set(c.id, { ...asAdd(c), attrs: { axis: 1, inplace: true } });
      const list = placement.get(c.id)!;
      const direct = list.filter((p) => p.direct).map((p) => `'${p.value}'@${p.channel}`);
      rec?.record({ kind: 'inplace', nodes: [c.id], into: c.id, detail: `concat '${c.id}' not materialized: ${direct.length ? direct.join(', ') + ' write into their channel slices' : 'no producer writes in place'}` });
      for (const p of list) {
        if (!p.direct) rec?.record({ kind: 'kept-copy', nodes: [p.value], into: c.id, detail: `copy of '${p.value}' into channels [${p.channel}, ${p.channel + p.width}) of '${c.id}' kept: ${p.reason}` });
      }
    }
    return applyRewrite(g, rw);
  },
};

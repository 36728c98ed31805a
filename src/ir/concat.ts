// Where each input of a concat goes when the concat is not materialized (concat-inplace marks
// it `inplace`): the producer writes straight into its channel slice of the concat's buffer,
// or, when it cannot, a copy fills the slice. A property of the graph alone, read by the pass
// (for its report), the kernel plan (for the views) and the reference interpreter.
//
// A producer cannot write in place, and a copy into its slice is kept, when its value
//   - is the graph input (a separate, read-only buffer);
//   - is a graph output (it lives in its own output buffer);
//   - already writes into another concat slice (a value feeding two concats, or the same
//     concat twice): it writes into the first, in graph order, and is copied into the others.
// An in-place concat may itself be an input of another in-place concat (DenseNet's running
// tensor); its slices then nest.

import type { Graph } from './graph.js';
import { INPUT, isOp, nodeMap, valueShape } from './graph.js';

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

/** For each concat (all of them, or only those marked inplace), where each input goes. */
export function concatPlacement(g: Graph, onlyInplace: boolean): Map<string, SlicePlacement[]> {
  const outs = new Set(g.outputs.map((o) => o.value));
  const outName = new Map(g.outputs.map((o) => [o.value, o.name]));
  const claimed = new Map<string, string>();
  const result = new Map<string, SlicePlacement[]>();
  const nodes = nodeMap(g);
  for (const c of g.nodes) {
    if (!isOp(c, 'concat') || (onlyInplace && !c.attrs.inplace)) continue;
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

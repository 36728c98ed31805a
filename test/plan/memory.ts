// An element-by-element simulation of a plan's arena, written independently of the planner:
// it replays the launches, remembers which IR value last wrote each arena element, and
//   - checks that every element a launch reads holds the value the view says it reads (the
//     value itself, or a part of the in-place concat it reads): a clobbered or misplaced
//     block shows up here;
//   - measures the bytes live at each launch (an element is live from its write to its last
//     read), whose maximum is a lower bound for any arena in this launch order.
import type { Graph } from '../../src/ir/graph.js';
import type { KernelPlan, TensorView } from '../../src/plan/types.js';

export interface ArenaCheck {
  liveMaxBytes: number;
  violations: string[];
}

function forEachElement(v: TensorView, f: (e: number) => void): void {
  const [N, C, H, W] = v.shape;
  const [sn, sc, sh, sw] = v.strides;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) f(v.offset + n * sn + c * sc + h * sh + w * sw);
}

export function simulateArena(plan: KernelPlan, g: Graph): ArenaCheck {
  const E = plan.arenaBytes / 4;
  const ids = new Map<string, number>();
  const id = (v: string) => {
    if (!ids.has(v)) ids.set(v, ids.size);
    return ids.get(v)!;
  };
  // A read of value V may find V itself or, for a concat, any (nested) part of it.
  const parts = new Map<string, Set<number>>();
  const partsOf = (v: string): Set<number> => {
    let s = parts.get(v);
    if (s) return s;
    s = new Set([id(v)]);
    const n = g.nodes.find((x) => x.id === v);
    if (n?.op === 'concat') for (const i of n.inputs) for (const p of partsOf(i)) s.add(p);
    parts.set(v, s);
    return s;
  };
  const owner = new Int32Array(E).fill(-1);
  const written = new Int32Array(E).fill(-1);
  const lastRead = new Int32Array(E).fill(-1);
  const delta = new Float64Array(plan.launches.length + 1);
  const close = (e: number) => {
    if (written[e] < 0) return;
    delta[written[e]] += 1;
    delta[Math.max(written[e], lastRead[e]) + 1] -= 1;
  };
  const violations: string[] = [];
  for (const l of plan.launches) {
    for (const v of l.inputs) {
      if (v.buffer !== 'arena') continue;
      const ok = partsOf(v.value);
      let bad = 0;
      forEachElement(v, (e) => {
        if (!ok.has(owner[e])) bad++;
        lastRead[e] = l.index;
      });
      if (bad) violations.push(`launch ${l.index} (${l.kind} ${l.nodes[0]}) reads ${bad} elements of '${v.value}' that hold something else`);
    }
    const o = l.output;
    if (o.buffer !== 'arena') continue;
    const who = id(o.value);
    forEachElement(o, (e) => {
      close(e);
      owner[e] = who;
      written[e] = l.index;
      lastRead[e] = l.index;
    });
  }
  for (let e = 0; e < E; e++) close(e);
  let live = 0;
  let max = 0;
  for (const d of delta) max = Math.max(max, (live += d));
  return { liveMaxBytes: 4 * max, violations };
}


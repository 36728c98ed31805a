// The plan verifier (src/plan/verify.ts): every plan the planner makes verifies, and each kind
// of broken plan is caught, named by launch and node.
import { describe, expect, it } from 'vitest';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';
import { buildPlan } from '../../src/plan/build.js';
import type { KernelPlan, Launch, TensorView } from '../../src/plan/types.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { lower, TINY, tinyDense } from '../passes/specs.js';

const messages = (p: KernelPlan) => verifyPlan(p).map((d) => d.message);
const opt = (name: string, shape = [1, 3, 64, 64]) => optimize(lowerSpec(loadModel(name, { inputShape: shape }).spec), { log: () => {} }).graph;
const withLaunch = (p: KernelPlan, i: number, f: (l: Launch) => Launch): KernelPlan => ({ ...p, launches: p.launches.map((l) => (l.index === i ? f(l) : l)) });
const withInput = (l: Launch, k: number, f: (v: TensorView) => TensorView): Launch => ({ ...l, inputs: l.inputs.map((v, j) => (j === k ? f(v) : v)) }) as Launch;

describe('verifyPlan', () => {
  it('accepts every zoo model, optimized and op by op, the tiny structures and the nested slices of a DenseNet at batch 2', () => {
    for (const name of zooNames()) {
      const g = lowerSpec(loadModel(name, { inputShape: [1, 3, 64, 64] }).spec);
      expect(messages(buildPlan(opt(name))), name).toEqual([]);
      expect(messages(buildPlan(g, { reuse: false })), `${name} op by op`).toEqual([]);
    }
    for (const [name, c] of Object.entries(TINY)) expect(messages(buildPlan(optimize(lower(c, name), { log: () => {} }).graph)), name).toEqual([]);
    expect(messages(buildPlan(optimize(tinyDense(), { log: () => {} }).graph))).toEqual([]);
  });

  const plan = buildPlan(opt('ese_vovnet19b_dw'));

  it('a launch that reads what no earlier launch wrote (launches out of order)', () => {
    const [a, b] = [plan.launches[0], plan.launches[1]];
    const swapped = { ...plan, launches: [{ ...b, index: 0 }, { ...a, index: 1 }, ...plan.launches.slice(2)] as Launch[] };
    expect(messages(swapped)[0]).toMatch(new RegExp(`launch 0 \\(${b.kind} ${b.nodes[0]}.*\\): reads '${b.inputs[0].value}' at element \\d+ of arena buffer 'arena', which no earlier launch wrote as '${b.inputs[0].value}'`));
  });

  it('a read of an arena range a later value reused (stale data), and overlapping live blocks', () => {
    // A value X written by launch i and read by launch j > i + 1; launch k between them writes
    // its own output over X's first elements (as a planner that freed X too early would).
    const triple = plan.launches.flatMap((w) =>
      plan.launches
        .filter((r) => r.index > w.index + 1 && r.inputs.some((v) => v.value === w.output.value && v.buffer === 'arena' && !v.slice && !w.output.slice))
        .map((r) => ({ x: w.output, k: w.index + 1, j: r.index })),
    )[0];
    expect(triple).toBeDefined();
    const broken = withLaunch(plan, triple.k, (l) => ({ ...l, output: { ...l.output, buffer: 'arena', name: 'arena', offset: triple.x.offset, slice: undefined } }) as Launch);
    expect(messages(broken)).toContainEqual(expect.stringContaining(`launch ${triple.j} (`));
    expect(messages(broken).some((x) => x.includes(`reads '${triple.x.value}'`))).toBe(true);
    const [a, b] = plan.arena.flatMap((x, i) => plan.arena.slice(i + 1).filter((y) => x.firstLaunch <= y.lastLaunch && y.firstLaunch <= x.lastLaunch).map((y) => [x, y]))[0];
    const blocks = plan.arena.map((x) => (x === b ? { ...x, offset: a.offset } : x));
    expect(messages({ ...plan, arena: blocks }).some((x) => /arena blocks '.*' \[\d+, \d+\) and '.*' \[\d+, \d+\) overlap while both are live/.test(x))).toBe(true);
  });

  it('a view past its buffer, a view of a buffer the plan lacks, a dtype mismatch', () => {
    const arenaElements = plan.arenaBytes / 4;
    expect(messages(withLaunch(plan, 3, (l) => withInput(l, 0, (v) => ({ ...v, offset: arenaElements }))))).toContainEqual(expect.stringMatching(/input '.*' reaches elements \[\d+, \d+\) of arena buffer 'arena', which holds \d+/));
    expect(messages(withLaunch(plan, 3, (l) => withInput(l, 0, (v) => ({ ...v, buffer: 'output', name: 'stage9' }))))).toContainEqual(expect.stringMatching(/names output buffer 'stage9', which the plan does not have/));
    expect(messages(withLaunch(plan, 3, (l) => withInput(l, 0, (v) => ({ ...v, dtype: 'f16' as never }))))).toContainEqual(expect.stringMatching(/is f16, its buffer 'arena' f32/));
  });

  it('a concat read whole when one slice was never written; a missing parameter; an unwritten output', () => {
    // The first launch writing a slice of a concat, dropped (its index kept by the others).
    const k = plan.launches.findIndex((l) => l.output.slice);
    const dropped = { ...plan, launches: plan.launches.map((l) => (l.index === k ? ({ ...l, output: { ...l.output, offset: 0, buffer: 'arena', slice: undefined } } as Launch) : l)) };
    expect(messages(dropped).some((x) => x.includes(`which no earlier launch wrote as '${plan.launches[k].output.slice!.of}'`))).toBe(true);
    const conv = plan.launches.find((l) => l.kind === 'conv')!;
    expect(messages(withLaunch(plan, conv.index, (l) => ({ ...l, params: {} }) as Launch))).toContainEqual(expect.stringContaining("has no 'weight' parameter"));
    const last = plan.launches.at(-1)!;
    expect(messages({ ...plan, launches: plan.launches.slice(0, -1) })).toContainEqual(expect.stringContaining(`output '${plan.outputs[0].name}' is not written whole as '${last.output.value}'`));
  });

  it('names the DSL line of the launch', () => {
    const d = verifyPlan(withLaunch(plan, 3, (l) => ({ ...l, params: {} }) as Launch))[0];
    expect(d.span?.file).toMatch(/vovnet_v2\.vov$/);
    expect(d.code).toBe('E3101');
  });
});

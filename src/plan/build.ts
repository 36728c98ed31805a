// Lowering a graph to a KernelPlan: one launch per node (fused nodes are one launch each),
// none for an in-place concat (its producers write into its slices; copies fill the slices
// they cannot), then liveness over the launch order and the arena planner.
//
// Storage of a value ("home"):
//   - the graph input: the 'input' buffer;
//   - a graph output: its own 'output' buffer (a value that is two outputs is copied into
//     the second);
//   - an input that writes straight into an in-place concat: a channel slice of the concat's
//     home (so slices nest when concats do);
//   - anything else: its own arena block.
// An arena block lives from the first launch that touches it to the last one; an in-place
// concat's block spans all its slices' writers and readers.

import type { Graph, Node, Shape } from '../ir/graph.js';
import { INPUT, nodeMap, numel, valueShape } from '../ir/graph.js';
import { concatPlacement } from '../passes/concat-inplace.js';
import { covers } from '../passes/pass.js';
import { assignArena, alignUp } from './arena.js';
import type { ArenaBlock, BufferKind, IoDesc, KernelPlan, Launch, LaunchAttrs, LaunchCost, LaunchKind, TensorView, WeightRef, WeightsLayout } from './types.js';
import { MAX_INT32, PLAN_VERSION } from './types.js';

type Vec4 = readonly [number, number, number, number];

/** Where a value lives, before arena offsets are known (`local` is relative to the root). */
interface Home {
  readonly buffer: BufferKind;
  readonly name: string;
  /** The arena block (root value) for arena homes; the buffer name otherwise. */
  readonly root: string;
  readonly local: number;
  readonly shape: Vec4;
  readonly strides: Vec4;
  readonly slice?: { readonly of: string; readonly channel: number };
}

/** A launch before views are resolved. */
interface Draft {
  readonly kind: LaunchKind;
  readonly nodes: readonly string[];
  readonly inputs: readonly { value: string; home: Home }[];
  readonly output: { value: string; home: Home };
  readonly attrs: LaunchAttrs;
  readonly params: Readonly<Record<string, string>>;
  readonly macs: number;
  readonly flops: number;
  readonly note?: string;
}

const as4 = (s: Shape): Vec4 => (s.length === 4 ? [s[0], s[1], s[2], s[3]] : s.length === 2 ? [s[0], s[1], 1, 1] : [numel(s), 1, 1, 1]);
const dense = (s: Vec4): Vec4 => [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];

export function weightsLayout(g: Graph): WeightsLayout {
  const entries: WeightRef[] = [];
  let off = 0;
  for (const [name, p] of g.params) {
    const n = numel(p.shape);
    entries.push({ name, offset: off, shape: [...p.shape], numel: n });
    off = alignUp(off + n);
  }
  return { totalElements: off, entries };
}

function launchKind(n: Node): LaunchKind {
  switch (n.op) {
    case 'conv2d': {
      const g = (n as Node<'conv2d'>).attrs.groups;
      return g > 1 && g === n.shape[1] ? 'dwconv' : 'conv';
    }
    case 'global_avg_pool':
      return 'gap';
    case 'flatten':
      return 'copy';
    default:
      return n.op as LaunchKind;
  }
}

function attrsOf(n: Node): LaunchAttrs {
  switch (n.op) {
    case 'conv2d': {
      const a = (n as Node<'conv2d'>).attrs;
      return { kernel: a.kernel, stride: a.stride, pad: a.pad, groups: a.groups, act: a.act, residual: a.residual };
    }
    case 'maxpool':
    case 'avgpool': {
      const a = (n as Node<'maxpool'>).attrs;
      return { kernel: a.kernel, stride: a.stride, pad: a.pad, ceil: a.ceil };
    }
    case 'batchnorm':
      return { eps: (n as Node<'batchnorm'>).attrs.eps };
    case 'hardsigmoid': {
      const a = (n as Node<'hardsigmoid'>).attrs;
      return { alpha: a.alpha, beta: a.beta };
    }
    case 'eca_conv1d':
      return { ecaKernel: (n as Node<'eca_conv1d'>).attrs.kernel };
    case 'se_gate': {
      const a = (n as Node<'se_gate'>).attrs;
      return { mode: a.mode, act: a.act, ...(a.mode === 'eca' ? { ecaKernel: a.kernel } : {}) };
    }
    case 'scale':
      return { residual: (n as Node<'scale'>).attrs.residual };
    default:
      return {};
  }
}

/** Multiply-accumulates and flops of a node (see LaunchCost). */
function work(n: Node, ins: readonly Shape[]): { macs: number; flops: number } {
  const out = numel(n.shape);
  const inN = numel(ins[0]);
  switch (n.op) {
    case 'conv2d': {
      const a = (n as Node<'conv2d'>).attrs;
      const macs = out * (ins[0][1] / a.groups) * a.kernel[0] * a.kernel[1];
      const epi = (n.params.bias ? 1 : 0) + (a.act !== 'none' ? 1 : 0) + (a.residual ? 1 : 0);
      return { macs, flops: 2 * macs + epi * out };
    }
    case 'linear': {
      const macs = out * ins[0][1];
      return { macs, flops: 2 * macs + (n.params.bias ? out : 0) };
    }
    case 'maxpool':
    case 'avgpool': {
      const a = (n as Node<'maxpool'>).attrs;
      return { macs: 0, flops: out * a.kernel[0] * a.kernel[1] };
    }
    case 'eca_conv1d': {
      const macs = out * (n as Node<'eca_conv1d'>).attrs.kernel;
      return { macs, flops: 2 * macs };
    }
    case 'se_gate': {
      const a = (n as Node<'se_gate'>).attrs;
      const c = ins[0][1];
      const macs = a.mode === 'ese' ? out * c : out * a.kernel;
      return { macs, flops: inN + 2 * macs + (a.mode === 'ese' ? out : 0) + (a.act !== 'none' ? out : 0) };
    }
    case 'global_avg_pool':
      return { macs: 0, flops: inN };
    case 'batchnorm':
      return { macs: 0, flops: 2 * out };
    case 'scale':
      return { macs: 0, flops: out * ((n as Node<'scale'>).attrs.residual ? 2 : 1) };
    case 'concat':
    case 'flatten':
      return { macs: 0, flops: 0 };
    default:
      return { macs: 0, flops: out };
  }
}

export interface BuildPlanOptions {
  /** Reuse arena memory between values with disjoint lifetimes (default true). */
  reuse?: boolean;
  /**
   * 'auto' (default): a launch needs 64-bit indices when its views or params reach past
   * MAX_INT32. 'always': every launch is marked, so that the 64-bit kernel variants can run on
   * shapes small enough to compare them with the 32-bit ones (docs/LARGE-SHAPES.md).
   */
  index64?: 'auto' | 'always';
}

export function buildPlan(g: Graph, opts: BuildPlanOptions = {}): KernelPlan {
  const reuse = opts.reuse ?? true;
  const nodes = nodeMap(g);
  const shape4 = (v: string) => as4(valueShape(g, v, nodes));

  // Where each value lives.
  const outBuf = new Map<string, string>();
  const extraOutputs: { name: string; value: string }[] = [];
  for (const o of g.outputs) {
    if (o.value === INPUT || outBuf.has(o.value)) extraOutputs.push(o);
    else outBuf.set(o.value, o.name);
  }
  const placement = concatPlacement(g, true);
  const parent = new Map<string, { concat: string; channel: number }>();
  for (const [c, list] of placement) for (const p of list) if (p.direct) parent.set(p.value, { concat: c, channel: p.channel });
  const homes = new Map<string, Home>();
  const home = (v: string): Home => {
    const known = homes.get(v);
    if (known) return known;
    const s = shape4(v);
    let h: Home;
    if (v === INPUT) h = { buffer: 'input', name: INPUT, root: INPUT, local: 0, shape: s, strides: dense(s) };
    else if (outBuf.has(v)) h = { buffer: 'output', name: outBuf.get(v)!, root: outBuf.get(v)!, local: 0, shape: s, strides: dense(s) };
    else if (parent.has(v)) {
      const { concat, channel } = parent.get(v)!;
      const ph = home(concat);
      h = { ...ph, local: ph.local + channel * ph.strides[1], shape: s, slice: { of: concat, channel } };
    } else h = { buffer: 'arena', name: 'arena', root: v, local: 0, shape: s, strides: dense(s) };
    homes.set(v, h);
    return h;
  };
  const outHome = (name: string, v: string): Home => {
    const s = shape4(v);
    return { buffer: 'output', name, root: name, local: 0, shape: s, strides: dense(s) };
  };

  // Launch drafts in node order.
  const drafts: Draft[] = [];
  const copy = (value: string, to: Home, nodesCovered: string[], note: string): Draft => ({
    kind: 'copy',
    nodes: nodesCovered,
    inputs: [{ value, home: home(value) }],
    output: { value, home: to },
    attrs: {},
    params: {},
    macs: 0,
    flops: 0,
    note,
  });
  const emitOutputCopies = (value: string) => {
    for (const o of extraOutputs) if (o.value === value) drafts.push(copy(value, outHome(o.name, value), [o.value], `graph output '${o.name}' repeats value '${value}', which another output buffer holds`));
  };
  emitOutputCopies(INPUT);
  for (const n of g.nodes) {
    if (n.op === 'concat' && (n as Node<'concat'>).attrs.inplace) {
      for (const p of placement.get(n.id)!) {
        if (p.direct) continue;
        const dst = home(n.id);
        const to: Home = { ...dst, local: dst.local + p.channel * dst.strides[1], shape: shape4(p.value), slice: { of: n.id, channel: p.channel } };
        drafts.push(copy(p.value, to, [n.id], `kept concat copy: ${p.reason}`));
      }
    } else {
      const ins = n.inputs.map((v) => valueShape(g, v, nodes));
      const { macs, flops } = work(n, ins);
      drafts.push({
        kind: launchKind(n),
        nodes: covers(n),
        inputs: n.inputs.map((v) => ({ value: v, home: home(v) })),
        output: { value: n.id, home: home(n.id) },
        attrs: attrsOf(n),
        params: n.params,
        macs,
        flops,
        ...(n.op === 'flatten' ? { note: 'flatten (a copy in an op-by-op plan)' } : {}),
      });
    }
    emitOutputCopies(n.id);
  }

  // Liveness of arena blocks over the launch order, then offsets.
  const span = new Map<string, { first: number; last: number }>();
  drafts.forEach((d, i) => {
    for (const h of [...d.inputs.map((x) => x.home), d.output.home]) {
      if (h.buffer !== 'arena') continue;
      const s = span.get(h.root);
      if (s) s.last = i;
      else span.set(h.root, { first: i, last: i });
    }
  });
  const roots = [...span.keys()];
  const requests = roots.map((r) => ({ elements: numel(shape4(r)), ...span.get(r)! }));
  const { offsets, totalElements } = assignArena(requests, reuse);
  const rootOffset = new Map(roots.map((r, i) => [r, offsets[i]]));
  const arena: ArenaBlock[] = roots.map((r, i) => ({ value: r, offset: offsets[i], elements: requests[i].elements, firstLaunch: requests[i].first, lastLaunch: requests[i].last }));

  const weights = weightsLayout(g);
  const wref = new Map(weights.entries.map((e) => [e.name, e]));
  const view = (value: string, h: Home): TensorView => ({
    buffer: h.buffer,
    name: h.name,
    offset: h.local + (h.buffer === 'arena' ? rootOffset.get(h.root)! : 0),
    shape: h.shape,
    strides: h.strides,
    value,
    ...(h.slice ? { slice: h.slice } : {}),
  });
  // Kernels also hold one past the last element (a loop bound, an element count), so a
  // launch stays 32-bit only while that end fits: a dense view of exactly 2^31 elements,
  // whose last index is MAX_INT32, needs 64 bits for its count.
  const end = (v: TensorView) => v.offset + v.shape.reduce((s, d, i) => s + (d - 1) * v.strides[i], 0) + 1;
  const always = opts.index64 === 'always';
  const launches: Launch[] = drafts.map((d, index) => {
    const inputs = d.inputs.map((x) => view(x.value, x.home));
    const output = view(d.output.value, d.output.home);
    const params: Record<string, WeightRef> = {};
    for (const [role, name] of Object.entries(d.params)) params[role] = wref.get(name)!;
    const cost: LaunchCost = {
      flops: d.flops,
      macs: d.macs,
      activationBytesRead: 4 * inputs.reduce((s, v) => s + numel(v.shape), 0),
      weightBytesRead: 4 * Object.values(params).reduce((s, p) => s + p.numel, 0),
      bytesWritten: 4 * numel(output.shape),
    };
    const needs64bit = always || [...inputs, output].some((v) => end(v) > MAX_INT32) || Object.values(params).some((p) => p.offset + p.numel > MAX_INT32);
    return { index, kind: d.kind, nodes: d.nodes, inputs, output, attrs: d.attrs, params, cost, needs64bit, ...(d.note ? { note: d.note } : {}) };
  });

  const io = (name: string, value: string): IoDesc => {
    const s = valueShape(g, value, nodes);
    return { name, value, shape: [...s], elements: numel(s) };
  };
  const input = io(INPUT, INPUT);
  const outputs = g.outputs.map((o) => io(o.name, o.value));
  const needs64bit =
    totalElements > MAX_INT32 || weights.totalElements > MAX_INT32 || input.elements > MAX_INT32 || outputs.some((o) => o.elements > MAX_INT32) || launches.some((l) => l.needs64bit);
  return {
    version: PLAN_VERSION,
    model: g.name,
    reuse,
    input,
    outputs,
    arenaBytes: 4 * totalElements,
    arena,
    weights,
    launches,
    needs64bit,
    preprocessing: g.meta.preprocessing,
    numClasses: g.meta.numClasses,
  };
}

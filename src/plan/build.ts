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

import type { Span } from '../diag/diagnostics.js';
import { concatPlacement } from '../ir/concat.js';
import type { Graph, Node, Shape } from '../ir/graph.js';
import { INPUT, covers, isOp, nodeMap, numel, valueShape } from '../ir/graph.js';
import { FLOPS_PER_MAC, workOf } from '../ir/ops.js';
import { STORAGE, type Precision } from '../ir/precision.js';
import { assignArena, alignUp } from './arena.js';
import type { ArenaBlock, BufferDesc, BufferKind, DType, IoDesc, KernelPlan, Launch, LaunchAttrsOf, LaunchCost, LaunchKind, TensorView, WeightRef, WeightsLayout } from './types.js';
import { DTYPE_BYTES, MAX_INT32, PLAN_VERSION } from './types.js';

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
  readonly layer: string;
  readonly span?: Span;
  readonly inputs: readonly { value: string; home: Home }[];
  readonly output: { value: string; home: Home };
  readonly attrs: LaunchAttrsOf[LaunchKind];
  readonly params: Readonly<Record<string, string>>;
  readonly macs: number;
  readonly otherOps: number;
  readonly samples: number;
  readonly note?: string;
}

const as4 = (s: Shape): Vec4 => (s.length === 4 ? [s[0], s[1], s[2], s[3]] : s.length === 2 ? [s[0], s[1], 1, 1] : [numel(s), 1, 1, 1]);
/** C-order strides of an [N, C, H, W] shape; with `even`, each channel plane rounded up to an even count. */
const planeStrides = (s: Vec4, even: boolean): Vec4 => {
  const plane = even ? Math.ceil((s[2] * s[3]) / 2) * 2 : s[2] * s[3];
  return [s[1] * plane, plane, s[3], 1];
};
/** Elements a buffer of shape `s` and strides `t` holds (for even planes, the last plane's padding too). */
const held = (s: Vec4, t: Vec4): number => s[0] * t[0];

function weightsLayout(g: Graph, DTYPE: DType): WeightsLayout {
  const entries: WeightRef[] = [];
  let off = 0;
  for (const [name, p] of g.params) {
    const n = numel(p.shape);
    entries.push({ name, dtype: DTYPE, offset: off, shape: [...p.shape], numel: n });
    off = alignUp(off + n);
  }
  return { dtype: DTYPE, totalElements: off, entries };
}

/** The launch kind and attributes of a node (one launch per node of the optimized graph). */
function launchOf(n: Node): { kind: LaunchKind; attrs: LaunchAttrsOf[LaunchKind] } {
  if (isOp(n, 'conv2d')) {
    const a = n.attrs;
    const attrs = { kernel: a.kernel, stride: a.stride, pad: a.pad, groups: a.groups, act: a.act, residual: a.residual };
    return { kind: a.groups > 1 && a.groups === n.shape[1] ? 'dwconv' : 'conv', attrs };
  }
  if (isOp(n, 'deform_conv2d')) {
    const a = n.attrs;
    return { kind: 'deform_conv', attrs: { kernel: a.kernel, stride: a.stride, pad: a.pad, groups: a.groups, act: a.act, residual: false, deformGroups: a.deformGroups, modulated: a.modulated } };
  }
  if (isOp(n, 'maxpool') || isOp(n, 'avgpool')) {
    const a = n.attrs;
    return { kind: n.op, attrs: { kernel: a.kernel, stride: a.stride, pad: a.pad, ceil: a.ceil } };
  }
  if (isOp(n, 'batchnorm')) return { kind: 'batchnorm', attrs: { eps: n.attrs.eps } };
  if (isOp(n, 'act')) return { kind: 'act', attrs: { fn: n.attrs.fn } };
  if (isOp(n, 'eca_conv1d')) return { kind: 'eca_conv1d', attrs: { kernel: n.attrs.kernel } };
  if (isOp(n, 'se_gate')) {
    const a = n.attrs;
    return { kind: 'se_gate', attrs: a.mode === 'eca' ? { mode: 'eca', act: a.act, kernel: a.kernel } : { mode: 'ese', act: a.act } };
  }
  if (isOp(n, 'scale')) return { kind: 'scale', attrs: { residual: n.attrs.residual } };
  if (isOp(n, 'global_avg_pool')) return { kind: 'gap', attrs: {} };
  if (isOp(n, 'flatten')) return { kind: 'copy', attrs: {} };
  if (isOp(n, 'linear') || isOp(n, 'concat') || isOp(n, 'add') || isOp(n, 'mul')) return { kind: n.op, attrs: {} };
  throw new Error(`internal: no launch kind for op '${n.op}'`);
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
  /** Numeric precision (default fp32): every buffer and the weight blob take its storage type. */
  precision?: Precision;
  /** Pad every channel plane to an even element count (KernelPlan.evenPlanes; WGSL's packed fp16). */
  evenPlanes?: boolean;
}

export function buildPlan(g: Graph, opts: BuildPlanOptions = {}): KernelPlan {
  const reuse = opts.reuse ?? true;
  const precision = opts.precision ?? 'fp32';
  const DTYPE: DType = STORAGE[precision];
  const even = !!opts.evenPlanes;
  const dense = (s: Vec4): Vec4 => planeStrides(s, even);
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
  const copy = (value: string, to: Home, nodesCovered: string[], layer: string, span: Span | undefined, note: string): Draft => ({
    kind: 'copy',
    nodes: nodesCovered,
    layer,
    ...(span ? { span } : {}),
    inputs: [{ value, home: home(value) }],
    output: { value, home: to },
    attrs: {},
    params: {},
    macs: 0,
    otherOps: 0,
    samples: 0,
    note,
  });
  const emitOutputCopies = (value: string) => {
    const n = nodes.get(value);
    for (const o of extraOutputs) if (o.value === value) drafts.push(copy(value, outHome(o.name, value), [o.value], n?.layer ?? value, n?.span, `graph output '${o.name}' repeats value '${value}', which another output buffer holds`));
  };
  emitOutputCopies(INPUT);
  for (const n of g.nodes) {
    if (isOp(n, 'concat') && n.attrs.inplace) {
      for (const p of placement.get(n.id)!) {
        if (p.direct) continue;
        const dst = home(n.id);
        const to: Home = { ...dst, local: dst.local + p.channel * dst.strides[1], shape: shape4(p.value), slice: { of: n.id, channel: p.channel } };
        drafts.push(copy(p.value, to, [n.id], n.layer, n.span, `kept concat copy: ${p.reason}`));
      }
    } else {
      const ins = n.inputs.map((v) => valueShape(g, v, nodes));
      const { macs, otherOps, samples = 0 } = workOf(n.op, n.attrs, ins, n.shape, n.params);
      drafts.push({
        ...launchOf(n),
        nodes: covers(n),
        layer: n.layer,
        ...(n.span ? { span: n.span } : {}),
        inputs: n.inputs.map((v) => ({ value: v, home: home(v) })),
        output: { value: n.id, home: home(n.id) },
        params: n.params,
        macs,
        otherOps,
        samples,
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
  const requests = roots.map((r) => ({ elements: held(shape4(r), dense(shape4(r))), ...span.get(r)! }));
  const { offsets, totalElements } = assignArena(requests, reuse);
  const rootOffset = new Map(roots.map((r, i) => [r, offsets[i]]));
  const arena: ArenaBlock[] = roots.map((r, i) => ({ value: r, offset: offsets[i], elements: requests[i].elements, firstLaunch: requests[i].first, lastLaunch: requests[i].last }));

  const weights = weightsLayout(g, DTYPE);
  const wref = new Map(weights.entries.map((e) => [e.name, e]));
  const view = (value: string, h: Home): TensorView => ({
    buffer: h.buffer,
    name: h.name,
    dtype: DTYPE,
    layout: 'nchw',
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
    const bytes = (v: TensorView) => DTYPE_BYTES[v.dtype] * numel(v.shape);
    // The kind, attributes and parameter roles come from one node, whose op the verifier
    // checked: they agree with the union member of `kind` by construction.
    const launch = { index, kind: d.kind, nodes: d.nodes, layer: d.layer, ...(d.span ? { span: d.span } : {}), inputs, output, attrs: d.attrs, params, ...(d.note ? { note: d.note } : {}) };
    const ps = Object.values(params);
    const cost: LaunchCost = {
      macs: d.macs,
      flops: FLOPS_PER_MAC * d.macs,
      otherOps: d.otherOps,
      activationBytesRead: inputs.reduce((s, v) => s + bytes(v), 0),
      weightBytesRead: ps.reduce((s, p) => s + DTYPE_BYTES[p.dtype] * p.numel, 0),
      bytesWritten: bytes(output),
      samples: d.samples,
    };
    const needs64bit = always || [...inputs, output].some((v) => end(v) > MAX_INT32) || ps.some((p) => p.offset + p.numel > MAX_INT32);
    return { ...launch, cost, needs64bit } as unknown as Launch;
  });

  const io = (name: string, value: string): IoDesc => {
    const s = valueShape(g, value, nodes);
    return { name, value, shape: [...s], elements: numel(s), dtype: DTYPE, strides: dense(as4(s)) };
  };
  const heldBy = (o: IoDesc) => held(as4(o.shape), o.strides);
  const input = io(INPUT, INPUT);
  const outputs = g.outputs.map((o) => io(o.name, o.value));
  const buffers: BufferDesc[] = [
    { kind: 'input', name: INPUT, dtype: DTYPE, elements: heldBy(input) },
    ...outputs.map((o): BufferDesc => ({ kind: 'output', name: o.name, dtype: DTYPE, elements: heldBy(o) })),
    { kind: 'arena', name: 'arena', dtype: DTYPE, elements: totalElements },
  ];
  const needs64bit =
    totalElements > MAX_INT32 || weights.totalElements > MAX_INT32 || heldBy(input) > MAX_INT32 || outputs.some((o) => heldBy(o) > MAX_INT32) || launches.some((l) => l.needs64bit);
  return {
    version: PLAN_VERSION,
    precision,
    evenPlanes: even,
    model: g.name,
    reuse,
    input,
    outputs,
    buffers,
    arenaBytes: DTYPE_BYTES[DTYPE] * totalElements,
    arena,
    weights,
    launches,
    needs64bit,
    preprocessing: g.meta.preprocessing,
    numClasses: g.meta.numClasses,
  };
}

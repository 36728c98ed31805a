// The plan verifier: checks a KernelPlan independently of how it was built, as src/ir/verify.ts
// checks graphs. The driver runs it after planning under --verify-each; the tests run it on
// every plan they build. Its diagnostics name the launch, its IR nodes and their DSL span.
//
// What it checks:
//   1. structure: launch indices, input counts and parameter roles per kind, and dtypes (a
//      view's dtype is its buffer's; the launch's views and parameters agree);
//   2. bounds: every view lies inside its buffer for its strides (any order of strides, so the
//      channels-last views of later kernels are covered too), every parameter inside the blob;
//   3. dataflow by element range: every element a launch reads was written earlier AS THE VALUE
//      READ. A write through a view tags its elements with the view's value and, for a concat
//      slice, with the concat (and the concats that one is a slice of), so a concat buffer
//      written in slices can be read whole, and an arena range that a later value reused is no
//      longer readable as the old one. At the end every output buffer holds its value whole;
//   4. the arena: no two blocks whose lifetimes overlap share an element;
//   5. in an even-planes plan (KernelPlan.evenPlanes), every view's offset and batch and
//      channel strides are even.

import type { Diagnostic } from '../diag/diagnostics.js';
import { DTYPE_BYTES, type BufferDesc, type KernelPlan, type Launch, type LaunchKind, type TensorView } from './types.js';

/** Allowed input counts per launch kind (scale and conv take one more with a residual). */
function arity(l: Launch): number[] {
  switch (l.kind) {
    case 'conv':
    case 'dwconv':
      return [l.attrs.residual ? 2 : 1];
    case 'scale':
      return [l.attrs.residual ? 3 : 2];
    case 'deform_conv':
      return [2];
    case 'add':
    case 'mul':
      return [2];
    case 'concat':
      return [2, Infinity];
    default:
      return [1];
  }
}

/** Required and optional parameter roles per launch kind. */
const ROLES: Readonly<Record<LaunchKind, { readonly required: readonly string[]; readonly optional: readonly string[] }>> = {
  conv: { required: ['weight'], optional: ['bias'] },
  dwconv: { required: ['weight'], optional: ['bias'] },
  deform_conv: { required: ['weight'], optional: ['bias'] },
  se_gate: { required: ['weight'], optional: ['bias'] },
  linear: { required: ['weight'], optional: ['bias'] },
  batchnorm: { required: ['weight', 'bias', 'running_mean', 'running_var'], optional: [] },
  eca_conv1d: { required: ['weight'], optional: [] },
  maxpool: { required: [], optional: [] },
  avgpool: { required: [], optional: [] },
  gap: { required: [], optional: [] },
  scale: { required: [], optional: [] },
  copy: { required: [], optional: [] },
  concat: { required: [], optional: [] },
  act: { required: [], optional: [] },
  add: { required: [], optional: [] },
  mul: { required: [], optional: [] },
};

/** The contiguous element runs [start, end) a view covers, in address order of its dims. */
function viewRuns(v: TensorView): [number, number][] {
  const dims = [0, 1, 2, 3].filter((d) => v.shape[d] > 1).sort((a, b) => Math.abs(v.strides[a]) - Math.abs(v.strides[b]));
  if (v.shape.some((d) => d === 0)) return [];
  // Merge the innermost dims while each continues the run exactly.
  let len = 1;
  let k = 0;
  while (k < dims.length && v.strides[dims[k]] === len) len *= v.shape[dims[k++]];
  const outer = dims.slice(k);
  const runs: [number, number][] = [];
  const walk = (i: number, base: number) => {
    if (i < 0) {
      runs.push([base, base + len]);
      return;
    }
    const d = outer[i];
    for (let j = 0; j < v.shape[d]; j++) walk(i - 1, base + j * v.strides[d]);
  };
  walk(outer.length - 1, v.offset);
  return runs.sort((a, b) => a[0] - b[0]);
}

/** The lowest and one past the highest element index of a view. */
function extent(v: TensorView): [number, number] {
  let lo = v.offset;
  let hi = v.offset;
  for (let d = 0; d < 4; d++) {
    const reach = (v.shape[d] - 1) * v.strides[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  return [lo, hi + 1];
}

type Tags = ReadonlySet<string>;

/** Disjoint, sorted element ranges of one buffer, each with the values written there. */
class Written {
  private segs: { a: number; b: number; tags: Tags }[] = [];

  write(a: number, b: number, tags: Tags): void {
    const keep: { a: number; b: number; tags: Tags }[] = [];
    for (const s of this.segs) {
      if (s.b <= a || s.a >= b) keep.push(s);
      else {
        if (s.a < a) keep.push({ a: s.a, b: a, tags: s.tags });
        if (s.b > b) keep.push({ a: b, b: s.b, tags: s.tags });
      }
    }
    keep.push({ a, b, tags });
    keep.sort((x, y) => x.a - y.a);
    this.segs = keep;
  }

  /** The first element of [a, b) not written as `value`, or undefined when all are. */
  firstMissing(a: number, b: number, value: string): number | undefined {
    let at = a;
    for (const s of this.segs) {
      if (s.b <= at) continue;
      if (s.a > at || !s.tags.has(value)) return at;
      at = s.b;
      if (at >= b) return undefined;
    }
    return at < b ? at : undefined;
  }
}

const key = (kind: string, name: string) => `${kind}:${name}`;

export function verifyPlan(plan: KernelPlan): Diagnostic[] {
  const errs: Diagnostic[] = [];
  const err = (l: Launch | undefined, message: string) =>
    errs.push({
      severity: 'error',
      code: 'E3101',
      message: `plan of '${plan.model}': ${l ? `launch ${l.index} (${l.kind} ${l.nodes.join(' + ')}): ` : ''}${message}`,
      ...(l?.span ? { span: l.span } : { subject: l?.nodes[0] ?? plan.model }),
    });

  const buffers = new Map<string, BufferDesc>(plan.buffers.map((b) => [key(b.kind, b.name), b]));
  for (const [kind, name] of [['input', 'input'], ...plan.outputs.map((o) => ['output', o.name]), ['arena', 'arena']] as const) {
    if (!buffers.has(key(kind, name))) err(undefined, `no ${kind} buffer '${name}'`);
  }
  const arena = buffers.get(key('arena', 'arena'));
  if (arena && DTYPE_BYTES[arena.dtype] * arena.elements > plan.arenaBytes) err(undefined, `the arena buffer holds ${arena.elements} elements, more than arenaBytes ${plan.arenaBytes}`);

  // The concat each sliced value writes into (slices nest: a concat may be a slice of another).
  const parent = new Map<string, string>();
  for (const l of plan.launches) for (const v of [...l.inputs, l.output]) if (v.slice) parent.set(v.value, v.slice.of);
  const tagsOf = new Map<string, Tags>();
  const tags = (v: TensorView): Tags => {
    const cached = tagsOf.get(v.value + (v.slice ? `@${v.slice.of}` : ''));
    if (cached) return cached;
    const t = new Set([v.value]);
    for (let c = v.slice?.of; c !== undefined && !t.has(c); c = parent.get(c)) t.add(c);
    tagsOf.set(v.value + (v.slice ? `@${v.slice.of}` : ''), t);
    return t;
  };

  const written = new Map<string, Written>(plan.buffers.map((b) => [key(b.kind, b.name), new Written()]));
  // The input buffer holds the input at its strides (an even-planes plan's padding is not data).
  const ioView = (io: KernelPlan['input'], buffer: 'input' | 'output'): TensorView => {
    const s = io.shape;
    const shape: [number, number, number, number] = s.length === 4 ? [s[0], s[1], s[2], s[3]] : s.length === 2 ? [s[0], s[1], 1, 1] : [io.elements, 1, 1, 1];
    return { buffer, name: io.name, dtype: io.dtype, layout: 'nchw', offset: 0, shape, strides: io.strides, value: io.value };
  };
  for (const [a, b] of viewRuns(ioView(plan.input, 'input'))) written.get(key('input', 'input'))?.write(a, b, new Set(['input']));

  const checkView = (l: Launch, v: TensorView, what: string): BufferDesc | undefined => {
    const b = buffers.get(key(v.buffer, v.name));
    if (!b) {
      err(l, `${what} '${v.value}' names ${v.buffer} buffer '${v.name}', which the plan does not have`);
      return undefined;
    }
    if (v.dtype !== b.dtype) err(l, `${what} '${v.value}' is ${v.dtype}, its buffer '${b.name}' ${b.dtype}`);
    const [lo, hi] = extent(v);
    if (lo < 0 || hi > b.elements) err(l, `${what} '${v.value}' reaches elements [${lo}, ${hi}) of ${v.buffer} buffer '${v.name}', which holds ${b.elements}`);
    if (v.shape.some((d) => !Number.isInteger(d) || d < 1)) err(l, `${what} '${v.value}' has shape [${v.shape.join(',')}]`);
    // Even planes: every plane starts on an even element and a word never spans two planes.
    if (plan.evenPlanes && (v.offset % 2 !== 0 || v.strides[0] % 2 !== 0 || v.strides[1] % 2 !== 0 || v.strides[1] < v.shape[2] * v.shape[3])) {
      err(l, `${what} '${v.value}' (offset ${v.offset}, strides [${v.strides.join(', ')}]) does not keep its channel planes on even elements of an even-planes plan`);
    }
    return b;
  };

  plan.launches.forEach((l, i) => {
    if (l.index !== i) err(l, `has index ${l.index} at position ${i}`);
    const [min, max] = arity(l).length === 2 ? arity(l) : [arity(l)[0], arity(l)[0]];
    if (l.inputs.length < min || l.inputs.length > max) err(l, `takes ${max === Infinity ? `${min} or more` : min} inputs, has ${l.inputs.length}`);
    const roles = ROLES[l.kind];
    const params = l.params as Readonly<Record<string, { name: string; dtype: string; offset: number; numel: number } | undefined>>;
    for (const r of roles.required) if (!params[r]) err(l, `has no '${r}' parameter`);
    for (const [r, p] of Object.entries(params)) {
      if (!p) continue;
      if (!roles.required.includes(r) && !roles.optional.includes(r)) err(l, `has an unexpected '${r}' parameter`);
      if (p.dtype !== plan.weights.dtype) err(l, `parameter '${p.name}' is ${p.dtype}, the weight blob ${plan.weights.dtype}`);
      if (p.offset < 0 || p.offset + p.numel > plan.weights.totalElements) err(l, `parameter '${p.name}' reaches past the weight blob (${p.offset} + ${p.numel} > ${plan.weights.totalElements})`);
    }
    const dtypes = new Set([...l.inputs, l.output].map((v) => v.dtype));
    if (dtypes.size > 1) err(l, `mixes dtypes ${[...dtypes].join(', ')}`);
    for (const v of l.inputs) {
      if (!checkView(l, v, 'input')) continue;
      const w = written.get(key(v.buffer, v.name))!;
      for (const [a, b] of viewRuns(v)) {
        const miss = w.firstMissing(a, b, v.value);
        if (miss !== undefined) {
          err(l, `reads '${v.value}' at element ${miss} of ${v.buffer} buffer '${v.name}', which no earlier launch wrote as '${v.value}'`);
          break;
        }
      }
    }
    const out = l.output;
    if (checkView(l, out, 'output')) {
      if (out.buffer === 'input') err(l, `writes into the read-only input buffer`);
      const w = written.get(key(out.buffer, out.name))!;
      const t = tags(out);
      for (const [a, b] of viewRuns(out)) w.write(a, b, t);
    }
  });

  for (const o of plan.outputs) {
    const w = written.get(key('output', o.name));
    for (const [a, b] of w ? viewRuns(ioView(o, 'output')) : []) {
      const miss = w!.firstMissing(a, b, o.value);
      if (miss !== undefined) {
        err(undefined, `output '${o.name}' is not written whole as '${o.value}' (element ${miss} is missing)`);
        break;
      }
    }
  }

  // Blocks alive at the same time must not share elements.
  const blocks = [...plan.arena].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < blocks.length; i++) {
    const a = blocks[i];
    if (arena && a.offset + a.elements > arena.elements) err(undefined, `arena block '${a.value}' [${a.offset}, ${a.offset + a.elements}) lies past the arena (${arena.elements} elements)`);
    for (let j = i + 1; j < blocks.length && blocks[j].offset < a.offset + a.elements; j++) {
      const b = blocks[j];
      if (a.firstLaunch <= b.lastLaunch && b.firstLaunch <= a.lastLaunch) {
        err(undefined, `arena blocks '${a.value}' [${a.offset}, ${a.offset + a.elements}) and '${b.value}' [${b.offset}, ${b.offset + b.elements}) overlap while both are live (launches ${Math.max(a.firstLaunch, b.firstLaunch)}..${Math.min(a.lastLaunch, b.lastLaunch)})`);
      }
    }
  }
  return errs;
}

// The reference interpreter: executes a graph IR on the CPU, node by node, with PyTorch's
// eval-mode semantics in float32 storage and float64 arithmetic. It is the test oracle of the
// passes and backends (`vovc run MODEL --target reference`), so it runs every op as the IR
// states it, fused or not, and checks its inputs instead of trusting them.
//
// Memory: a value is dropped as soon as its last reader has run (liveness over the node
// order), so at most a few activations of a stage are alive at once. Concats marked
// `inplace` (batch 1) get their buffer when the first of their inputs is produced, and the
// producers write straight into their channel slice.
//
// Speed: convolutions (nearly all of the work) run as register-tiled GEMMs (gemm.ts), split
// across worker threads (worker.ts) in chunks of output pixels, or of output channels when
// the image is small; everything else runs on the calling thread.

import { availableParallelism } from 'node:os';
import { VovcError, closest, fail } from '../diag/diagnostics.js';
import { INPUT, nodeMap, numel, opName, type Graph, type Node, type OpAttrs, type Shape } from '../ir/graph.js';
import { verify } from '../ir/verify.js';
import { ACTIVATIONS, ACTIVATION_NAMES, type Activation } from '../ir/activations.js';
import { STORAGE, roundArray, rounded, type Precision, type StorageType } from '../ir/precision.js';
import { convDepthwise, convGemm, createWorkspace, runChunks, type ConvJob, type Workspace } from './gemm.js';
import * as K from './kernels.js';
import { getPool, type Pool, type TaskKind } from './worker.js';

export interface RefTensor {
  shape: number[];
  data: Float32Array;
}

export interface ReferenceOptions {
  /**
   * What to return: graph output names (default: every graph output). Any other value name
   * (a node id, or "input") is accepted too, so that a pass can be checked value by value.
   * Only the nodes these depend on are run.
   */
  readonly outputs?: readonly string[];
  /** Threads for the convolutions, the calling one included (default: os.availableParallelism()). */
  readonly threads?: number;
  /**
   * Profiling: called after each node with its wall time in milliseconds and the bytes of the
   * activations alive after it (distinct buffers, the input included).
   */
  readonly onNode?: (node: Node, ms: number, liveBytes: number) => void;
  /**
   * Emulated precision (default fp32, which changes nothing): every parameter and every stored
   * value (each node's output, the input) rounded to the storage type, fp32 accumulation;
   * tf32 rounds the operands of each dense convolution (src/ir/precision.ts). Give the graph
   * with BN folded (the optimized one) for the semantics every target shares.
   */
  readonly precision?: Precision;
}

/** A dense (implicit-GEMM) convolution, deformable or not: the plan's 'conv' and 'deform_conv' launch kinds, the ones tf32 rounds. */
const isDenseConv = (n: Node): boolean =>
  n.op === 'deform_conv2d' || (n.op === 'conv2d' && !((n.attrs as OpAttrs['conv2d']).groups > 1 && (n.attrs as OpAttrs['conv2d']).groups === n.shape[1]));

/** `g` with its parameters rounded as `precision` stores them (the same graph for fp32). */
function roundedParams(g: Graph, precision: Precision): Graph {
  if (precision === 'fp32') return g;
  const dense = new Set(g.nodes.filter(isDenseConv).map((n) => n.params.weight));
  const params = new Map(
    [...g.params].map(([name, p]) => {
      const to = precision === 'tf32' ? (dense.has(name) ? 'tf32' : 'f32') : STORAGE[precision];
      return [name, p.data && to !== 'f32' ? { ...p, data: rounded(p.data, to) } : p] as const;
    }),
  );
  return { ...g, params };
}

/** How `execute` rounds: the storage type of every stored value, and whether dense convs take TF32 operands. */
interface Rounding {
  readonly storage: StorageType;
  readonly tf32: boolean;
}
const EXACT: Rounding = { storage: 'f32', tf32: false };
const roundingOf = (p: Precision | undefined): Rounding => ({ storage: STORAGE[p ?? 'fp32'], tf32: p === 'tf32' });

/**
 * Below this many multiply-accumulates (~1 ms of one thread's work) a conv runs on the calling
 * thread: a worker round trip costs ~0.05 ms. Depthwise MACs count 8x (a plain JavaScript
 * loop, against the SIMD GEMM).
 */
const PARALLEL_MIN_MACS = 1 << 22;

const fmt = (s: Shape) => `[${s.join(',')}]`;

/** An activation's reference function, null for none (the kernels skip it). */
const actFn = (a: Activation): ((v: number) => number) | null => (a === 'none' ? null : ACTIVATIONS[a].ref);

interface Plan {
  readonly g: Graph;
  readonly nodes: ReadonlyMap<string, Node>;
  /** The nodes to run, in graph order. */
  readonly order: readonly Node[];
  /** [result name, value] pairs. */
  readonly wanted: readonly (readonly [string, string])[];
  /** value -> index in `order` of its last reader (absent: never read; wanted values live to the end). */
  readonly lastUse: ReadonlyMap<string, number>;
  /** value -> the in-place concat whose buffer it is written into, and its channel offset there. */
  readonly placement: ReadonlyMap<string, { readonly concat: string; readonly offset: number }>;
}

function plan(g: Graph, input: { shape: readonly number[]; data: Float32Array }, outputs?: readonly string[]): Plan {
  const errs = verify(g);
  if (errs.length) throw new VovcError(errs);
  if (input.shape.length !== g.input.shape.length || input.shape.some((d, i) => d !== g.input.shape[i])) {
    fail('E9201', `input shape ${fmt(input.shape)} does not match the model's ${fmt(g.input.shape)}`, { subject: g.name });
  }
  if (input.data.length !== numel(input.shape)) {
    fail('E9202', `input holds ${input.data.length} values, but its shape ${fmt(input.shape)} needs ${numel(input.shape)}`, { subject: g.name });
  }
  const nodes = nodeMap(g);
  const wanted: [string, string][] = [];
  for (const name of outputs ?? g.outputs.map((o) => o.name)) {
    const out = g.outputs.find((o) => o.name === name);
    if (out) wanted.push([name, out.value]);
    else if (name === INPUT || nodes.has(name)) wanted.push([name, name]);
    else {
      const names = g.outputs.map((o) => o.name);
      const guess = closest(name, [...names, ...nodes.keys()]);
      fail('E9203', `model '${g.name}' has no output or value '${name}' (its outputs: ${names.join(', ')})`, { subject: name, notes: guess ? [`did you mean '${guess}'?`] : undefined });
    }
  }

  // Run only what the wanted values depend on.
  const needed = new Set<string>();
  const stack = wanted.map(([, v]) => v);
  while (stack.length) {
    const v = stack.pop()!;
    if (needed.has(v)) continue;
    needed.add(v);
    for (const i of nodes.get(v)?.inputs ?? []) stack.push(i);
  }
  const order = g.nodes.filter((n) => needed.has(n.id));

  for (const n of order) {
    for (const [role, name] of Object.entries(n.params)) {
      if (!g.params.get(name)?.data) {
        fail('E9204', `parameter '${name}' (${role} of ${opName(n)} '${n.id}') has no data: bind weights (--weights) or seed them before running`, { subject: name, span: n.span });
      }
    }
  }

  const lastUse = new Map<string, number>();
  order.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v, i)));
  for (const [, v] of wanted) lastUse.set(v, Infinity);

  // In-place concats: a channel slice of an NCHW tensor is contiguous only for batch 1. A value
  // goes into at most one concat; the graph input and repeated inputs are copied instead.
  const placement = new Map<string, { concat: string; offset: number }>();
  if (g.input.shape[0] === 1) {
    for (const n of order) {
      if (n.op !== 'concat' || !(n.attrs as OpAttrs['concat']).inplace) continue;
      let offset = 0;
      for (const v of n.inputs) {
        const p = nodes.get(v);
        if (p && !placement.has(v)) placement.set(v, { concat: n.id, offset });
        offset += p ? p.shape[1] : g.input.shape[1];
      }
    }
  }
  return { g, nodes, order, wanted, lastUse, placement };
}

function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.max(1, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail('E9205', `threads must be an integer from 1 to 256, got ${threads}`, { subject: 'threads' });
  return threads;
}

function shared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** [0, total) in chunks of `size` (the last one shorter). */
function chunks(total: number, size: number): [number, number][] {
  const r: [number, number][] = [];
  for (let lo = 0; lo < total; lo += size) r.push([lo, Math.min(total, lo + size)]);
  return r;
}

/**
 * A chunk size for sharing `total` rows or columns among `threads`: 1 to 4 chunks per thread
 * (more chunks balance a busy machine better), but chunks of at least `min`, because every
 * chunk repacks its B block (channel chunks) or re-streams the weights (pixel chunks).
 * Rounded up to a multiple of `align`.
 */
function chunkSize(total: number, threads: number, min: number, align: number): number {
  const count = threads * Math.min(4, Math.max(1, Math.floor(total / (min * threads))));
  return Math.ceil(total / count / align) * align;
}

/** The calling thread's GEMM scratch memory, kept across runs (it only grows to the largest conv's weights). */
let workspace: Workspace | undefined;

let nextJobId = 0;

/**
 * Runs a conv: on the calling thread when small or single-threaded, else in chunks that the
 * calling thread and the workers share out (the output pixels, or the output channels when
 * the image is small; chunk boundaries on multiples of 4, the GEMM tile). Returns the promise
 * of the workers' part.
 */
function conv(job: ConvJob, pool: Pool | null): Promise<void> | undefined {
  const depthwise = job.cin === job.groups;
  const ohw = job.outH * job.outW;
  const macs = job.n * job.cout * ohw * (job.cin / job.groups) * job.kh * job.kw;
  const ws = (workspace ??= createWorkspace());
  if (!pool || macs * (depthwise ? 8 : 1) < PARALLEL_MIN_MACS) {
    if (depthwise) convDepthwise(job, 0, job.cout);
    else convGemm(job, 0, job.cout, 0, ohw, ws);
    return undefined;
  }
  const threads = pool.size + 1;
  const kind: TaskKind = depthwise ? 'dw' : 'gemm';
  let parts: number[][];
  if (depthwise) parts = chunks(job.cout, chunkSize(job.cout, threads, 4, 1));
  else if (ohw >= 64 * threads) parts = chunks(ohw, chunkSize(ohw, threads, 64, 4)).map(([a, b]) => [0, job.cout, a, b]);
  else parts = chunks(job.cout, chunkSize(job.cout, threads, 64, 4)).map(([a, b]) => [a, b, 0, ohw]);
  const sj: ConvJob = { ...job, x: shared(job.x), w: shared(job.w), bias: job.bias && shared(job.bias), res: job.res && shared(job.res) };
  const counter = new SharedArrayBuffer(4);
  const remote = pool.run(kind, sj, parts, counter);
  try {
    runChunks(kind, sj, parts, new Int32Array(counter), ws);
  } catch (e) {
    remote.catch(() => undefined);
    throw e;
  }
  return remote;
}

/**
 * The interpreter proper, as a generator so that one body serves the sync and async entry
 * points: it yields a promise whenever worker threads are computing (never without a pool).
 */
function* execute(p: Plan, input: Float32Array, pool: Pool | null, onNode?: ReferenceOptions['onNode'], rounding: Rounding = EXACT): Generator<Promise<void>, Map<string, RefTensor>, void> {
  const { g, nodes } = p;
  const alloc = (size: number) => (pool ? new Float32Array(new SharedArrayBuffer(size * 4)) : new Float32Array(size));
  const stored = rounding.storage === 'f32' ? input : rounded(input, rounding.storage);
  const values = new Map<string, Float32Array>([[INPUT, pool ? shared(stored) : stored]]);
  const shapeOf = (v: string): Shape => (v === INPUT ? g.input.shape : nodes.get(v)!.shape);
  const get = (v: string) => values.get(v)!;
  const param = (n: Node, role: string) => g.params.get(n.params[role])!.data!;
  const optParam = (n: Node, role: string) => (n.params[role] ? param(n, role) : null);

  // Buffers of in-place concats, made when the first input placed in them is produced.
  const slabs = new Map<string, Float32Array>();
  const slab = (concat: string): Float32Array => {
    let s = slabs.get(concat);
    if (!s) {
      s = bufferFor(concat);
      slabs.set(concat, s);
    }
    return s;
  };
  const bufferFor = (v: string): Float32Array => {
    const size = numel(shapeOf(v));
    const at = p.placement.get(v);
    if (!at) return alloc(size);
    const [, , h, w] = shapeOf(v);
    const start = at.offset * h * w;
    return slab(at.concat).subarray(start, start + size);
  };

  for (let idx = 0; idx < p.order.length; idx++) {
    const n = p.order[idx];
    const t0 = onNode ? performance.now() : 0;
    const ins = n.inputs.map(get);
    const x = ins[0];
    const xs = n.inputs.length ? shapeOf(n.inputs[0]) : [];
    let out: Float32Array;
    switch (n.op) {
      case 'conv2d': {
        const a = n.attrs as OpAttrs['conv2d'];
        out = bufferFor(n.id);
        const job: ConvJob = {
          id: nextJobId++, x: rounding.tf32 && isDenseConv(n) ? rounded(x, 'tf32') : x, w: param(n, 'weight'), bias: optParam(n, 'bias'), res: a.residual ? ins[1] : null, out,
          n: xs[0], cin: xs[1], inH: xs[2], inW: xs[3], cout: n.shape[1], outH: n.shape[2], outW: n.shape[3],
          kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], pt: a.pad[0], pl: a.pad[1],
          groups: a.groups, act: ACTIVATION_NAMES.indexOf(a.act), actFn: actFn(a.act),
        };
        const pending = conv(job, pool);
        if (pending) yield pending;
        break;
      }
      case 'deform_conv2d': {
        // The deformable columns, then a 1x1 GEMM of the [Cout, Cin*KH*KW] weight over them.
        const a = n.attrs as OpAttrs['deform_conv2d'];
        const [, , oh, ow] = n.shape;
        const taps = a.kernel[0] * a.kernel[1];
        const cols = alloc(xs[0] * xs[1] * taps * oh * ow);
        K.deformIm2col(x, ins[1], cols, { n: xs[0], cin: xs[1], h: xs[2], w: xs[3], oh, ow, kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], pt: a.pad[0], pl: a.pad[1], groups: a.deformGroups, modulated: a.modulated });
        // The sampled values are the GEMM's operands: stored (rounded) as every operand is.
        if (rounding.tf32) roundArray(cols, 'tf32');
        else if (rounding.storage !== 'f32') roundArray(cols, rounding.storage);
        out = bufferFor(n.id);
        const job: ConvJob = {
          id: nextJobId++, x: cols, w: param(n, 'weight'), bias: optParam(n, 'bias'), res: null, out,
          n: xs[0], cin: xs[1] * taps, inH: oh, inW: ow, cout: n.shape[1], outH: oh, outW: ow,
          kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0,
          groups: 1, act: ACTIVATION_NAMES.indexOf(a.act), actFn: actFn(a.act),
        };
        const pending = conv(job, pool);
        if (pending) yield pending;
        break;
      }
      case 'batchnorm':
        out = bufferFor(n.id);
        K.batchnorm(x, out, xs[0], xs[1], xs[2] * xs[3], param(n, 'weight'), param(n, 'bias'), param(n, 'running_mean'), param(n, 'running_var'), (n.attrs as OpAttrs['batchnorm']).eps);
        break;
      case 'act':
        K.activate(x, (out = bufferFor(n.id)), ACTIVATIONS[(n.attrs as OpAttrs['act']).fn].ref);
        break;
      case 'maxpool':
      case 'avgpool': {
        const d = { n: xs[0], c: xs[1], h: xs[2], w: xs[3], oh: n.shape[2], ow: n.shape[3] };
        (n.op === 'maxpool' ? K.maxpool : K.avgpool)(x, (out = bufferFor(n.id)), d, n.attrs as OpAttrs['maxpool']);
        break;
      }
      case 'global_avg_pool':
        K.globalAvgPool(x, (out = bufferFor(n.id)), xs[0] * xs[1], xs[2] * xs[3]);
        break;
      case 'concat': {
        out = slabs.get(n.id) ?? bufferFor(n.id);
        slabs.delete(n.id);
        const [batch, c, h, w] = n.shape;
        let off = 0;
        n.inputs.forEach((v, i) => {
          const src = ins[i];
          const ci = shapeOf(v)[1];
          const inPlace = batch === 1 && src.buffer === out.buffer && src.byteOffset === out.byteOffset + off * h * w * 4;
          if (!inPlace) for (let b = 0; b < batch; b++) out.set(src.subarray(b * ci * h * w, (b + 1) * ci * h * w), (b * c + off) * h * w);
          off += ci;
        });
        break;
      }
      case 'add':
        K.add(x, ins[1], (out = bufferFor(n.id)));
        break;
      case 'mul':
        K.scale(x, ins[1], null, (out = bufferFor(n.id)), xs[2] * xs[3]);
        break;
      case 'scale':
        K.scale(x, ins[1], (n.attrs as OpAttrs['scale']).residual ? ins[2] : null, (out = bufferFor(n.id)), xs[2] * xs[3]);
        break;
      case 'eca_conv1d':
        K.ecaConv1d(x, (out = bufferFor(n.id)), xs[0], xs[1], param(n, 'weight'));
        break;
      case 'flatten':
        // A reshape: shares the input's data (no op writes into its inputs).
        if (p.placement.has(n.id)) (out = bufferFor(n.id)).set(x);
        else out = x;
        break;
      case 'linear':
        K.linear(x, (out = bufferFor(n.id)), xs[0], xs[1], param(n, 'weight'), optParam(n, 'bias'), n.shape[1]);
        break;
      case 'se_gate': {
        const a = n.attrs as OpAttrs['se_gate'];
        const c = xs[1];
        const pooled = new Float32Array(xs[0] * c);
        K.globalAvgPool(x, pooled, xs[0] * c, xs[2] * xs[3]);
        out = bufferFor(n.id);
        if (a.mode === 'ese') K.linear(pooled, out, xs[0], c, param(n, 'weight'), param(n, 'bias'), c, actFn(a.act));
        else K.ecaConv1d(pooled, out, xs[0], c, param(n, 'weight'), actFn(a.act));
        break;
      }
      default:
        throw new Error(`internal: the reference interpreter has no kernel for op '${(n as Node).op}'`);
    }
    // Every stored value in the storage type (idempotent: a flatten sharing its input's data, a
    // concat of slices rounded when written).
    roundArray(out, rounding.storage);
    values.set(n.id, out);
    // Liveness: drop every value whose last reader this node was (and unread results).
    for (const v of n.inputs) if (p.lastUse.get(v) === idx) values.delete(v);
    if (!p.lastUse.has(n.id)) values.delete(n.id);
    if (onNode) {
      const buffers = new Set<ArrayBufferLike>([...values.values(), ...slabs.values()].map((a) => a.buffer));
      onNode(n, performance.now() - t0, [...buffers].reduce((sum, b) => sum + b.byteLength, 0));
    }
  }

  const result = new Map<string, RefTensor>();
  for (const [name, v] of p.wanted) result.set(name, { shape: [...shapeOf(v)], data: new Float32Array(get(v)) });
  return result;
}

/**
 * Runs `g` on `input` (whose shape must equal the graph's input shape) and returns the
 * requested outputs by name, as fresh float32 arrays. Throws a VovcError on a graph that does
 * not verify, a mismatched input, an unknown output name or a parameter without data.
 */
export async function runReference(
  g: Graph,
  input: { readonly shape: readonly number[]; readonly data: Float32Array },
  opts: ReferenceOptions = {},
): Promise<Map<string, RefTensor>> {
  const p = plan(roundedParams(g, opts.precision ?? 'fp32'), input, opts.outputs);
  const threads = resolveThreads(opts.threads);
  const it = execute(p, input.data, threads > 1 ? getPool(threads - 1) : null, opts.onNode, roundingOf(opts.precision));
  for (let r = it.next(); ; r = it.next()) {
    if (r.done) return r.value;
    await r.value;
  }
}

/** runReference on the calling thread only, synchronously (for tests and small graphs). */
export function runReferenceSync(
  g: Graph,
  input: { readonly shape: readonly number[]; readonly data: Float32Array },
  opts: Omit<ReferenceOptions, 'threads'> = {},
): Map<string, RefTensor> {
  const r = execute(plan(roundedParams(g, opts.precision ?? 'fp32'), input, opts.outputs), input.data, null, opts.onNode, roundingOf(opts.precision)).next();
  if (!r.done) throw new Error('internal: the single-threaded interpreter tried to wait for workers');
  return r.value;
}

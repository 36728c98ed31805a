// Renders a KernelPlan into the files of a CUDA artifact. All arithmetic and every per-op
// decision (kernel choice, grid sizes, views, arguments) happens here, in the view-model;
// templates/cuda/*.hbs only lay the strings out.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../diag/diagnostics.js';
import type { Activation, Graph } from '../../ir/graph.js';
import type { KernelPlan, Launch, TensorView, WeightRef } from '../../plan/types.js';
import { ALIGN_ELEMENTS } from '../../plan/types.js';
import { weightData } from '../../plan/weights.js';
import { packageRoot } from '../../util/paths.js';
import { VERSION } from '../../version.js';
import { backendTemplates, type Template } from '../templates.js';

/** Weight blob format (see templates/cuda/README.md.hbs). */
export const BLOB_VERSION = 1;
export const BLOB_HEADER_BYTES = 32;
const BLOB_MAGIC = 'VOVCWTS\0';

/** Files rendered from templates/cuda/<name>.hbs, in the order `build` lists them. */
export const TEMPLATE_FILES = ['CMakeLists.txt', 'README.md', 'vovc.h', 'vovc_cuda.h', 'vovc_demo.cu', 'vovc_kernels.cuh', 'vovc_model.cu', 'vovc_model.h', 'vovc_runtime.cu'] as const;

/** Threads per block of the elementwise-style kernels; must match kReduceThreads / kConvThreads in the kernels. */
const THREADS = 256;
const CONV_TILE_M = 64;
const CONV_TILE_P = 64;
/** Grid-stride kernels use at most this many blocks (enough to fill any current GPU). */
const MAX_BLOCKS = 8192;
/** se_gate keeps the pooled vector in shared memory (kMaxGateChannels). */
const MAX_GATE_CHANNELS = 2048;

const ACT_CODE: Readonly<Record<Activation, number>> = { none: 0, relu: 1, hardsigmoid: 2, sigmoid: 3 };
const EW = { copy: 0, relu: 1, hardsigmoid: 2, sigmoid: 3, add: 4, mul: 5, scale: 6, batchnorm: 7 } as const;

export interface LaunchVM {
  index: number;
  comment: string;
  kernel: string;
  grid: string;
  block: string;
  args: string;
}

/** The fp literal of a float attribute (always with a decimal point or exponent). */
function flt(x: number): string {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

const dim = (...xs: number[]) => `dim3(${xs.join(', ')})`;
const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const elements = (v: TensorView) => v.shape[0] * v.shape[1] * v.shape[2] * v.shape[3];

class LaunchRenderer {
  private readonly outIndex: Map<string, number>;
  constructor(private readonly plan: KernelPlan) {
    this.outIndex = new Map(plan.outputs.map((o, i) => [o.name, i]));
  }

  private ptr(v: TensorView): string {
    if (v.buffer === 'input') return 'in';
    if (v.buffer === 'arena') return 'arena';
    const i = this.outIndex.get(v.name);
    if (i === undefined) fail('E6101', `plan of '${this.plan.model}': a view names output buffer '${v.name}', which is not an output of the plan`, { subject: v.value });
    return `out[${i}]`;
  }

  private view(v: TensorView, I: string): string {
    return `vovc::view<${I}>(${v.offset}, ${v.strides.join(', ')}, ${v.shape.join(', ')})`;
  }

  /** An [N,C,1,1] operand seen with the h/w extent of `like` through zero strides. */
  private broadcastView(v: TensorView, like: TensorView, I: string): string {
    if (v.shape[2] === like.shape[2] && v.shape[3] === like.shape[3]) return this.view(v, I);
    if (v.shape[2] !== 1 || v.shape[3] !== 1) fail('E6102', `launch over '${like.value}': operand '${v.value}' of shape [${v.shape.join(',')}] cannot broadcast to [${like.shape.join(',')}]`, { subject: v.value });
    return `vovc::view<${I}>(${v.offset}, ${v.strides[0]}, ${v.strides[1]}, 0, 0, ${v.shape[0]}, ${v.shape[1]}, ${like.shape[2]}, ${like.shape[3]})`;
  }

  private param(p: WeightRef | undefined): string {
    return p ? `w + ${p.offset}` : 'nullptr';
  }

  private required(l: Launch, role: string): WeightRef {
    const p = l.params[role];
    if (!p) fail('E6103', `launch ${l.index} (${l.kind} ${l.nodes[0] ?? ''}) has no '${role}' parameter`, { subject: l.nodes[0] });
    return p;
  }

  private input(l: Launch, i: number): TensorView {
    const v = l.inputs[i];
    if (!v) fail('E6104', `launch ${l.index} (${l.kind} ${l.nodes[0] ?? ''}) expects at least ${i + 1} inputs, has ${l.inputs.length}`, { subject: l.nodes[0] });
    return v;
  }

  private gridFor(total: number): string {
    return dim(Math.max(1, Math.min(MAX_BLOCKS, ceilDiv(total, THREADS))));
  }

  private none(I: string): string {
    return `nullptr, vovc::view<${I}>(0, 0, 0, 0, 0, 0, 0, 0, 0)`;
  }

  /** y = op(a, b) (+ c) through the `ew` kernel. */
  private ew(l: Launch, I: string, op: number, a: TensorView, y: TensorView, extra: { b?: TensorView; c?: TensorView; p?: (WeightRef | undefined)[]; f?: [number, number] } = {}): Omit<LaunchVM, 'index' | 'comment'> {
    const b = extra.b ? `${this.ptr(extra.b)}, ${this.broadcastView(extra.b, y, I)}` : this.none(I);
    const c = extra.c ? `${this.ptr(extra.c)}, ${this.view(extra.c, I)}` : this.none(I);
    const p = [0, 1, 2, 3].map((i) => this.param(extra.p?.[i])).join(', ');
    const [f0, f1] = extra.f ?? [0, 0];
    return {
      kernel: `vovc::ew<${I}>`,
      grid: this.gridFor(elements(y)),
      block: dim(THREADS),
      args: [op, this.ptr(a), this.view(a, I), b, c, this.ptr(y), this.view(y, I), p, flt(f0), flt(f1)].join(', '),
    };
  }

  private conv(l: Launch, I: string): Omit<LaunchVM, 'index' | 'comment'> {
    const x = this.input(l, 0), y = l.output;
    const [kh, kw] = l.attrs.kernel ?? [1, 1];
    const [sh, sw] = l.attrs.stride ?? [1, 1];
    const [pt, pl] = l.attrs.pad ?? [0, 0, 0, 0];
    const groups = l.attrs.groups ?? 1;
    const r = l.attrs.residual ? this.input(l, 1) : undefined;
    const epilogue = [this.param(this.required(l, 'weight')), this.param(l.params.bias), r ? `${this.ptr(r)}, ${this.view(r, I)}` : this.none(I), this.ptr(y), this.view(y, I), sh, sw, pt, pl, ACT_CODE[l.attrs.act ?? 'none']];
    const common = [this.ptr(x), this.view(x, I), ...epilogue].join(', ');
    if (groups === 1 && l.kind === 'conv') {
      const pixels = y.shape[0] * y.shape[2] * y.shape[3];
      return { kernel: `vovc::conv_igemm<${I}, ${kh}, ${kw}>`, grid: dim(ceilDiv(pixels, CONV_TILE_P), ceilDiv(y.shape[1], CONV_TILE_M)), block: dim(THREADS), args: common };
    }
    if (groups === x.shape[1] && groups === y.shape[1]) return { kernel: `vovc::dwconv<${I}, ${kh}, ${kw}>`, grid: this.gridFor(elements(y)), block: dim(THREADS), args: common };
    return fail('E6105', `launch ${l.index} (${l.nodes[0] ?? l.kind}): the CUDA backend supports groups 1 or depthwise convolutions, got groups ${groups} with ${x.shape[1]} -> ${y.shape[1]} channels`, { subject: l.nodes[0] });
  }

  render(l: Launch): LaunchVM[] {
    const I = l.needs64bit ? 'int64_t' : 'int32_t';
    const y = l.output;
    const comment = `${l.kind} ${l.nodes.join(' + ')}${l.note ? ` (${l.note})` : ''}`.replace(/\*\//g, '* /').replace(/[\r\n]+/g, ' ');
    const one = (vm: Omit<LaunchVM, 'index' | 'comment'>): LaunchVM[] => [{ index: l.index, comment, ...vm }];
    switch (l.kind) {
      case 'conv':
      case 'dwconv':
        return one(this.conv(l, I));
      case 'maxpool':
      case 'avgpool': {
        const x = this.input(l, 0);
        const [kh, kw] = l.attrs.kernel ?? [1, 1];
        const [sh, sw] = l.attrs.stride ?? [kh, kw];
        const [pt, pl, pb, pr] = l.attrs.pad ?? [0, 0, 0, 0];
        const args = [this.ptr(x), this.view(x, I), this.ptr(y), this.view(y, I), kh, kw, sh, sw, pt, pl, pb, pr, l.kind === 'maxpool' ? 1 : 0];
        return one({ kernel: `vovc::pool2d<${I}>`, grid: this.gridFor(elements(y)), block: dim(THREADS), args: args.join(', ') });
      }
      case 'gap': {
        const x = this.input(l, 0);
        return one({ kernel: `vovc::gap<${I}>`, grid: dim(x.shape[1], x.shape[0]), block: dim(THREADS), args: [this.ptr(x), this.view(x, I), this.ptr(y), this.view(y, I)].join(', ') });
      }
      case 'se_gate': {
        const z = this.input(l, 0);
        if (z.shape[1] > MAX_GATE_CHANNELS) fail('E6106', `launch ${l.index} (${l.nodes[0] ?? 'se_gate'}): attention gate over ${z.shape[1]} channels, the CUDA backend handles at most ${MAX_GATE_CHANNELS}`, { subject: l.nodes[0] });
        const eca = l.attrs.mode === 'eca';
        const args = [this.ptr(z), this.view(z, I), this.param(this.required(l, 'weight')), this.param(eca ? undefined : l.params.bias), this.ptr(y), this.view(y, I), eca ? 1 : 0, l.attrs.ecaKernel ?? 0, ACT_CODE[l.attrs.act ?? 'none']];
        return one({ kernel: `vovc::se_gate<${I}>`, grid: dim(z.shape[0]), block: dim(THREADS), args: args.join(', ') });
      }
      case 'scale':
        return one(this.ew(l, I, EW.scale, this.input(l, 0), y, { b: this.input(l, 1), c: l.attrs.residual ? this.input(l, 2) : undefined }));
      case 'linear': {
        const x = this.input(l, 0);
        const args = [this.ptr(x), this.view(x, I), this.param(this.required(l, 'weight')), this.param(l.params.bias), this.ptr(y), this.view(y, I)];
        return one({ kernel: `vovc::linear<${I}>`, grid: this.gridFor(y.shape[0] * y.shape[1]), block: dim(THREADS), args: args.join(', ') });
      }
      case 'copy':
        return one(this.ew(l, I, EW.copy, this.input(l, 0), y));
      case 'concat': {
        // One copy per input into its channel slice of the output.
        let channel = 0;
        return l.inputs.map((x) => {
          const slice: TensorView = { ...y, offset: y.offset + channel * y.strides[1], shape: [y.shape[0], x.shape[1], y.shape[2], y.shape[3]] };
          channel += x.shape[1];
          return { index: l.index, comment, ...this.ew(l, I, EW.copy, x, slice) };
        });
      }
      case 'batchnorm':
        return one(this.ew(l, I, EW.batchnorm, this.input(l, 0), y, { p: ['weight', 'bias', 'running_mean', 'running_var'].map((r) => this.required(l, r)), f: [l.attrs.eps ?? 1e-5, 0] }));
      case 'relu':
        return one(this.ew(l, I, EW.relu, this.input(l, 0), y));
      case 'sigmoid':
        return one(this.ew(l, I, EW.sigmoid, this.input(l, 0), y));
      case 'hardsigmoid':
        return one(this.ew(l, I, EW.hardsigmoid, this.input(l, 0), y, { f: [l.attrs.alpha ?? 1 / 6, l.attrs.beta ?? 0.5] }));
      case 'add':
        return one(this.ew(l, I, EW.add, this.input(l, 0), y, { b: this.input(l, 1) }));
      case 'mul':
        return one(this.ew(l, I, EW.mul, this.input(l, 0), y, { b: this.input(l, 1) }));
      case 'eca_conv1d': {
        const x = this.input(l, 0);
        const args = [this.ptr(x), this.view(x, I), this.param(this.required(l, 'weight')), this.ptr(y), this.view(y, I), l.attrs.ecaKernel ?? 3];
        return one({ kernel: `vovc::eca1d<${I}>`, grid: this.gridFor(y.shape[0] * y.shape[1]), block: dim(THREADS), args: args.join(', ') });
      }
    }
  }
}

/** Every kernel instantiation an artifact may contain for 1x1 / 3x3 convolutions (the nvcc CI test compiles these once). */
export function kernelVariants(): string[] {
  const out: string[] = [];
  for (const I of ['int32_t', 'int64_t']) {
    for (const k of [1, 3]) out.push(`vovc::conv_igemm<${I}, ${k}, ${k}>`, `vovc::dwconv<${I}, ${k}, ${k}>`);
    for (const k of ['pool2d', 'gap', 'se_gate', 'ew', 'linear', 'eca1d']) out.push(`vovc::${k}<${I}>`);
  }
  return out;
}

export function renderLaunches(plan: KernelPlan): LaunchVM[] {
  const r = new LaunchRenderer(plan);
  return plan.launches.flatMap((l) => r.render(l));
}

function template(name: string): Template {
  const t = backendTemplates('cuda')[name];
  if (!t) throw new Error(`internal: no CUDA template '${name}'`);
  return t;
}

/** The view-model every template renders from. */
export function viewModel(plan: KernelPlan) {
  const shape4 = (s: readonly number[]) => [...s, 0, 0, 0, 0].slice(0, 4).join(', ');
  return {
    version: VERSION,
    model: plan.model,
    cmakeName: plan.model.replace(/[^A-Za-z0-9_]/g, '_'),
    inputShape: plan.input.shape.join(', '),
    inputElements: plan.input.elements,
    outputs: plan.outputs.map((o) => ({ name: o.name, rank: o.shape.length, shape: shape4(o.shape), shapeText: o.shape.join(', '), elements: o.elements })),
    arenaBytes: plan.arenaBytes,
    weightElements: plan.weights.totalElements,
    launches: renderLaunches(plan),
    launchCount: plan.launches.length,
    params: plan.weights.entries.map((e) => ({ name: e.name, offset: e.offset, shape: e.shape.join(', ') })),
    align: ALIGN_ELEMENTS,
    blobVersion: BLOB_VERSION,
    blobHeaderBytes: BLOB_HEADER_BYTES,
  };
}

/** Renders every source file of the artifact: relative path -> contents. */
export function renderSources(plan: KernelPlan): Map<string, string> {
  for (const o of plan.outputs) if (o.shape.length > 4) fail('E6107', `output '${o.name}' has rank ${o.shape.length}; the CUDA backend describes outputs of rank 4 at most`, { subject: o.name });
  const vm = viewModel(plan);
  return new Map(TEMPLATE_FILES.map((f) => [f, template(f)(vm)]));
}

/** FNV-1a over the concatenation of `chunks`. */
function fnv1a(chunks: readonly Uint8Array[]): number {
  let h = 0x811c9dc5;
  for (const bytes of chunks) for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

function blobHeader(elements: number, body: readonly Uint8Array[]): Buffer {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('internal: big-endian hosts are not supported');
  const head = Buffer.alloc(BLOB_HEADER_BYTES);
  head.write(BLOB_MAGIC, 0, 'latin1');
  head.writeUInt32LE(BLOB_VERSION, 8);
  head.writeUInt32LE(BLOB_HEADER_BYTES, 12);
  head.writeBigUInt64LE(BigInt(elements), 16);
  head.writeUInt32LE(fnv1a(body), 24);
  return head;
}

/** The weight blob file: 32-byte header (magic, version, header size, count, FNV-1a) + the f32 data. */
export function encodeBlob(data: Float32Array): Buffer {
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([blobHeader(data.length, [body]), body]);
}

/**
 * The same file as encodeBlob(packWeights(plan, g)), as chunks to write in order: the header,
 * then each parameter's bytes (a view of its data, not a copy) and the zeros that align the
 * next one. Packing would hold one more copy of every weight while the file is written.
 */
export function blobChunks(plan: KernelPlan, g: Graph): Uint8Array[] {
  const zeros = new Uint8Array(4 * ALIGN_ELEMENTS);
  const body: Uint8Array[] = [];
  let at = 0;
  const pad = (to: number) => {
    if (to > at) body.push(zeros.subarray(0, 4 * (to - at)));
  };
  for (const { entry, data } of weightData(plan, g)) {
    pad(entry.offset);
    body.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    at = entry.offset + entry.numel;
  }
  pad(plan.weights.totalElements);
  return [blobHeader(plan.weights.totalElements, body), ...body];
}

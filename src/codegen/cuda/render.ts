// Renders a KernelPlan into the files of a CUDA artifact. Every launch becomes a kernel of
// vovc_model.cu with its shapes, offsets and strides as constants: the shared C-style kernels
// (src/codegen/cstyle/) in the CUDA dialect, and for the groups-1 convolutions the implicit
// GEMM of vovc_kernels.cuh instantiated with a hook struct (input read, weight read,
// epilogue) that the same renderer writes. templates/cuda/*.hbs only lay the strings out.

import { ALIGN_ELEMENTS, type KernelPlan, type Launch, type LaunchOfKind, type TensorView, type WeightData } from '../../plan/types.js';
import { weightData } from '../../plan/weights.js';
import type { ArtifactMeta } from '../../targets/contract.js';
import { cudaDialect, cudaParam } from '../cstyle/cuda.js';
import type { Binding } from '../cstyle/dialect.js';
import { KernelBuilder, viewSite, type Sites } from '../cstyle/kernel.js';
import { epilogue, isGemmConv, launchComment, renderShared } from '../cstyle/kernels.js';
import { backendTemplates, type Template } from '../templates.js';

/** Weight blob format (see templates/cuda/README.md.hbs). */
const BLOB_VERSION = 1;
const BLOB_HEADER_BYTES = 32;
const BLOB_MAGIC = 'VOVCWTS\0';

/** Files rendered from templates/cuda/<name>.hbs, in the order `build` lists them. */
const TEMPLATE_FILES = ['CMakeLists.txt', 'README.md', 'vovc.h', 'vovc_cuda.h', 'vovc_demo.cu', 'vovc_kernels.cuh', 'vovc_model.cu', 'vovc_model.h', 'vovc_runtime.cu'] as const;

/** Tile of the implicit-GEMM convolution (kBM x kBN outputs, kConvThreads threads; vovc_kernels.cuh). */
const CONV_TILE_M = 64;
const CONV_TILE_P = 64;
const CONV_THREADS = 256;

export interface LaunchVM {
  index: number;
  comment: string;
  kernel: string;
  grid: string;
  block: string;
  args: string;
}

const dim = (xs: readonly number[]) => `dim3(${xs.join(', ')})`;

/** Buffers as vovc_enqueue holds them: the binding key -> the host expression. */
function hostArg(plan: KernelPlan, b: Binding): string {
  if (b.key === 'arena') return 'arena';
  if (b.key === 'input') return 'in';
  if (b.key === 'w') return 'w';
  return `out[${plan.outputs.findIndex((o) => `out:${o.name}` === b.key)}]`;
}

function sitesOf(plan: KernelPlan): Sites {
  return {
    view: (v: TensorView) => viewSite(plan, v),
    param: (p) => ({ key: 'w', name: 'wts', offset: p.offset }),
  };
}

/**
 * A groups-1 convolution: the hook struct vovc::conv_igemm<E> reads its geometry from, loads
 * the input and the weight through, and hands each accumulator to (the shared epilogue).
 */
function gemmConv(plan: KernelPlan, l: LaunchOfKind<'conv'>, name: string): { source: string; vm: Omit<LaunchVM, 'index' | 'comment'> } {
  const d = cudaDialect(l.needs64bit);
  const k = new KernelBuilder(d, sitesOf(plan));
  const [x, y] = [l.inputs[0], l.output];
  const a = l.attrs;
  const K = x.shape[1] * a.kernel[0] * a.kernel[1];
  const xa = k.view(x, false);
  const wt = k.param(l.params.weight);
  const store = k.fork();
  epilogue(store, { bias: l.params.bias, act: a.act, residual: a.residual ? l.inputs[1] : undefined, output: y }, ['n', 'c', 'oh', 'ow'], 'acc');
  const [n, , oh, ow] = y.shape;
  const geometry = { N: n, CIN: x.shape[1], H: x.shape[2], W: x.shape[3], COUT: y.shape[1], OH: oh, OW: ow, KH: a.kernel[0], KW: a.kernel[1], SH: a.stride[0], SW: a.stride[1], PT: a.pad[0], PL: a.pad[1] };
  const I = d.index;
  const source = [
    `// ${launchComment(l)}`,
    `struct ${name} {`,
    `  using I = ${I};`,
    `  static constexpr int ${Object.entries(geometry).map(([kk, v]) => `${kk} = ${v}`).join(', ')};`,
    ...k.bindings.map((b) => `  ${cudaParam(b)};`),
    `  __device__ __forceinline__ float x(I n, I ci, I ih, I iw) const { return ${xa.load('n', 'ci', 'ih', 'iw')}; }`,
    `  __device__ __forceinline__ float weight(I m, I kk) const { return ${wt.at(`m * ${d.i(K)} + kk`)}; }`,
    `  __device__ __forceinline__ void store(I n, I c, I oh, I ow, float acc) const {`,
    ...store.body().map((s) => `  ${s}`),
    '  }',
    '};',
  ].join('\n');
  const pixels = n * oh * ow;
  return {
    source,
    vm: {
      kernel: `vovc::conv_igemm<${name}>`,
      grid: dim([Math.ceil(pixels / CONV_TILE_P), Math.ceil(y.shape[1] / CONV_TILE_M)]),
      block: dim([CONV_THREADS]),
      args: `${name}{${k.bindings.map((b) => hostArg(plan, b)).join(', ')}}`,
    },
  };
}

/** The kernels of one launch (source) and their launches in vovc_enqueue (a concat of an unoptimized plan is one per input). */
export function renderLaunch(plan: KernelPlan, l: Launch): { kernels: string[]; launches: LaunchVM[] } {
  const comment = launchComment(l);
  if (isGemmConv(l)) {
    const g = gemmConv(plan, l, `Conv${l.index}`);
    return { kernels: [g.source], launches: [{ index: l.index, comment, ...g.vm }] };
  }
  const rs = renderShared(l, cudaDialect(l.needs64bit), sitesOf(plan), `k${l.index}_${l.kind}`);
  return {
    kernels: rs.map((r) => r.source),
    launches: rs.map((r) => ({ index: l.index, comment, kernel: r.name, grid: dim(r.groups), block: dim([r.workgroup]), args: r.bindings.map((b) => hostArg(plan, b)).join(', ') })),
  };
}

/** Every kernel of the plan and its launch in vovc_enqueue. */
export function renderLaunches(plan: KernelPlan): { kernels: string[]; launches: LaunchVM[] } {
  const all = plan.launches.map((l) => renderLaunch(plan, l));
  return { kernels: all.flatMap((a) => a.kernels), launches: all.flatMap((a) => a.launches) };
}

function template(name: string): Template {
  const t = backendTemplates('cuda')[name];
  if (!t) throw new Error(`internal: no CUDA template '${name}'`);
  return t;
}

/** The view-model every template renders from. */
function viewModel(plan: KernelPlan, meta: ArtifactMeta) {
  const shape4 = (s: readonly number[]) => [...s, 0, 0, 0, 0].slice(0, 4).join(', ');
  const { kernels, launches } = renderLaunches(plan);
  return {
    version: meta.vovcVersion,
    model: plan.model,
    weightsOrigin: meta.weights === 'checkpoint' ? 'the checkpoint given to vovc build' : 'vovc\'s seeded initialization (no checkpoint was given)',
    cmakeName: plan.model.replace(/[^A-Za-z0-9_]/g, '_'),
    inputShape: plan.input.shape.join(', '),
    inputElements: plan.input.elements,
    outputs: plan.outputs.map((o) => ({ name: o.name, rank: o.shape.length, shape: shape4(o.shape), shapeText: o.shape.join(', '), elements: o.elements })),
    arenaBytes: plan.arenaBytes,
    weightElements: plan.weights.totalElements,
    kernels: kernels.join('\n\n'),
    launches,
    launchCount: plan.launches.length,
    params: plan.weights.entries.map((e) => ({ name: e.name, offset: e.offset, shape: e.shape.join(', ') })),
    align: ALIGN_ELEMENTS,
    blobVersion: BLOB_VERSION,
    blobHeaderBytes: BLOB_HEADER_BYTES,
  };
}

/** Renders every source file of the artifact: relative path -> contents. */
export function renderSources(plan: KernelPlan, meta: ArtifactMeta): Map<string, string> {
  for (const o of plan.outputs) if (o.shape.length > 4) throw new Error(`internal: output '${o.name}' has rank ${o.shape.length}; plans describe rank 4 at most`);
  const vm = viewModel(plan, meta);
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
 * The same file as encodeBlob(packWeights(plan, data)), as chunks to write in order: the
 * header, then each parameter's bytes (a view of its data, not a copy) and the zeros that
 * align the next one. Packing would hold one more copy of every weight while the file is written.
 */
export function blobChunks(plan: KernelPlan, data: WeightData): Uint8Array[] {
  const zeros = new Uint8Array(4 * ALIGN_ELEMENTS);
  const body: Uint8Array[] = [];
  let at = 0;
  const pad = (to: number) => {
    if (to > at) body.push(zeros.subarray(0, 4 * (to - at)));
  };
  for (const { entry, data: d } of weightData(plan, data)) {
    pad(entry.offset);
    body.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    at = entry.offset + entry.numel;
  }
  pad(plan.weights.totalElements);
  return [blobHeader(plan.weights.totalElements, body), ...body];
}


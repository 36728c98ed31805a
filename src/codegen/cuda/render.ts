// Renders a KernelPlan into the files of a CUDA artifact. Every launch becomes a kernel of
// vovc_model.cu with its shapes, offsets and strides as constants: the shared C-style kernels
// (src/codegen/cstyle/) in the CUDA dialect, and for the groups-1 convolutions the implicit
// GEMM of vovc_kernels.cuh instantiated with a hook struct (input read, weight read,
// epilogue) that the same renderer writes. templates/cuda/*.hbs only lay the strings out.

import { toBf16Bits, toF16Bits } from '../../ir/precision.js';
import { ALIGN_ELEMENTS, DTYPE_BYTES, type DType, type KernelPlan, type Launch, type LaunchOfKind, type TensorView, type WeightData, type WeightRef } from '../../plan/types.js';
import { weightData } from '../../plan/weights.js';
import type { ArtifactMeta } from '../../targets/contract.js';
import { CUDA_TYPE, cudaDialect, cudaParam } from '../cstyle/cuda.js';
import type { Binding } from '../cstyle/dialect.js';
import { KernelBuilder, viewSite, type Sites } from '../cstyle/kernel.js';
import { deformSampler, epilogue, isGemmConv, launchComment, renderShared } from '../cstyle/kernels.js';
import { backendTemplates, type Template } from '../templates.js';
import { DEFAULT_GPU, findGpu } from '../../hw/gpus.js';
import { candidateTiles, chooseTile, TC_THREADS, type SmFacts, type TcTile, type TileChoice } from './tiles.js';

/** Weight blob format (see templates/cuda/README.md.hbs). */
const BLOB_VERSION = 1;
const BLOB_HEADER_BYTES = 32;
const BLOB_MAGIC = 'VOVCWTS\0';

/** Files rendered from templates/cuda/<name>.hbs, in the order `build` lists them (vovc_tc.cuh only with tensor cores). */
const TEMPLATE_FILES = ['CMakeLists.txt', 'README.md', 'vovc.h', 'vovc_cuda.h', 'vovc_demo.cu', 'vovc_kernels.cuh', 'vovc_model.cu', 'vovc_model.h', 'vovc_runtime.cu', 'vovc_tc.cuh'] as const;

/** Element type codes of the weight blob header (bytes 28..31; 0 = f32, the only type of earlier blobs). */
const BLOB_DTYPE: Readonly<Record<DType, number>> = { f32: 0, f16: 1, bf16: 2 };

/** The SM facts of a GPU profile (data/gpus.json) that the tile choice reads. */
export function smFacts(gpu: string = DEFAULT_GPU): SmFacts {
  const sm = findGpu(gpu).sm;
  if (!sm) throw new Error(`internal: GPU profile '${gpu}' has no SM facts (the cuda target's --gpu checks this)`);
  return { count: sm.count.value, sharedMemoryBytes: sm.sharedMemoryBytes.value, registers: sm.registers.value, maxThreads: sm.maxThreads.value, maxBlocks: sm.maxBlocks.value };
}

/** How a CUDA artifact is rendered beyond the plan: the GPU its tensor-core tiles are chosen for. */
export interface CudaRenderOptions {
  readonly gpu?: string;
  /** Every tensor-core convolution with this tile instead of the chosen one (one of candidateTiles; for tests). */
  readonly tile?: TcTile;
  /** The C API's buffers in the storage type (no conversion at the ends); float32 otherwise. */
  readonly ioNative?: boolean;
}
/** Weight rows of a tensor-core convolution are K padded to this many elements (16-byte cp.async chunks of f16). */
const TC_K_ALIGN = 8;

/** Whether the plan's groups-1 convolutions run on tensor cores (every precision but fp32). */
const usesTensorCores = (plan: KernelPlan): boolean => plan.precision !== 'fp32';

/**
 * Where each parameter sits in weights.bin. fp32: the plan's own layout. With tensor cores, each
 * groups-1 convolution's weight is pre-arranged as a [COUT][KP] matrix (KP = K rounded up to
 * TC_K_ALIGN, zero padded) so that every row starts 16-byte aligned for cp.async; everything
 * else keeps its shape; every entry starts on ALIGN_ELEMENTS.
 */
export interface CudaWeightLayout {
  readonly offset: ReadonlyMap<string, number>;
  /** K pitch of the pre-arranged convolution weights, by parameter name. */
  readonly pitch: ReadonlyMap<string, number>;
  readonly totalElements: number;
}

export function cudaWeightLayout(plan: KernelPlan): CudaWeightLayout {
  const pitch = new Map<string, number>();
  if (usesTensorCores(plan)) {
    for (const l of plan.launches) {
      if (!isGemmConv(l)) continue;
      const [, cin, kh, kw] = l.params.weight.shape;
      pitch.set(l.params.weight.name, Math.ceil((cin * kh * kw) / TC_K_ALIGN) * TC_K_ALIGN);
    }
  }
  if (!pitch.size) return { offset: new Map(plan.weights.entries.map((e) => [e.name, e.offset])), pitch, totalElements: plan.weights.totalElements };
  const offset = new Map<string, number>();
  let at = 0;
  for (const e of plan.weights.entries) {
    offset.set(e.name, at);
    const size = pitch.has(e.name) ? e.shape[0] * pitch.get(e.name)! : e.numel;
    at = Math.ceil((at + size) / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;
  }
  return { offset, pitch, totalElements: at };
}

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

function sitesOf(plan: KernelPlan, layout: CudaWeightLayout): Sites {
  return {
    view: (v: TensorView) => viewSite(plan, v),
    // fp32 layouts are the plan's own: a parameter outside the layout's map keeps its plan offset.
    param: (p: WeightRef) => ({ key: 'w', name: 'wts', offset: layout.offset.get(p.name) ?? p.offset }),
  };
}

/**
 * A groups-1 convolution: the hook struct vovc::conv_igemm<E> reads its geometry from, loads
 * the input and the weight through, and hands each accumulator to (the shared epilogue).
 */
/** A groups-1 convolution the CUDA GEMM kernels compute: ordinary or deformable. */
type GemmLaunch = LaunchOfKind<'conv'> | LaunchOfKind<'deform_conv'>;

/**
 * The hook lines that make a deformable launch's GEMM read sampled values: DEFORM, the shared
 * sampler (cstyle's deformSampler) and `xsample(n, rem, k)`, the B element of GEMM row k at
 * output pixel rem of image n, in the type `t` the kernel stages (float, or the storage type
 * on tensor cores: the sample is rounded once, as every stored operand is).
 */
function deformHook(k: KernelBuilder, l: GemmLaunch, t: string, fromFloat: string, I: string): string[] {
  if (l.kind !== 'deform_conv') return ['  static constexpr bool DEFORM = false;'];
  const taps = l.attrs.kernel[0] * l.attrs.kernel[1];
  const ow = l.output.shape[3];
  return [
    '  static constexpr bool DEFORM = true;',
    ...deformSampler(k, l).split('\n').map((x) => `  ${x}`),
    `  __device__ __forceinline__ ${t} xsample(${I} n, ${I} rem, int k) const { return ${fromFloat}(sample(n, k / ${taps}, k % ${taps}, rem / ${ow}, rem % ${ow})); }`,
  ];
}

/** H and W of the input, which the kernels' im2col reads (a deformable conv's sampler has them as literals). */
const inputSize = (l: GemmLaunch): { H?: number; W?: number } => (l.kind === 'conv' ? { H: l.inputs[0].shape[2], W: l.inputs[0].shape[3] } : {});

function gemmConv(plan: KernelPlan, layout: CudaWeightLayout, l: GemmLaunch, name: string, sm: () => SmFacts, tile?: TcTile): { source: string; vm: Omit<LaunchVM, 'index' | 'comment'> } {
  if (usesTensorCores(plan)) return tensorCoreConv(plan, layout, l, name, sm(), tile);
  const d = cudaDialect(l.needs64bit);
  const k = new KernelBuilder(d, sitesOf(plan, layout));
  const [x, y] = [l.inputs[0], l.output];
  const a = l.attrs;
  const K = x.shape[1] * a.kernel[0] * a.kernel[1];
  const xa = k.view(x, false);
  const wt = k.param(l.params.weight);
  const store = k.fork();
  epilogue(store, { bias: l.params.bias, act: a.act, residual: l.kind === 'conv' && a.residual ? l.inputs[1] : undefined, output: y }, ['n', 'c', 'oh', 'ow'], 'acc');
  const deform = deformHook(k, l, 'float', '', d.index);
  const [n, , oh, ow] = y.shape;
  const geometry = { N: n, CIN: x.shape[1], ...inputSize(l), COUT: y.shape[1], OH: oh, OW: ow, KH: a.kernel[0], KW: a.kernel[1], SH: a.stride[0], SW: a.stride[1], PT: a.pad[0], PL: a.pad[1] };
  const I = d.index;
  const source = [
    `// ${launchComment(l)}`,
    `struct ${name} {`,
    `  using I = ${I};`,
    `  static constexpr int ${Object.entries(geometry).map(([kk, v]) => `${kk} = ${v}`).join(', ')};`,
    ...k.bindings.map((b) => `  ${cudaParam(b)};`),
    ...deform,
    // A deformable conv reads its input through the sampler only.
    ...(l.kind === 'conv' ? [`  __device__ __forceinline__ float x(I n, I ci, I ih, I iw) const { return ${xa.load('n', 'ci', 'ih', 'iw')}; }`] : []),
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

/**
 * A groups-1 convolution on tensor cores: the hook struct of vovc::conv_tc<E> (the storage
 * type, the raw input read, the pre-arranged weight rows, the shared epilogue).
 */
function tensorCoreConv(plan: KernelPlan, layout: CudaWeightLayout, l: GemmLaunch, name: string, sm: SmFacts, forced?: TcTile): { source: string; vm: Omit<LaunchVM, 'index' | 'comment'> } {
  const d = cudaDialect(l.needs64bit);
  const sites = sitesOf(plan, layout);
  const k = new KernelBuilder(d, sites);
  const [x, y] = [l.inputs[0], l.output];
  const a = l.attrs;
  const xa = k.view(x, false);
  const w = l.params.weight;
  const wt = k.param(w);
  const store = k.fork();
  epilogue(store, { bias: l.params.bias, act: a.act, residual: l.kind === 'conv' && a.residual ? l.inputs[1] : undefined, output: y }, ['n', 'c', 'oh', 'ow'], 'acc');
  const deform = deformHook(k, l, 'T', x.dtype === 'f16' ? '__float2half_rn' : x.dtype === 'bf16' ? '__float2bfloat16_rn' : '', d.index);
  const [n, , oh, ow] = y.shape;
  const KP = layout.pitch.get(w.name)!;
  const pixels = n * oh * ow;
  if (forced && !candidateTiles(plan.precision).some((t) => t.bm === forced.bm && t.bn === forced.bn)) throw new Error(`internal: tile ${forced.bm} x ${forced.bn} is not offered at ${plan.precision}`);
  const tile = chooseTile(y.shape[1], pixels, plan.precision, sm, forced);
  const geometry = { N: n, CIN: x.shape[1], ...inputSize(l), COUT: y.shape[1], OH: oh, OW: ow, KH: a.kernel[0], KW: a.kernel[1], SH: a.stride[0], SW: a.stride[1], PT: a.pad[0], PL: a.pad[1], KP, BM: tile.bm, BN: tile.bn };
  const I = d.index;
  // The input tile by cp.async: a 1x1, stride-1, unpadded conv whose input planes are dense
  // rows of H*W elements, every row start 16-byte aligned and H*W a multiple of a 16-byte chunk.
  const epc = 16 / DTYPE_BYTES[x.dtype];
  const [xs0, xs1, xs2, xs3] = x.strides;
  const asyncB =
    l.kind === 'conv' &&
    a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pad.every((q) => q === 0) &&
    xs3 === 1 && xs2 === x.shape[3] && [x.offset, xs0, xs1, x.shape[2] * x.shape[3]].every((v) => v % epc === 0);
  const source = [
    `// ${launchComment(l)}`,
    `// tile ${tileText(tile)}${asyncB ? '; input tile by cp.async' : ''}`,
    `struct ${name} {`,
    `  using I = ${I};`,
    `  using T = ${CUDA_TYPE[x.dtype]};`,
    `  static constexpr bool TF32 = ${plan.precision === 'tf32'}, BF16 = ${plan.precision === 'bf16'}, ASYNC_B = ${asyncB};`,
    `  static constexpr int ${Object.entries(geometry).map(([kk, v]) => `${kk} = ${v}`).join(', ')};`,
    ...k.bindings.map((b) => `  ${cudaParam(b)};`),
    ...deform,
    ...(l.kind === 'conv' ? [`  __device__ __forceinline__ T xs(I n, I ci, I ih, I iw) const { return ${xa.buf}[${xa.at('n', 'ci', 'ih', 'iw')}]; }`] : []),
    `  __device__ __forceinline__ const T* xrow(I n, I ci) const { return ${xa.buf} + ${xa.at('n', 'ci', d.i(0), d.i(0))}; }`,
    `  __device__ __forceinline__ const T* wrow(I m) const { return ${wt.buf} + ${d.i(sites.param(w).offset)} + m * ${d.i(KP)}; }`,
    `  __device__ __forceinline__ void store(I n, I c, I oh, I ow, float acc) const {`,
    ...store.body().map((s) => `  ${s}`),
    '  }',
    '};',
  ].join('\n');
  return {
    source,
    vm: {
      kernel: `vovc::conv_tc<${name}>`,
      grid: dim([Math.ceil(pixels / tile.bn), Math.ceil(y.shape[1] / tile.bm)]),
      block: dim([TC_THREADS]),
      args: `${name}{${k.bindings.map((b) => hostArg(plan, b)).join(', ')}}`,
    },
  };
}

/** One line on a tile choice, for the kernel's comment: the tile and why. */
const tileText = (t: TileChoice) => `${t.bm} x ${t.bn}: ${t.blocks} blocks, ${t.blocksPerSm} per SM (${t.limit}), ${t.waves} wave${t.waves > 1 ? 's' : ''}; ${t.registers} registers, ${t.sharedBytes} bytes shared`;

/** The kernels of one launch (source) and their launches in vovc_enqueue (a concat of an unoptimized plan is one per input). */
export function renderLaunch(plan: KernelPlan, l: Launch, layout: CudaWeightLayout = cudaWeightLayout(plan), sm: () => SmFacts = () => smFacts(), tile?: TcTile): { kernels: string[]; launches: LaunchVM[] } {
  const comment = launchComment(l);
  if (isGemmConv(l)) {
    const g = gemmConv(plan, layout, l, `Conv${l.index}`, sm, tile);
    return { kernels: [g.source], launches: [{ index: l.index, comment, ...g.vm }] };
  }
  const rs = renderShared(l, cudaDialect(l.needs64bit), sitesOf(plan, layout), `k${l.index}_${l.kind}`);
  return {
    kernels: rs.map((r) => r.source),
    launches: rs.map((r) => ({ index: l.index, comment, kernel: r.name, grid: dim(r.groups), block: dim([r.workgroup]), args: r.bindings.map((b) => hostArg(plan, b)).join(', ') })),
  };
}

/** Every kernel of the plan and its launch in vovc_enqueue. */
export function renderLaunches(plan: KernelPlan, opts: CudaRenderOptions = {}, layout: CudaWeightLayout = cudaWeightLayout(plan)): { kernels: string[]; launches: LaunchVM[] } {
  let facts: SmFacts | undefined;
  const sm = () => (facts ??= smFacts(opts.gpu));
  const all = plan.launches.map((l) => renderLaunch(plan, l, layout, sm, opts.tile));
  return { kernels: all.flatMap((a) => a.kernels), launches: all.flatMap((a) => a.launches) };
}

function template(name: string): Template {
  const t = backendTemplates('cuda')[name];
  if (!t) throw new Error(`internal: no CUDA template '${name}'`);
  return t;
}

/** The view-model every template renders from. */
function viewModel(plan: KernelPlan, meta: ArtifactMeta, opts: CudaRenderOptions) {
  const shape4 = (s: readonly number[]) => [...s, 0, 0, 0, 0].slice(0, 4).join(', ');
  const layout = cudaWeightLayout(plan);
  const { kernels, launches } = renderLaunches(plan, opts, layout);
  const dtype = plan.weights.dtype;
  const reduced = dtype !== 'f32';
  return {
    precision: plan.precision,
    tensorCores: usesTensorCores(plan),
    gpu: opts.gpu ?? DEFAULT_GPU,
    // The storage type of every buffer and its conversions (cuda_fp16.h / cuda_bf16.h).
    st: CUDA_TYPE[dtype],
    reduced,
    // The C API's element type: float32 with conversions in the graph, or (--io native) the storage bits.
    convertIo: reduced && !opts.ioNative,
    ioNative: reduced && !!opts.ioNative,
    ioCType: reduced && opts.ioNative ? 'uint16_t' : 'float',
    ioBytes: reduced && opts.ioNative ? 2 : 4,
    ioDoc: reduced && opts.ioNative ? `${dtype === 'bf16' ? 'bfloat16' : 'IEEE binary16'} bit patterns, the storage type (built with --io native)` : reduced ? `float32 (the graph converts to and from ${CUDA_TYPE[dtype]}, round to nearest even)` : 'float32',
    toFloat: dtype === 'bf16' ? '__bfloat162float' : '__half2float',
    fromFloat: dtype === 'bf16' ? '__float2bfloat16_rn' : '__float2half_rn',
    elementBytes: DTYPE_BYTES[dtype],
    blobDtype: BLOB_DTYPE[dtype],
    version: meta.vovcVersion,
    model: plan.model,
    weightsOrigin: meta.weights === 'checkpoint' ? 'the checkpoint given to vovc build' : 'vovc\'s seeded initialization (no checkpoint was given)',
    cmakeName: plan.model.replace(/[^A-Za-z0-9_]/g, '_'),
    inputShape: plan.input.shape.join(', '),
    inputElements: plan.input.elements,
    outputs: plan.outputs.map((o) => ({ name: o.name, rank: o.shape.length, shape: shape4(o.shape), shapeText: o.shape.join(', '), elements: o.elements })),
    arenaBytes: plan.arenaBytes,
    weightElements: layout.totalElements,
    kernels: kernels.join('\n\n'),
    launches,
    launchCount: plan.launches.length,
    params: plan.weights.entries.map((e) => ({ name: e.name, offset: layout.offset.get(e.name)!, shape: e.shape.join(', '), pitch: layout.pitch.has(e.name) ? `${e.shape[0]} x ${layout.pitch.get(e.name)}` : '-' })),
    align: ALIGN_ELEMENTS,
    blobVersion: BLOB_VERSION,
    blobHeaderBytes: BLOB_HEADER_BYTES,
  };
}

/** Renders every source file of the artifact: relative path -> contents. */
export function renderSources(plan: KernelPlan, meta: ArtifactMeta, opts: CudaRenderOptions = {}): Map<string, string> {
  for (const o of plan.outputs) if (o.shape.length > 4) throw new Error(`internal: output '${o.name}' has rank ${o.shape.length}; plans describe rank 4 at most`);
  const vm = viewModel(plan, meta, opts);
  return new Map(TEMPLATE_FILES.filter((f) => f !== 'vovc_tc.cuh' || vm.tensorCores).map((f) => [f, template(f)(vm)]));
}

/** FNV-1a over the concatenation of `chunks`. */
function fnv1a(chunks: readonly Uint8Array[]): number {
  let h = 0x811c9dc5;
  for (const bytes of chunks) for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

function blobHeader(elements: number, body: readonly Uint8Array[], dtype: DType = 'f32'): Buffer {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('internal: big-endian hosts are not supported');
  const head = Buffer.alloc(BLOB_HEADER_BYTES);
  head.write(BLOB_MAGIC, 0, 'latin1');
  head.writeUInt32LE(BLOB_VERSION, 8);
  head.writeUInt32LE(BLOB_HEADER_BYTES, 12);
  head.writeBigUInt64LE(BigInt(elements), 16);
  head.writeUInt32LE(fnv1a(body), 24);
  head.writeUInt32LE(BLOB_DTYPE[dtype], 28);
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
  if (plan.weights.dtype !== 'f32' || usesTensorCores(plan)) return convertedBlob(plan, data);
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


/**
 * weights.bin of a reduced-precision plan: each parameter converted to the storage type (round
 * to nearest even; tf32 keeps float32: the kernels round the operands), at its CudaWeightLayout
 * offset, tensor-core convolution weights as zero-padded [COUT][KP] rows.
 */
function convertedBlob(plan: KernelPlan, data: WeightData): Uint8Array[] {
  const layout = cudaWeightLayout(plan);
  const dtype = plan.weights.dtype;
  const eb = DTYPE_BYTES[dtype];
  const body = new Uint8Array(layout.totalElements * eb);
  const encode = (d: Float32Array): Uint8Array => {
    const v = dtype === 'f16' ? toF16Bits(d) : dtype === 'bf16' ? toBf16Bits(d) : d;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  };
  for (const { entry, data: d } of weightData(plan, data)) {
    const at = layout.offset.get(entry.name)! * eb;
    const pitch = layout.pitch.get(entry.name);
    const bytes = encode(d);
    if (pitch === undefined) {
      body.set(bytes, at);
      continue;
    }
    const k = entry.numel / entry.shape[0];
    for (let m = 0; m < entry.shape[0]; m++) body.set(bytes.subarray(m * k * eb, (m + 1) * k * eb), at + m * pitch * eb);
  }
  return [blobHeader(layout.totalElements, [body], dtype), body];
}

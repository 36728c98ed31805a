// Renders a KernelPlan into WGSL compute shaders, one module per dispatch, and the dispatch
// list of the host module (host.ts). Every shape, offset and stride is a constant of its
// shader; each binding covers a whole buffer:
//   arena           read_write, always (a launch may read and write it)
//   input           read
//   out:<name>      read_write in the launch that writes it, read in later launches
//   w<k>            read, the k-th weight chunk (chunks.ts); array<vec4<f32>> in a GEMM conv
//                   shader, array<f32> elsewhere
// The kernels are the C-style renderer's (src/codegen/cstyle/) in the WGSL dialect, except the
// groups-1 convolution, whose tiled implicit GEMM is WGSL's own (conv.wgsl.hbs: workgroup tiles,
// vec4 weights repacked by weights.ts) and calls the shared epilogue as its store hook.
// Indices fit i32/u32: every binding is below 128 MiB, so `needs64bit` never applies here.

import type { KernelPlan, Launch, LaunchOfKind, TensorView, WeightRef } from '../../plan/types.js';
import type { Binding } from '../cstyle/dialect.js';
import { foldGroups } from '../cstyle/dispatch.js';
import { KernelBuilder, viewSite, type Sites } from '../cstyle/kernel.js';
import { deformSampler, epilogue, isGemmConv, launchComment, launchError, renderShared } from '../cstyle/kernels.js';
import { nanHelpers, wgslBindings, wgslDialect } from '../cstyle/wgsl.js';
import { backendTemplates } from '../templates.js';
import { chunkWeights } from './chunks.js';
import { MAX_STORAGE_BUFFERS_PER_STAGE } from './limits.js';
import { gemmTile } from './tile.js';
import { entryKey, kxnDims, wgslWeightLayout, type WgslWeightEntry, type WgslWeightLayout } from './weights.js';

export interface Dispatch {
  readonly shader: number;
  readonly bindings: { binding: number; buffer: string }[];
  readonly groups: [number, number];
}

export interface RenderedShaders {
  /**
   * One shader per dispatch: file name (under shaders/) and WGSL text; with packed fp16 storage
   * a GEMM conv also has its `shader-f16` variant (`f16`, file `f16File`), which the host module
   * uses when the device has the feature.
   */
  readonly shaders: { file: string; code: string; launch: number; f16?: string; f16File?: string }[];
  readonly dispatches: Dispatch[];
  /** The layout of weights.bin (fill it with packWgslWeights) and its chunks' first elements. */
  readonly weights: WgslWeightLayout;
  readonly chunkStarts: readonly number[];
  readonly chunkEnds: readonly number[];
}

/** Where the weights live: the blob layout by entryKey, and the chunks' first elements. */
interface WeightsVm {
  readonly byKey: ReadonlyMap<string, WgslWeightEntry>;
  readonly chunkStarts: readonly number[];
}

/** The chunk of blob element `offset`: its index and the element's offset inside it. */
function chunkOf(w: WeightsVm, offset: number): { k: number; local: number } {
  let k = w.chunkStarts.length - 1;
  while (w.chunkStarts[k] > offset) k--;
  return { k, local: offset - w.chunkStarts[k] };
}

function sitesOf(plan: KernelPlan, w: WeightsVm): Sites {
  return {
    view: (v: TensorView) => viewSite(plan, v),
    param(p: WeightRef) {
      const e = w.byKey.get(entryKey(p.name, 'dense'));
      if (!e) throw new Error(`internal: parameter '${p.name}' is missing from the WGSL weight layout`);
      const { k, local } = chunkOf(w, e.offset);
      return { key: `w${k}`, name: `wt${k}`, offset: local };
    },
  };
}

const tmpl = () => backendTemplates('wgsl');

/**
 * The GEMM convolution's shader: the conv template around the shared epilogue hook. With packed
 * fp16 storage also its `shader-f16` variant (f16 tiles and products, f32 accumulators).
 */
function gemmConv(plan: KernelPlan, w: WeightsVm, l: LaunchOfKind<'conv'> | LaunchOfKind<'deform_conv'>, version: string): { code: string; f16?: string; bindings: readonly Binding[]; groups: [number, number] } {
  const d = wgslDialect;
  const packed = d.packed(l.output.dtype);
  const sites = sitesOf(plan, w);
  const k = packed ? KernelBuilder.element(d, sites) : new KernelBuilder(d, sites);
  const [x, y] = [l.inputs[0], l.output];
  const [N, C, H, W] = y.shape;
  const a = l.attrs;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl] = a.pad;
  const xa = k.view(x, false);
  // The weight is the GEMM's [K, N4] operand, read as vec4 (its chunk is bound as vec4).
  const we = w.byKey.get(entryKey(l.params.weight.name, 'kxn'));
  if (!we) throw new Error(`internal: conv weight '${l.params.weight.name}' is missing from the WGSL weight layout`);
  const wc = chunkOf(w, we.offset);
  const wBuf = k.bind(`w${wc.k}`, `wt${wc.k}`, false, l.params.weight.dtype, true);
  const epi = k.fork();
  epilogue(epi, { bias: l.params.bias, act: a.act, residual: l.kind === 'conv' && a.residual ? l.inputs[1] : undefined, output: y }, ['n', 'c', 'oh', 'ow'], 'acc');
  // A deformable conv gathers its A tile through the shared bilinear sampler.
  const sampleFn = l.kind === 'deform_conv' ? deformSampler(k, l) : '';
  // Packed: pixels over planes padded to even (the plan's strides), two per invocation and word.
  const ohwp = packed ? Math.ceil((H * W) / 2) * 2 : H * W;
  if (packed && (y.strides[1] !== ohwp || (H > 1 && y.strides[2] !== W) || (W > 1 && y.strides[3] !== 1) || y.offset % 2 !== 0 || y.strides[0] % 2 !== 0)) {
    throw new Error(`internal: launch ${l.index}: packed output '${y.value}' (offset ${y.offset}, strides [${y.strides.join(', ')}]) is not in even planes`);
  }
  const yBuf = packed ? k.view(y, true).buf : '';
  const m = N * ohwp;
  const t = gemmTile(m, C);
  const bn4 = t.bn / 4;
  const nt = Math.ceil(Math.ceil(C / 4) / bn4);
  const tiles = Math.ceil(m / t.bm) * nt;
  const ij = <T>(f: (i: number, j: number) => T): T[] => Array.from({ length: t.tm * t.vn }, (_, q) => f(Math.floor(q / t.vn), q % t.vn));
  const pointwise = l.kind === 'conv' && kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0;
  const xv = { buf: xa.buf, off: x.offset, s0: x.strides[0], s1: x.strides[1], s2: x.strides[2], s3: x.strides[3] };
  const bindings = checkBindings(l, k.bindings);
  const aOff = (i: number) => (packed ? (i >> 1) * 2 * t.ty + (i & 1) : i * t.ty);
  const variant = (f16: boolean) => ({
    f16,
    xl: packed ? 'ldx(' : `${xa.buf}[`,
    xr: packed ? ')' : ']',
    bl: packed ? 'ldb(' : `${wBuf}[`,
    br: packed ? ')' : ']',
    aType: f16 ? 'f16' : 'f32',
    bType: f16 ? 'vec4<f16>' : 'vec4<f32>',
    aZero: f16 ? 'f16(0.0)' : '0.0',
    bZero: f16 ? 'vec4<f16>(0.0)' : 'vec4<f32>(0.0)',
    helpers: !packed
      ? ''
      : f16
        ? [
            `fn ldx(i: u32) -> f16 { return bitcast<vec2<f16>>(${xa.buf}[i >> 1u])[i & 1u]; }`,
            `fn ldb(i: u32) -> vec4<f16> { return bitcast<vec4<f16>>(${wBuf}[i]); }`,
          ].join('\n')
        : [
            `fn ldx(i: u32) -> f32 { return unpack2x16float(${xa.buf}[i >> 1u])[i & 1u]; }`,
            `fn ldb(i: u32) -> vec4<f32> { let p = ${wBuf}[i]; return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y)); }`,
          ].join('\n'),
    fmas: ij((i, j) => (f16 ? `acc${i}_${j} += vec4<f32>(a${i} * b${j});` : `acc${i}_${j} += a${i} * b${j};`)),
  });
  const render = (f16: boolean) => tmpl()['conv.wgsl']({
    header: wgslBindings(`vovc ${version} | ${plan.model} | launch ${l.index}: ${launchComment(l)}${f16 ? ' (shader-f16)' : ''}`, bindings),
    epilogueFn: [nanHelpers(epi.body().join('\n')), `fn epi(n: i32, c: i32, oh: i32, ow: i32, acc: f32)${packed ? ' -> f32' : ''} {`, ...epi.body(), '}'].filter((x) => x).join('\n'),
    deform: l.kind === 'deform_conv', sampleFn,
    packed, ohwp, plane: packed ? 'OHWP' : 'OHW', tyTerm: packed ? '2u * ty' : 'ty', pairs: t.tm / 2,
    y: { buf: yBuf, off: y.offset, s0: y.strides[0] },
    ...variant(f16),
    h: x.shape[2], w: x.shape[3], cout: C, oh: H, ow: W, kh, kw, sh, sw, pt, pl,
    x: xv, wBuf, pointwise, m, k: x.shape[1] * kh * kw, nv: kxnDims([C, x.shape[1], kh, kw]).n4 / 4, ohw: H * W, khw: kh * kw,
    bm: t.bm, bn4, bk: t.bk, ty: t.ty, vn: t.vn, wgSize: t.invocations, nt, tiles, wOff4: wc.local / 4,
    aTile: t.bk * t.bm, bTile: t.bk * bn4, aRowsPerRound: Math.max(1, t.invocations / t.bm),
    aSlots: Array.from({ length: Math.max(1, t.bm / t.invocations) }, (_, s) => s),
    accs: ij((i, j) => `acc${i}_${j}`),
    aLoads: Array.from({ length: t.tm }, (_, i) => ({ name: `a${i}`, off: aOff(i) })),
    bLoads: Array.from({ length: t.vn }, (_, j) => ({ name: `b${j}`, off: j })),
    tileLen: t.tm * t.vn,
    accList: ij((i, j) => `acc${i}_${j}`).join(', '),
  });
  return { code: render(false), ...(packed ? { f16: render(true) } : {}), bindings, groups: foldGroups(tiles) };
}

function checkBindings(l: Launch, bindings: readonly Binding[]): readonly Binding[] {
  if (bindings.length > MAX_STORAGE_BUFFERS_PER_STAGE) launchError(l, 'E5105', `needs ${bindings.length} storage buffers, more than WebGPU's default ${MAX_STORAGE_BUFFERS_PER_STAGE} per stage`);
  return bindings;
}

/** Renders every shader and dispatch of `plan`. Pure: same plan, same text. */
export function renderShaders(plan: KernelPlan, version: string, opts: { chunkBytes?: number } = {}): RenderedShaders {
  const layout = wgslWeightLayout(plan);
  const { starts, ends } = chunkWeights(layout, opts.chunkBytes);
  const w: WeightsVm = { byKey: new Map(layout.entries.map((e) => [entryKey(e.name, e.packing), e])), chunkStarts: starts };
  const shaders: RenderedShaders['shaders'] = [];
  const dispatches: Dispatch[] = [];
  const add = (l: Launch, code: string, bindings: readonly Binding[], groups: [number, number], f16?: string) => {
    const i = shaders.length;
    const stem = `${String(i).padStart(3, '0')}_${l.kind}`;
    shaders.push({ file: `${stem}.wgsl`, code, launch: l.index, ...(f16 ? { f16, f16File: `${stem}.f16.wgsl` } : {}) });
    dispatches.push({ shader: i, bindings: bindings.map((b, binding) => ({ binding, buffer: b.key })), groups });
  };
  for (const l of plan.launches) {
    if (isGemmConv(l)) {
      const g = gemmConv(plan, w, l, version);
      add(l, g.code, g.bindings, g.groups, g.f16);
      continue;
    }
    for (const r of renderShared(l, wgslDialect, sitesOf(plan, w), `launch${l.index}`, `vovc ${version} | ${plan.model} | launch ${l.index}: ${launchComment(l)}`)) {
      checkBindings(l, r.bindings);
      add(l, r.source, r.bindings, r.groups);
    }
  }
  return { shaders, dispatches, weights: layout, chunkStarts: starts, chunkEnds: ends };
}

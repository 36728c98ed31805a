// Renders a KernelPlan into WGSL compute shaders and the host ES module that dispatches them.
//
// Every shape, offset and stride of a launch is known at build time (an artifact is specialized
// to one input shape), so they are baked into each shader as constants: no uniform buffers, no
// binding offsets (which would have to be 256-byte aligned), and the WGSL compiler folds the
// index arithmetic. Each binding covers a whole buffer:
//   arena           read_write, always (a launch may read and write it, and WebGPU forbids one
//                   buffer bound both read-only and writable in a dispatch)
//   input           read
//   out:<name>      read_write in the launch that writes it, read in later launches
//   w<k>            read, the k-th weight chunk (the blob split at parameter boundaries so that
//                   no chunk exceeds the 128 MiB default binding limit); array<vec4<f32>> in
//                   the conv GEMM shader, array<f32> elsewhere
// The weight blob is the artifact's own (see weights.ts): conv weights are repacked as the
// GEMM's [K, N4] B operand.
// Indices are u32: every binding is below 128 MiB, so `needs64bit` never applies here.
//
// The templates only hold syntax; this module computes every number and expression.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendTemplates, type Template } from '../templates.js';
import { fail } from '../../diag/diagnostics.js';
import type { Activation } from '../../ir/graph.js';
import type { KernelPlan, Launch, TensorView, WeightRef } from '../../plan/types.js';
import { packageRoot } from '../../util/paths.js';
import { MAX_INVOCATIONS_PER_WORKGROUP, MAX_STORAGE_BINDING_BYTES, MAX_STORAGE_BUFFERS_PER_STAGE, MAX_WORKGROUP_STORAGE_BYTES, MAX_WORKGROUPS_PER_DIM, WORKGROUP_SIZE } from './limits.js';
import { describeLayout, entryKey, isGemmConv, kxnDims, packingOf, wgslWeightLayout, type WgslWeightEntry, type WgslWeightLayout } from './weights.js';

export interface Dispatch {
  readonly shader: number;
  readonly bindings: { binding: number; buffer: string }[];
  readonly groups: [number, number];
}

export interface RenderedModel {
  /** One shader per dispatch: file name (under shaders/) and WGSL text. */
  readonly shaders: { file: string; code: string; launch: number }[];
  readonly dispatches: Dispatch[];
  /** Storage buffers by name with their byte sizes. */
  readonly buffers: Record<string, number>;
  /** Weight chunk buffer name -> [begin, end) bytes in the weights blob. */
  readonly chunks: Record<string, [number, number]>;
  /** The layout of weights.bin (fill it with packWgslWeights) and its description, weights.json. */
  readonly weights: WgslWeightLayout;
  readonly weightsJson: string;
  readonly hostTs: string;
  readonly hostJs: string;
  readonly dts: string;
  readonly html: string;
}

function loadTemplates(): Record<string, Template> {
  return backendTemplates('wgsl');
}

const ACT: Readonly<Record<Activation, string>> = {
  none: 'v',
  relu: 'max(v, 0.0)',
  hardsigmoid: 'clamp(v / 6.0 + 0.5, 0.0, 1.0)',
  sigmoid: '1.0 / (1.0 + exp(-v))',
};

/** ACT over a vec4<f32> `v` (WGSL's max / clamp take no scalar beside a vector). */
const ACT4: Readonly<Record<Activation, string>> = {
  none: 'v4',
  relu: 'max(v4, vec4<f32>(0.0))',
  hardsigmoid: 'clamp(v4 / 6.0 + 0.5, vec4<f32>(0.0), vec4<f32>(1.0))',
  sigmoid: '1.0 / (1.0 + exp(-v4))',
};

/** A float literal WGSL accepts (always with a decimal point or exponent). */
function f32(x: number): string {
  if (!Number.isFinite(x)) fail('E5101', `wgsl: non-finite constant ${x}`);
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * Chunks the weight blob at entry boundaries, each at most `maxBytes` (default
 * MAX_STORAGE_BINDING_BYTES). Entries start on 64-element boundaries, so chunks do too.
 */
export function chunkWeights(layout: WgslWeightLayout, maxBytes = MAX_STORAGE_BINDING_BYTES): { starts: number[]; ends: number[] } {
  const maxEl = maxBytes / 4;
  const starts: number[] = [0];
  for (const e of layout.entries) {
    if (e.numel > maxEl) fail('E5102', `wgsl: parameter '${e.name}' has ${e.numel * 4} bytes, more than one WebGPU storage binding may hold (${maxBytes})`);
    if (e.offset + e.numel - starts[starts.length - 1] > maxEl) starts.push(e.offset);
  }
  const ends = starts.map((_, i) => (i + 1 < starts.length ? starts[i + 1] : layout.totalElements));
  return { starts, ends };
}

/** The implicit-GEMM conv tile for M output pixels and `cout` channels (see conv.wgsl.hbs). */
export interface GemmTile {
  /** Pixels and channels per workgroup, K per step. */
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  /** Pixels and vec4 columns per invocation. */
  readonly tm: number;
  readonly vn: number;
  /** Invocations along pixels and along channels. */
  readonly ty: number;
  readonly tx: number;
  readonly invocations: number;
  readonly workgroupBytes: number;
}

/**
 * The tile for M output pixels and `cout` channels. An invocation owns TM = 8 pixels x VN = 2
 * vec4 columns (16 accumulators). On CPU-emulated adapters every workgroup-memory load with a
 * per-invocation index is a per-lane gather, so the tile is as tall as the compile time
 * allows: measured on SwiftShader and llvmpipe, TM = 8 runs 1.5-2x faster than TM = 4, while
 * VN = 3..5 gains nothing more and llvmpipe's shader compile time grows with the number of
 * accumulators (about 0.5 s for 8, 1.2 s for 16, 3 s for 32). The channel tile BN = 8 * TX
 * (TX a power of two up to 8, so pixel staging divides evenly) trades zero padding past Cout
 * against the number of channel tiles. The pixel tile BM (up to 64) shrinks for the small feature maps of late stages,
 * down to 4 pixels (then TM = BM) while that leaves fewer than MIN_WORKGROUPS workgroups, so
 * that every core of a CPU adapter gets work.
 */
export function gemmTile(m: number, cout: number): GemmTile {
  const bk = 16;
  const vn = 2;
  const c4 = Math.ceil(cout / 4);
  let tx = 1;
  let cost = Infinity;
  for (const t of [1, 2, 4, 8]) {
    // Zero-padded vec4 columns, plus 4 columns' worth per channel tile: each tile stages the
    // A tile again and has fewer invocations. Ties go to the wider tile.
    const tiles = Math.ceil(c4 / (t * vn));
    const c = tiles * t * vn + 4 * tiles;
    if (c <= cost) [tx, cost] = [t, c];
  }
  const nt = Math.ceil(c4 / (tx * vn));
  let bm = 4;
  while (bm < m && bm < 64) bm *= 2;
  while (bm > 4 && Math.ceil(m / bm) * nt < MIN_WORKGROUPS) bm /= 2;
  const tm = Math.min(8, bm);
  const ty = bm / tm;
  const bn = 4 * vn * tx;
  const invocations = ty * tx;
  const workgroupBytes = bk * bm * 4 + bk * bn * 4;
  // The staging loops need every invocation to own fixed pixels: WG divides BM or BM divides WG.
  if (invocations % bm !== 0 && bm % invocations !== 0) fail('E5110', `wgsl: bad conv tile ${bm}x${bn}x${bk}`);
  if (invocations > MAX_INVOCATIONS_PER_WORKGROUP || workgroupBytes > MAX_WORKGROUP_STORAGE_BYTES) fail('E5110', `wgsl: conv tile ${bm}x${bn}x${bk} exceeds the workgroup limits`);
  return { bm, bn, bk, tm, vn, ty, tx, invocations, workgroupBytes };
}

/** Fewest conv workgroups worth shrinking the pixel tile for (CPU adapters have a few cores). */
const MIN_WORKGROUPS = 4;

interface ViewVm { buf: string; off: number; s0: number; s1: number; s2: number; s3: number }

/** Where the weights live: the blob layout by entryKey, and the chunks' first elements. */
interface WeightsVm { readonly byKey: ReadonlyMap<string, WgslWeightEntry>; readonly chunkStarts: readonly number[] }

/** Collects the bindings one dispatch needs, in first-use order. */
class Bindings {
  private readonly list: { name: string; buffer: string; access: 'read' | 'read_write'; type: string }[] = [];
  constructor(
    private readonly plan: KernelPlan,
    private readonly weights: WeightsVm,
    private readonly launch: Launch,
  ) {}

  private bind(buffer: string, name: string, write: boolean, type = 'f32'): string {
    const found = this.list.find((b) => b.buffer === buffer);
    if (found) {
      if (found.type !== type) fail('E5111', `wgsl: launch ${this.launch.index} reads buffer '${buffer}' both as ${found.type} and as ${type}`);
      if (write) found.access = 'read_write';
      return found.name;
    }
    this.list.push({ name, buffer, access: write || buffer === 'arena' ? 'read_write' : 'read', type });
    return name;
  }

  view(v: TensorView, write: boolean, strides: readonly number[] = v.strides): ViewVm {
    let buf: string;
    if (v.buffer === 'arena') buf = this.bind('arena', 'arena', write);
    else if (v.buffer === 'input') buf = this.bind('input', 'inp', write);
    else {
      const i = this.plan.outputs.findIndex((o) => o.name === v.name);
      if (i < 0) fail('E5103', `wgsl: launch ${this.launch.index} uses output buffer '${v.name}', which the plan does not declare`);
      buf = this.bind(`out:${v.name}`, `out${i}`, write);
    }
    return { buf, off: v.offset, s0: strides[0], s1: strides[1], s2: strides[2], s3: strides[3] };
  }

  /**
   * The chunk binding and element offset of parameter `role` as this launch packs it. `vec4`
   * binds the chunk as array<vec4<f32>> and returns the offset in vec4 units.
   */
  param(role: string, vec4 = false): { buf: string; off: number } {
    const p: WeightRef | undefined = this.launch.params[role];
    if (!p) fail('E5104', `wgsl: launch ${this.launch.index} (${this.launch.kind}, ${this.launch.nodes[0]}) has no '${role}' parameter`);
    const e = this.weights.byKey.get(entryKey(p.name, packingOf(this.launch, role)));
    if (!e) fail('E5104', `wgsl: parameter '${p.name}' of launch ${this.launch.index} is missing from the weight layout`);
    const starts = this.weights.chunkStarts;
    let k = starts.length - 1;
    while (starts[k] > e.offset) k--;
    const off = e.offset - starts[k];
    return { buf: this.bind(`w${k}`, `w${k}`, false, vec4 ? 'vec4<f32>' : 'f32'), off: vec4 ? off / 4 : off };
  }

  vm(): { bindings: { binding: number; name: string; access: string; type: string }[]; dispatch: { binding: number; buffer: string }[] } {
    if (this.list.length > MAX_STORAGE_BUFFERS_PER_STAGE) {
      fail('E5105', `wgsl: launch ${this.launch.index} (${this.launch.nodes[0]}) needs ${this.list.length} storage buffers, more than WebGPU's default ${MAX_STORAGE_BUFFERS_PER_STAGE} per stage`);
    }
    return {
      bindings: this.list.map((b, i) => ({ binding: i, name: b.name, access: b.access, type: b.type })),
      dispatch: this.list.map((b, i) => ({ binding: i, buffer: b.buffer })),
    };
  }
}

/** Workgroup grid for `invocations` 1-D invocations, folded into (x, y) past 65535 per dimension. */
function grid(invocations: number): [number, number] {
  return foldGroups(Math.ceil(invocations / WORKGROUP_SIZE));
}

/** `n` workgroups as an (x, y) grid within 65535 per dimension (shaders index wid.y * nwg.x + wid.x). */
function foldGroups(n: number): [number, number] {
  const groups = Math.max(1, n);
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}

/** Strides of `v` read against an output of shape `out`: broadcast dimensions get stride 0. */
function broadcastStrides(v: TensorView, out: readonly number[]): number[] {
  return v.strides.map((s, i) => (v.shape[i] === 1 && out[i] !== 1 ? 0 : s));
}

interface ShaderOut { template: string; vm: Record<string, unknown>; invocations: number; groups?: [number, number] }

function renderLaunch(plan: KernelPlan, weights: WeightsVm, l: Launch, version: string): { code: string; dispatch: Omit<Dispatch, 'shader'> }[] {
  const t = loadTemplates();
  const out: { code: string; dispatch: Omit<Dispatch, 'shader'> }[] = [];
  const emit = (b: Bindings, s: ShaderOut): void => {
    const bvm = b.vm();
    const code = t[s.template]({
      version,
      model: plan.model,
      index: l.index,
      kind: l.kind,
      nodes: l.nodes.join(', '),
      bindings: bvm.bindings,
      wg: WORKGROUP_SIZE,
      total: s.invocations,
      ...s.vm,
    });
    out.push({ code, dispatch: { bindings: bvm.dispatch, groups: s.groups ?? grid(s.invocations) } });
  };
  const [N, C, H, W] = l.output.shape;
  const elements = N * C * H * W;
  const a = l.attrs;

  /** An elementwise dispatch: y = expr over operands opa, opb, opc and per-channel params. */
  const eltwise = (operands: TensorView[], params: string[], expr: string, y: TensorView = l.output): void => {
    const b = new Bindings(plan, weights, l);
    const names = ['opa', 'opb', 'opc'];
    const ops = operands.map((v, i) => ({ name: names[i], ...b.view(v, false, broadcastStrides(v, y.shape)) }));
    const prm = params.map((role) => ({ name: `p_${role}`, ...b.param(role) }));
    const yv = b.view(y, true);
    const [n, c, h, w] = y.shape;
    emit(b, { template: 'eltwise.wgsl', vm: { c, h, w, operands: ops, params: prm, y: yv, expr }, invocations: n * c * h * w });
  };

  switch (l.kind) {
    case 'conv':
    case 'dwconv': {
      const x = l.inputs[0];
      const groups = a.groups ?? 1;
      const [kh, kw] = a.kernel ?? [1, 1];
      const [sh, sw] = a.stride ?? [1, 1];
      const [pt, pl] = a.pad ?? [0, 0, 0, 0];
      const gemm = isGemmConv(l);
      const b = new Bindings(plan, weights, l);
      const xv = b.view(x, false);
      const wp = b.param('weight', gemm);
      // The GEMM epilogue works on vec4 of channels c .. c+3 (c a multiple of 4; the bias entry
      // starts on a 64-element boundary, so its vec4 index is exact).
      const biasExpr = !l.params.bias ? '' : gemm
        ? (() => { const bp = b.param('bias', true); return ` + ${bp.buf}[${bp.off}u + c / 4u]`; })()
        : (() => { const bp = b.param('bias'); return ` + ${bp.buf}[${bp.off}u + c]`; })();
      const yv = b.view(l.output, true);
      const ch = gemm ? 'co' : 'c';
      let residualStmt = '';
      if (a.residual) {
        const r = b.view(l.inputs[1], false);
        residualStmt = `v += ${r.buf}[${r.off}u + n * ${r.s0}u + ${ch} * ${r.s1}u + oh * ${r.s2}u + ow * ${r.s3}u];`;
      }
      const common = {
        h: x.shape[2], w: x.shape[3], cout: C, oh: H, ow: W, kh, kw, sh, sw, pt, pl,
        x: xv, y: yv, wBuf: wp.buf, wOff: wp.off, biasExpr, residualStmt,
      };
      if (gemm) {
        const m = N * H * W;
        const t = gemmTile(m, C);
        const ty = t.ty;
        const bn4 = t.bn / 4;
        const nt = Math.ceil(Math.ceil(C / 4) / bn4);
        const tiles = Math.ceil(m / t.bm) * nt;
        const ij = <T>(f: (i: number, j: number) => T): T[] => Array.from({ length: t.tm * t.vn }, (_, q) => f(Math.floor(q / t.vn), q % t.vn));
        const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0;
        const rowsPerRound = Math.max(1, t.invocations / t.bm);
        emit(b, {
          template: 'conv.wgsl',
          vm: {
            ...common, pointwise, m, k: x.shape[1] * kh * kw, nv: kxnDims([C, x.shape[1], kh, kw]).n4 / 4, ohw: H * W, khw: kh * kw,
            bm: t.bm, bn4, bk: t.bk, ty, vn: t.vn, wgSize: t.invocations, nt, tiles, wOff4: wp.off,
            aTile: t.bk * t.bm, bTile: t.bk * bn4, aRowsPerRound: rowsPerRound,
            aSlots: Array.from({ length: Math.max(1, t.bm / t.invocations) }, (_, s) => s),
            accs: ij((i, j) => `acc${i}_${j}`),
            aLoads: Array.from({ length: t.tm }, (_, i) => ({ name: `a${i}`, off: i * ty })),
            bLoads: Array.from({ length: t.vn }, (_, j) => ({ name: `b${j}`, off: j })),
            fmas: ij((i, j) => `acc${i}_${j} += a${i} * b${j};`),
            tileLen: t.tm * t.vn,
            accList: ij((i, j) => `acc${i}_${j}`).join(', '),
            actExpr: ACT4[a.act ?? 'none'],
          },
          invocations: tiles * t.invocations,
          groups: foldGroups(tiles),
        });
      } else {
        emit(b, { template: 'grouped.wgsl', vm: { ...common, cing: x.shape[1] / groups, coutg: C / groups, actExpr: ACT[a.act ?? 'none'] }, invocations: elements });
      }
      break;
    }
    case 'maxpool':
    case 'avgpool': {
      const x = l.inputs[0];
      const [kh, kw] = a.kernel ?? [1, 1];
      const [sh, sw] = a.stride ?? [1, 1];
      const [pt, pl] = a.pad ?? [0, 0, 0, 0];
      const b = new Bindings(plan, weights, l);
      const xv = b.view(x, false);
      const load = `${xv.buf}[xb + ih * ${xv.s2}u + iw * ${xv.s3}u]`;
      const max = l.kind === 'maxpool';
      emit(b, {
        template: 'pool.wgsl',
        vm: {
          poolKind: max ? 'max' : 'average', h: x.shape[2], w: x.shape[3], c: C, oh: H, ow: W, kh, kw, sh, sw, pt, pl, x: xv, y: b.view(l.output, true),
          // -3.4e38 rather than -inf: WGSL has no infinity literal; every window holds >= 1 element.
          init: max ? '-3.4028234663852886e38' : '0.0',
          combineExpr: max ? `max(acc, ${load})` : `acc + ${load}`,
          finishExpr: max ? 'acc' : 'acc / cnt',
        },
        invocations: elements,
      });
      break;
    }
    case 'gap': {
      const x = l.inputs[0];
      const b = new Bindings(plan, weights, l);
      emit(b, { template: 'gap.wgsl', vm: { c: C, h: x.shape[2], w: x.shape[3], x: b.view(x, false), y: b.view(l.output, true) }, invocations: N * C });
      break;
    }
    case 'se_gate':
    case 'eca_conv1d': {
      const x = l.inputs[0];
      if (C * 4 > MAX_WORKGROUP_STORAGE_BYTES) fail('E5106', `wgsl: ${l.kind} '${l.nodes[0]}' has ${C} channels; the gate keeps them in workgroup memory, which holds at most ${MAX_WORKGROUP_STORAGE_BYTES / 4}`);
      const b = new Bindings(plan, weights, l);
      const xv = b.view(x, false);
      const wp = b.param('weight');
      const eca = l.kind === 'eca_conv1d' || a.mode === 'eca';
      const k = eca ? (a.ecaKernel ?? 3) : C;
      const biasExpr = l.params.bias ? (() => { const bp = b.param('bias'); return ` + ${bp.buf}[${bp.off}u + c]`; })() : '';
      // The eSE fc (C x C MACs) is split over up to 16 workgroups per image, each recomputing
      // the C means (C x H x W loads): one workgroup would leave all but one core of a CPU
      // adapter idle. ECA's k-tap fc is cheap; the means dominate, so one workgroup.
      const g = eca ? 1 : Math.min(16, Math.ceil(C / WORKGROUP_SIZE));
      const cg = Math.ceil(C / g);
      emit(b, {
        template: 'se_gate.wgsl',
        vm: {
          g, cg, groupsTotal: N * g,
          c: C, h: x.shape[2], w: x.shape[3], x: xv, y: b.view(l.output, true), wBuf: wp.buf, wOff: wp.off, k, half: eca ? (k - 1) / 2 : 0,
          windowStart: eca ? 'c' : '0u', weightIndex: eca ? 'k' : 'c * C + j', biasExpr,
          actExpr: ACT[l.kind === 'eca_conv1d' ? 'none' : (a.act ?? 'none')],
        },
        invocations: N * g * WORKGROUP_SIZE,
        groups: foldGroups(N * g),
      });
      break;
    }
    case 'linear': {
      const x = l.inputs[0];
      const b = new Bindings(plan, weights, l);
      const xv = b.view(x, false);
      const wp = b.param('weight');
      const biasExpr = l.params.bias ? (() => { const bp = b.param('bias'); return ` + ${bp.buf}[${bp.off}u + o]`; })() : '';
      emit(b, { template: 'linear.wgsl', vm: { f: x.shape[1], o: C, x: xv, y: b.view(l.output, true), wBuf: wp.buf, wOff: wp.off, biasExpr }, invocations: N * C });
      break;
    }
    case 'scale':
      eltwise(l.inputs.slice(0, a.residual ? 3 : 2), [], a.residual ? 'opa * opb + opc' : 'opa * opb');
      break;
    case 'copy':
      eltwise([l.inputs[0]], [], 'opa');
      break;
    case 'concat': {
      // Unoptimized plans only: one copy into each input's channel slice of the output.
      let c0 = 0;
      for (const v of l.inputs) {
        const y = l.output;
        eltwise([v], [], 'opa', { ...y, offset: y.offset + c0 * y.strides[1], shape: v.shape });
        c0 += v.shape[1];
      }
      break;
    }
    case 'batchnorm':
      eltwise([l.inputs[0]], ['running_mean', 'running_var', 'weight', 'bias'], `(opa - p_running_mean) / sqrt(p_running_var + ${f32(a.eps ?? 1e-5)}) * p_weight + p_bias`);
      break;
    case 'relu':
      eltwise([l.inputs[0]], [], 'max(opa, 0.0)');
      break;
    case 'hardsigmoid':
      eltwise([l.inputs[0]], [], `clamp(${f32(a.alpha ?? 1 / 6)} * opa + ${f32(a.beta ?? 0.5)}, 0.0, 1.0)`);
      break;
    case 'sigmoid':
      eltwise([l.inputs[0]], [], '1.0 / (1.0 + exp(-opa))');
      break;
    case 'add':
      eltwise([l.inputs[0], l.inputs[1]], [], 'opa + opb');
      break;
    case 'mul':
      eltwise([l.inputs[0], l.inputs[1]], [], 'opa * opb');
      break;
    default: {
      const never: never = l.kind;
      fail('E5107', `wgsl: launch kind '${String(never)}' is not supported`);
    }
  }
  return out;
}

const json = (v: unknown): string => JSON.stringify(v);

/** Renders every shader and the host files of `plan`. Pure: same plan, same text. */
export function renderPlan(plan: KernelPlan, version: string, opts: { chunkBytes?: number } = {}): RenderedModel {
  const t = loadTemplates();
  const layout = wgslWeightLayout(plan);
  const { starts, ends } = chunkWeights(layout, opts.chunkBytes);
  const weights: WeightsVm = { byKey: new Map(layout.entries.map((e) => [entryKey(e.name, e.packing), e])), chunkStarts: starts };
  const shaders: RenderedModel['shaders'] = [];
  const dispatches: Dispatch[] = [];
  for (const l of plan.launches) {
    for (const r of renderLaunch(plan, weights, l, version)) {
      const i = shaders.length;
      shaders.push({ file: `${String(i).padStart(3, '0')}_${l.kind}.wgsl`, code: r.code, launch: l.index });
      dispatches.push({ shader: i, ...r.dispatch });
    }
  }
  // Zero-size buffers cannot be bound; 4 bytes is the smallest legal storage binding.
  const buffers: Record<string, number> = { arena: Math.max(4, plan.arenaBytes), input: plan.input.elements * 4 };
  if (plan.arenaBytes > MAX_STORAGE_BINDING_BYTES) fail('E5108', `wgsl: the arena needs ${plan.arenaBytes} bytes, more than one WebGPU storage binding may hold (${MAX_STORAGE_BINDING_BYTES}); build for a smaller input`);
  for (const o of plan.outputs) buffers[`out:${o.name}`] = o.elements * 4;
  const chunks: Record<string, [number, number]> = {};
  starts.forEach((s, k) => {
    buffers[`w${k}`] = (ends[k] - s) * 4;
    chunks[`w${k}`] = [s * 4, ends[k] * 4];
  });
  const vm = {
    version,
    model: plan.model,
    modelJson: json(plan.model),
    inputShape: plan.input.shape.join(', '),
    inputShapeJson: json(plan.input.shape),
    outputShapesJson: json(Object.fromEntries(plan.outputs.map((o) => [o.name, o.shape]))),
    weightsBytes: layout.totalElements * 4,
    shadersJson: json(shaders.map((s) => s.code)),
    buffersJson: json(buffers),
    chunksJson: json(chunks),
    dispatchesJson: json(dispatches),
  };
  const hostTs = t['model.ts'](vm);
  // model.js.hbs is model.ts.hbs transpiled when vovc was built (host-template.ts).
  const hostJs = t['model.js'](vm);
  return { shaders, dispatches, buffers, chunks, weights: layout, weightsJson: describeLayout(layout, chunks), hostTs, hostJs, dts: t['model.d.ts'](vm), html: t['index.html'](vm) };
}

// The kernels every C-like target shares, written once: elementwise ops (copies, activations,
// add, mul, the gating scale, batchnorm), pooling, global average pooling, the attention gate,
// the classifier, grouped and depthwise convolutions, ECA's 1-D conv, and the convolution
// epilogue that the targets' own implicit-GEMM kernels call as a hook.
//
// Every shape, offset and stride of a launch is a constant of its kernel. Accumulations start
// from the bias (when there is one) and add products with fma in the order the loops state,
// so every target computes the same operations in the same order.

import { fail } from '../../diag/diagnostics.js';
import { ACTIVATIONS, type Activation } from '../../ir/activations.js';
import type { Launch, LaunchOfKind, TensorView, WeightRef } from '../../plan/types.js';
import type { Binding, Dialect } from './dialect.js';
import { renderExpr } from './dialect.js';
import { foldGroups, gridFor } from './dispatch.js';
import { KernelBuilder, type Sites } from './kernel.js';

export interface RenderedKernel {
  readonly name: string;
  /** The kernel's source in its dialect (CUDA: one __global__ function; WGSL: a whole module). */
  readonly source: string;
  readonly bindings: readonly Binding[];
  readonly workgroup: number;
  readonly groups: [number, number];
}

/** Errors raised while rendering a launch name the launch and point at its DSL line. */
export function launchError(l: Launch, code: string, message: string): never {
  return fail(code, `launch ${l.index} (${l.kind} ${l.nodes[0] ?? ''}): ${message}`, l.span ? { span: l.span } : { subject: l.nodes[0] });
}

/** One-line description of a launch for kernel comments (no comment terminators, no newlines). */
export function launchComment(l: Launch): string {
  return `${l.kind} ${l.nodes.join(' + ')}${l.note ? ` (${l.note})` : ''}`.replace(/\*\//g, '* /').replace(/[\r\n]+/g, ' ');
}

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** Strides of `v` read against an output of shape `out`: broadcast dimensions get stride 0. */
function broadcastStrides(v: TensorView, out: readonly number[]): number[] {
  return v.strides.map((s, i) => (v.shape[i] === 1 && out[i] !== 1 ? 0 : s));
}

/** An activation applied to the value `x`. */
function activate(act: Activation, x: string, d: Dialect): string {
  return renderExpr(ACTIVATIONS[act].expr, x, d);
}

/** What a convolution's epilogue does after the accumulation. */
export interface EpilogueSpec {
  /** The bias to add to the accumulator (absent: none, or the accumulator started from it). */
  readonly bias?: WeightRef;
  readonly act: Activation;
  /** Added after the activation. */
  readonly residual?: TensorView;
  readonly output: TensorView;
}

/**
 * The epilogue of output element (n, c, h, w) from accumulator `acc`: bias, activation,
 * residual, store. The GEMM convolutions of each target call it (as a CUDA device function or
 * a WGSL function); the grouped convolution inlines it.
 */
export function epilogue(k: KernelBuilder, e: EpilogueSpec, [n, c, h, w]: readonly [string, string, string, string], acc: string): void {
  const d = k.d;
  const b = e.bias ? k.param(e.bias) : undefined;
  k.line(d.varF('v', b ? `${acc} + ${b.at(c)}` : acc));
  if (e.act !== 'none') k.line(`v = ${activate(e.act, 'v', d)};`);
  if (e.residual) {
    const r = k.view(e.residual, false);
    k.line(`v = v + ${r.load(n, c, h, w)};`);
  }
  const y = k.view(e.output, true);
  k.line(y.store(n, c, h, w, `v`));
}

interface Kernel {
  readonly workgroup: number;
  readonly groups: [number, number];
}

/** y = expr(a, b, c) elementwise over the output (one thread per element). */
function elementwise(k: KernelBuilder, l: Launch, operands: readonly TensorView[], expr: (ops: readonly string[], k: KernelBuilder) => string, out: TensorView = l.output, residual?: TensorView): Kernel {
  const d = k.d;
  const total = numel(out.shape);
  k.flatIndex('idx', d.workgroup, total);
  k.nchw('idx', out.shape);
  const names = operands.map((v, i) => {
    const a = k.view(v, false, broadcastStrides(v, out.shape));
    const name = `op${i}`;
    k.line(d.letF(name, `${a.load('n', 'c', 'h', 'w')}`));
    return name;
  });
  k.line(d.varF('v', expr(names, k)));
  if (residual) {
    const r = k.view(residual, false);
    k.line(`v = v + ${r.load('n', 'c', 'h', 'w')};`);
  }
  const y = k.view(out, true);
  k.line(y.store('n', 'c', 'h', 'w', `v`));
  return { workgroup: d.workgroup, groups: gridFor(total, d.workgroup) };
}

/** A per-channel parameter of element (n, c, h, w). */
function perChannel(k: KernelBuilder, p: WeightRef): string {
  return k.param(p).at('c');
}

/**
 * Max or average pooling, one thread per output element; the output shape (ceil mode
 * included) comes from the plan. Max pads with -inf; average divides by the window clipped to
 * the padded input (PyTorch's count_include_pad, with ceil-mode windows that hang over the
 * edge clipped further), summing the elements inside the input.
 */
function pool(k: KernelBuilder, l: LaunchOfKind<'maxpool'> | LaunchOfKind<'avgpool'>): Kernel {
  const d = k.d;
  const [x, y] = [l.inputs[0], l.output];
  const { kernel: [kh, kw], stride: [sh, sw], pad: [pt, pl, pb, pr] } = l.attrs;
  const max = l.kind === 'maxpool';
  const [, , H, W] = x.shape;
  const total = numel(y.shape);
  k.flatIndex('idx', d.workgroup, total);
  k.nchw('idx', y.shape);
  const xa = k.view(x, false);
  k.line(d.letI('h0', `h * ${d.i(sh)} - ${d.i(pt)}`));
  k.line(d.letI('w0', `w * ${d.i(sw)} - ${d.i(pl)}`));
  // Max starts from the window's first element inside the input (every window has one: PyTorch
  // drops ceil-mode windows that start past the input), so an all -Inf window gives -Inf even
  // where the language has no infinity literal (WGSL).
  k.line(d.varF('acc', max ? xa.load('n', 'c', d.imax('h0', d.i(0)), d.imax('w0', d.i(0))) : d.f(0)));
  k.for('ky', d.i(0), d.i(kh), () => {
    k.line(d.letI('ih', 'h0 + ky'));
    k.if(`ih >= ${d.i(0)} && ih < ${d.i(H)}`, () => {
      k.for('kx', d.i(0), d.i(kw), () => {
        k.line(d.letI('iw', 'w0 + kx'));
        k.if(`iw >= ${d.i(0)} && iw < ${d.i(W)}`, () => {
          const v = `${xa.load('n', 'c', 'ih', 'iw')}`;
          k.line(max ? `acc = ${d.call('max', ['acc', v])};` : `acc = acc + ${v};`);
        });
      });
    });
  });
  const ya = k.view(y, true);
  if (max) k.line(ya.store('n', 'c', 'h', 'w', `acc`));
  else {
    // The divisor: the window clipped to the padded input.
    k.line(d.letI('h1', d.imin(`h0 + ${d.i(kh)}`, d.i(H + pb))));
    k.line(d.letI('w1', d.imin(`w0 + ${d.i(kw)}`, d.i(W + pr))));
    k.line(ya.store('n', 'c', 'h', 'w', `acc / ${d.toFloat('(h1 - h0) * (w1 - w0)')}`));
  }
  return { workgroup: d.workgroup, groups: gridFor(total, d.workgroup) };
}

/** The shared-memory tree that sums part[0 .. R) into part[0] (R a power of two). */
function treeSum(k: KernelBuilder, part: string, r: number): void {
  for (let half = r >> 1; half >= 1; half >>= 1) {
    k.if(`l < ${k.d.i(half)}`, () => k.line(`${part}[l] = ${part}[l] + ${part}[l + ${k.d.i(half)}];`));
    k.line(k.d.barrier);
  }
}

/**
 * Global average pool, one workgroup per (n, c): each thread sums a strided share of the
 * plane, then a tree in shared memory.
 */
function gap(k: KernelBuilder, l: LaunchOfKind<'gap'>): Kernel {
  const d = k.d;
  const [x, y] = [l.inputs[0], l.output];
  const [N, C, H, W] = x.shape;
  const r = d.reduceWorkgroup;
  const part = k.sharedArray('part', r);
  // Workgroup-uniform: whole workgroups leave, so every barrier is reached by all that stay.
  k.line(d.letI('g', d.groupId));
  k.if(`g >= ${d.i(N * C)}`, () => k.line('return;'));
  k.line(d.letI('l', d.localId));
  k.line(d.letI('n', `g / ${d.i(C)}`));
  k.line(d.letI('c', `g % ${d.i(C)}`));
  const xa = k.view(x, false);
  k.line(d.varF('s', d.f(0)));
  k.for('i', 'l', d.i(H * W), () => k.line(`s = s + ${xa.load('n', 'c', `i / ${d.i(W)}`, `i % ${d.i(W)}`)};`), d.i(r));
  k.line(`${part}[l] = s;`);
  k.line(d.barrier);
  treeSum(k, part, r);
  const ya = k.view(y, true);
  k.if(`l == ${d.i(0)}`, () => k.line(ya.store('n', 'c', d.i(0), d.i(0), `${part}[0] / ${d.toFloat(d.i(H * W))}`)));
  return { workgroup: r, groups: foldGroups(N * C) };
}

/** Gate workgroups per image: each recomputes the channel means, then computes its block of the fc. */
function gateGroups(eca: boolean, channels: number, workgroup: number): number {
  // The eSE fc (C x C fmas) is split over up to 16 workgroups per image: one would leave most
  // of a GPU (and all but one core of a CPU adapter) idle. ECA's k-tap fc is cheap; the means
  // dominate, so one workgroup.
  return eca ? 1 : Math.min(16, Math.ceil(channels / workgroup));
}

/**
 * The attention gate s = act(fc(gap(z))), G workgroups per image: each computes all channel
 * means into shared memory (the fc needs every one), then its threads compute the gate
 * channels of its block [c0, c0 + CG). eSE: fc is a C x C 1x1 conv with bias; ECA: a k-tap
 * conv across channels centred on the channel, zero padded, no bias.
 */
function seGate(k: KernelBuilder, l: LaunchOfKind<'se_gate'> | LaunchOfKind<'eca_conv1d'>): Kernel {
  const d = k.d;
  const [z, y] = [l.inputs[0], l.output];
  const [N, C, H, W] = z.shape;
  if (C * 4 > d.maxSharedBytes) launchError(l, 'E5401', `the gate keeps its ${C} channel means in shared memory, which holds ${d.maxSharedBytes / 4} on ${d.name}`);
  const eca = l.kind === 'eca_conv1d' || l.attrs.mode === 'eca';
  const taps = l.kind === 'eca_conv1d' ? l.attrs.kernel : l.attrs.mode === 'eca' ? l.attrs.kernel : 0;
  const act: Activation = l.kind === 'se_gate' ? l.attrs.act : 'none';
  const r = d.reduceWorkgroup;
  const g = gateGroups(eca, C, r);
  const cg = Math.ceil(C / g);
  const mean = k.sharedArray('mean', C);
  k.line(d.letI('g', d.groupId));
  k.if(`g >= ${d.i(N * g)}`, () => k.line('return;'));
  k.line(d.letI('l', d.localId));
  k.line(d.letI('n', `g / ${d.i(g)}`));
  k.line(d.letI('c0', `(g % ${d.i(g)}) * ${d.i(cg)}`));
  const za = k.view(z, false);
  k.for('c', 'l', d.i(C), () => {
    k.line(d.varF('s', d.f(0)));
    k.for('i', d.i(0), d.i(H * W), () => k.line(`s = s + ${za.load('n', 'c', `i / ${d.i(W)}`, `i % ${d.i(W)}`)};`));
    k.line(`${mean}[c] = s / ${d.toFloat(d.i(H * W))};`);
  }, d.i(r));
  k.line(d.barrier);
  const wt = k.param(l.params.weight);
  const bias = l.kind === 'se_gate' && l.params.bias ? k.param(l.params.bias) : undefined;
  const ya = k.view(y, true);
  k.for('co', 'c0 + l', d.i(C), () => {
    k.if(`co >= c0 + ${d.i(cg)}`, () => k.line('break;'));
    k.line(d.varF('acc', bias ? bias.at('co') : d.f(0)));
    if (!eca) k.for('ci', d.i(0), d.i(C), () => k.line(`acc = ${d.call('fma', [wt.at(`co * ${d.i(C)} + ci`), `${mean}[ci]`, 'acc'])};`));
    else
      k.for('j', d.i(0), d.i(taps), () => {
        k.line(d.letI('ci', `co + j - ${d.i((taps - 1) / 2)}`));
        k.if(`ci >= ${d.i(0)} && ci < ${d.i(C)}`, () => k.line(`acc = ${d.call('fma', [wt.at('j'), `${mean}[ci]`, 'acc'])};`));
      });
    k.line(ya.store('n', 'co', d.i(0), d.i(0), `${act === 'none' ? 'acc' : activate(act, 'acc', d)}`));
  }, d.i(r));
  return { workgroup: r, groups: foldGroups(N * g) };
}

/** y = x . W^T + b over [N,F,1,1] -> [N,O,1,1], one thread per output element. */
function linear(k: KernelBuilder, l: LaunchOfKind<'linear'>): Kernel {
  const d = k.d;
  const [x, y] = [l.inputs[0], l.output];
  const [N, O] = y.shape;
  const F = x.shape[1];
  k.flatIndex('idx', d.workgroup, N * O);
  k.line(d.letI('o', `idx % ${d.i(O)}`));
  k.line(d.letI('n', `idx / ${d.i(O)}`));
  const xa = k.view(x, false);
  const wt = k.param(l.params.weight);
  const b = l.params.bias ? k.param(l.params.bias) : undefined;
  k.line(d.varF('acc', b ? b.at('o') : d.f(0)));
  k.for('f', d.i(0), d.i(F), () => k.line(`acc = ${d.call('fma', [wt.at(`o * ${d.i(F)} + f`), `${xa.load('n', 'f', d.i(0), d.i(0))}`, 'acc'])};`));
  const ya = k.view(y, true);
  k.line(ya.store('n', 'o', d.i(0), d.i(0), `acc`));
  return { workgroup: d.workgroup, groups: gridFor(N * O, d.workgroup) };
}

/**
 * A grouped convolution (depthwise included), one thread per output element: the taps of
 * its group's input channels in (ci, ky, kx) order, from the bias, then the epilogue.
 */
function groupedConv(k: KernelBuilder, l: LaunchOfKind<'conv'> | LaunchOfKind<'dwconv'>): Kernel {
  const d = k.d;
  const [x, y] = [l.inputs[0], l.output];
  const a = l.attrs;
  const [kh, kw] = a.kernel;
  const [, cin, H, W] = x.shape;
  const C = y.shape[1];
  const cing = cin / a.groups;
  const coutg = C / a.groups;
  const total = numel(y.shape);
  k.flatIndex('idx', d.workgroup, total);
  k.nchw('idx', y.shape, ['n', 'c', 'oh', 'ow']);
  const xa = k.view(x, false);
  const wt = k.param(l.params.weight);
  const b = l.params.bias ? k.param(l.params.bias) : undefined;
  k.line(d.letI('ci0', `(c / ${d.i(coutg)}) * ${d.i(cing)}`));
  k.line(d.varF('acc', b ? b.at('c') : d.f(0)));
  k.for('ci', d.i(0), d.i(cing), () => {
    k.for('ky', d.i(0), d.i(kh), () => {
      k.line(d.letI('ih', `oh * ${d.i(a.stride[0])} - ${d.i(a.pad[0])} + ky`));
      k.if(`ih >= ${d.i(0)} && ih < ${d.i(H)}`, () => {
        k.for('kx', d.i(0), d.i(kw), () => {
          k.line(d.letI('iw', `ow * ${d.i(a.stride[1])} - ${d.i(a.pad[1])} + kx`));
          k.if(`iw >= ${d.i(0)} && iw < ${d.i(W)}`, () => {
            const wi = `((c * ${d.i(cing)} + ci) * ${d.i(kh)} + ky) * ${d.i(kw)} + kx`;
            k.line(`acc = ${d.call('fma', [wt.at(wi), `${xa.load('n', 'ci0 + ci', 'ih', 'iw')}`, 'acc'])};`);
          });
        });
      });
    });
  });
  epilogue(k, { act: a.act, residual: a.residual ? l.inputs[1] : undefined, output: y }, ['n', 'c', 'oh', 'ow'], 'acc');
  return { workgroup: d.workgroup, groups: gridFor(total, d.workgroup) };
}

/** Copies of each input into its channel slice of the output (an unoptimized plan's concat). */
function concatSlices(l: LaunchOfKind<'concat'>): TensorView[] {
  const y = l.output;
  let c0 = 0;
  return l.inputs.map((v) => {
    const slice: TensorView = { ...y, offset: y.offset + c0 * y.strides[1], shape: [y.shape[0], v.shape[1], y.shape[2], y.shape[3]] };
    c0 += v.shape[1];
    return slice;
  });
}

/**
 * The element kernel built in `k` (element mode) as a function `elem`, and the kernel body that
 * computes the elements of output word j in pairs and writes the word: elements 2j and 2j + 1
 * of the padded planes (KernelPlan.evenPlanes: each plane holds an even count, so a word never
 * spans two planes and no two threads write halves of one word); a plane's padding half is 0.
 */
function packedPairs(k: KernelBuilder, l: Launch, workgroup: number, sites: Sites): { fn: string; body: string[]; groups: [number, number] } {
  const d = k.d;
  const el = k.elementOf;
  const y = el?.view;
  if (!el?.index || !y) throw new Error(`internal: launch ${l.index}: the element kernel did not index and store one element`);
  const [N, C, H, W] = y.shape;
  const hw = H * W;
  const plane = Math.ceil(hw / 2) * 2;
  if (y.strides[1] !== plane || (H > 1 && y.strides[2] !== W) || (W > 1 && y.strides[3] !== 1) || y.offset % 2 !== 0 || y.strides[0] % 2 !== 0) {
    throw new Error(`internal: launch ${l.index}: packed output '${y.value}' (offset ${y.offset}, strides [${y.strides.join(', ')}]) is not in even planes of [${y.shape.join(', ')}]`);
  }
  const fn = d.elementFunction('elem', el.index.name, k.body());
  const words = (N * C * plane) / 2;
  const m = new KernelBuilder(d, { view: () => ({ key: '', name: '' }), param: () => ({ key: '', name: '', offset: 0 }) });
  m.flatIndex('j', workgroup, words);
  m.line(d.letI('e', `j * ${d.i(2)}`));
  m.line(d.letI('nc', `e / ${d.i(plane)}`));
  m.line(d.letI('p', `e % ${d.i(plane)}`));
  m.line(d.letI('n', `nc / ${d.i(C)}`));
  m.line(d.letI('c', `nc % ${d.i(C)}`));
  m.line(d.letF('v0', `elem(nc * ${d.i(hw)} + p)`));
  m.line(d.varF('v1', d.f(0)));
  if (hw % 2 === 0) m.line(`v1 = elem(nc * ${d.i(hw)} + p + ${d.i(1)});`);
  else m.if(`p + ${d.i(1)} < ${d.i(hw)}`, () => m.line(`v1 = elem(nc * ${d.i(hw)} + p + ${d.i(1)});`));
  const buf = k.bindings.find((b) => b.key === sites.view(y).key)!.name;
  m.line(d.storeWord(buf, `(${d.i(y.offset)} + n * ${d.i(y.strides[0])} + c * ${d.i(plane)} + p) / ${d.i(2)}`, 'v0', 'v1', y.dtype));
  return { fn, body: m.body(), groups: gridFor(words, workgroup) };
}

/** Whether a target renders this launch with the shared kernels (the GEMM convs, deformable or not, are the targets' own). */
export function isGemmConv(l: Launch): l is LaunchOfKind<'conv'> | LaunchOfKind<'deform_conv'> {
  return (l.kind === 'conv' || l.kind === 'deform_conv') && l.attrs.groups === 1;
}

/**
 * The deformable sampler of a deform_conv launch, written once for every target: a hook
 * function `sample(n, ci, tap, oh, ow)` returning the value its implicit GEMM reads at row
 * (ci, tap) and output pixel (n, oh, ow), where an ordinary convolution reads x(n, ci, ih, iw):
 * the bilinear sample of input channel ci at y = oh*SH - PT + tap / KW + dy, x = ow*SW - PL +
 * tap % KW + dx, times sigmoid(mask logit) when modulated (the IR's DeformConvAttrs). Each of
 * the 4 integer neighbours outside the image contributes 0; a point with y <= -1, y >= H,
 * x <= -1 or x >= W samples 0. Offsets and the logit are read from the offset view at (n, ch,
 * oh, ow): no columns buffer, nothing materialized.
 */
export function deformSampler(k: KernelBuilder, l: LaunchOfKind<'deform_conv'>): string {
  const d = k.d;
  const s = k.fork();
  const [x, off] = l.inputs;
  const a = l.attrs;
  const [, cin, H, W] = x.shape;
  const taps = a.kernel[0] * a.kernel[1];
  const xa = s.view(x, false);
  const oa = s.view(off, false);
  const one = d.f(1);
  s.line(d.letI('g', `ci / ${d.i(cin / a.deformGroups)}`));
  s.line(d.letI('ch', `${d.i(2)} * (g * ${d.i(taps)} + tap)`));
  s.line(d.letF('py', `${d.toFloat(`oh * ${d.i(a.stride[0])} - ${d.i(a.pad[0])} + tap / ${d.i(a.kernel[1])}`)} + ${oa.load('n', 'ch', 'oh', 'ow')}`));
  s.line(d.letF('px', `${d.toFloat(`ow * ${d.i(a.stride[1])} - ${d.i(a.pad[1])} + tap % ${d.i(a.kernel[1])}`)} + ${oa.load('n', `ch + ${d.i(1)}`, 'oh', 'ow')}`));
  s.line(d.varF('v', d.f(0)));
  // torchvision's test (a NaN position is not outside: its NaN weights make the sample NaN).
  s.if(`!(py <= ${d.f(-1)} || py >= ${d.f(H)} || px <= ${d.f(-1)} || px >= ${d.f(W)})`, () => {
    s.line(d.letF('fy', d.call('floor', ['py'])));
    s.line(d.letF('fx', d.call('floor', ['px'])));
    s.line(d.letI('y0', d.toIndex('fy')));
    s.line(d.letI('x0', d.toIndex('fx')));
    s.line(d.letF('ly', 'py - fy'));
    s.line(d.letF('lx', 'px - fx'));
    // Every corner weighted, one outside the image as 0.
    const corner = (dy: number, dx: number, cond: string) => {
      const name = `c${dy}${dx}`;
      s.line(d.varF(name, d.f(0)));
      s.if(cond, () => s.line(`${name} = ${xa.load('n', 'ci', dy ? `y0 + ${d.i(1)}` : 'y0', dx ? `x0 + ${d.i(1)}` : 'x0')};`));
    };
    // Both bounds of every corner: a NaN position converts to an arbitrary integer.
    const rowIn = (r: string) => `${r} >= ${d.i(0)} && ${r} < ${d.i(H)}`;
    const colIn = (c: string) => `${c} >= ${d.i(0)} && ${c} < ${d.i(W)}`;
    const y1 = `y0 + ${d.i(1)}`, x1 = `x0 + ${d.i(1)}`;
    corner(0, 0, `${rowIn('y0')} && ${colIn('x0')}`);
    corner(0, 1, `${rowIn('y0')} && ${colIn(x1)}`);
    corner(1, 0, `${rowIn(y1)} && ${colIn('x0')}`);
    corner(1, 1, `${rowIn(y1)} && ${colIn(x1)}`);
    s.line(`v = (((((${one} - ly) * (${one} - lx)) * c00) + (((${one} - ly) * lx) * c01)) + ((ly * (${one} - lx)) * c10)) + ((ly * lx) * c11);`);
  });
  if (a.modulated) {
    // The mask multiplies every sample, inside the image or not (a NaN mask gives NaN).
    const logit = oa.load('n', `${d.i(2 * taps * a.deformGroups)} + g * ${d.i(taps)} + tap`, 'oh', 'ow');
    s.line(`v = v * (${one} / (${one} + ${d.call('exp', [`-${logit}`])}));`);
  }
  s.line('return v;');
  return d.hookFunction('sample', ['n', 'ci', 'tap', 'oh', 'ow'], s.body());
}

/**
 * The shared kernels of a launch (a concat of an unoptimized plan is one copy per input). A
 * GEMM convolution is not rendered here: each target has its own (isGemmConv).
 */
export function renderShared(l: Launch, d: Dialect, sites: Sites, name: string, comment = launchComment(l)): RenderedKernel[] {
  // Kernels of one thread per output element; with a packed output they compute elements in
  // pairs, one thread per word (packedPairs). The reductions store into planes of one element.
  const perElement = l.kind !== 'gap' && l.kind !== 'se_gate' && l.kind !== 'eca_conv1d';
  const one = (suffix: string, f: (k: KernelBuilder) => Kernel): RenderedKernel => {
    const kname = `${name}${suffix}`;
    if (perElement && d.packed(l.output.dtype)) {
      const k = KernelBuilder.element(d, sites);
      const { workgroup } = f(k);
      const p = packedPairs(k, l, workgroup, sites);
      return { name: kname, bindings: k.bindings, workgroup, groups: p.groups, source: d.kernel({ name: kname, comment, bindings: k.bindings, workgroup, shared: k.shared, functions: [p.fn], body: p.body }) };
    }
    const k = new KernelBuilder(d, sites);
    const { workgroup, groups } = f(k);
    return { name: kname, bindings: k.bindings, workgroup, groups, source: d.kernel({ name: kname, comment, bindings: k.bindings, workgroup, shared: k.shared, body: k.body() }) };
  };
  const ew = (operands: readonly TensorView[], expr: (ops: readonly string[], k: KernelBuilder) => string, residual?: TensorView) => [one('', (k) => elementwise(k, l, operands, expr, l.output, residual))];
  switch (l.kind) {
    case 'conv':
      if (l.attrs.groups === 1) throw new Error(`internal: launch ${l.index} is a GEMM convolution, which the target renders`);
      return [one('', (k) => groupedConv(k, l))];
    case 'dwconv':
      return [one('', (k) => groupedConv(k, l))];
    case 'deform_conv':
      throw new Error(`internal: launch ${l.index} is a deformable GEMM convolution, which the target renders`);
    case 'maxpool':
    case 'avgpool':
      return [one('', (k) => pool(k, l))];
    case 'gap':
      return [one('', (k) => gap(k, l))];
    case 'se_gate':
    case 'eca_conv1d':
      return [one('', (k) => seGate(k, l))];
    case 'linear':
      return [one('', (k) => linear(k, l))];
    case 'scale':
      return ew(l.inputs.slice(0, 2), ([a, b]) => `${a} * ${b}`, l.attrs.residual ? l.inputs[2] : undefined);
    case 'copy':
      return ew([l.inputs[0]], ([a]) => a);
    case 'concat':
      return concatSlices(l).map((slice, i) => one(`_${i}`, (k) => elementwise(k, l, [l.inputs[i]], ([a]) => a, slice)));
    case 'batchnorm': {
      const p = l.params;
      return ew([l.inputs[0]], ([a], k) => `((((${a} - ${perChannel(k, p.running_mean)}) / ${k.d.call('sqrt', [`(${perChannel(k, p.running_var)} + ${k.d.f(l.attrs.eps)})`])}) * ${perChannel(k, p.weight)}) + ${perChannel(k, p.bias)})`);
    }
    case 'act': {
      const fn = l.attrs.fn;
      return ew([l.inputs[0]], ([a]) => activate(fn, a, d));
    }
    case 'add':
      return ew([l.inputs[0], l.inputs[1]], ([a, b]) => `${a} + ${b}`);
    case 'mul':
      return ew([l.inputs[0], l.inputs[1]], ([a, b]) => `${a} * ${b}`);
  }
}


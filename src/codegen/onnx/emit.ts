// Graph IR -> ONNX graph (nodes, initializers, value infos), for either form of the IR:
// the unoptimized graph (one ONNX op per PyTorch module: the --faithful file) or the optimized
// one, whose fused forms are expanded into standard ops here:
//   conv2d {bias, act, residual}  -> Conv(x, W, B) [-> Relu | HardSigmoid | Sigmoid] [-> Add(., r)]
//   se_gate ese                   -> GlobalAveragePool -> Conv 1x1 (W, B) -> act
//   se_gate eca / eca_conv1d      -> Reshape [N,1,C] -> Conv 1-D across channels -> (act) -> Reshape [N,C,1,1]
//   scale                         -> Mul(x, s) [-> Add(., r)]
//   linear                        -> [Flatten, only on an [N,C,1,1] input ->] Gemm(transB = 1)
//   concat {inplace}              -> Concat (in-place writing is a backend memory plan, not semantics)
//   deform_conv2d {bias, act}     -> Slice offsets [, Slice + Sigmoid mask] -> DeformConv [-> act]   (opset 19+)
//                                    or, decomposed, GridSample per (group, tap) -> Mul mask -> Conv 1x1   (opset 16+)
// An fp16 model stores every initializer and every tensor as float16 (the weights rounded once,
// after BN folding, to nearest even); its graph input and outputs stay float32, converted by a
// Cast at each end, unless `ioNative` (then they are float16 too). onnxruntime accumulates fp16
// Conv and Gemm in fp32 on the CPU.
// Tensor names are the IR value names (node ids, timm module paths), except that each value a
// graph output exports is named after the output ('logits', 'stage2', ...); the expansion's
// intermediate tensors are '<node id>/<step>'. Every tensor other than the graph's input and
// outputs gets a value_info with its shape, so that viewers such as Netron show them.

import type { onnx } from 'onnx-proto';
import { fail } from '../../diag/diagnostics.js';
import { ACTIVATIONS } from '../../ir/activations.js';
import { INPUT, type Activation, type Graph, type Node, type PoolAttrs, type Shape } from '../../ir/graph.js';
import { outSize } from '../../ir/ops.js';
import { HOST_LITTLE_ENDIAN, encodeFloat } from '../../io/dtype.js';
import { MAX_OPSET, MIN_OPSET } from './options.js';
import { toF16Bits } from '../../ir/precision.js';
import { FLOAT, FLOAT16, INT64, int64Bytes, type Initializer, type ModelParts } from './proto.js';

/** The lowest IR version that each opset needs (onnx's release table). */
const IR_VERSION: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export interface EmitOptions {
  readonly opset: number;
  /** The vovc version, as producer_version. */
  readonly producerVersion: string;
  /** Symbolic batch dimension 'batch'. */
  readonly dynamicBatch: boolean;
  /** Symbolic input height and width ('height', 'width'); spatial sizes inside stay unnamed. */
  readonly dynamicHw: boolean;
  readonly docString: string;
  readonly metadata: readonly (readonly [string, string])[];
  /** Storage type of the initializers and tensors (default fp32). */
  readonly precision?: 'fp32' | 'fp16';
  /** With fp16: the graph input and outputs are float16 too (no Casts at the ends). */
  readonly ioNative?: boolean;
  /** Deformable convs as DeformConv (opset 19+) or decomposed into GridSample + Conv (default native). */
  readonly deformLowering?: 'native' | 'decompose';
}

/** The name of the graph input's float16 copy (fp16 models with float32 I/O). */
const INPUT_CAST = `${INPUT}/cast_fp16`;

// AttributeProto.AttributeType
const A_FLOAT = 1;
const A_INT = 2;
const A_INTS = 7;
const A_STRING = 3;

type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: A_INT, i });
const ints = (name: string, v: readonly number[]): Attr => ({ name, type: A_INTS, ints: [...v] });
const float = (name: string, f: number): Attr => ({ name, type: A_FLOAT, f });
const stringAttr = (name: string, v: string): Attr => ({ name, type: A_STRING, s: new TextEncoder().encode(v) });

/** One ONNX node of an expansion: op, extra inputs after the chained one, output shape. */
interface Step {
  readonly op: string;
  readonly extra?: readonly string[];
  readonly attrs?: readonly Attr[];
  readonly shape: Shape;
  /** Replaces the chained input (first step only: several inputs). */
  readonly inputs?: readonly string[];
  /**
   * A second input: the tensor that the step `back` steps before this one read (an
   * activation's own input, for x * f(x) lowerings such as SiLU).
   */
  readonly back?: number;
}

class Emitter {
  readonly nodes: onnx.INodeProto[] = [];
  readonly valueInfo: onnx.IValueInfoProto[] = [];
  readonly initializers: Initializer[] = [];
  private readonly tensors = new Set<string>([INPUT]);
  private readonly shapes = new Map<string, Shape>();
  /** Tensors whose spatial dims follow the (symbolic) input size under --dynamic-hw. */
  private readonly spatial = new Set<string>([INPUT]);
  private readonly rename = new Map<string, string>();
  /** Element type of every tensor inside the graph. */
  readonly elem: number;
  /** Casts at the ends: float32 graph input and outputs around a float16 graph. */
  readonly castEnds: boolean;

  constructor(
    private readonly g: Graph,
    private readonly opts: EmitOptions,
  ) {
    this.elem = opts.precision === 'fp16' ? FLOAT16 : FLOAT;
    this.castEnds = opts.precision === 'fp16' && !opts.ioNative;
    this.shapes.set(INPUT, g.input.shape);
    // A value exported by a graph output carries the output's name (the first one, if several);
    // with Casts at the ends, the float16 value is '<output>/fp16' and the Cast writes the output.
    for (const o of g.outputs) if (o.value !== INPUT && !this.rename.has(o.value)) this.rename.set(o.value, this.castEnds ? `${o.name}/fp16` : o.name);
    if (this.castEnds) {
      this.claim(INPUT_CAST);
      this.shapes.set(INPUT_CAST, g.input.shape);
      this.spatial.add(INPUT_CAST);
      this.rename.set(INPUT, INPUT_CAST);
      this.nodes.push({ input: [INPUT], output: [INPUT_CAST], name: `${INPUT}/Cast`, opType: 'Cast', attribute: [int('to', FLOAT16)] });
      this.valueInfo.push(this.info(INPUT_CAST));
    }
  }

  name(value: string): string {
    return this.rename.get(value) ?? value;
  }

  private claim(tensor: string): void {
    if (this.tensors.has(tensor)) throw new Error(`internal: ONNX tensor name '${tensor}' defined twice`);
    this.tensors.add(tensor);
  }

  /** The initializer for parameter `name` (added at first use, so the order follows the nodes). */
  param(name: string): string {
    if (this.tensors.has(name)) return name;
    const p = this.g.params.get(name);
    if (!p) throw new Error(`internal: unknown parameter '${name}'`);
    if (!p.data) throw new Error(`internal: parameter '${name}' has no data (seed the graph first)`);
    this.claim(name);
    const bytes = this.elem === FLOAT16 ? halfBytes(p.data) : encodeFloat(p.data);
    this.initializers.push({ name, dims: p.shape, dataType: this.elem, bytes });
    return name;
  }

  /** A shared int64 constant (Slice bounds, Gather indices), by value. */
  int64Const(values: readonly number[]): string {
    const name = `vovc.i64.${values.join('_').replace(/-/g, 'm')}`;
    if (this.tensors.has(name)) return name;
    this.claim(name);
    this.initializers.push({ name, dims: [values.length], dataType: INT64, bytes: int64Bytes(values) });
    return name;
  }

  /** A constant of the graph's element type, made here (not a parameter of the graph). */
  floatConst(name: string, dims: readonly number[], data: Float32Array): string {
    this.claim(name);
    this.initializers.push({ name, dims, dataType: this.elem, bytes: this.elem === FLOAT16 ? halfBytes(data) : encodeFloat(data) });
    return name;
  }

  /** The data of parameter `name` (for constants derived from it). */
  paramData(name: string): Float32Array {
    const d = this.g.params.get(name)?.data;
    if (!d) throw new Error(`internal: parameter '${name}' has no data (seed the graph first)`);
    return d;
  }

  /** A shared int64 shape constant for Reshape. */
  shapeConst(dims: readonly number[]): string {
    const name = `vovc.shape.${dims.join('_')}`;
    if (this.tensors.has(name)) return name;
    this.claim(name);
    this.initializers.push({ name, dims: [dims.length], dataType: INT64, bytes: int64Bytes(dims) });
    return name;
  }

  private dims(tensor: string, shape: Shape): onnx.TensorShapeProto.IDimension[] {
    const { dynamicBatch, dynamicHw } = this.opts;
    return shape.map((d, i) => {
      if (i === 0 && dynamicBatch) return { dimParam: 'batch' };
      if (dynamicHw && shape.length === 4 && (i === 2 || i === 3) && this.spatial.has(tensor)) return tensor === INPUT ? { dimParam: i === 2 ? 'height' : 'width' } : {};
      return { dimValue: d };
    });
  }

  /** The value info of `tensor`: float32 for the graph's ends under castEnds, else the graph's element type. */
  info(tensor: string): onnx.IValueInfoProto {
    const shape = this.shapes.get(tensor)!;
    const end = tensor === INPUT || this.g.outputs.some((o) => o.name === tensor);
    const elemType = end && this.castEnds ? FLOAT : this.elem;
    return { name: tensor, type: { tensorType: { elemType, shape: { dim: this.dims(tensor, shape) } } } };
  }

  /**
   * Emits node `n` as a chain of steps: the first reads `input` (or step.inputs), each later
   * one the previous step's output; the last writes the node's value.
   */
  chain(n: Node, input: string, steps: readonly Step[]): void {
    const out = this.name(n.id);
    // Spatial sizes pass through every op here except global pooling and the gate (both [N,C,1,1]).
    const spatial = n.inputs.some((i) => this.spatial.has(this.name(i))) && n.op !== 'global_avg_pool' && n.op !== 'se_gate';
    let prev = input;
    const read: string[] = [];
    steps.forEach((s, k) => {
      read.push(prev);
      const last = k === steps.length - 1;
      const tensor = last ? out : `${n.id}/${s.op.toLowerCase()}${steps.slice(0, k).some((t) => t.op === s.op) ? k : ''}`;
      this.claim(tensor);
      this.shapes.set(tensor, s.shape);
      if (spatial) this.spatial.add(tensor);
      const node: onnx.INodeProto = {
        input: [...(s.inputs ?? [prev]), ...(s.back !== undefined ? [read[k - s.back]] : []), ...(s.extra ?? [])],
        output: [tensor],
        name: k === 0 ? n.id : `${n.id}/${s.op}${k}`,
        opType: s.op,
        attribute: [...(s.attrs ?? [])],
      };
      if (n.fused && k === 0) node.docString = `fused ${n.fused.join(' + ')}`;
      this.nodes.push(node);
      if (!this.g.outputs.some((o) => o.name === tensor)) this.valueInfo.push(this.info(tensor));
      prev = tensor;
    });
  }

  /** Identity nodes for outputs whose value is exported under another name already (or is the input). */
  /** With castEnds, a Cast to float32 for every output instead. */
  finishOutputs(): onnx.IValueInfoProto[] {
    return this.g.outputs.map((o) => {
      const src = o.value === INPUT && !this.castEnds ? INPUT : this.name(o.value);
      if (src !== o.name) {
        this.claim(o.name);
        this.shapes.set(o.name, this.shapes.get(src)!);
        if (this.spatial.has(src)) this.spatial.add(o.name);
        if (this.castEnds) this.nodes.push({ input: [src], output: [o.name], name: `${o.name}/Cast`, opType: 'Cast', attribute: [int('to', FLOAT)] });
        else this.nodes.push({ input: [src], output: [o.name], name: `${o.name}/Identity`, opType: 'Identity' });
      }
      return this.info(o.name);
    });
  }
}

/** Little-endian float16 bytes of float32 data (round to nearest even). */
function halfBytes(data: Float32Array): Uint8Array {
  const h = toF16Bits(data);
  const bytes = new Uint8Array(h.buffer);
  if (!HOST_LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 2) [bytes[i], bytes[i + 1]] = [bytes[i + 1], bytes[i]];
  return bytes;
}

/** An activation's ONNX lowering (the activation table's, for the opset) as chain steps. */
function actStep(act: Activation, shape: Shape, opset: number): Step[] {
  return ACTIVATIONS[act].onnx(opset).map((a, j) => ({
    op: a.op,
    shape,
    ...(a.floats ? { attrs: a.floats.map(([name, f]) => float(name, f)) } : {}),
    // x * f(x): the activation's input is what its first step read, j steps back.
    ...(a.timesInput ? { back: j } : {}),
  }));
}

/** ONNX's pooled size (it does not drop a ceil-mode window that starts past the input, as PyTorch does). */
function onnxPoolSize(size: number, k: number, s: number, lo: number, hi: number, ceil: boolean): number {
  const q = (size + lo + hi - k) / s;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}

function poolSteps(n: Node, a: PoolAttrs, inShape: Shape, op: 'MaxPool' | 'AveragePool'): Step[] {
  for (const axis of [0, 1]) {
    const [lo, hi] = [a.pad[axis], a.pad[axis + 2]];
    const size = inShape[2 + axis];
    if (onnxPoolSize(size, a.kernel[axis], a.stride[axis], lo, hi, a.ceil) !== outSize(size, a.kernel[axis], a.stride[axis], lo, hi, a.ceil)) {
      fail('E7102', `pool '${n.id}': kernel ${a.kernel[axis]} stride ${a.stride[axis]} on size ${size} in ceil mode has a last window that starts past the input; PyTorch drops it, ONNX ${op} does not`, { span: n.span, subject: n.span ? undefined : n.id });
    }
  }
  const attrs = [ints('kernel_shape', a.kernel), ints('strides', a.stride), ints('pads', a.pad)];
  if (a.ceil) attrs.push(int('ceil_mode', 1));
  // PyTorch's AvgPool2d averages over the padded window (count_include_pad=True).
  if (op === 'AveragePool' && a.pad.some((p) => p > 0)) attrs.push(int('count_include_pad', 1));
  return [{ op, shape: n.shape, attrs }];
}

/** ECA's 1-D conv across the channel axis of an [N,C,1,1] tensor, with its reshapes. */
function ecaSteps(e: Emitter, weight: string, k: number, shape: Shape, act: Activation, opset: number): Step[] {
  const [n, c] = shape;
  const line = [n, 1, c];
  const pad = (k - 1) / 2;
  return [
    // 0 in a Reshape target copies that input dimension: the batch stays symbolic.
    { op: 'Reshape', extra: [e.shapeConst([0, 1, c])], shape: line },
    { op: 'Conv', extra: [e.param(weight)], shape: line, attrs: [ints('kernel_shape', [k]), ints('pads', [pad, pad])] },
    ...actStep(act, line, opset),
    { op: 'Reshape', extra: [e.shapeConst([0, c, 1, 1])], shape },
  ];
}

function convAttrs(n: Node<'conv2d'>): Attr[] {
  const a = n.attrs;
  return [ints('kernel_shape', a.kernel), ints('strides', a.stride), ints('pads', a.pad), int('group', a.groups)];
}

/**
 * A deformable conv, natively: the offsets (the first 18G channels of the offset conv's
 * output) and, for DCNv2, the mask (the sigmoid of the rest) as Slices, then DeformConv
 * (opset 19: X, W, offset, B, mask; offset_group G) and the epilogue activation.
 */
function deformNative(e: Emitter, n: Node<'deform_conv2d'>, opset: number): void {
  const a = n.attrs;
  const taps = a.kernel[0] * a.kernel[1];
  const [nb, , oh, ow] = n.shape;
  const off = e.name(n.inputs[1]);
  const nOff = 2 * taps * a.deformGroups;
  const slice = (from: number, to: number): Step => ({ op: 'Slice', extra: [e.int64Const([from]), e.int64Const([to]), e.int64Const([1])], shape: [nb, to - from, oh, ow] });
  e.chain({ ...n, id: `${n.id}/offsets` }, off, [slice(0, nOff)]);
  let mask: string[] = [];
  if (a.modulated) {
    const m = slice(nOff, nOff + taps * a.deformGroups);
    e.chain({ ...n, id: `${n.id}/mask` }, off, [m, { op: 'Sigmoid', shape: m.shape }]);
    mask = [`${n.id}/mask`];
  }
  const bias = n.params.bias ? e.param(n.params.bias) : '';
  const dc: Step = {
    op: 'DeformConv',
    extra: [e.param(n.params.weight), `${n.id}/offsets`, ...(bias || mask.length ? [bias] : []), ...mask],
    shape: n.shape,
    attrs: [ints('kernel_shape', a.kernel), ints('strides', a.stride), ints('pads', a.pad), ints('dilations', [1, 1]), int('group', a.groups), int('offset_group', a.deformGroups)],
  };
  e.chain(n, e.name(n.inputs[0]), [dc, ...actStep(a.act, n.shape, opset)]);
}

/**
 * A deformable conv for runtimes without DeformConv (opset 16+): every (group, tap) becomes one
 * image of a batched GridSample (bilinear, zeros padding, align_corners 0, so a neighbour
 * outside the image contributes 0 exactly as DCN's sampling does), fed the input channels of
 * its group and a grid built from the offsets, x_n = (2x + 1) / W - 1 at x = ow*SW - PL + j +
 * dx (y likewise); the samples are multiplied by the mask, rearranged to [N, taps*Cin, OH, OW]
 * (tap-major) and reduced by one 1x1 Conv whose weight is the deformable conv's, permuted to
 * [Cout, taps, Cin]. Steps (G groups, T taps, C = Cin / G):
 *   X [N,Cin,H,W] -> Reshape [N,G,1,C,H,W] -> Expand [N,G,T,C,H,W] -> Reshape [N*G*T,C,H,W]
 *   offsets [N,2GT,OH,OW] -> Reshape [N,G,T,2,OH,OW] -> * scale + base -> Gather (dx,dy) ->
 *     Transpose [N,G,T,OH,OW,2] -> Reshape [N*G*T,OH,OW,2]
 *   GridSample -> [N*G*T,C,OH,OW] (* sigmoid(mask) [N*G*T,1,OH,OW]) -> Reshape [N,G,T,C,OH,OW]
 *     -> Transpose [N,T,G,C,OH,OW] -> Reshape [N,T*Cin,OH,OW] -> Conv 1x1 (+ bias) -> act
 */
function deformDecomposed(e: Emitter, n: Node<'deform_conv2d'>, shapeOf: (v: string) => Shape, opset: number): void {
  const a = n.attrs;
  const [kh, kw] = a.kernel;
  const T = kh * kw;
  const G = a.deformGroups;
  const [N, cin, H, W] = shapeOf(n.inputs[0]);
  const C = cin / G;
  const [, cout, OH, OW] = n.shape;
  const id = (s: string) => ({ ...n, id: `${n.id}/${s}` });
  // The input, once per (group, tap).
  e.chain(id('images'), e.name(n.inputs[0]), [
    { op: 'Reshape', extra: [e.shapeConst([0, G, 1, C, H, W])], shape: [N, G, 1, C, H, W] },
    { op: 'Expand', extra: [e.shapeConst([1, 1, T, 1, 1, 1])], shape: [N, G, T, C, H, W] },
    { op: 'Reshape', extra: [e.shapeConst([-1, C, H, W])], shape: [N * G * T, C, H, W] },
  ]);
  // The sampling grid: normalized (x, y) of every tap's point.
  const scale = new Float32Array([2 / H, 2 / W]);
  const base = new Float32Array(T * 2 * OH * OW);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < OH * OW; p++) {
      const y = Math.floor(p / OW) * a.stride[0] - a.pad[0] + Math.floor(t / kw);
      const x = (p % OW) * a.stride[1] - a.pad[1] + (t % kw);
      base[(t * 2 + 0) * OH * OW + p] = (2 * y + 1) / H - 1;
      base[(t * 2 + 1) * OH * OW + p] = (2 * x + 1) / W - 1;
    }
  }
  const sc = e.floatConst(`${n.id}/grid_scale`, [1, 1, 1, 2, 1, 1], scale);
  const bs = e.floatConst(`${n.id}/grid_base`, [1, 1, T, 2, OH, OW], base);
  const offs: Step = { op: 'Slice', extra: [e.int64Const([0]), e.int64Const([2 * T * G]), e.int64Const([1])], shape: [N, 2 * T * G, OH, OW] };
  e.chain(id('grid'), e.name(n.inputs[1]), [
    offs,
    { op: 'Reshape', extra: [e.shapeConst([0, G, T, 2, OH, OW])], shape: [N, G, T, 2, OH, OW] },
    { op: 'Mul', extra: [sc], shape: [N, G, T, 2, OH, OW] },
    { op: 'Add', extra: [bs], shape: [N, G, T, 2, OH, OW] },
    // (dy, dx) -> GridSample's (x, y)
    { op: 'Gather', extra: [e.int64Const([1, 0])], shape: [N, G, T, 2, OH, OW], attrs: [int('axis', 3)] },
    { op: 'Transpose', shape: [N, G, T, OH, OW, 2], attrs: [ints('perm', [0, 1, 2, 4, 5, 3])] },
    { op: 'Reshape', extra: [e.shapeConst([-1, OH, OW, 2])], shape: [N * G * T, OH, OW, 2] },
  ]);
  const sampleSteps: Step[] = [
    { op: 'GridSample', extra: [`${n.id}/grid`], shape: [N * G * T, C, OH, OW], attrs: [stringAttr('mode', opset >= 20 ? 'linear' : 'bilinear'), stringAttr('padding_mode', 'zeros'), int('align_corners', 0)] },
  ];
  if (a.modulated) {
    e.chain(id('mask'), e.name(n.inputs[1]), [
      { op: 'Slice', extra: [e.int64Const([2 * T * G]), e.int64Const([3 * T * G]), e.int64Const([1])], shape: [N, T * G, OH, OW] },
      { op: 'Sigmoid', shape: [N, T * G, OH, OW] },
      { op: 'Reshape', extra: [e.shapeConst([-1, 1, OH, OW])], shape: [N * G * T, 1, OH, OW] },
    ]);
    sampleSteps.push({ op: 'Mul', extra: [`${n.id}/mask`], shape: [N * G * T, C, OH, OW] });
  }
  e.chain(id('columns'), `${n.id}/images`, [
    ...sampleSteps,
    { op: 'Reshape', extra: [e.shapeConst([-1, G, T, C, OH, OW])], shape: [N, G, T, C, OH, OW] },
    { op: 'Transpose', shape: [N, T, G, C, OH, OW], attrs: [ints('perm', [0, 2, 1, 3, 4, 5])] },
    { op: 'Reshape', extra: [e.shapeConst([-1, T * cin, OH, OW])], shape: [N, T * cin, OH, OW] },
  ]);
  // The weight [Cout, Cin, T] as [Cout, T*Cin, 1, 1], tap-major like the columns.
  const w = e.paramData(n.params.weight);
  const wt = new Float32Array(cout * T * cin);
  for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let t = 0; t < T; t++) wt[(o * T + t) * cin + c] = w[(o * cin + c) * T + t];
  const wName = e.floatConst(`${n.params.weight}/taps`, [cout, T * cin, 1, 1], wt);
  const bias = n.params.bias ? [e.param(n.params.bias)] : [];
  e.chain(n, `${n.id}/columns`, [{ op: 'Conv', extra: [wName, ...bias], shape: n.shape, attrs: [ints('kernel_shape', [1, 1])] }, ...actStep(a.act, n.shape, opset)]);
}

function emitNode(e: Emitter, n: Node, shapeOf: (v: string) => Shape, opset: number, deformLowering: 'native' | 'decompose' = 'native'): void {
  const x = e.name(n.inputs[0]);
  const ins = n.inputs.map((i) => e.name(i));
  const s = n.shape;
  const p = (role: string) => e.param(n.params[role]);
  const opt = (role: string) => (n.params[role] ? [p(role)] : []);
  switch (n.op) {
    case 'conv2d': {
      const a = (n as Node<'conv2d'>).attrs;
      const conv: Step = { op: 'Conv', extra: [p('weight'), ...opt('bias')], shape: s, attrs: convAttrs(n as Node<'conv2d'>) };
      const steps = [conv, ...actStep(a.act, s, opset)];
      if (a.residual) steps.push({ op: 'Add', extra: [ins[1]], shape: s });
      return e.chain(n, x, steps);
    }
    case 'deform_conv2d':
      return deformLowering === 'native' ? deformNative(e, n as Node<'deform_conv2d'>, opset) : deformDecomposed(e, n as Node<'deform_conv2d'>, shapeOf, opset);
    case 'batchnorm':
      return e.chain(n, x, [{ op: 'BatchNormalization', extra: [p('weight'), p('bias'), p('running_mean'), p('running_var')], shape: s, attrs: [float('epsilon', (n as Node<'batchnorm'>).attrs.eps)] }]);
    case 'act':
      return e.chain(n, x, actStep((n as Node<'act'>).attrs.fn, s, opset));
    case 'maxpool':
      return e.chain(n, x, poolSteps(n, (n as Node<'maxpool'>).attrs, shapeOf(n.inputs[0]), 'MaxPool'));
    case 'avgpool':
      return e.chain(n, x, poolSteps(n, (n as Node<'avgpool'>).attrs, shapeOf(n.inputs[0]), 'AveragePool'));
    case 'global_avg_pool':
      return e.chain(n, x, [{ op: 'GlobalAveragePool', shape: s }]);
    case 'concat':
      return e.chain(n, x, [{ op: 'Concat', inputs: ins, shape: s, attrs: [int('axis', 1)] }]);
    case 'add':
      return e.chain(n, x, [{ op: 'Add', inputs: ins, shape: s }]);
    case 'mul':
      return e.chain(n, x, [{ op: 'Mul', inputs: ins, shape: s }]);
    case 'eca_conv1d':
      return e.chain(n, x, ecaSteps(e, n.params.weight, (n as Node<'eca_conv1d'>).attrs.kernel, s, 'none', opset));
    case 'flatten':
      return e.chain(n, x, [{ op: 'Flatten', shape: s, attrs: [int('axis', 1)] }]);
    case 'linear': {
      const xs = shapeOf(n.inputs[0]);
      // Gemm takes 2-D operands; the optimized graph feeds the pooled [N,C,1,1] tensor directly.
      const flat: Step[] = xs.length === 4 ? [{ op: 'Flatten', shape: [xs[0], xs[1]], attrs: [int('axis', 1)] }] : [];
      return e.chain(n, x, [...flat, { op: 'Gemm', extra: [p('weight'), ...opt('bias')], shape: s, attrs: [int('transB', 1)] }]);
    }
    case 'se_gate': {
      const a = (n as Node<'se_gate'>).attrs;
      const gap: Step = { op: 'GlobalAveragePool', shape: s };
      if (a.mode === 'eca') return e.chain(n, x, [gap, ...ecaSteps(e, n.params.weight, a.kernel, s, a.act, opset)]);
      const fc: Step = { op: 'Conv', extra: [p('weight'), p('bias')], shape: s, attrs: [ints('kernel_shape', [1, 1])] };
      return e.chain(n, x, [gap, fc, ...actStep(a.act, s, opset)]);
    }
    case 'scale': {
      const steps: Step[] = [{ op: 'Mul', inputs: [ins[0], ins[1]], shape: s }];
      if ((n as Node<'scale'>).attrs.residual) steps.push({ op: 'Add', extra: [ins[2]], shape: s });
      return e.chain(n, x, steps);
    }
  }
  throw new Error(`internal: no ONNX lowering for op '${(n as Node).op}'`);
}

/** Builds the ONNX model parts of `g` (every parameter must hold data). */
export function emitOnnx(g: Graph, opts: EmitOptions): ModelParts {
  if (!(opts.opset in IR_VERSION)) throw new Error(`internal: opset ${opts.opset} outside ${MIN_OPSET}..${MAX_OPSET}`);
  const e = new Emitter(g, opts);
  const shapes = new Map<string, Shape>([[INPUT, g.input.shape], ...g.nodes.map((n) => [n.id, n.shape] as const)]);
  for (const n of g.nodes) emitNode(e, n, (v) => shapes.get(v)!, opts.opset, opts.deformLowering);
  const outputs = e.finishOutputs();
  return {
    irVersion: IR_VERSION[opts.opset],
    opset: opts.opset,
    producerVersion: opts.producerVersion,
    docString: opts.docString,
    metadata: opts.metadata,
    graphName: g.name,
    nodes: e.nodes,
    inputs: [e.info(INPUT)],
    outputs,
    valueInfo: e.valueInfo,
    initializers: e.initializers,
  };
}

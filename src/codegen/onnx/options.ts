// The 'onnx' target's declaration: flags, typed options, the stage it consumes. Loaded by the
// target registry without the backend (no protobuf or onnxruntime code here).

import { fail } from '../../diag/diagnostics.js';
import type { TargetSpec } from '../../targets/contract.js';

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;
/** The default opset of a model with deformable convs: the first with DeformConv. */
export const DEFORM_OPSET = 19;
/** GridSample (the decomposed deformable conv) exists from this opset. */
export const GRID_SAMPLE_OPSET = 16;

export interface OnnxOptions {
  /** --opset; absent: DEFAULT_OPSET, or DEFORM_OPSET for a model with deformable convs. */
  readonly opset?: number;
  /**
   * How a deformable conv is written: 'native' (DeformConv, opset 19+) or 'decompose' (GridSample
   * per tap, the mask, one Conv: for runtimes without DeformConv, opset 16+). Absent: native
   * from opset 19, decompose below.
   */
  readonly deformLowering?: 'native' | 'decompose';
  /** One ONNX op per module of the unoptimized graph. */
  readonly faithful: boolean;
  /** Weights in <model>.onnx.data even below the protobuf limit. */
  readonly externalData: boolean;
  readonly dynamicBatch: boolean;
  readonly dynamicHw: boolean;
  /** fp16 models: float16 graph input and outputs instead of float32 with Casts at the ends. */
  readonly ioNative: boolean;
}

export const onnxTarget: TargetSpec<OnnxOptions> = {
  name: 'onnx',
  description: `ONNX model (opset ${MIN_OPSET}..${MAX_OPSET}, default ${DEFAULT_OPSET}; ${DEFORM_OPSET} with deformable convs) with weights as initializers; runs with onnxruntime-node`,
  builds: true,
  runs: true,
  precisions: ['fp32', 'fp16'],
  flags: [
    { name: 'opset', type: 'string', value: 'N', help: `ONNX opset ${MIN_OPSET}..${MAX_OPSET} (default ${DEFAULT_OPSET})` },
    { name: 'faithful', type: 'boolean', help: 'one ONNX op per module of the unoptimized graph (BatchNormalization kept)' },
    { name: 'external-data', type: 'boolean', help: 'weights in <model>.onnx.data (automatic past the 2 GB protobuf limit)' },
    { name: 'dynamic-batch', type: 'boolean', help: "symbolic batch dimension 'batch'" },
    { name: 'dynamic-hw', type: 'boolean', help: "symbolic input height and width ('height', 'width')" },
    { name: 'io', type: 'string', value: 'float32|native', help: 'type of the graph input and outputs of a reduced-precision model (default float32, Casts inside)' },
    { name: 'deform-lowering', type: 'string', value: 'native|decompose', help: `deformable convs as DeformConv (opset ${DEFORM_OPSET}+, the default there) or GridSample + Conv (opset ${GRID_SAMPLE_OPSET}+, for runtimes without DeformConv)` },
  ],
  parse(v) {
    let opset: number | undefined;
    if (v.opset !== undefined) {
      opset = Number(v.opset);
      if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) fail('E7101', `--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got '${String(v.opset)}'`, { subject: '--opset' });
    }
    const io = v.io === undefined ? 'float32' : String(v.io);
    if (io !== 'float32' && io !== 'native') fail('E7107', `--io takes float32 or native, got '${io}'`, { subject: '--io' });
    const dlText = v['deform-lowering'] === undefined ? undefined : String(v['deform-lowering']);
    if (dlText !== undefined && dlText !== 'native' && dlText !== 'decompose') fail('E7108', `--deform-lowering takes native or decompose, got '${dlText}'`, { subject: '--deform-lowering' });
    const dl = dlText as 'native' | 'decompose' | undefined;
    return { ...(opset !== undefined ? { opset } : {}), ...(dl ? { deformLowering: dl } : {}), faithful: !!v.faithful, externalData: !!v['external-data'], dynamicBatch: !!v['dynamic-batch'], dynamicHw: !!v['dynamic-hw'], ioNative: io === 'native' };
  },
  // A reduced-precision file is made from the optimized graph: BN is folded in fp32 before the
  // weights are rounded (--faithful keeps BatchNormalization, so it is fp32 only: see emit.ts).
  consumes: (o) => (o.faithful ? 'graph' : 'optimized'),
};

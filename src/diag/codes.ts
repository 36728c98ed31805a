// The diagnostics catalog: every code vovc reports, the stage that owns it and what it means.
// Each stage owns its own range of codes (STAGES) and no range is shared. docs/DIAGNOSTICS.md
// lists every code; test/diag/catalog.test.ts checks that the catalog, the sources and the
// docs agree (every code raised is here, in its stage's range, and documented; none unused).
// The model language's message templates live in src/dsl/messages.ts, under these codes.

export interface Stage {
  readonly name: string;
  /** First and last code of the stage's range (E or W codes share the numbers). */
  readonly first: number;
  readonly last: number;
}

export const STAGES = {
  dsl: { name: 'model language (src/dsl)', first: 1000, last: 1999 },
  lowering: { name: 'lowering and graph building (src/model, src/ir/builder.ts)', first: 2000, last: 2999 },
  ir: { name: 'IR verifier, passes (src/ir, src/passes)', first: 3000, last: 3099 },
  plan: { name: 'kernel plan and its verifier (src/plan)', first: 3100, last: 3199 },
  irText: { name: 'IR text parser (src/ir/parse.ts)', first: 3200, last: 3299 },
  weights: { name: 'checkpoints and array files (src/weights, src/io)', first: 4000, last: 4199 },
  images: { name: 'images (src/image)', first: 4200, last: 4299 },
  gpus: { name: 'GPU profiles (src/hw/gpus.ts): the analysis roofline and the CUDA tile choice', first: 4300, last: 4399 },
  wgsl: { name: 'WGSL backend (src/codegen/wgsl)', first: 5100, last: 5399 },
  cstyle: { name: 'C-style renderer shared by CUDA and WGSL (src/codegen/cstyle)', first: 5400, last: 5499 },
  cuda: { name: 'CUDA backend (src/codegen/cuda)', first: 6100, last: 6199 },
  onnx: { name: 'ONNX backend (src/codegen/onnx)', first: 7100, last: 7199 },
  driver: { name: 'driver and command line (src/driver, cli)', first: 8000, last: 8099 },
  outputs: { name: 'output files and folders (src/util/fsx.ts)', first: 8100, last: 8199 },
  reference: { name: 'reference interpreter (src/runtime)', first: 9200, last: 9299 },
} as const satisfies Record<string, Stage>;

export type StageName = keyof typeof STAGES;

export interface CodeInfo {
  readonly stage: StageName;
  readonly summary: string;
}

const c = (stage: StageName, summary: string): CodeInfo => ({ stage, summary });

export const CODES: Readonly<Record<string, CodeInfo>> = {
  E1001: c('dsl', 'a character that starts no token'),
  E1002: c('dsl', 'a malformed number (e.g. 12abc, 1e, 3x)'),
  E1003: c('dsl', 'a word that is not a keyword where a keyword is expected'),
  E1004: c('dsl', 'a token other than the grammar allows'),
  E1005: c('dsl', "a statement before the first 'model NAME' line"),
  E1006: c('dsl', 'a word outside the fixed set of values of a setting'),
  E1007: c('dsl', 'a stage name other than stage2 .. stage5'),
  E1008: c('dsl', 'the same setting twice on one line'),
  E1101: c('dsl', 'two models of one name in a file (or in the zoo)'),
  E1102: c('dsl', 'a model name that is neither in the file nor in the zoo'),
  E1103: c('dsl', "'extends' chains that come back to where they started"),
  E1104: c('dsl', 'the same statement twice in one model'),
  E1105: c('dsl', 'the same stage twice in one model'),
  E1106: c('dsl', 'declared input channels that differ from what feeds the layer'),
  E1107: c('dsl', "'residual all' on a stage whose first block changes the width"),
  E1108: c('dsl', 'a value out of range (non-positive width, stride 0, even ECA kernel, ...)'),
  E1109: c('dsl', 'a model or stage without a required part (stem, stages, head, widths, layers)'),
  E1110: c('dsl', 'a setting that does not belong where it is written'),
  E1111: c('dsl', 'stages that are not consecutive from stage2'),
  E1112: c('dsl', 'an output name the model cannot produce'),
  E1113: c('dsl', 'the same output named twice'),
  E1114: c('dsl', 'a deformable convolution where it cannot be: the stem, a depthwise stage, offset groups that do not divide a layer\'s input channels'),
  E1201: c('dsl', 'a --set argument that is not key=value'),
  E1202: c('dsl', 'a --set key that does not exist (or not in this model)'),
  E1203: c('dsl', 'a --set value of the wrong form'),
  E1204: c('dsl', 'a --set key for a stage the model does not have'),
  E1205: c('dsl', 'an input shape override that is not four positive integers'),
  E1301: c('dsl', 'a model file that cannot be read'),
  E1302: c('dsl', "'file.vov:name' naming a model the file does not define"),
  E1303: c('dsl', 'a model file without any model'),
  E1304: c('dsl', 'the models/ folder of the installation is missing'),

  E2001: c('lowering', "a node whose shape rule fails while the graph is built (names the node and its DSL span)"),
  E2002: c('lowering', 'a residual block whose input and output widths differ'),
  E2003: c('lowering', 'an output the lowered model does not have'),
  E2005: c('lowering', 'a tensor past 2^50 elements (an input or width far beyond any model)'),
  E2004: c('lowering', 'a model too large to seed its parameters in memory (a width or kernel size typo)'),

  E3001: c('ir', 'the verifier found an inconsistent graph (node, shape, parameter)'),
  E3003: c('ir', 'an unknown pass name on the command line'),
  E3101: c('plan', 'the plan verifier found an inconsistent kernel plan (a read before the write, a view outside its buffer, overlapping live arena blocks, a dtype mismatch, a missing parameter)'),
  E3102: c('plan', 'packing weights for a plan: a parameter the weights do not hold'),
  E3103: c('plan', 'packing weights for a plan: a parameter without data (a shapes-only graph)'),
  E3104: c('plan', 'packing weights for a plan: a parameter of the wrong size'),
  E3201: c('irText', 'malformed IR text (names the line and column)'),

  E4001: c('weights', 'no key of the checkpoint matches any naming convention of the model'),
  E4002: c('weights', 'a checkpoint tensor of a non-float dtype where the model needs floats'),
  E4003: c('weights', "a checkpoint tensor whose shape differs from the model's parameter"),
  E4004: c('weights', 'parameters the checkpoint does not hold (without --allow-missing)'),
  W4005: c('weights', 'checkpoint tensors the model does not use (a warning)'),
  W4006: c('weights', 'tensors holding NaN or Inf (an error with --strict-values)'),
  E4007: c('weights', 'a naming convention that cannot represent some parameters (weights convert)'),
  E4101: c('weights', 'a file that cannot be read'),
  E4102: c('weights', 'a legacy (pre-zip) PyTorch checkpoint'),
  E4110: c('weights', 'a malformed .npy header'),
  E4111: c('weights', 'an .npy dtype vovc does not read, or Fortran order'),
  E4120: c('weights', 'a malformed safetensors file'),
  E4121: c('weights', 'a safetensors dtype vovc does not read'),
  E4130: c('weights', 'not a torch zip (or an encrypted entry)'),
  E4131: c('weights', 'a malformed pickle (names the opcode offset)'),
  E4132: c('weights', 'a pickle that calls a global outside the allow-list (refused: no code runs)'),
  E4133: c('weights', 'a storage record shorter than the tensor it declares'),
  E4140: c('weights', 'no dict of tensors found in the checkpoint'),
  E4201: c('images', 'not a PNG or JPEG file'),
  E4202: c('images', 'an image that cannot be decoded'),
  E4203: c('images', 'an image file that cannot be read'),
  E4301: c('gpus', 'a malformed GPU profile file'),
  E4302: c('gpus', 'an unknown GPU name'),
  E4303: c('gpus', 'a precision the GPU profile has no peak for'),
  E4304: c('gpus', 'a --gpu for the CUDA target whose profile has no SM facts'),

  E5102: c('wgsl', 'a parameter larger than one WebGPU storage binding'),
  E5105: c('wgsl', "a launch that needs more storage buffers than WebGPU's default 8 per stage"),
  E5108: c('wgsl', 'an arena larger than one WebGPU storage binding'),
  E5109: c('wgsl', 'a conv weight that is not [Cout, Cin, kh, kw] (internal)'),
  E5110: c('wgsl', 'a conv tile outside the workgroup limits (internal)'),
  E5111: c('wgsl', 'a bad --io value for the WGSL target'),
  E5201: c('wgsl', "the 'webgpu' package (Dawn for Node) cannot be loaded (exit code 3)"),
  E5202: c('wgsl', 'no usable WebGPU adapter in Node (exit code 3)'),
  E5301: c('wgsl', 'a parameter the plan names and the weights lack'),
  E5302: c('wgsl', 'a sample input of another shape than the model'),
  E5303: c('wgsl', 'an output the model does not have'),
  E5304: c('wgsl', 'a parameter holding another number of values than its shape'),
  E5305: c('wgsl', 'a tensor larger than one WebGPU storage binding (names it, its bytes and the limits)'),
  E5306: c('wgsl', 'the WebGPU device refused the model at run time (validation, out of memory, device lost; exit code 3)'),
  E5401: c('cstyle', "an attention gate with more channels than the target's shared memory holds"),

  E6110: c('cuda', 'the CUDA or C++ compiler cannot be started (exit code 3)'),
  E6111: c('cuda', 'the compiler failed on the artifact'),
  E6112: c('cuda', 'the demo program cannot be started'),
  E6113: c('cuda', 'no GPU (exit code 3)'),
  E6114: c('cuda', 'the demo program failed'),
  E6115: c('cuda', 'a reduced precision for a --gpu below compute capability 8.0 (no tensor-core mma.sync / cp.async)'),
  E6116: c('cuda', 'a bad --io value for the CUDA target'),
  E6120: c('cuda', 'cuda-emu needs g++ on the PATH (exit code 3)'),
  E6130: c('cuda', 'nvcc not found on the PATH (exit code 3)'),

  E7101: c('onnx', '--opset outside 13..21'),
  E7102: c('onnx', 'a ceil-mode pool whose last window starts past the input (PyTorch drops it, ONNX would not)'),
  E7103: c('onnx', 'an output the ONNX model does not have'),
  E7104: c('onnx', "an input shape that does not match the model's"),
  E7106: c('onnx', 'onnxruntime-node cannot be loaded (exit code 3)'),
  E7107: c('onnx', 'a bad --io value, or --faithful with a reduced precision'),
  E7108: c('onnx', 'a deformable conv the chosen opset cannot write: a bad --deform-lowering, native below opset 19, any below opset 16, decompose with --dynamic-hw'),

  E8001: c('driver', 'a target that builds artifacts but cannot run them (exit code 3)'),
  E8002: c('driver', 'an input .npy that is not 4-D NCHW'),
  E8003: c('driver', 'a target that runs models but writes no artifact'),
  E8004: c('driver', 'an unknown target (exit code 2)'),
  E8007: c('driver', 'a run whose tensors and weights need more than the memory budget (--max-memory, VOVC_MAX_MEMORY, the available memory), or a malformed budget'),
  E8010: c('driver', 'vovc compare: a reference that cannot be read, holds no tensors, or maps to none of the model\'s modules'),
  E8008: c('driver', 'vovc bench refused: cuda-emu (it checks correctness, not speed), a target without a benchmark mode, a bad --runs'),
  W8008: c('driver', 'no --weights: the run or build uses the seeded initialization (a warning, printed also under --quiet)'),
  W8006: c('driver', 'an input holding NaN or Inf (a warning; the values propagate as in PyTorch)'),
  E8005: c('driver', 'a --precision the target does not offer, or an unknown precision'),
  E8101: c('outputs', 'an output name that would be written outside the output folder'),
  E8102: c('outputs', 'a folder (or file) in the output folder in the way of an artifact file, found before anything is moved'),
  E8103: c('outputs', 'another vovc holds the output folder\'s lock for longer than the wait (120 s)'),
  E8104: c('outputs', 'an output path vovc cannot write: a file where a folder must be (or under a file), a folder where a file must be, a read-only folder; checked before any work'),
  E8105: c('outputs', 'an output file that exists, replaced only with --force'),

  E9201: c('reference', "an input whose shape does not match the model's"),
  E9202: c('reference', 'an input holding another number of values than its shape'),
  E9203: c('reference', 'an output or value the model does not have'),
  E9204: c('reference', 'a parameter without data (no weights bound or seeded)'),
  E9205: c('reference', 'a thread count outside 1..256'),
};

/** Codes renumbered when each stage got its own range (docs/DIAGNOSTICS.md has the table). */
export const RENUMBERED: Readonly<Record<string, string>> = {
  E3004: 'E3102',
  E3005: 'E3103',
  E3006: 'E3104',
  E5001: 'E8101',
  E5002: 'E8102',
  E5106: 'E5401',
  E6001: 'E4301',
  E6002: 'E4302',
  E6003: 'E4303',
  E6201: 'E9201',
  E6202: 'E9202',
  E6203: 'E9203',
  E6204: 'E9204',
  E6205: 'E9205',
  E7001: 'E4201',
  E7002: 'E4202',
  E7003: 'E4203',
};

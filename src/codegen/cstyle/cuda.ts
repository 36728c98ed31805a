// The CUDA dialect of the C-style renderer. Kernels are __global__ functions of the artifact's
// vovc_model.cu, one per launch, with every shape, offset and stride a constant; pointers are
// parameters (const and __restrict__ where the kernel only reads).

import type { DType } from '../../plan/types.js';
import { floatText, type Binding, type Dialect } from './dialect.js';

/** Threads per block of the 1-D kernels; must match nothing in vovc_kernels.cuh (the GEMM has its own). */
const CUDA_THREADS = 256;
/** Static shared memory per block without opting in (CUDA's default limit). */
const CUDA_MAX_SHARED_BYTES = 48 * 1024;

/** max, min and clamp propagate NaN as PyTorch does (vovc_cuda.h), unlike IEEE fmaxf / fminf. */
const CALLS: Readonly<Record<string, string>> = { max: 'vovc_fmax', min: 'vovc_fmin', exp: 'expf', sqrt: 'sqrtf', fma: 'fmaf', floor: 'floorf' };

/** The CUDA type of each storage dtype (cuda_fp16.h, cuda_bf16.h; the shim emulates both). */
export const CUDA_TYPE: Readonly<Record<DType, string>> = { f32: 'float', f16: '__half', bf16: '__nv_bfloat16' };
const TO_FLOAT: Readonly<Record<DType, string>> = { f32: '', f16: '__half2float', bf16: '__bfloat162float' };
const FROM_FLOAT: Readonly<Record<DType, string>> = { f32: '', f16: '__float2half_rn', bf16: '__float2bfloat16_rn' };

/** The CUDA dialect for a launch indexed with `int` or, past 2^31 elements, `int64_t`. */
export function cudaDialect(wide: boolean): Dialect {
  const I = wide ? 'int64_t' : 'int';
  return {
    name: 'cuda',
    workgroup: CUDA_THREADS,
    reduceWorkgroup: CUDA_THREADS,
    maxSharedBytes: CUDA_MAX_SHARED_BYTES,
    index: I,
    f: (x) => `${floatText(x)}f`,
    i: (n) => (Math.abs(n) > 2 ** 31 - 1 ? `${n}LL` : String(n)),
    call: (fn, a) => (fn === 'clamp' ? `vovc_clamp(${a.join(', ')})` : `${CALLS[fn]}(${a.join(', ')})`),
    load: (buf, idx, t) => (t === 'f32' ? `${buf}[${idx}]` : `${TO_FLOAT[t]}(${buf}[${idx}])`),
    store: (buf, idx, v, t) => (t === 'f32' ? `${buf}[${idx}] = ${v};` : `${buf}[${idx}] = ${FROM_FLOAT[t]}(${v});`),
    packed: () => false,
    elementFunction: (name, index, body) => [`__device__ __forceinline__ float ${name}(${I} ${index}) {`, ...body, '}'].join('\n'),
    storeWord: () => {
      throw new Error('internal: CUDA stores 16-bit types element by element');
    },
    loadVec4: () => {
      throw new Error('internal: CUDA binds no vec4 buffers');
    },
    imin: (a, b) => `((${a}) < (${b}) ? (${a}) : (${b}))`,
    imax: (a, b) => `((${a}) > (${b}) ? (${a}) : (${b}))`,
    toFloat: (e) => `float(${e})`,
    toIndex: (e) => `${I}(${e})`,
    hookFunction: (name, params, body) => [`__device__ __forceinline__ float ${name}(${params.map((q) => `${I} ${q}`).join(', ')}) const {`, ...body, '}'].join('\n'),
    letI: (n, e) => `const ${I} ${n} = ${e};`,
    letF: (n, e) => `const float ${n} = ${e};`,
    varI: (n, e) => `${I} ${n} = ${e};`,
    varF: (n, e) => `float ${n} = ${e};`,
    forI: (v, from, to, step = '1') => `for (${I} ${v} = ${from}; ${v} < ${to}; ${v} += ${step}) {`,
    barrier: '__syncthreads();',
    shared: (n, count) => `__shared__ float ${n}[${count}];`,
    flatIndex: (n, wg, total) => [
      `const long long ${n}64 = ((long long)blockIdx.y * gridDim.x + blockIdx.x) * ${wg} + threadIdx.x;`,
      `if (${n}64 >= ${total}LL) return;`,
      `const ${I} ${n} = ${I}(${n}64);`,
    ],
    groupId: `(${I}(blockIdx.y) * ${I}(gridDim.x) + ${I}(blockIdx.x))`,
    localId: `${I}(threadIdx.x)`,
    kernel: ({ name, comment, bindings, workgroup, shared, functions = [], body }) =>
      [
        ...(functions.length ? [`// ${comment}`, ...functions] : []),
        `// ${comment}`,
        `__global__ void __launch_bounds__(${workgroup}) ${name}(${bindings.map(cudaParam).join(', ')}) {`,
        ...shared.map((s) => `  ${s}`),
        ...body,
        '}',
      ].join('\n'),
  };
}

/** A kernel parameter: writable buffers may also be read; read-only ones are const __restrict__. */
export function cudaParam(b: Binding): string {
  const t = CUDA_TYPE[b.dtype];
  return b.write ? `${t}* ${b.name}` : `const ${t}* __restrict__ ${b.name}`;
}

// The WGSL dialect of the C-style renderer. A kernel is a whole shader module: its storage
// bindings (each buffer bound whole, group 0, in first-use order), workgroup memory at module
// scope, and `main`. Every shape, offset and stride is a constant; indices are i32 (every
// buffer fits one binding, below 2^31 elements: guard.ts).
//
// fp16 storage is packed: WGSL storage has no 16-bit scalar without `shader-f16`, so a buffer of
// f16 is array<u32>, element i in the low (i even) or high half of word i / 2, read with
// unpack2x16float; the GEMM's weight chunk is array<vec2<u32>> (four halves per vec2). Stores
// write whole words through pack2x16float, each word by one invocation (the plan pads channel
// planes to even counts: KernelPlan.evenPlanes). WGSL leaves pack2x16float of a value outside
// f16's finite range indeterminate, so every packed store clamps to +-65504 first.

import { MAX_INVOCATIONS_PER_WORKGROUP, MAX_WORKGROUP_STORAGE_BYTES, WORKGROUP_SIZE } from '../wgsl/limits.js';
import { floatText, type Binding, type Dialect } from './dialect.js';

/** A module's first line (a comment) and its storage bindings, group 0 in order. */
export function wgslBindings(comment: string, bindings: readonly Binding[]): string {
  return [
    `// ${comment}`,
    ...bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.write || b.key === 'arena' ? 'read_write' : 'read'}> ${b.name}: array<${elementType(b)}>;`),
  ].join('\n');
}

/** The WGSL element type of a binding: f32 or vec4<f32>; packed f16 as u32 or vec2<u32>. */
function elementType(b: Binding): string {
  if (b.dtype === 'f32') return b.vec4 ? 'vec4<f32>' : 'f32';
  if (b.dtype === 'f16') return b.vec4 ? 'vec2<u32>' : 'u32';
  return unsupported(b.dtype);
}

function unsupported(t: string): never {
  throw new Error(`internal: the WGSL dialect has no ${t} storage (the target offers fp32 and fp16)`);
}

/** pack2x16float of (v0, v1), clamped to f16's finite range first (WGSL leaves overflow indeterminate). */
const packHalves = (v0: string, v1: string): string => `pack2x16float(clamp(vec2<f32>(${v0}, ${v1}), vec2<f32>(-65504.0), vec2<f32>(65504.0)))`;

/** max, min and clamp propagate NaN as PyTorch does (NAN_HELPERS), unlike WGSL's builtins. */
const CALLS: Readonly<Record<string, string>> = { max: 'vmax', min: 'vmin', exp: 'exp', sqrt: 'sqrt', fma: 'fma', clamp: 'vclamp', floor: 'floor' };

/**
 * NaN-propagating max, min and clamp. WGSL lets a compiler assume values are never NaN, so a
 * NaN is recognized by its bits (exponent all ones, mantissa non-zero), not by x != x.
 */
const NAN_HELPERS: readonly (readonly [string, string])[] = [
  ['vnan(', 'fn vnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }'],
  ['vmax(', 'fn vmax(a: f32, b: f32) -> f32 { return select(select(max(a, b), b, vnan(b)), a, vnan(a)); }'],
  ['vmin(', 'fn vmin(a: f32, b: f32) -> f32 { return select(select(min(a, b), b, vnan(b)), a, vnan(a)); }'],
  ['vclamp(', 'fn vclamp(x: f32, lo: f32, hi: f32) -> f32 { return select(clamp(x, lo, hi), x, vnan(x)); }'],
];

/** The NaN helpers that `code` calls, as module-scope declarations (empty when it calls none). */
export function nanHelpers(code: string): string {
  const used = NAN_HELPERS.filter(([call]) => call !== 'vnan(' && code.includes(call));
  return used.length ? [NAN_HELPERS[0][1], ...used.map(([, def]) => def)].join('\n') : '';
}

export const wgslDialect: Dialect = {
  name: 'wgsl',
  workgroup: WORKGROUP_SIZE,
  reduceWorkgroup: Math.min(WORKGROUP_SIZE, MAX_INVOCATIONS_PER_WORKGROUP),
  maxSharedBytes: MAX_WORKGROUP_STORAGE_BYTES,
  index: 'i32',
  f: floatText,
  i: (n) => `${n}i`,
  call: (fn, a) => `${CALLS[fn]}(${a.join(', ')})`,
  load: (buf, idx, t) => (t === 'f32' ? `${buf}[${idx}]` : t === 'f16' ? `unpack2x16float(${buf}[(${idx}) >> 1u])[(${idx}) & 1i]` : unsupported(t)),
  store: (buf, idx, v, t) => (t === 'f32' ? `${buf}[${idx}] = ${v};` : t === 'f16' ? `${buf}[(${idx}) >> 1u] = ${packHalves(v, '0.0')};` : unsupported(t)),
  packed: (t) => t === 'f16',
  elementFunction: (name, index, body) => [`fn ${name}(${index}: i32) -> f32 {`, ...body, '}'].join('\n'),
  storeWord: (buf, word, v0, v1, t) => (t === 'f16' ? `${buf}[${word}] = ${packHalves(v0, v1)};` : unsupported(t)),
  loadVec4: (buf, idx, t) =>
    t === 'f32' ? `${buf}[(${idx}) / 4i][(${idx}) % 4i]` : t === 'f16' ? `unpack2x16float(${buf}[(${idx}) >> 2u][((${idx}) >> 1u) & 1i])[(${idx}) & 1i]` : unsupported(t),
  imin: (a, b) => `min(${a}, ${b})`,
  imax: (a, b) => `max(${a}, ${b})`,
  toFloat: (e) => `f32(${e})`,
  toIndex: (e) => `i32(${e})`,
  hookFunction: (name, params, body) => [`fn ${name}(${params.map((q) => `${q}: i32`).join(', ')}) -> f32 {`, ...body, '}'].join('\n'),
  letI: (n, e) => `let ${n} = ${e};`,
  letF: (n, e) => `let ${n} = ${e};`,
  varI: (n, e) => `var ${n}: i32 = ${e};`,
  varF: (n, e) => `var ${n}: f32 = ${e};`,
  forI: (v, from, to, step = '1') => `for (var ${v}: i32 = ${from}; ${v} < ${to}; ${v} += ${step}) {`,
  barrier: 'workgroupBarrier();',
  shared: (n, count) => `var<workgroup> ${n}: array<f32, ${count}>;`,
  flatIndex: (n, wg, total) => [`let ${n} = i32(wid.y * nwg.x + wid.x) * ${wg}i + i32(li);`, `if (${n} >= ${total}i) { return; }`],
  groupId: 'i32(wid.y * nwg.x + wid.x)',
  localId: 'i32(li)',
  kernel: ({ comment, bindings, workgroup, shared, functions = [], body }) =>
    [
      wgslBindings(comment, bindings),
      ...shared,
      ...[nanHelpers([...functions, ...body].join('\n'))].filter((h) => h),
      ...functions,
      '',
      `@compute @workgroup_size(${workgroup})`,
      'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) nwg: vec3<u32>) {',
      ...body,
      '}',
    ].join('\n'),
};

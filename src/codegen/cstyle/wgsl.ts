// The WGSL dialect of the C-style renderer. A kernel is a whole shader module: its storage
// bindings (each buffer bound whole, group 0, in first-use order), workgroup memory at module
// scope, and `main`. Every shape, offset and stride is a constant; indices are i32 (every
// buffer fits one binding, below 2^31 elements: guard.ts).

import { MAX_INVOCATIONS_PER_WORKGROUP, MAX_WORKGROUP_STORAGE_BYTES, WORKGROUP_SIZE } from '../wgsl/limits.js';
import { floatText, type Binding, type Dialect } from './dialect.js';

/** A module's first line (a comment) and its storage bindings, group 0 in order. */
export function wgslBindings(comment: string, bindings: readonly Binding[]): string {
  return [
    `// ${comment}`,
    ...bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.write || b.key === 'arena' ? 'read_write' : 'read'}> ${b.name}: array<${b.vec4 ? 'vec4<f32>' : 'f32'}>;`),
  ].join('\n');
}

function unsupported(t: string): never {
  throw new Error(`internal: the WGSL dialect has no ${t} storage (the target offers fp32 only)`);
}

const CALLS: Readonly<Record<string, string>> = { max: 'max', min: 'min', exp: 'exp', sqrt: 'sqrt', fma: 'fma', clamp: 'clamp' };

export const wgslDialect: Dialect = {
  name: 'wgsl',
  workgroup: WORKGROUP_SIZE,
  reduceWorkgroup: Math.min(WORKGROUP_SIZE, MAX_INVOCATIONS_PER_WORKGROUP),
  maxSharedBytes: MAX_WORKGROUP_STORAGE_BYTES,
  index: 'i32',
  f: floatText,
  i: (n) => `${n}i`,
  call: (fn, a) => `${CALLS[fn]}(${a.join(', ')})`,
  // Reduced-precision storage (packed pairs) is not rendered yet; the target declares fp32 only.
  load: (buf, idx, t) => (t === 'f32' ? `${buf}[${idx}]` : unsupported(t)),
  store: (buf, idx, v, t) => (t === 'f32' ? `${buf}[${idx}] = ${v};` : unsupported(t)),
  imin: (a, b) => `min(${a}, ${b})`,
  toFloat: (e) => `f32(${e})`,
  negInf: '-3.4028234663852886e38',
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
  kernel: ({ comment, bindings, workgroup, shared, body }) =>
    [
      wgslBindings(comment, bindings),
      ...shared,
      '',
      `@compute @workgroup_size(${workgroup})`,
      'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) nwg: vec3<u32>) {',
      ...body,
      '}',
    ].join('\n'),
};

// What differs between the C-like languages vovc emits (tinygrad's renderer design: one
// renderer, thin dialects). A dialect says how to spell types, literals, builtins,
// declarations, loops, barriers, shared memory, thread indices and the kernel header; the
// kernels themselves are written once (kernels.ts) against this interface.

import type { Builtin, Expr } from '../../ir/expr.js';
import type { DType } from '../../plan/types.js';

/** A buffer a kernel binds, in first-use order. */
export interface Binding {
  /** Which buffer: 'arena', 'input', 'out:<name>', 'w' (CUDA's blob) or 'w<k>' (a WGSL chunk). */
  readonly key: string;
  /** The identifier in the kernel. */
  readonly name: string;
  /** The kernel writes it. */
  readonly write: boolean;
  /** Element type: a scalar, or vec4 (the WGSL GEMM's weight operand). */
  readonly vec4: boolean;
  /** The storage type of the buffer's elements (the plan's dtype). */
  readonly dtype: DType;
}

export interface Dialect {
  readonly name: 'cuda' | 'wgsl';
  /** Threads per workgroup of the 1-D kernels (elementwise, pooling, convolutions without GEMM). */
  readonly workgroup: number;
  /** Threads per workgroup of the reductions (global pool, gate). */
  readonly reduceWorkgroup: number;
  /** Shared (workgroup) memory a kernel may use, bytes. */
  readonly maxSharedBytes: number;
  /** The index type's name ('int', 'long long', 'i32'). */
  readonly index: string;
  /** A float32 literal. */
  f(x: number): string;
  /** An integer literal of the index type. */
  i(n: number): string;
  /** A builtin over floats; clamp(x, lo, hi) means min(max(x, lo), hi). */
  call(fn: Builtin | 'fma' | 'floor', args: readonly string[]): string;
  /** A float value (integral: a floor) as an index value. */
  toIndex(e: string): string;
  /**
   * A float function of a GEMM convolution's hook, with index-typed `params` (CUDA: a const
   * member of the hook struct, so it reads the struct's buffers; WGSL: a module function).
   */
  hookFunction(name: string, params: readonly string[], body: readonly string[]): string;
  /** Element `idx` of buffer `buf` (stored as `dtype`) as a float32 value. */
  load(buf: string, idx: string, dtype: DType): string;
  /**
   * The statement storing float32 `value` into element `idx` of `buf` (rounded to nearest even
   * into `dtype`). For a packed dtype it writes the whole word of `idx` (even) with `value` and 0:
   * only for an element whose word partner is padding (a plane of one element).
   */
  store(buf: string, idx: string, value: string, dtype: DType): string;
  /**
   * Whether `dtype` is stored two elements per 32-bit word (WGSL's packed fp16: storage has no
   * 16-bit type). A kernel writing such a buffer writes whole words, one invocation per word.
   */
  packed(dtype: DType): boolean;
  /** The statement storing float32 values `v0` (low half) and `v1` into word `word` of a packed buffer. */
  storeWord(buf: string, word: string, v0: string, v1: string, dtype: DType): string;
  /** Element `idx` of a buffer bound as vec4 of `dtype` (the WGSL GEMM's weight chunk), as float32. */
  loadVec4(buf: string, idx: string, dtype: DType): string;
  /** A function of the kernel returning the float value of element `index` (an index-typed parameter). */
  elementFunction(name: string, index: string, body: readonly string[]): string;
  /** The smaller of two index values. */
  imin(a: string, b: string): string;
  /** The larger of two index values. */
  imax(a: string, b: string): string;
  /** An index value as float. */
  toFloat(e: string): string;
  /** Declarations: an immutable index value, an immutable float, mutable ones. */
  letI(name: string, e: string): string;
  letF(name: string, e: string): string;
  varI(name: string, e: string): string;
  varF(name: string, e: string): string;
  /** `for (i = from; i < to; i += step) {` */
  forI(v: string, from: string, to: string, step?: string): string;
  readonly barrier: string;
  /** A workgroup-shared float array of `n` elements (declared where the language wants it). */
  shared(name: string, n: number): string;
  /**
   * Declares `name`, the thread's flat index over a folded grid of `workgroup`-thread groups,
   * and returns from threads at or past `total`. (CUDA forms it in 64 bits first: the last
   * group's threads may pass 2^31 even when every element index fits an int.)
   */
  flatIndex(name: string, workgroup: number, total: number): string[];
  /** The workgroup's linear index over a folded 2-D grid, and the thread's index within it. */
  readonly groupId: string;
  readonly localId: string;
  /**
   * The whole kernel: `shared` declarations, the header binding `bindings`, the body lines.
   * WGSL puts shared memory at module scope and bindings as globals; CUDA puts both inside.
   * `functions` are helper functions before the kernel (WGSL's packed per-element kernels).
   */
  kernel(k: { name: string; comment: string; bindings: readonly Binding[]; workgroup: number; shared: readonly string[]; functions?: readonly string[]; body: readonly string[] }): string;
}

/**
 * An expression of the activation table (src/ir/expr.ts) in a dialect, applied to `x`. Every
 * operation keeps its operands' order and is parenthesized, so that every backend evaluates
 * the same operations in the same order.
 */
export function renderExpr(e: Expr, x: string, d: Dialect): string {
  switch (e.k) {
    case 'x':
      return x;
    case 'lit':
      return d.f(e.v);
    case 'neg':
      return `-${renderExpr(e.a, x, d)}`;
    case 'bin':
      return `(${renderExpr(e.a, x, d)} ${e.op} ${renderExpr(e.b, x, d)})`;
    case 'call':
      return d.call(e.fn, e.args.map((a) => renderExpr(a, x, d)));
  }
}

/** A float literal with a decimal point or exponent (both languages accept this form). */
export function floatText(x: number): string {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

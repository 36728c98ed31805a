// Scalar expressions, dialect-neutral: how the activation table (activations.ts) says what an
// activation computes, once, for every C-like backend. The C-style renderer
// (src/codegen/cstyle/) prints them per dialect (CUDA: `fmaxf(v, 0.f)`; WGSL: `max(v, 0.0)`,
// splatting literals where a builtin takes a vector).
//
// Operations are kept exactly as written (no reassociation, no constant folding beyond what
// a literal states), so every backend rounds the same operations in the same order.

export type Builtin = 'max' | 'min' | 'exp' | 'sqrt' | 'clamp';

export type Expr =
  /** The value the expression is applied to (an activation's input). */
  | { readonly k: 'x' }
  /** A float32 literal (the renderer prints Math.fround of it). */
  | { readonly k: 'lit'; readonly v: number }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'neg'; readonly a: Expr }
  | { readonly k: 'call'; readonly fn: Builtin; readonly args: readonly Expr[] };

export const X: Expr = { k: 'x' };
export const lit = (v: number): Expr => ({ k: 'lit', v });
const bin = (op: '+' | '-' | '*' | '/') => (a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const add = bin('+');
export const mul = bin('*');
export const div = bin('/');
export const neg = (a: Expr): Expr => ({ k: 'neg', a });
const call = (fn: Builtin) => (...args: Expr[]): Expr => ({ k: 'call', fn, args });
export const max = call('max');
export const exp = call('exp');
/** clamp(x, lo, hi) = min(max(x, lo), hi). */
export const clamp = call('clamp');

/** Evaluates an expression in float64 (tests compare it with an activation's reference function). */
export function evaluate(e: Expr, x: number): number {
  switch (e.k) {
    case 'x':
      return x;
    case 'lit':
      return Math.fround(e.v);
    case 'neg':
      return -evaluate(e.a, x);
    case 'bin': {
      const a = evaluate(e.a, x);
      const b = evaluate(e.b, x);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    case 'call': {
      const v = e.args.map((a) => evaluate(a, x));
      switch (e.fn) {
        case 'max':
          return Math.max(v[0], v[1]);
        case 'min':
          return Math.min(v[0], v[1]);
        case 'exp':
          return Math.exp(v[0]);
        case 'sqrt':
          return Math.sqrt(v[0]);
        case 'clamp':
          return Math.min(Math.max(v[0], v[1]), v[2]);
      }
    }
  }
}

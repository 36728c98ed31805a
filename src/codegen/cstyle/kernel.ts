// The kernel builder of the C-style renderer: bindings in first-use order, strided view
// indexing, shared memory and the body's lines, in a dialect. Kernels (kernels.ts) are written
// once against it; the dialects (cuda.ts, wgsl.ts) spell the result.

import type { DType, TensorView, WeightRef } from '../../plan/types.js';
import type { Binding, Dialect } from './dialect.js';

/** Where a target keeps buffers and parameters (CUDA: one weight blob; WGSL: chunks). */
export interface Sites {
  /** The binding key and identifier of a view's buffer. */
  view(v: TensorView): { readonly key: string; readonly name: string };
  /** The binding of a (dense) parameter and its element offset there. */
  param(p: WeightRef): { readonly key: string; readonly name: string; readonly offset: number };
}

/**
 * The binding of a view's buffer, the same on every C-style target: the arena, the input, or
 * output i of the plan (key `out:<name>`, identifier `out<i>`).
 */
export function viewSite(plan: { readonly outputs: readonly { readonly name: string }[] }, v: TensorView): { readonly key: string; readonly name: string } {
  if (v.buffer === 'arena') return { key: 'arena', name: 'arena' };
  if (v.buffer === 'input') return { key: 'input', name: 'inp' };
  const i = plan.outputs.findIndex((o) => o.name === v.name);
  if (i < 0) throw new Error(`internal: a view names output buffer '${v.name}', which the plan does not have`);
  return { key: `out:${v.name}`, name: `out${i}` };
}

/** How a kernel reads a parameter: its element i, as a float32 value. */
export interface ParamAccess {
  readonly buf: string;
  at(i: string): string;
}

/**
 * How a kernel reads or writes one view: the identifier, the index of element (n, c, h, w),
 * and the float32 load and store of that element through the view's storage type.
 */
export interface Access {
  readonly buf: string;
  at(n: string, c: string, h: string, w: string): string;
  load(n: string, c: string, h: string, w: string): string;
  store(n: string, c: string, h: string, w: string, value: string): string;
}

/** State the builders of one kernel share (a kernel may have several functions). */
interface KernelState {
  readonly bindings: Binding[];
  readonly shared: string[];
  /** Element mode: the view the element's value is for, and the flat-index parameter. */
  element?: { view?: TensorView; index?: { name: string; total: number } };
}

/**
 * Builds one kernel. In element mode (`KernelBuilder.element`) the body computes one element:
 * `flatIndex(i, ..)` makes `i` the element's flat index (a parameter, no bounds check) and a
 * store to a view becomes `return value;`; the caller wraps the body as a function and writes
 * the results (WGSL's packed fp16: two elements per word, one invocation per word).
 */
export class KernelBuilder {
  readonly bindings: Binding[];
  readonly shared: string[];
  private readonly lines: string[] = [];
  private depth = 1;
  private readonly state: KernelState;

  constructor(
    readonly d: Dialect,
    private readonly sites: Sites,
    /** Shared with the builder this one was forked from (one kernel, several functions). */
    state?: KernelState,
  ) {
    this.state = state ?? { bindings: [], shared: [] };
    this.bindings = this.state.bindings;
    this.shared = this.state.shared;
  }

  /** A builder in element mode (see the class comment). */
  static element(d: Dialect, sites: Sites): KernelBuilder {
    return new KernelBuilder(d, sites, { bindings: [], shared: [], element: {} });
  }

  /** A builder for another function of the same kernel: the same bindings and mode, its own lines. */
  fork(): KernelBuilder {
    return new KernelBuilder(this.d, this.sites, this.state);
  }

  /** In element mode: the view the stores wrote (the element's destination) and the flat index. */
  get elementOf(): { view?: TensorView; index?: { name: string; total: number } } | undefined {
    return this.state.element;
  }

  /** Binds a buffer (once; a later write upgrades the access). */
  bind(key: string, name: string, write: boolean, dtype: DType, vec4 = false): string {
    const i = this.bindings.findIndex((b) => b.key === key);
    if (i >= 0 && this.bindings[i].dtype !== dtype) throw new Error(`internal: buffer '${key}' bound as ${this.bindings[i].dtype} and ${dtype}`);
    if (i < 0) this.bindings.push({ key, name, write, vec4, dtype });
    else if (write && !this.bindings[i].write) this.bindings[i] = { ...this.bindings[i], write: true };
    return i < 0 ? name : this.bindings[i].name;
  }

  /**
   * Access to a view. `strides` overrides the view's (a broadcast operand reads an [N,C,1,1]
   * tensor with zero H/W strides). Terms with a zero stride or a zero coordinate are left out.
   */
  view(v: TensorView, write: boolean, strides: readonly number[] = v.strides): Access {
    const site = this.sites.view(v);
    const buf = this.bind(site.key, site.name, write, v.dtype);
    const d = this.d;
    const at = (n: string, c: string, h: string, w: string) => {
      const terms = [d.i(v.offset)];
      [n, c, h, w].forEach((x, k) => {
        // A coordinate that is an expression is parenthesized before it is scaled.
        const xe = /^\w+$/.test(x) ? x : `(${x})`;
        if (strides[k] !== 0 && x !== d.i(0)) terms.push(strides[k] === 1 ? xe : `${xe} * ${d.i(strides[k])}`);
      });
      return terms.join(' + ');
    };
    const el = this.state.element;
    const store = (n: string, c: string, h: string, w: string, value: string): string => {
      if (el) {
        if (el.view && el.view !== v) throw new Error(`internal: an element kernel stores into two views ('${el.view.value}', '${v.value}')`);
        el.view = v;
        return `return ${value};`;
      }
      // A packed store writes a whole word: only where the other half is a plane's padding.
      if (d.packed(v.dtype) && v.shape[2] * v.shape[3] !== 1) throw new Error(`internal: a packed ${v.dtype} view of ${v.shape[2]}x${v.shape[3]} planes ('${v.value}') stored element by element`);
      return d.store(buf, at(n, c, h, w), value, v.dtype);
    };
    return { buf, at, load: (n, c, h, w) => d.load(buf, at(n, c, h, w), v.dtype), store };
  }

  /**
   * Reads of a (dense) parameter: `at(i)` is its element i. A chunk this kernel binds as vec4
   * (the WGSL GEMM's weight operand, in the same chunk as its bias) is read by component.
   */
  param(p: WeightRef): ParamAccess {
    const site = this.sites.param(p);
    const buf = this.bind(site.key, site.name, false, p.dtype);
    const vec4 = this.bindings.find((b) => b.key === site.key)!.vec4;
    const off = this.d.i(site.offset);
    return { buf, at: (i) => (vec4 ? this.d.loadVec4(buf, `${off} + ${i}`, p.dtype) : this.d.load(buf, `${off} + ${i}`, p.dtype)) };
  }

  /** A workgroup-shared float array. */
  sharedArray(name: string, n: number): string {
    this.shared.push(this.d.shared(name, n));
    return name;
  }

  line(s: string): void {
    this.lines.push('  '.repeat(this.depth) + s);
  }

  /** `head {` body `}` (head ends in '{'). */
  block(head: string, body: () => void): void {
    this.line(head);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
  }

  if(cond: string, body: () => void): void {
    this.block(`if (${cond}) {`, body);
  }

  for(v: string, from: string, to: string, body: () => void, step?: string): void {
    this.block(this.d.forI(v, from, to, step), body);
  }

  /** The thread's flat index over a folded grid of `workgroup`-thread groups; threads past `total` return. */
  flatIndex(name: string, workgroup: number, total: number): void {
    if (this.state.element) this.state.element.index = { name, total };
    else for (const l of this.d.flatIndex(name, workgroup, total)) this.line(l);
  }

  /** n, c, h, w of flat index `i` over [N, C, H, W] (w fastest). */
  nchw(i: string, [, c, h, w]: readonly number[], names: readonly [string, string, string, string] = ['n', 'c', 'h', 'w']): void {
    const d = this.d;
    this.line(d.letI(names[3], `${i} % ${d.i(w)}`));
    this.line(d.letI(names[2], `(${i} / ${d.i(w)}) % ${d.i(h)}`));
    this.line(d.letI(names[1], `(${i} / ${d.i(w * h)}) % ${d.i(c)}`));
    this.line(d.letI(names[0], `${i} / ${d.i(w * h * c)}`));
  }

  body(): string[] {
    return [...this.lines];
  }
}

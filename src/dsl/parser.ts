// Parser of the .vov model language: tokens -> AST with a span on every node. One statement
// per line; on a syntax error the parser reports it, skips to the end of the line and goes on,
// so that one run shows the errors of every line. The grammar is in docs/DSL.md (EBNF).
// Values are checked here only as far as their form goes (an integer, a known word); ranges
// and the relations between parts are the resolver's job (src/dsl/resolve.ts, finalize.ts).

import { closest, type Diagnostic, type Span } from '../diag/diagnostics.js';
import type { Naming } from '../ir/graph.js';
import { CONV_ACTIVATIONS, DEFORM_VERSIONS, type Attention, type ConvActivation, type DeformVersion } from '../model/spec.js';
import { describe, lex, type Token, type TokenKind } from './lexer.js';
import { MSG, didYouMean } from './messages.js';

// ---------------------------------------------------------------------------------------------
// AST

export interface IntLit {
  readonly value: number;
  readonly span: Span;
}

export interface Word {
  readonly text: string;
  readonly span: Span;
}

export type Residual = 'none' | 'after-first' | 'all';
export type Where = 'last' | 'all';

export interface StemLayerAst {
  readonly kind: 'conv' | 'sepconv';
  readonly kernel: IntLit;
  /** Declared input channels ("conv 3x3 3->64"), checked against what feeds the layer. */
  readonly in?: IntLit;
  readonly out: IntLit;
  readonly stride?: IntLit;
  readonly span: Span;
}

export interface PoolAst {
  readonly kernel: IntLit;
  /** Absent: the kernel size (PyTorch's default). */
  readonly stride?: IntLit;
  readonly ceil: boolean;
}

/** One setting of a stage line or of the 'osa:' defaults line. */
export type Item =
  | { readonly kind: 'osa'; readonly mid: IntLit; readonly out: IntLit; readonly blocks?: IntLit; readonly span: Span }
  | { readonly kind: 'dense'; readonly growth: IntLit; readonly layers: IntLit; readonly span: Span }
  | { readonly kind: 'int'; readonly key: IntKey; readonly value: IntLit; readonly span: Span }
  | { readonly kind: 'bottleneck'; readonly value: IntLit | null; readonly span: Span }
  | { readonly kind: 'transition'; readonly out: IntLit | null; readonly pool: boolean; readonly span: Span }
  | { readonly kind: 'maxpool'; readonly pool: PoolAst | null; readonly span: Span }
  | { readonly kind: 'residual'; readonly value: Residual; readonly span: Span }
  | { readonly kind: 'depthwise'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'attention'; readonly type?: Attention; readonly kernel?: IntLit; readonly where?: Where; readonly span: Span }
  | { readonly kind: 'deform'; readonly value: DeformVersion; readonly span: Span };

export type IntKey = 'layers' | 'blocks' | 'mid' | 'out' | 'growth';

export type HeadAst = { readonly kind: 'classifier'; readonly classes: IntLit } | { readonly kind: 'backbone' };

export type Statement =
  | { readonly kind: 'naming'; readonly value: Naming; readonly span: Span }
  | { readonly kind: 'preprocessing'; readonly value: 'timm' | 'detectron2'; readonly span: Span }
  | { readonly kind: 'input'; readonly dims: readonly number[]; readonly valueSpan: Span; readonly span: Span }
  | { readonly kind: 'bn'; readonly eps: number; readonly valueSpan: Span; readonly span: Span }
  | { readonly kind: 'activation'; readonly value: ConvActivation; readonly span: Span }
  | { readonly kind: 'deformGroups'; readonly groups: IntLit; readonly span: Span }
  | { readonly kind: 'stem'; readonly layers: readonly StemLayerAst[]; readonly span: Span }
  | { readonly kind: 'osa'; readonly items: readonly Item[]; readonly span: Span }
  | { readonly kind: 'stage'; readonly name: Word; readonly items: readonly Item[]; readonly span: Span }
  | { readonly kind: 'head'; readonly head: HeadAst; readonly span: Span }
  | { readonly kind: 'outputs'; readonly names: readonly Word[]; readonly span: Span };

export interface ModelAst {
  readonly name: Word;
  readonly base?: Word;
  /** The header line "model NAME [extends BASE]". */
  readonly span: Span;
  readonly statements: readonly Statement[];
  readonly file: string;
}

export interface FileAst {
  readonly file: string;
  readonly models: readonly ModelAst[];
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

export const STAGE_NAMES = ['stage2', 'stage3', 'stage4', 'stage5'] as const;
const STATEMENT_KEYWORDS = ['model', 'naming', 'preprocessing', 'input', 'bn', 'activation', 'deform', 'stem', 'osa', ...STAGE_NAMES, 'head', 'outputs'] as const;
const ITEM_KEYWORDS = ['osa', 'dense', 'layers', 'blocks', 'mid', 'out', 'growth', 'bottleneck', 'transition', 'maxpool', 'residual', 'depthwise', 'attention', 'deform'] as const;
export const NAMINGS: readonly Naming[] = ['timm', 'vovnet-pytorch', 'detectron2'];
export const PREPROCESSINGS = ['timm', 'detectron2'] as const;
const RESIDUALS: readonly Residual[] = ['none', 'after-first', 'all'];
const ATTENTIONS: readonly Attention[] = ['none', 'ese', 'eca'];
export const WHERES: readonly Where[] = ['last', 'all'];
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, yes: true, no: false };
const HEADS = ['classifier', 'backbone'] as const;
const INT_KEYS: readonly IntKey[] = ['layers', 'blocks', 'mid', 'out', 'growth'];

/** Thrown after a diagnostic was recorded; the statement loop catches it and skips the line. */
class Abort {}

function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

export class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly diags: Diagnostic[],
  ) {}

  /** Parses a whole .vov file. */
  static parseFile(text: string, file: string, diags: Diagnostic[]): FileAst {
    return new Parser(lex(text, file, diags), diags).file(file);
  }

  /**
   * Parses a fragment (a --set value) with one of the rules below; records diagnostics and
   * returns undefined on a syntax error.
   */
  static fragment<T>(tokens: readonly Token[], diags: Diagnostic[], rule: (p: Parser) => T): T | undefined {
    const p = new Parser(tokens, diags);
    try {
      const r = rule(p);
      p.end();
      return r;
    } catch (e) {
      if (e instanceof Abort) return undefined;
      throw e;
    }
  }

  // ---- file and statements -------------------------------------------------------------------

  private file(file: string): FileAst {
    const models: { name: Word; base?: Word; span: Span; statements: Statement[]; file: string }[] = [];
    let orphanReported = false;
    for (;;) {
      while (this.peek().kind === 'newline') this.pos++;
      if (this.peek().kind === 'eof') break;
      try {
        const t = this.peek();
        if (t.kind === 'ident' && t.text === 'model') {
          const header = this.modelHeader();
          models.push({ ...header, statements: [], file });
        } else {
          const s = this.statement();
          const current = models[models.length - 1];
          if (current) {
            if (s) current.statements.push(s);
          } else if (!orphanReported) {
            orphanReported = true;
            this.diags.push(MSG.outsideModel.at({ span: t.span }, t.text));
          }
        }
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.pos++;
      }
    }
    return { file, models };
  }

  private modelHeader(): { name: Word; base?: Word; span: Span } {
    const kw = this.next();
    const name = this.word('a model name');
    let base: Word | undefined;
    if (this.peek().kind === 'ident') {
      const t = this.peek();
      if (t.text !== 'extends') this.fail(MSG.expected.at({ span: t.span }, "'extends' or end of line", describe(t)));
      this.pos++;
      base = this.word('the name of the model to extend');
    }
    this.end();
    return { name, base, span: joinSpans(kw.span, this.prev().span) };
  }

  /** A statement, or undefined for one that is reported and dropped (an unknown stage). */
  private statement(): Statement | undefined {
    const kw = this.peek();
    if (kw.kind !== 'ident') this.fail(MSG.expected.at({ span: kw.span }, 'a statement keyword', describe(kw)));
    this.pos++;
    if (this.peek().kind === 'colon') this.pos++;
    const s = this.statementBody(kw);
    this.end();
    return s;
  }

  private statementBody(kw: Token): Statement | undefined {
    const span = () => joinSpans(kw.span, this.prev().span);
    switch (kw.text) {
      case 'naming':
        return { kind: 'naming', value: this.choice('naming', NAMINGS), span: span() };
      case 'preprocessing':
        return { kind: 'preprocessing', value: this.choice('preprocessing', PREPROCESSINGS), span: span() };
      case 'input': {
        const { dims, span: valueSpan } = this.inputShape();
        return { kind: 'input', dims, valueSpan, span: span() };
      }
      case 'bn': {
        this.keyword('eps');
        const { value, span: valueSpan } = this.number('a number (BatchNorm epsilon)');
        return { kind: 'bn', eps: value, valueSpan, span: span() };
      }
      case 'activation':
        return { kind: 'activation', value: this.choice('activation', CONV_ACTIVATIONS), span: span() };
      case 'deform': {
        // 'deform groups G' is the model's; 'deform v2' belongs to a stage (or the 'osa:' defaults).
        const t = this.peek();
        if (!(t.kind === 'ident' && t.text === 'groups')) this.fail(MSG.misplacedItem.at({ span: kw.span, notes: ["write 'deform v1|v2' on a stage line (e.g. 'stage3: ..., deform v2') or on the 'osa:' line; the model line is 'deform groups G'"] }, 'deform', 'as a model statement takes only \'groups G\''));
        this.pos++;
        return { kind: 'deformGroups', groups: this.int('the deformable offset groups'), span: span() };
      }
      case 'stem':
        return { kind: 'stem', layers: this.stemLayers(), span: span() };
      case 'osa':
        return { kind: 'osa', items: this.items(), span: span() };
      case 'head':
        return { kind: 'head', head: this.head(), span: span() };
      case 'outputs':
        return { kind: 'outputs', names: this.names(), span: span() };
      default:
        if ((STAGE_NAMES as readonly string[]).includes(kw.text)) return { kind: 'stage', name: { text: kw.text, span: kw.span }, items: this.items(), span: span() };
        if (/^stage\d+$/.test(kw.text)) {
          // Reported, parsed for its syntax, then dropped: the other stages still resolve.
          this.diags.push(MSG.unknownStage.at({ span: kw.span, notes: ['stages are stage2, stage3, stage4 and stage5 (the stem is stage 1)'] }, kw.text));
          this.items();
          return undefined;
        }
        if (kw.text === 'model') this.fail(MSG.expected.at({ span: kw.span }, 'a statement keyword', describe(kw)));
        this.fail(MSG.unknownKeyword.at({ span: kw.span, notes: [...didYouMean(closest(kw.text, [...STATEMENT_KEYWORDS, ...ITEM_KEYWORDS.filter((k) => k !== 'osa')])), `a model line starts with one of: ${STATEMENT_KEYWORDS.slice(1).join(', ')}`] }, kw.text));
    }
  }

  // ---- rules also used for --set values ------------------------------------------------------

  /** NxCxHxW */
  inputShape(): { dims: readonly number[]; span: Span } {
    const t = this.peek();
    if (t.kind !== 'dims') this.fail(MSG.expected.at({ span: t.span }, 'an input shape NxCxHxW such as 1x3x224x224', describe(t)));
    this.pos++;
    return { dims: t.dims!, span: t.span };
  }

  /** conv 3x3 64 /2, sepconv 3x3 64->64, ... (commas optional) */
  stemLayers(): StemLayerAst[] {
    const layers = [this.stemLayer()];
    for (;;) {
      if (this.peek().kind === 'comma') {
        this.pos++;
        layers.push(this.stemLayer());
      } else if (this.peek().kind === 'ident') layers.push(this.stemLayer());
      else return layers;
    }
  }

  private stemLayer(): StemLayerAst {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(MSG.expected.at({ span: t.span }, "a stem layer ('conv' or 'sepconv')", describe(t)));
    if (t.text === 'deform') this.fail(MSG.deformWhere.at({ span: t.span, notes: ['centermask2 deforms the 3x3 layers of OSA blocks (STAGE_WITH_DCN, stages 2..5), never the stem'] }, 'in the stem'));
    if (t.text !== 'conv' && t.text !== 'sepconv') this.fail(MSG.unknownKeyword.at({ span: t.span, notes: [...didYouMean(closest(t.text, ['conv', 'sepconv'])), "a stem layer is 'conv KxK OUT [/STRIDE]' or 'sepconv KxK OUT [/STRIDE]'"] }, t.text));
    this.pos++;
    const kernel = this.kernel();
    let out = this.int('the output channels');
    let inCh: IntLit | undefined;
    if (this.peek().kind === 'arrow') {
      this.pos++;
      inCh = out;
      out = this.int('the output channels');
    }
    const stride = this.stride();
    return { kind: t.text, kernel, in: inCh, out, stride, span: joinSpans(t.span, this.prev().span) };
  }

  /** Items of a stage line or of the 'osa:' defaults line (commas optional). */
  items(): Item[] {
    const items: Item[] = [];
    const seen = new Set<string>();
    const add = (item: Item) => {
      for (const key of itemKeys(item)) {
        if (seen.has(key)) this.diags.push(MSG.duplicateKey.at({ span: item.span }, key));
        seen.add(key);
      }
      items.push(item);
    };
    add(this.item());
    for (;;) {
      if (this.peek().kind === 'comma') {
        this.pos++;
        add(this.item());
      } else if (this.peek().kind === 'ident') add(this.item());
      else return items;
    }
  }

  private item(): Item {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(MSG.expected.at({ span: t.span }, 'a setting such as osa, layers, residual, attention', describe(t)));
    this.pos++;
    return this.itemAfter(t);
  }

  /** The rest of an item whose keyword `t` was read (or stands for it: a --set key). */
  itemAfter(t: Token): Item {
    const span = () => joinSpans(t.span, this.prev().span);
    switch (t.text) {
      case 'osa': {
        const mid = this.int('the mid channels');
        this.expect('arrow', "'->'");
        const out = this.int('the output channels');
        const blocks = this.peek().kind === 'times' ? this.times() : undefined;
        return { kind: 'osa', mid, out, blocks, span: span() };
      }
      case 'dense': {
        this.keyword('growth');
        const growth = this.int('the growth rate');
        if (this.peek().kind !== 'times') this.fail(MSG.expected.at({ span: this.peek().span }, 'the layer count, e.g. x12', describe(this.peek())));
        return { kind: 'dense', growth, layers: this.times(), span: span() };
      }
      case 'bottleneck':
        return { kind: 'bottleneck', value: this.intOrNone('the bottleneck channels'), span: span() };
      case 'transition': {
        if (this.acceptWord('none')) return { kind: 'transition', out: null, pool: false, span: span() };
        const k = this.peek();
        if (k.kind === 'dims' || k.kind === 'number') {
          // "transition 1x1 -> 168": the kernel is written for readability and must be 1x1
          // (DenseNet's transition). "transition 168" is the short form.
          if (k.kind === 'dims' || this.tokens[this.pos + 1]?.kind === 'arrow') {
            const kernel = this.kernel();
            if (kernel.value !== 1) this.diags.push(MSG.badValue.at({ span: kernel.span }, 'transition kernel', k.text, '1x1 (a transition is a 1x1 conv)'));
            this.expect('arrow', "'->'");
          }
        }
        const out = this.int('the transition output channels');
        let pool = false;
        if (this.acceptWord('avgpool')) {
          const p = this.kernel();
          if (p.value !== 2) this.diags.push(MSG.badValue.at({ span: p.span }, 'transition pool', this.prev().text, '2x2 (average pooling of DenseNet transitions)'));
          pool = true;
        }
        return { kind: 'transition', out, pool, span: span() };
      }
      case 'maxpool': {
        if (this.acceptWord('none')) return { kind: 'maxpool', pool: null, span: span() };
        return { kind: 'maxpool', pool: this.poolBody(), span: span() };
      }
      case 'residual':
        return { kind: 'residual', value: this.choice('residual', RESIDUALS), span: span() };
      case 'depthwise': {
        const v = this.peek();
        if (v.kind === 'ident' && v.text in BOOLEANS) {
          this.pos++;
          return { kind: 'depthwise', value: BOOLEANS[v.text], span: span() };
        }
        return { kind: 'depthwise', value: true, span: span() };
      }
      case 'attention':
        return { ...this.attentionBody(), span: span() };
      case 'deform': {
        const v = this.peek();
        if (v.kind === 'ident' && v.text === 'groups') this.fail(MSG.misplacedItem.at({ span: v.span, notes: ["write it on its own line, e.g. 'deform groups 2', or --set deform.groups=2"] }, 'deform groups', 'is a setting of the whole model, not of a stage'));
        return { kind: 'deform', value: this.choice('deformable convolution', DEFORM_VERSIONS), span: span() };
      }
      default:
        if ((INT_KEYS as readonly string[]).includes(t.text)) return { kind: 'int', key: t.text as IntKey, value: this.int(`a count after '${t.text}'`), span: span() };
        // 'activation' is one setting of the whole model; say so rather than suggest 'attention'.
        if (t.text === 'activation') this.fail(MSG.unknownKeyword.at({ span: t.span, notes: ["'activation' is a statement of its own that applies to the whole model: write it on its own line, e.g. 'activation silu'"] }, t.text));
        this.fail(MSG.unknownKeyword.at({ span: t.span, notes: [...didYouMean(closest(t.text, ITEM_KEYWORDS))] }, t.text));
    }
  }

  /** KxK [/S] [ceil|floor] */
  poolBody(): PoolAst {
    const kernel = this.kernel();
    const stride = this.stride();
    let ceil = false;
    if (this.acceptWord('ceil')) ceil = true;
    else this.acceptWord('floor');
    return { kernel, stride, ceil };
  }

  /** [none|ese|eca] [kernel K] [on last|all], at least one part. */
  attentionBody(): { kind: 'attention'; type?: Attention; kernel?: IntLit; where?: Where } {
    let type: Attention | undefined;
    let kernel: IntLit | undefined;
    let where: Where | undefined;
    const first = this.peek();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'ident') break;
      if (type === undefined && kernel === undefined && where === undefined && !['kernel', 'on'].includes(t.text)) type = this.choice('attention', ATTENTIONS);
      else if (t.text === 'kernel' && kernel === undefined) {
        this.pos++;
        kernel = this.int('the ECA kernel size');
      } else if (t.text === 'on' && where === undefined) {
        this.pos++;
        where = this.choice('attention placement', WHERES);
      } else break;
    }
    if (type === undefined && kernel === undefined && where === undefined) this.fail(MSG.expected.at({ span: first.span }, "an attention (none, ese, eca), 'kernel K' or 'on last|all'", describe(first)));
    if (kernel && type !== undefined && type !== 'eca') this.diags.push(MSG.misplacedItem.at({ span: kernel.span }, 'kernel', `applies to 'eca' attention only, not '${type}'`));
    return { kind: 'attention', type, kernel, where };
  }

  head(): HeadAst {
    const kind = this.choice('head', HEADS);
    if (kind === 'backbone') return { kind };
    return { kind, classes: this.int('the number of classes') };
  }

  /** stage3, stage4, logits (commas optional) */
  names(): Word[] {
    const names = [this.word('an output name (stem, stage2 .. stage5, logits)')];
    for (;;) {
      if (this.peek().kind === 'comma') {
        this.pos++;
        names.push(this.word('an output name (stem, stage2 .. stage5, logits)'));
      } else if (this.peek().kind === 'ident') names.push(this.word('an output name'));
      else return names;
    }
  }

  /** A square kernel: 3x3 or 3. */
  kernel(): IntLit {
    const t = this.peek();
    if (t.kind === 'number') return this.int('a kernel size such as 3x3');
    if (t.kind !== 'dims') this.fail(MSG.expected.at({ span: t.span }, 'a kernel size such as 3x3', describe(t)));
    this.pos++;
    const d = t.dims!;
    if (d.length !== 2 || d[0] !== d[1]) this.diags.push(MSG.badValue.at({ span: t.span }, 'kernel', t.text, 'a square kernel such as 3x3'));
    return { value: d[0], span: t.span };
  }

  int(what: string): IntLit {
    const t = this.peek();
    if (t.kind !== 'number' || !/^-?\d+$/.test(t.text)) this.fail(MSG.expected.at({ span: t.span }, `an integer (${what})`, describe(t)));
    this.pos++;
    return { value: t.value!, span: t.span };
  }

  number(what: string): { value: number; span: Span } {
    const t = this.peek();
    if (t.kind !== 'number') this.fail(MSG.expected.at({ span: t.span }, what, describe(t)));
    this.pos++;
    return { value: t.value!, span: t.span };
  }

  intOrNone(what: string): IntLit | null {
    return this.acceptWord('none') ? null : this.int(`${what} or 'none'`);
  }

  /** One of a fixed set of words; anything else is reported with the expected set. */
  choice<T extends string>(what: string, options: readonly T[]): T {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(MSG.expected.at({ span: t.span }, `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} (${options.join(', ')})`, describe(t)));
    if (!(options as readonly string[]).includes(t.text)) this.fail(MSG.badChoice.at({ span: t.span, notes: [...didYouMean(closest(t.text, options)), `expected one of: ${options.join(', ')}`] }, what, t.text));
    this.pos++;
    return t.text as T;
  }

  bool(): boolean {
    const t = this.peek();
    if (t.kind !== 'ident' || !(t.text in BOOLEANS)) this.fail(MSG.expected.at({ span: t.span }, 'true or false', describe(t)));
    this.pos++;
    return BOOLEANS[t.text];
  }

  /** The current token, to be passed to spanFrom after a rule consumed it and more. */
  here(): Token {
    return this.peek();
  }

  spanFrom(start: Token): Span {
    return joinSpans(start.span, this.prev().span);
  }

  atEnd(): boolean {
    return this.peek().kind === 'newline' || this.peek().kind === 'eof';
  }

  /** Requires the end of the line (or of the fragment). */
  end(): void {
    const t = this.peek();
    if (t.kind !== 'newline' && t.kind !== 'eof') this.fail(MSG.expected.at({ span: t.span }, 'end of line', describe(t)));
  }

  // ---- helpers -------------------------------------------------------------------------------

  private stride(): IntLit | undefined {
    if (this.peek().kind !== 'slash') return undefined;
    this.pos++;
    return this.int('the stride after /');
  }

  private times(): IntLit {
    const t = this.next();
    return { value: t.value!, span: t.span };
  }

  private word(what: string): Word {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(MSG.expected.at({ span: t.span }, what, describe(t)));
    this.pos++;
    return { text: t.text, span: t.span };
  }

  private keyword(text: string): void {
    const t = this.peek();
    if (t.kind !== 'ident' || t.text !== text) this.fail(MSG.expected.at({ span: t.span }, `'${text}'`, describe(t)));
    this.pos++;
  }

  private acceptWord(text: string): boolean {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) this.fail(MSG.expected.at({ span: t.span }, what, describe(t)));
    return this.next();
  }

  private peek(): Token {
    return this.tokens[Math.min(this.pos, this.tokens.length - 1)];
  }

  private next(): Token {
    return this.tokens[Math.min(this.pos++, this.tokens.length - 1)];
  }

  private prev(): Token {
    return this.tokens[Math.max(0, this.pos - 1)];
  }

  /** Records a diagnostic (unless it is about a token the lexer already reported) and aborts the line. */
  private fail(d: Diagnostic): never {
    const t = this.peek();
    const onLexError = t.kind === 'error' && d.span?.line === t.span.line && d.span.col === t.span.col;
    if (!onLexError) this.diags.push(d);
    throw new Abort();
  }
}

/** The settings an item sets, for "duplicate key on one line". */
function itemKeys(item: Item): string[] {
  switch (item.kind) {
    case 'osa':
      return item.blocks ? ['mid', 'out', 'blocks'] : ['mid', 'out'];
    case 'dense':
      return ['growth', 'layers'];
    case 'int':
      return [item.key];
    case 'attention':
      return [...(item.type ? ['attention'] : []), ...(item.kernel ? ['attention kernel'] : []), ...(item.where ? ['attention on'] : [])];
    default:
      return [item.kind];
  }
}

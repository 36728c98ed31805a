// Resolution: a model's AST -> a checked, fully resolved ModelSpec.
//
// A model is built as a Draft, layer by layer: the root of its 'extends' chain first, then
// each derived model, then the --set overrides, then the input shape. Every setting keeps
// the span of the text that set it, so that every semantic error points at the line (or the
// --set argument) to blame. Stage settings cascade: a stage line's own value, else the
// 'osa:' defaults, else the built-in default. Semantic errors are collected, not thrown one
// at a time: resolveModel throws one VovcError holding all of them.

import { closest, SourceMap, VovcError, type Diagnostic, type Span } from '../diag/diagnostics.js';
import type { Naming } from '../ir/graph.js';
import type { Attention, DenseStage, HeadSpec, ModelSpec, OsaStage, PoolSpec, StageSpec, StemLayer } from '../model/spec.js';
import { lex, type Token } from './lexer.js';
import { MSG, didYouMean, plural } from './messages.js';
import {
  NAMINGS,
  PREPROCESSINGS,
  Parser,
  STAGE_NAMES,
  WHERES,
  type HeadAst,
  type IntLit,
  type Item,
  type ModelAst,
  type PoolAst,
  type Residual,
  type StemLayerAst,
  type Where,
  type Word,
} from './parser.js';

// ---------------------------------------------------------------------------------------------
// Draft: a model being assembled

interface Field<T> {
  readonly value: T;
  readonly span: Span;
}

interface OsaFields {
  mid?: Field<number>;
  out?: Field<number>;
  layers?: Field<number>;
  blocks?: Field<number>;
  residual?: Field<Residual>;
  depthwise?: Field<boolean>;
  attention?: Field<Attention>;
  where?: Field<Where>;
  ecaKernel?: Field<number>;
}

/** The settings an OSA stage inherits from the 'osa:' defaults. */
const CASCADING = ['mid', 'out', 'layers', 'blocks', 'residual', 'depthwise', 'attention', 'where', 'ecaKernel'] as const;
type Cascading = (typeof CASCADING)[number];

interface StageDraft extends OsaFields {
  readonly name: string;
  kind?: 'osa' | 'dense';
  /** The line that defined the stage body ('osa ...' or 'dense ...'), else its first line. */
  span: Span;
  pool?: Field<PoolAst | null>;
  growth?: Field<number>;
  bottleneck?: Field<number | null>;
  transition?: Field<{ out: number; pool: boolean } | null>;
}

interface Draft {
  naming?: Field<Naming>;
  preprocessing?: Field<'timm' | 'detectron2'>;
  input?: Field<readonly number[]>;
  bnEps?: Field<number>;
  stem?: { layers: readonly StemLayerAst[]; span: Span };
  defaults: OsaFields;
  stages: Map<string, StageDraft>;
  head?: Field<HeadAst>;
  /** `layer`: which layer of the chain set them (a later head change of kind drops them). */
  outputs?: { names: readonly Word[]; span: Span; layer: number };
}

const OSA_ONLY = new Set<Item['kind'] | string>(['osa', 'mid', 'out', 'blocks', 'residual', 'depthwise', 'attention', 'maxpool']);
const DENSE_ONLY = new Set<Item['kind'] | string>(['dense', 'growth', 'bottleneck', 'transition']);

/** Item kind, with int items named by their key. */
const itemName = (item: Item) => (item.kind === 'int' ? item.key : item.kind);

// ---------------------------------------------------------------------------------------------
// Applying statements

class Builder {
  constructor(
    readonly draft: Draft,
    readonly diags: Diagnostic[],
  ) {}

  /** Applies one model's statements (layer = its depth in the extends chain). */
  applyModel(model: ModelAst, layer: number): void {
    const seen = new Map<string, Span>();
    const d = this.draft;
    for (const s of model.statements) {
      const key = s.kind === 'stage' ? s.name.text : s.kind;
      const first = seen.get(key);
      if (first) {
        const where = { span: s.kind === 'stage' ? s.name.span : s.span, notes: [`first set at ${first.file}:${first.line}:${first.col}`] };
        this.diags.push(s.kind === 'stage' ? MSG.duplicateStage.at(where, key, model.name.text) : MSG.duplicateStatement.at(where, key, model.name.text));
        continue;
      }
      seen.set(key, s.span);
      switch (s.kind) {
        case 'naming':
          d.naming = { value: s.value, span: s.span };
          break;
        case 'preprocessing':
          d.preprocessing = { value: s.value, span: s.span };
          break;
        case 'input':
          d.input = { value: s.dims, span: s.valueSpan };
          break;
        case 'bn':
          d.bnEps = { value: s.eps, span: s.valueSpan };
          break;
        case 'stem':
          d.stem = { layers: s.layers, span: s.span };
          break;
        case 'osa':
          this.applyDefaults(s.items);
          break;
        case 'stage':
          this.applyStage(s.name.text, s.items, s.span);
          break;
        case 'head':
          this.setHead(s.head, s.span, layer);
          break;
        case 'outputs':
          d.outputs = { names: s.names, span: s.span, layer };
          break;
      }
    }
  }

  applyDefaults(items: readonly Item[]): void {
    for (const item of items) {
      if (item.kind === 'osa') this.diags.push(MSG.misplacedItem.at({ span: item.span, notes: ["write it on a stage line, e.g. 'stage2: osa 128 -> 256 x1'"] }, 'osa MID -> OUT', "belongs on a stage line; the 'osa:' line holds defaults for every stage"));
      else if (item.kind === 'maxpool') this.diags.push(MSG.misplacedItem.at({ span: item.span, notes: ['stage2 usually has no pool, so each stage says its own'] }, 'maxpool', "belongs on a stage line, not in the 'osa:' defaults"));
      else if (DENSE_ONLY.has(itemName(item))) this.diags.push(MSG.misplacedItem.at({ span: item.span }, itemName(item), "is a dense-stage setting; the 'osa:' line holds defaults for OSA stages"));
      else setOsaField(this.draft.defaults, item);
    }
  }

  /** A stage line: creates the stage or updates it (in a derived model or from --set). */
  applyStage(name: string, items: readonly Item[], span: Span): void {
    let st = this.draft.stages.get(name);
    if (!st) {
      st = { name, span };
      this.draft.stages.set(name, st);
    }
    const body = items.find((i) => i.kind === 'osa' || i.kind === 'dense');
    if (body) {
      const kind = body.kind as 'osa' | 'dense';
      if (st.kind && st.kind !== kind) {
        // A stage that changes kind starts over: the other kind's settings mean nothing now.
        st = { name, span };
        this.draft.stages.set(name, st);
      }
      st.kind = kind;
      st.span = span;
    }
    for (const item of items) {
      const n = itemName(item);
      if (st.kind === 'osa' && DENSE_ONLY.has(n)) {
        this.diags.push(MSG.misplacedItem.at({ span: item.span }, n, `is a dense-stage setting; ${name} is an OSA stage`));
        continue;
      }
      if (st.kind === 'dense' && OSA_ONLY.has(n)) {
        this.diags.push(MSG.misplacedItem.at({ span: item.span, notes: n === 'maxpool' ? ["a dense stage downsamples in its transition: 'transition 1x1 -> C avgpool 2x2'"] : [] }, n, `is an OSA-stage setting; ${name} is a dense stage`));
        continue;
      }
      switch (item.kind) {
        case 'dense':
          st.growth = field(item.growth);
          st.layers = field(item.layers);
          break;
        case 'int':
          if (item.key === 'growth') st.growth = field(item.value);
          else st[item.key] = field(item.value);
          break;
        case 'bottleneck':
          st.bottleneck = { value: item.value?.value ?? null, span: item.span };
          break;
        case 'transition':
          st.transition = { value: item.out ? { out: item.out.value, pool: item.pool } : null, span: item.span };
          break;
        case 'maxpool':
          st.pool = { value: item.pool, span: item.span };
          break;
        default:
          setOsaField(st, item);
      }
    }
  }

  setHead(head: HeadAst, span: Span, layer: number): void {
    const d = this.draft;
    const before = d.head?.value.kind;
    d.head = { value: head, span };
    // Outputs inherited from a base model were chosen for the base's head ('logits' of a
    // classifier); a derived backbone must not keep them.
    if (before && before !== head.kind && d.outputs && d.outputs.layer < layer) d.outputs = undefined;
  }

  /** A setting forced onto every OSA stage (--set layers=3): the default, and no stage overrides it. */
  forceOsa(item: Item): void {
    setOsaField(this.draft.defaults, item);
    const keys = fieldsOf(item);
    for (const st of this.draft.stages.values()) {
      if (st.kind === 'dense') continue;
      for (const k of keys) delete st[k];
    }
  }
}

function field(lit: IntLit): Field<number> {
  return { value: lit.value, span: lit.span };
}

/** The cascading fields an item sets. */
function fieldsOf(item: Item): Cascading[] {
  switch (item.kind) {
    case 'osa':
      return item.blocks ? ['mid', 'out', 'blocks'] : ['mid', 'out'];
    case 'int':
      return item.key === 'growth' ? [] : [item.key];
    case 'residual':
    case 'depthwise':
      return [item.kind];
    case 'attention':
      return [...(item.type ? (['attention'] as const) : []), ...(item.kernel ? (['ecaKernel'] as const) : []), ...(item.where ? (['where'] as const) : [])];
    default:
      return [];
  }
}

function setOsaField(t: OsaFields, item: Item): void {
  switch (item.kind) {
    case 'osa':
      t.mid = field(item.mid);
      t.out = field(item.out);
      if (item.blocks) t.blocks = field(item.blocks);
      break;
    case 'int':
      if (item.key !== 'growth') t[item.key] = field(item.value);
      break;
    case 'residual':
      t.residual = { value: item.value, span: item.span };
      break;
    case 'depthwise':
      t.depthwise = { value: item.value, span: item.span };
      break;
    case 'attention':
      if (item.type) t.attention = { value: item.type, span: item.span };
      if (item.kernel) t.ecaKernel = field(item.kernel);
      if (item.where) t.where = { value: item.where, span: item.span };
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// --set overrides

/** The file name under which --set arguments are shown (one argument per line). */
export const SET_FILE = '--set';
/** The file name under which the inputShape option is shown. */
export const INPUT_SHAPE_FILE = '--input-shape';

interface SetTarget {
  readonly b: Builder;
  readonly model: string;
  /** The whole key, e.g. stage3.pool.ceil. */
  readonly key: string;
  readonly keyTok: Token;
  readonly stage?: StageDraft;
  readonly stemIndex?: number;
  readonly layer: number;
}

export interface SetKey {
  /** As documented in docs/DSL.md: N is a stage number 2..5, I a stem layer index from 0. */
  readonly key: string;
  /** What the value must look like (used in "bad value" messages and the docs). */
  readonly expects: string;
  /** Values are whole DSL lines: report the parser's own errors rather than "bad value". */
  readonly lineSyntax?: boolean;
  apply(p: Parser, t: SetTarget): void;
}

const INT = 'a positive integer';
const itemKey = (keyword: string, expects: string, scope: 'stage' | 'all'): Omit<SetKey, 'key'> => ({
  expects,
  apply(p, t) {
    const item = p.itemAfter({ ...t.keyTok, text: keyword });
    if (scope === 'all') t.b.forceOsa(item);
    else t.b.applyStage(t.stage!.name, [item], item.span);
  },
});
const attentionPart = (part: 'where' | 'kernel', scope: 'stage' | 'all'): Omit<SetKey, 'key'> => ({
  expects: part === 'where' ? 'last or all' : 'an odd positive integer',
  apply(p, t) {
    const start = t.keyTok.span;
    const item: Item =
      part === 'where'
        ? { kind: 'attention', where: p.choice('attention placement', WHERES), span: start }
        : { kind: 'attention', kernel: p.int('the ECA kernel size'), span: start };
    if (scope === 'all') t.b.forceOsa(item);
    else t.b.applyStage(t.stage!.name, [item], start);
  },
});

function requirePool(t: SetTarget): PoolAst | undefined {
  const pool = t.stage!.pool?.value;
  if (!pool) {
    t.b.diags.push(MSG.misplacedItem.at({ span: t.keyTok.span, notes: [`add one first: --set ${t.stage!.name}.pool="3x3 /2 ceil"`] }, t.key, `needs a max-pool, and ${t.stage!.name} has none`));
    return undefined;
  }
  return pool;
}

function setPool(t: SetTarget, pool: PoolAst, span: Span): void {
  t.b.applyStage(t.stage!.name, [{ kind: 'maxpool', pool, span }], span);
}

function setStem(t: SetTarget, change: (l: StemLayerAst) => StemLayerAst): void {
  const stem = t.b.draft.stem!;
  const layers = stem.layers.map((l, i) => (i === t.stemIndex ? change(l) : l));
  t.b.draft.stem = { layers, span: stem.span };
}

const BOOL_EXPECTS = 'true or false';

/** Every --set key. Keys with N or I are instantiated for the stages and stem layers of the model. */
export const SET_KEYS: readonly SetKey[] = [
  { key: 'naming', expects: NAMINGS.join(', '), apply: (p, t) => (t.b.draft.naming = { value: p.choice('naming', NAMINGS), span: t.keyTok.span }) },
  { key: 'preprocessing', expects: PREPROCESSINGS.join(', '), apply: (p, t) => (t.b.draft.preprocessing = { value: p.choice('preprocessing', PREPROCESSINGS), span: t.keyTok.span }) },
  {
    key: 'input',
    expects: 'NxCxHxW, e.g. 1x3x320x320',
    apply(p, t) {
      const { dims, span } = p.inputShape();
      t.b.draft.input = { value: dims, span };
    },
  },
  {
    key: 'bn.eps',
    expects: 'a positive number, e.g. 1e-3',
    apply(p, t) {
      const { value, span } = p.number('a number');
      t.b.draft.bnEps = { value, span };
    },
  },
  {
    key: 'head',
    expects: "'backbone' or 'classifier N'",
    apply(p, t) {
      const start = p.here();
      t.b.setHead(p.head(), p.spanFrom(start), t.layer);
    },
  },
  {
    key: 'classes',
    expects: INT,
    apply(p, t) {
      const classes = p.int('the number of classes');
      t.b.setHead({ kind: 'classifier', classes }, classes.span, t.layer);
    },
  },
  {
    key: 'outputs',
    expects: 'output names separated by commas, from stem, stage2 .. stage5, logits',
    apply(p, t) {
      const start = p.here();
      const names = p.names();
      t.b.draft.outputs = { names, span: p.spanFrom(start), layer: t.layer };
    },
  },
  {
    key: 'stem',
    expects: "a stem line, e.g. 'conv 3x3 32 /2, conv 3x3 64'",
    lineSyntax: true,
    apply(p, t) {
      const start = p.here();
      t.b.draft.stem = { layers: p.stemLayers(), span: p.spanFrom(start) };
    },
  },
  { key: 'layers', ...itemKey('layers', INT, 'all') },
  { key: 'blocks', ...itemKey('blocks', INT, 'all') },
  { key: 'residual', ...itemKey('residual', 'none, after-first or all', 'all') },
  { key: 'depthwise', ...itemKey('depthwise', BOOL_EXPECTS, 'all') },
  { key: 'attention', ...itemKey('attention', "none, ese or eca (optionally 'kernel K', 'on last|all')", 'all') },
  { key: 'attention.where', ...attentionPart('where', 'all') },
  { key: 'attention.kernel', ...attentionPart('kernel', 'all') },
  { key: 'stem.I.kind', expects: 'conv or sepconv', apply: (p, t) => setStem(t, (l) => ({ ...l, kind: p.choice('stem layer kind', ['conv', 'sepconv'] as const) })) },
  { key: 'stem.I.kernel', expects: 'a square kernel, e.g. 3 or 3x3', apply: (p, t) => setStem(t, (l) => ({ ...l, kernel: p.kernel() })) },
  { key: 'stem.I.stride', expects: INT, apply: (p, t) => setStem(t, (l) => ({ ...l, stride: p.int('the stride') })) },
  { key: 'stem.I.out', expects: INT, apply: (p, t) => setStem(t, (l) => ({ ...l, out: p.int('the output channels') })) },
  {
    key: 'stageN',
    expects: "a stage line, e.g. 'osa 192 -> 768 x6'",
    lineSyntax: true,
    apply(p, t) {
      const start = p.here();
      const items = p.items();
      t.b.applyStage(t.keyTok.text, items, p.spanFrom(start));
    },
  },
  { key: 'stageN.mid', ...itemKey('mid', INT, 'stage') },
  { key: 'stageN.out', ...itemKey('out', INT, 'stage') },
  { key: 'stageN.layers', ...itemKey('layers', INT, 'stage') },
  { key: 'stageN.blocks', ...itemKey('blocks', INT, 'stage') },
  { key: 'stageN.residual', ...itemKey('residual', 'none, after-first or all', 'stage') },
  { key: 'stageN.depthwise', ...itemKey('depthwise', BOOL_EXPECTS, 'stage') },
  { key: 'stageN.attention', ...itemKey('attention', "none, ese or eca (optionally 'kernel K', 'on last|all')", 'stage') },
  { key: 'stageN.attention.where', ...attentionPart('where', 'stage') },
  { key: 'stageN.attention.kernel', ...attentionPart('kernel', 'stage') },
  { key: 'stageN.pool', ...itemKey('maxpool', "none or 'KxK [/S] [ceil|floor]', e.g. '3x3 /2 ceil'", 'stage') },
  {
    key: 'stageN.pool.kernel',
    expects: 'a square kernel, e.g. 3 or 3x3',
    apply(p, t) {
      const kernel = p.kernel();
      const pool = requirePool(t);
      if (pool) setPool(t, { ...pool, kernel }, kernel.span);
    },
  },
  {
    key: 'stageN.pool.stride',
    expects: INT,
    apply(p, t) {
      const stride = p.int('the stride');
      const pool = requirePool(t);
      if (pool) setPool(t, { ...pool, stride }, stride.span);
    },
  },
  {
    key: 'stageN.pool.ceil',
    expects: BOOL_EXPECTS,
    apply(p, t) {
      const start = p.here();
      const ceil = p.bool();
      const pool = requirePool(t);
      if (pool) setPool(t, { ...pool, ceil }, p.spanFrom(start));
    },
  },
  { key: 'stageN.growth', ...itemKey('growth', INT, 'stage') },
  { key: 'stageN.bottleneck', ...itemKey('bottleneck', `${INT} or none`, 'stage') },
  { key: 'stageN.transition', ...itemKey('transition', "none, C or '1x1 -> C [avgpool 2x2]'", 'stage') },
  {
    key: 'stageN.transition.pool',
    expects: BOOL_EXPECTS,
    apply(p, t) {
      const start = p.here();
      const pool = p.bool();
      const span = p.spanFrom(start);
      const tr = t.stage!.transition?.value;
      if (!tr) t.b.diags.push(MSG.misplacedItem.at({ span: t.keyTok.span, notes: [`add one first: --set ${t.stage!.name}.transition=C`] }, t.key, `needs a transition, and ${t.stage!.name} has none`));
      else t.b.applyStage(t.stage!.name, [{ kind: 'transition', out: { value: tr.out, span }, pool, span }], span);
    },
  },
];

const OSA_SET_KEYS = new Set(['mid', 'out', 'blocks', 'residual', 'depthwise', 'attention', 'attention.where', 'attention.kernel', 'pool', 'pool.kernel', 'pool.stride', 'pool.ceil']);
const DENSE_SET_KEYS = new Set(['growth', 'bottleneck', 'transition', 'transition.pool']);

/** The concrete keys valid for a draft, for "did you mean". */
function concreteKeys(d: Draft): string[] {
  const keys: string[] = [];
  for (const k of SET_KEYS) {
    if (k.key.startsWith('stem.I.')) d.stem?.layers.forEach((_, i) => keys.push(k.key.replace('I', String(i))));
    else if (k.key.startsWith('stageN')) {
      const rest = k.key.slice('stageN'.length + 1);
      for (const st of STAGE_NAMES) {
        const kind = d.stages.get(st)?.kind;
        if (rest === '') keys.push(st);
        else if (kind === 'osa' ? !DENSE_SET_KEYS.has(rest) : kind === 'dense' ? !OSA_SET_KEYS.has(rest) : false) keys.push(`${st}.${rest}`);
      }
    } else keys.push(k.key);
  }
  return keys;
}

function applySets(b: Builder, sets: readonly string[], model: string, layer: number, sources: SourceMap): void {
  sources.add(SET_FILE, sets.map((s) => s.replace(/\r?\n/g, ' ')).join('\n'));
  sets.forEach((arg, i) => {
    const line = i + 1;
    const span = (col: number, endCol: number): Span => ({ file: SET_FILE, line, col, endLine: line, endCol: Math.max(endCol, col + 1) });
    const eq = arg.indexOf('=');
    if (eq <= 0 || /[\r\n]/.test(arg)) {
      b.diags.push(MSG.setSyntax.at({ span: span(1, arg.length + 1), notes: ['e.g. --set stage4.blocks=6 (keys are listed in docs/DSL.md)'] }, arg));
      return;
    }
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    const keySpan = span(1, eq + 1);
    const valueSpan = span(eq + 2, arg.length + 1);
    const parts = key.split('.');
    let template = key;
    let stage: StageDraft | undefined;
    let stemIndex: number | undefined;
    const unknown = (notes: string[] = []) => b.diags.push(MSG.unknownSetKey.at({ span: keySpan, notes: [...didYouMean(closest(key, concreteKeys(b.draft))), ...notes, 'the keys are listed in docs/DSL.md'] }, key));
    if (/^stage\d+$/.test(parts[0])) {
      template = ['stageN', ...parts.slice(1)].join('.');
      if (!(STAGE_NAMES as readonly string[]).includes(parts[0])) return void unknown(['stages are stage2 .. stage5']);
      stage = b.draft.stages.get(parts[0]);
      if (!stage && parts.length > 1) {
        const present = [...b.draft.stages.keys()].sort().join(', ') || 'no stages';
        return void b.diags.push(MSG.noSuchStage.at({ span: keySpan, notes: [`--set ${parts[0]}="osa MID -> OUT xN" adds it`] }, parts[0], model, present));
      }
      const rest = parts.slice(1).join('.');
      if (stage?.kind === 'dense' && OSA_SET_KEYS.has(rest)) return void b.diags.push(MSG.misplacedItem.at({ span: keySpan }, key, `is an OSA-stage setting; ${parts[0]} is a dense stage`));
      if (stage?.kind === 'osa' && DENSE_SET_KEYS.has(rest)) return void b.diags.push(MSG.misplacedItem.at({ span: keySpan }, key, `is a dense-stage setting; ${parts[0]} is an OSA stage`));
    } else if (parts[0] === 'stem' && parts.length > 1 && /^\d+$/.test(parts[1])) {
      template = ['stem', 'I', ...parts.slice(2)].join('.');
      stemIndex = Number(parts[1]);
      const n = b.draft.stem?.layers.length ?? 0;
      if (stemIndex >= n) return void unknown([n ? `the stem has ${n} layers: stem.0 .. stem.${n - 1}` : 'the model has no stem']);
    }
    const def = SET_KEYS.find((k) => k.key === template);
    if (!def) return void unknown();
    const valueDiags: Diagnostic[] = [];
    const tokens = lex(value, SET_FILE, valueDiags, { line, col: eq + 2 });
    const keyTok: Token = { kind: 'ident', text: parts[0], span: keySpan };
    const ok =
      !valueDiags.length &&
      Parser.fragment(tokens, valueDiags, (p) => {
        if (p.atEnd()) return false;
        def.apply(p, { b, model, key, keyTok, stage, stemIndex, layer });
        return true;
      });
    if (ok) return;
    // Whole DSL lines get the parser's precise errors; single values one "expected ..." message.
    if (def.lineSyntax && valueDiags.length) b.diags.push(...valueDiags);
    else b.diags.push(MSG.badSetValue.at({ span: valueSpan }, key, value, def.expects));
  });
}

// ---------------------------------------------------------------------------------------------
// Finalizing: defaults, range checks, channel flow

const OUTPUT_NAMES = ['stem', ...STAGE_NAMES, 'logits'];
/** Upper bounds of the repeat counts (VoVNets use 3-5 layers and 1-4 blocks; DenseNet-264 64 layers). */
const MAX_LAYERS = 128;
const MAX_BLOCKS = 64;
/** An OSA block concatenates its input and every layer, and an IR concat takes at most 50 inputs (src/ir/ops.ts). */
const MAX_OSA_LAYERS = 49;

function finalize(d: Draft, name: string, modelSpan: Span, source: string, diags: Diagnostic[]): ModelSpec | undefined {
  const err = (x: Diagnostic) => diags.push(x);
  const positive = (what: string, v: Field<number> | IntLit | undefined, expected = INT) => {
    if (v && (!Number.isInteger(v.value) || v.value < 1)) err(MSG.badValue.at({ span: v.span }, what, String(v.value), expected));
  };
  // Layer and block counts are loop bounds of the lowering: a typo such as 'x10000000000' must
  // be an error, not a hang.
  const count = (what: string, v: Field<number> | undefined, max: number) => {
    positive(what, v);
    if (v && Number.isInteger(v.value) && v.value > max) err(MSG.badValue.at({ span: v.span }, what, String(v.value), `a positive integer up to ${max}`));
  };
  const naming = d.naming?.value ?? 'timm';
  const preprocessing = d.preprocessing?.value ?? (naming === 'detectron2' ? 'detectron2' : 'timm');

  const input = d.input?.value ?? [1, 3, 224, 224];
  const inputSpan = d.input?.span ?? modelSpan;
  if (input.length !== 4 || input.some((x) => !Number.isInteger(x) || x < 1)) err(MSG.badValue.at({ span: inputSpan }, 'input shape', input.join('x'), 'four positive dimensions NxCxHxW'));
  const bnEps = d.bnEps?.value ?? 1e-5;
  if (!(bnEps > 0) || !Number.isFinite(bnEps)) err(MSG.badValue.at({ span: d.bnEps!.span }, 'BatchNorm eps', Math.abs(bnEps) < 1e-3 ? bnEps.toExponential() : String(bnEps), 'a positive number such as 1e-5'));

  // ---- stem
  const stem: StemLayer[] = [];
  if (!d.stem) err(MSG.missingPart.at({ span: modelSpan, notes: ["add a line such as 'stem: conv 3x3 64 /2, conv 3x3 64, conv 3x3 128 /2'"] }, `stem in model '${name}'`));
  let width = input[1];
  d.stem?.layers.forEach((l, i) => {
    positive(`stem.${i} kernel`, l.kernel);
    positive(`stem.${i} stride`, l.stride);
    positive(`stem.${i} output channels`, l.out);
    if (l.in && l.in.value !== width) {
      const why = i === 0 ? `the input shape ${input.join('x')} has ${plural(width, 'channel')}` : `stem.${i - 1} outputs ${plural(width, 'channel')}`;
      err(MSG.channelMismatch.at({ span: l.in.span, notes: [why] }, `stem.${i}`, l.in.value, width));
    }
    stem.push({ kind: l.kind, kernel: l.kernel.value, stride: l.stride?.value ?? 1, out: l.out.value, span: l.span });
    width = l.out.value;
  });

  // ---- stages
  const names = [...d.stages.keys()].sort((a, b) => STAGE_NAMES.indexOf(a as never) - STAGE_NAMES.indexOf(b as never));
  if (!names.length) err(MSG.missingPart.at({ span: modelSpan, notes: ["add stage lines such as 'stage2: osa 128 -> 256 x1'"] }, `stages in model '${name}'`));
  const last = names.length ? STAGE_NAMES.indexOf(names[names.length - 1] as never) : -1;
  for (let k = 0; k <= last; k++) {
    if (!d.stages.has(STAGE_NAMES[k])) {
      const next = names.find((n) => STAGE_NAMES.indexOf(n as never) > k)!;
      err(MSG.stageGap.at({ span: d.stages.get(next)!.span }, STAGE_NAMES[k], names.join(', ')));
    }
  }
  // Values are checked where they are written: the defaults once, each stage's own ones.
  const checkOsaFields = (f: OsaFields, where: string) => {
    positive(`${where} mid channels`, f.mid);
    positive(`${where} output channels`, f.out);
    count(`${where} layer count`, f.layers, MAX_OSA_LAYERS);
    count(`${where} block count`, f.blocks, MAX_BLOCKS);
    if (f.ecaKernel && (f.ecaKernel.value < 1 || f.ecaKernel.value % 2 === 0)) err(MSG.badValue.at({ span: f.ecaKernel.span }, `${where} ECA kernel`, String(f.ecaKernel.value), 'an odd positive integer (the conv1d is padded by (k-1)/2 on each side)'));
  };
  checkOsaFields(d.defaults, "'osa:' default");
  const stages: StageSpec[] = [];
  for (const n of names) {
    const st = d.stages.get(n)!;
    if (!st.kind) {
      err(MSG.missingPart.at({ span: st.span, notes: ["write 'osa MID -> OUT [xBLOCKS]' or 'dense growth G xLAYERS' on the stage line"] }, `body of ${n}`));
      continue;
    }
    if (st.kind === 'dense') {
      const spec = denseStage(st, width, err, positive);
      if (spec) {
        stages.push(spec.stage);
        width = spec.width;
      }
      continue;
    }
    const get = <K extends Cascading>(k: K): OsaFields[K] => st[k] ?? d.defaults[k];
    const mid = get('mid');
    const out = get('out');
    const layers = get('layers');
    if (!mid || !out) err(MSG.missingPart.at({ span: st.span, notes: ["write 'osa MID -> OUT' on the stage line"] }, `mid and output channels of ${n}`));
    if (!layers) err(MSG.missingPart.at({ span: st.span, notes: ["add 'layers N' to the stage line or to the 'osa:' defaults"] }, `layer count of ${n}`));
    const blocks = get('blocks');
    checkOsaFields(st, n);
    const residual = get('residual');
    const attention = get('attention')?.value ?? 'none';
    const ecaKernel = attention === 'eca' ? get('ecaKernel') : undefined;
    let pool: PoolSpec | undefined;
    const p = st.pool?.value;
    if (p) {
      positive(`${n} max-pool kernel`, p.kernel);
      positive(`${n} max-pool stride`, p.stride);
      pool = { kernel: p.kernel.value, stride: p.stride?.value ?? p.kernel.value, ceil: p.ceil, span: st.pool!.span };
    }
    if (residual?.value === 'all' && out && width !== out.value) {
      err(MSG.residualUnequal.at({ span: residual.span, notes: ["'residual after-first' adds the identity in blocks 2+ only, where widths always match"] }, n, width, out.value));
    }
    if (!mid || !out || !layers) continue;
    const spec: OsaStage = {
      kind: 'osa',
      name: n,
      ...(pool ? { pool } : {}),
      mid: mid.value,
      out: out.value,
      layers: layers.value,
      blocks: blocks?.value ?? 1,
      residual: residual?.value ?? 'none',
      depthwise: get('depthwise')?.value ?? false,
      attention,
      attentionWhere: get('where')?.value ?? 'last',
      ...(ecaKernel ? { ecaKernel: ecaKernel.value } : {}),
      span: st.span,
    };
    stages.push(spec);
    width = out.value;
  }

  // ---- head and outputs
  if (!d.head) err(MSG.missingPart.at({ span: modelSpan, notes: ["add 'head: classifier 1000' or 'head: backbone'"] }, `head in model '${name}'`));
  const h = d.head?.value;
  if (h?.kind === 'classifier') positive('number of classes', h.classes);
  const head: HeadSpec = h?.kind === 'classifier' ? { kind: 'classifier', classes: h.classes.value, span: d.head!.span } : { kind: 'backbone', span: d.head?.span ?? modelSpan };
  let outputs: string[] = head.kind === 'classifier' ? ['logits'] : names.slice();
  if (d.outputs) {
    outputs = [];
    for (const w of d.outputs.names) {
      if (!OUTPUT_NAMES.includes(w.text)) err(MSG.badOutput.at({ span: w.span, notes: [...didYouMean(closest(w.text, OUTPUT_NAMES))] }, w.text, 'does not exist: outputs are stem, stage2 .. stage5 and logits'));
      else if (w.text === 'logits' && head.kind !== 'classifier') err(MSG.badOutput.at({ span: w.span }, w.text, `needs a classifier head, and model '${name}' is a backbone`));
      else if (w.text.startsWith('stage') && !d.stages.has(w.text)) err(MSG.badOutput.at({ span: w.span }, w.text, `does not exist: model '${name}' has ${names.join(', ') || 'no stages'}`));
      else if (outputs.includes(w.text)) err(MSG.duplicateOutput.at({ span: w.span }, w.text));
      else outputs.push(w.text);
    }
  }
  if (diags.length) return undefined;
  return {
    name,
    naming,
    preprocessing,
    input: [input[0], input[1], input[2], input[3]],
    bnEps,
    stem,
    stages,
    head,
    outputs,
    source,
    span: modelSpan,
  };
}

function denseStage(
  st: StageDraft,
  width: number,
  err: (d: Diagnostic) => void,
  positive: (what: string, v: Field<number> | undefined) => void,
): { stage: DenseStage; width: number } | undefined {
  const n = st.name;
  if (!st.growth || !st.layers) {
    err(MSG.missingPart.at({ span: st.span, notes: ["write 'dense growth G xLAYERS' on the stage line"] }, `growth rate or layer count of ${n}`));
    return undefined;
  }
  positive(`${n} growth rate`, st.growth);
  positive(`${n} layer count`, st.layers);
  if (Number.isInteger(st.layers.value) && st.layers.value > MAX_LAYERS) err(MSG.badValue.at({ span: st.layers.span }, `${n} layer count`, String(st.layers.value), `a positive integer up to ${MAX_LAYERS}`));
  const bottleneck = st.bottleneck?.value ?? undefined;
  if (bottleneck !== undefined) positive(`${n} bottleneck channels`, { value: bottleneck, span: st.bottleneck!.span });
  const tr = st.transition?.value ?? undefined;
  if (tr) positive(`${n} transition channels`, { value: tr.out, span: st.transition!.span });
  const stage: DenseStage = {
    kind: 'dense',
    name: n,
    growth: st.growth.value,
    layers: st.layers.value,
    ...(bottleneck !== undefined ? { bottleneck } : {}),
    ...(tr ? { transition: { out: tr.out, pool: tr.pool } } : {}),
    span: st.span,
  };
  return { stage, width: tr ? tr.out : width + st.growth.value * st.layers.value };
}

// ---------------------------------------------------------------------------------------------
// Entry point

export interface ModelLookup {
  /** The model an 'extends' names, looked up from `from`'s file first, then the zoo. */
  find(name: string, from: ModelAst): ModelAst | undefined;
  /** Candidate names for "did you mean". */
  names(from: ModelAst): string[];
}

export interface ResolveOptions {
  /** --set arguments, "key=value" each. */
  readonly set?: readonly string[];
  /** The input shape of the actual input data (e.g. from a .npy); applied last. */
  readonly inputShape?: readonly number[];
  /** Receives the pseudo-files of --set and inputShape. */
  readonly sources: SourceMap;
  /** ModelSpec.source: the zoo name or the file path. */
  readonly source: string;
}

/** Resolves a model (its extends chain, --set, inputShape) and checks it. Throws VovcError with every problem found. */
export function resolveModel(model: ModelAst, lookup: ModelLookup, opts: ResolveOptions): ModelSpec {
  const diags: Diagnostic[] = [];
  const b = new Builder({ defaults: {}, stages: new Map() }, diags);
  const chain: ModelAst[] = [model];
  for (let m = model; m.base; ) {
    const base = lookup.find(m.base.text, m);
    if (!base) {
      diags.push(MSG.unknownModel.at({ span: m.base.span, notes: didYouMean(closest(m.base.text, lookup.names(m).filter((n) => n !== m.name.text))) }, m.base.text));
      break;
    }
    if (chain.includes(base)) {
      diags.push(MSG.extendsCycle.at({ span: m.base.span }, [...chain.map((c) => c.name.text), base.name.text]));
      break;
    }
    chain.push(base);
    m = base;
  }
  if (diags.length) throw new VovcError(sortDiagnostics(diags));
  chain.reverse().forEach((m, layer) => b.applyModel(m, layer));
  if (opts.set?.length) applySets(b, opts.set, model.name.text, chain.length, opts.sources);
  if (opts.inputShape) {
    const s = opts.inputShape;
    const text = s.join('x');
    opts.sources.add(INPUT_SHAPE_FILE, text);
    const span: Span = { file: INPUT_SHAPE_FILE, line: 1, col: 1, endLine: 1, endCol: text.length + 1 };
    if (s.length !== 4 || s.some((x) => !Number.isInteger(x) || x < 1)) diags.push(MSG.badInputShape.at({ span }, `[${s.join(', ')}]`));
    else b.draft.input = { value: s, span };
  }
  const spec = finalize(b.draft, model.name.text, model.span, opts.source, diags);
  if (!spec) throw new VovcError(sortDiagnostics(diags));
  return spec;
}

/** Diagnostics in reading order: by file (in order of first appearance), line, column; those without a span last. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  const files = [...new Set(diags.flatMap((d) => (d.span ? [d.span.file] : [])))];
  const key = (d: Diagnostic) => (d.span ? [files.indexOf(d.span.file), d.span.line, d.span.col] : [Infinity, 0, 0]);
  return [...diags].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
  });
}

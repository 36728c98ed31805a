// The --set overrides: the table of keys (SET_KEYS, documented in docs/DSL.md) and their
// application to a Draft, after the model's 'extends' chain. Each argument is shown as one
// line of the pseudo-file '--set', so that its errors point into it; a value is parsed with
// the rules of the file's parser.

import { closest, type Diagnostic, type SourceMap, type Span } from '../diag/diagnostics.js';
import { CONV_ACTIVATIONS, DEFORM_VERSIONS } from '../model/spec.js';
import { lex, type Token } from './lexer.js';
import { MSG, POSITIVE_INT as INT, didYouMean } from './messages.js';
import { NAMINGS, PREPROCESSINGS, Parser, STAGE_NAMES, WHERES, type Item, type PoolAst, type StemLayerAst } from './parser.js';
import type { Builder, Draft, StageDraft } from './draft.js';

/** The file name under which --set arguments are shown (one argument per line). */
const SET_FILE = '--set';

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
  { key: 'activation', expects: CONV_ACTIVATIONS.join(', '), apply: (p, t) => (t.b.draft.activation = { value: p.choice('activation', CONV_ACTIVATIONS), span: t.keyTok.span }) },
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
  { key: 'deform', ...itemKey('deform', DEFORM_VERSIONS.join(', '), 'all') },
  {
    key: 'deform.groups',
    expects: INT,
    apply(p, t) {
      const g = p.int('the deformable offset groups');
      t.b.draft.deformGroups = { value: g.value, span: g.span };
    },
  },
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
  { key: 'stageN.deform', ...itemKey('deform', DEFORM_VERSIONS.join(', '), 'stage') },
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

const OSA_SET_KEYS = new Set(['mid', 'out', 'blocks', 'residual', 'depthwise', 'attention', 'deform', 'attention.where', 'attention.kernel', 'pool', 'pool.kernel', 'pool.stride', 'pool.ceil']);
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

export function applySets(b: Builder, sets: readonly string[], model: string, layer: number, sources: SourceMap): void {
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
      if (parts[2] === 'deform') return void b.diags.push(MSG.deformWhere.at({ span: keySpan, notes: ['centermask2 deforms the 3x3 layers of OSA blocks (--set stageN.deform=v2), never the stem'] }, 'in the stem'));
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
    // A value that parsed may still have recorded errors (a duplicate item on a stage line):
    // they are the same errors the line would get in a file.
    if (ok) return void b.diags.push(...valueDiags);
    // Whole DSL lines get the parser's precise errors; single values one "expected ..." message.
    if (def.lineSyntax && valueDiags.length) b.diags.push(...valueDiags);
    else b.diags.push(MSG.badSetValue.at({ span: valueSpan }, key, value, def.expects));
  });
}

// Draft: a model being assembled, and the Builder that applies statements to it.
//
// A model is built as a Draft, layer by layer: the root of its 'extends' chain first, then
// each derived model (applyModel), then the --set overrides (set-keys.ts), then the input
// shape (resolve.ts). Every setting keeps the span of the text that set it, so that every
// semantic error points at the line (or the --set argument) to blame. Stage settings cascade:
// a stage line's own value, else the 'osa:' defaults, else the built-in default (applied by
// finalize.ts).

import type { Diagnostic, Span } from '../diag/diagnostics.js';
import type { Naming } from '../ir/graph.js';
import type { Attention, ConvActivation, DeformVersion } from '../model/spec.js';
import { MSG } from './messages.js';
import type { HeadAst, IntLit, Item, ModelAst, PoolAst, Residual, StemLayerAst, Where, Word } from './parser.js';

export interface Field<T> {
  readonly value: T;
  readonly span: Span;
}

export interface OsaFields {
  mid?: Field<number>;
  out?: Field<number>;
  layers?: Field<number>;
  blocks?: Field<number>;
  residual?: Field<Residual>;
  depthwise?: Field<boolean>;
  attention?: Field<Attention>;
  where?: Field<Where>;
  ecaKernel?: Field<number>;
  deform?: Field<DeformVersion>;
}

/** The settings an OSA stage inherits from the 'osa:' defaults. */
const CASCADING = ['mid', 'out', 'layers', 'blocks', 'residual', 'depthwise', 'attention', 'where', 'ecaKernel', 'deform'] as const;
export type Cascading = (typeof CASCADING)[number];

export interface StageDraft extends OsaFields {
  readonly name: string;
  kind?: 'osa' | 'dense';
  /** The line that defined the stage body ('osa ...' or 'dense ...'), else its first line. */
  span: Span;
  pool?: Field<PoolAst | null>;
  growth?: Field<number>;
  bottleneck?: Field<number | null>;
  transition?: Field<{ out: number; pool: boolean } | null>;
}

export interface Draft {
  naming?: Field<Naming>;
  preprocessing?: Field<'timm' | 'detectron2'>;
  input?: Field<readonly number[]>;
  bnEps?: Field<number>;
  activation?: Field<ConvActivation>;
  deformGroups?: Field<number>;
  stem?: { layers: readonly StemLayerAst[]; span: Span };
  defaults: OsaFields;
  stages: Map<string, StageDraft>;
  head?: Field<HeadAst>;
  /** `layer`: which layer of the chain set them (a later head change of kind drops them). */
  outputs?: { names: readonly Word[]; span: Span; layer: number };
}

const OSA_ONLY = new Set<Item['kind'] | string>(['osa', 'mid', 'out', 'blocks', 'residual', 'depthwise', 'attention', 'maxpool', 'deform']);
const DENSE_ONLY = new Set<Item['kind'] | string>(['dense', 'growth', 'bottleneck', 'transition']);

/** Item kind, with int items named by their key. */
const itemName = (item: Item) => (item.kind === 'int' ? item.key : item.kind);

// ---------------------------------------------------------------------------------------------
// Applying statements

export class Builder {
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
        case 'activation':
          d.activation = { value: s.value, span: s.span };
          break;
        case 'deformGroups':
          d.deformGroups = { value: s.groups.value, span: s.groups.span };
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
    case 'deform':
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
    case 'deform':
      t.deform = { value: item.value, span: item.span };
      break;
    case 'attention':
      if (item.type) t.attention = { value: item.type, span: item.span };
      if (item.kernel) t.ecaKernel = field(item.kernel);
      if (item.where) t.where = { value: item.where, span: item.span };
      break;
  }
}

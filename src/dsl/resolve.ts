// Resolution: a model's AST -> a checked, fully resolved ModelSpec.
//
// The entry point. It follows the model's 'extends' chain, builds a Draft from it layer by
// layer (draft.ts: the root of the chain first, then each derived model), applies the --set
// overrides (set-keys.ts), then the input shape, and checks the result (finalize.ts).
// Semantic errors are collected, not thrown one at a time: resolveModel throws one VovcError
// holding all of them.

import { closest, SourceMap, VovcError, type Diagnostic, type Span } from '../diag/diagnostics.js';
import type { ModelSpec } from '../model/spec.js';
import { Builder } from './draft.js';
import { finalize } from './finalize.js';
import { MSG, didYouMean } from './messages.js';
import type { ModelAst } from './parser.js';
import { applySets } from './set-keys.js';

export { SET_KEYS } from './set-keys.js';

/** The file name under which the inputShape option is shown. */
const INPUT_SHAPE_FILE = '--input-shape';

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
  const inChain = new Set<ModelAst>(chain);
  for (let m = model; m.base; ) {
    const base = lookup.find(m.base.text, m);
    if (!base) {
      diags.push(MSG.unknownModel.at({ span: m.base.span, notes: didYouMean(closest(m.base.text, lookup.names(m).filter((n) => n !== m.name.text))) }, m.base.text));
      break;
    }
    if (inChain.has(base)) {
      diags.push(MSG.extendsCycle.at({ span: m.base.span }, [...chain.map((c) => c.name.text), base.name.text]));
      break;
    }
    chain.push(base);
    inChain.add(base);
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

// The DSL front end's message templates: every wording in one place. Their codes and
// summaries are entries of the one diagnostics catalog (src/diag/codes.ts; E10xx lexical and
// syntax, E11xx semantic, E12xx --set and input-shape overrides, E13xx files and the zoo),
// which docs/DIAGNOSTICS.md is checked against (test/diag/catalog.test.ts, test/dsl/docs.test.ts).

import { CODES } from '../diag/codes.js';
import type { Diagnostic, Span } from '../diag/diagnostics.js';

/** Where a diagnostic points: a span, else a subject; plus notes. */
export interface At {
  readonly span?: Span;
  readonly subject?: string;
  readonly notes?: readonly string[];
}

export interface Entry<A extends unknown[]> {
  readonly code: string;
  /** One line for docs/DIAGNOSTICS.md. */
  readonly summary: string;
  /** Builds the error diagnostic. */
  at(where: At, ...args: A): Diagnostic;
}

function entry<A extends unknown[]>(code: string, text: (...args: A) => string): Entry<A> {
  return {
    code,
    summary: CODES[code].summary,
    at(where: At, ...args: A): Diagnostic {
      const d: Diagnostic = { severity: 'error', code, message: text(...args) };
      return {
        ...d,
        ...(where.span ? { span: where.span } : {}),
        ...(where.subject !== undefined ? { subject: where.subject } : {}),
        ...(where.notes && where.notes.length ? { notes: where.notes } : {}),
      };
    },
  };
}

const q = (s: string) => `'${s}'`;
const list = (xs: readonly string[]) => xs.join(', ');

/** "did you mean 'x'?" as a note list, empty when there is no plausible candidate. */
export function didYouMean(suggestion: string | undefined): string[] {
  return suggestion === undefined ? [] : [`did you mean ${q(suggestion)}?`];
}

export const MSG = {
  // ---- lexical and syntax (src/dsl/lexer.ts, src/dsl/parser.ts) ----
  badCharacter: entry('E1001', (ch: string) => `bad character ${ch}`),
  badNumber: entry('E1002', (text: string) => `bad number ${q(text)}`),
  unknownKeyword: entry('E1003', (word: string) => `unknown keyword ${q(word)}`),
  expected: entry('E1004', (what: string, found: string) => `expected ${what}, found ${found}`),
  outsideModel: entry('E1005', (keyword: string) => `${q(keyword)} outside a model: start the model with 'model NAME'`),
  badChoice: entry('E1006', (what: string, value: string) => `unknown ${what} ${q(value)}`),
  unknownStage: entry('E1007', (name: string) => `unknown stage ${q(name)}`),
  duplicateKey: entry('E1008', (key: string) => `duplicate ${q(key)} on one line`),

  // ---- semantic (src/dsl/draft.ts, src/dsl/finalize.ts, src/dsl/resolve.ts, src/dsl/zoo.ts) ----
  duplicateModel: entry('E1101', (name: string) => `duplicate model ${q(name)}`),
  unknownModel: entry('E1102', (name: string) => `unknown model ${q(name)}`),
  extendsCycle: entry('E1103', (chain: readonly string[]) => `'extends' cycle: ${chain.join(' -> ')}`),
  duplicateStatement: entry('E1104', (keyword: string, model: string) => `duplicate ${q(keyword)} in model ${q(model)}`),
  duplicateStage: entry('E1105', (stage: string, model: string) => `duplicate stage ${q(stage)} in model ${q(model)}`),
  channelMismatch: entry('E1106', (what: string, declared: number, actual: number) => `channel mismatch: ${what} declares ${declared} input channels but receives ${actual}`),
  residualUnequal: entry('E1107', (stage: string, cin: number, cout: number) => `residual with unequal channels: ${stage}'s first block maps ${cin} -> ${cout} channels, so 'residual all' cannot add its input`),
  badValue: entry('E1108', (what: string, value: string, expected: string) => `bad ${what} ${value}: expected ${expected}`),
  missingPart: entry('E1109', (what: string) => `missing ${what}`),
  misplacedItem: entry('E1110', (item: string, where: string) => `${q(item)} ${where}`),
  stageGap: entry('E1111', (missing: string, present: string) => `missing ${missing}: stages must run consecutively from stage2 (this model has ${present})`),
  badOutput: entry('E1112', (name: string, why: string) => `output ${q(name)} ${why}`),
  duplicateOutput: entry('E1113', (name: string) => `duplicate output ${q(name)}`),
  deformWhere: entry('E1114', (where: string) => `deformable convolution ${where}`),

  // ---- command-line overrides (--set: src/dsl/set-keys.ts; inputShape: src/dsl/resolve.ts) ----
  setSyntax: entry('E1201', (arg: string) => `--set expects key=value, got ${q(arg)}`),
  unknownSetKey: entry('E1202', (key: string) => `unknown --set key ${q(key)}`),
  badSetValue: entry('E1203', (key: string, value: string, expected: string) => `bad value ${q(value)} for ${key}: expected ${expected}`),
  noSuchStage: entry('E1204', (stage: string, model: string, present: string) => `model ${q(model)} has no ${stage} (it has ${present})`),
  badInputShape: entry('E1205', (shape: string) => `input shape ${shape} is not NCHW: expected four positive integers`),

  // ---- files and the zoo ----
  cannotRead: entry('E1301', (path: string, reason: string) => `cannot read model file ${q(path)}: ${reason}`),
  modelNotInFile: entry('E1302', (name: string, file: string, present: readonly string[]) => `no model ${q(name)} in ${file} (it defines ${list(present.map(q))})`),
  emptyFile: entry('E1303', (file: string) => `no model in ${file}: a model starts with 'model NAME'`),
  noZoo: entry('E1304', (from: string) => `cannot find the model zoo (a folder holding package.json and models/) above ${from}`),
} as const;

/**
 * Parse diagnostics after which the text is not fully understood (a line was skipped), so
 * resolving it would only add follow-on errors. The parser's other diagnostics (duplicate
 * key, bad value, unknown stage, duplicate model) leave a usable AST.
 */
export const BLOCKING_CODES: ReadonlySet<string> = new Set([MSG.badCharacter, MSG.badNumber, MSG.unknownKeyword, MSG.expected, MSG.outsideModel, MSG.badChoice].map((e) => e.code));

/** What a count or a width must be, in "expected ..." texts. */
export const POSITIVE_INT = 'a positive integer';

/** "1 channel", "3 channels" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// The catalog of the DSL front end's diagnostics: every code and message template in one
// place, so that wording stays consistent and docs/DIAGNOSTICS.md can be checked against it
// (test/dsl/docs.test.ts). Codes: E10xx lexical and syntax, E11xx semantic, E12xx --set and
// input-shape overrides, E13xx files and the zoo. Lowering (E2xxx) and later stages own theirs.

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

function entry<A extends unknown[]>(code: string, summary: string, text: (...args: A) => string): Entry<A> {
  return {
    code,
    summary,
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
  badCharacter: entry('E1001', 'a character that starts no token', (ch: string) => `bad character ${ch}`),
  badNumber: entry('E1002', 'a malformed number (e.g. 12abc, 1e, 3x)', (text: string) => `bad number ${q(text)}`),
  unknownKeyword: entry('E1003', 'a word that is not a keyword where a keyword is expected', (word: string) => `unknown keyword ${q(word)}`),
  expected: entry('E1004', 'a token other than the grammar allows', (what: string, found: string) => `expected ${what}, found ${found}`),
  outsideModel: entry('E1005', "a statement before the first 'model NAME' line", (keyword: string) => `${q(keyword)} outside a model: start the model with 'model NAME'`),
  badChoice: entry('E1006', 'a word outside the fixed set of values of a setting', (what: string, value: string) => `unknown ${what} ${q(value)}`),
  unknownStage: entry('E1007', 'a stage name other than stage2 .. stage5', (name: string) => `unknown stage ${q(name)}`),
  duplicateKey: entry('E1008', 'the same setting twice on one line', (key: string) => `duplicate ${q(key)} on one line`),

  // ---- semantic (src/dsl/draft.ts, src/dsl/finalize.ts, src/dsl/resolve.ts, src/dsl/zoo.ts) ----
  duplicateModel: entry('E1101', 'two models of one name in a file (or in the zoo)', (name: string) => `duplicate model ${q(name)}`),
  unknownModel: entry('E1102', 'a model name that is neither in the file nor in the zoo', (name: string) => `unknown model ${q(name)}`),
  extendsCycle: entry('E1103', "'extends' chains that come back to where they started", (chain: readonly string[]) => `'extends' cycle: ${chain.join(' -> ')}`),
  duplicateStatement: entry('E1104', 'the same statement twice in one model', (keyword: string, model: string) => `duplicate ${q(keyword)} in model ${q(model)}`),
  duplicateStage: entry('E1105', 'the same stage twice in one model', (stage: string, model: string) => `duplicate stage ${q(stage)} in model ${q(model)}`),
  channelMismatch: entry('E1106', 'declared input channels that differ from what feeds the layer', (what: string, declared: number, actual: number) => `channel mismatch: ${what} declares ${declared} input channels but receives ${actual}`),
  residualUnequal: entry('E1107', "'residual all' on a stage whose first block changes the width", (stage: string, cin: number, cout: number) => `residual with unequal channels: ${stage}'s first block maps ${cin} -> ${cout} channels, so 'residual all' cannot add its input`),
  badValue: entry('E1108', 'a value out of range (non-positive width, stride 0, even ECA kernel, ...)', (what: string, value: string, expected: string) => `bad ${what} ${value}: expected ${expected}`),
  missingPart: entry('E1109', 'a model or stage without a required part (stem, stages, head, widths, layers)', (what: string) => `missing ${what}`),
  misplacedItem: entry('E1110', 'a setting that does not belong where it is written', (item: string, where: string) => `${q(item)} ${where}`),
  stageGap: entry('E1111', 'stages that are not consecutive from stage2', (missing: string, present: string) => `missing ${missing}: stages must run consecutively from stage2 (this model has ${present})`),
  badOutput: entry('E1112', 'an output name the model cannot produce', (name: string, why: string) => `output ${q(name)} ${why}`),
  duplicateOutput: entry('E1113', 'the same output named twice', (name: string) => `duplicate output ${q(name)}`),

  // ---- command-line overrides (--set: src/dsl/set-keys.ts; inputShape: src/dsl/resolve.ts) ----
  setSyntax: entry('E1201', 'a --set argument that is not key=value', (arg: string) => `--set expects key=value, got ${q(arg)}`),
  unknownSetKey: entry('E1202', 'a --set key that does not exist (or not in this model)', (key: string) => `unknown --set key ${q(key)}`),
  badSetValue: entry('E1203', 'a --set value of the wrong form', (key: string, value: string, expected: string) => `bad value ${q(value)} for ${key}: expected ${expected}`),
  noSuchStage: entry('E1204', 'a --set key for a stage the model does not have', (stage: string, model: string, present: string) => `model ${q(model)} has no ${stage} (it has ${present})`),
  badInputShape: entry('E1205', 'an input shape override that is not four positive integers', (shape: string) => `input shape ${shape} is not NCHW: expected four positive integers`),

  // ---- files and the zoo ----
  cannotRead: entry('E1301', 'a model file that cannot be read', (path: string, reason: string) => `cannot read model file ${q(path)}: ${reason}`),
  modelNotInFile: entry('E1302', "'file.vov:name' naming a model the file does not define", (name: string, file: string, present: readonly string[]) => `no model ${q(name)} in ${file} (it defines ${list(present.map(q))})`),
  emptyFile: entry('E1303', 'a model file without any model', (file: string) => `no model in ${file}: a model starts with 'model NAME'`),
  noZoo: entry('E1304', 'the models/ folder of the installation is missing', (from: string) => `cannot find the model zoo (a folder holding package.json and models/) above ${from}`),
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

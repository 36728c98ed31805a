import { readFileSync } from 'node:fs';

// Diagnostics are data, collected rather than thrown (the TypeScript-compiler way).
// Every stage of vovc reports problems as Diagnostic values with a source span when one
// exists (DSL file:line:col) or a subject (a tensor name, a file path) when it does not.

/** A range in a source file; lines and columns are 1-based, `endCol` is exclusive. */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

export type Severity = 'error' | 'warning' | 'note';

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable identifier, e.g. "E1001"; listed in docs/DIAGNOSTICS.md. */
  readonly code: string;
  readonly message: string;
  readonly span?: Span;
  /** What the message is about when there is no span: a tensor name, a file path. */
  readonly subject?: string;
  /** Extra lines printed after the source excerpt ("did you mean ...", "expected ..."). */
  readonly notes?: readonly string[];
}

/** Source texts by file name, so that diagnostics can quote the offending line. */
export class SourceMap {
  private readonly files = new Map<string, string>();
  add(file: string, text: string): void {
    this.files.set(file, text);
  }
  line(file: string, line: number): string | undefined {
    const text = this.files.get(file);
    if (text === undefined) return undefined;
    return text.split(/\r?\n/)[line - 1];
  }
}

function lineFromDisk(file: string, line: number): string | undefined {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[line - 1];
  } catch {
    return undefined;
  }
}

const CONTROL = /[\x00-\x1f\x7f]/g;
const escapeControl = (s: string) => s.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

/**
 * Messages quote what they are about, and that text may come from a damaged file or a
 * command-line argument (a tensor name holding a newline, a --set value with a NUL): its
 * control characters are shown escaped, so that a message, a subject and each note stay one line.
 */
/** The most characters of a message, subject or note that a diagnostic prints (a key of a million dots is cut). */
const MAX_TEXT = 2000;
/** The most notes one diagnostic prints. */
const MAX_NOTES = 20;

/** `s` cut to `max` characters, saying how much was left out. */
function clip(s: string, max = MAX_TEXT): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length - max} more characters)`;
}

function oneLine(d: Diagnostic): Diagnostic {
  const bad = (s: string | undefined) => s !== undefined && (/[\x00-\x1f\x7f]/.test(s) || s.length > MAX_TEXT);
  const notes = d.notes && d.notes.length > MAX_NOTES ? [...d.notes.slice(0, MAX_NOTES), `and ${d.notes.length - MAX_NOTES} more notes`] : d.notes;
  if (!bad(d.message) && !bad(d.subject) && !notes?.some(bad) && notes === d.notes) return d;
  const fix = (s: string) => clip(escapeControl(s));
  return {
    ...d,
    message: fix(d.message),
    ...(d.subject !== undefined ? { subject: fix(d.subject) } : {}),
    ...(notes ? { notes: notes.map(fix) } : {}),
  };
}

/** Diagnostics printed per source line, and in all: the rest are counted ("and 987 more"). */
const MAX_PER_LINE = 5;
const MAX_PRINTED = 50;

/**
 * Every diagnostic formatted (formatDiagnostic), at most MAX_PER_LINE for one source line and
 * MAX_PRINTED in all, then one line counting the rest: a 220 KB line of repeated items prints a
 * screenful, not gigabytes.
 */
export function formatDiagnostics(ds: readonly Diagnostic[], sources?: SourceMap): string[] {
  const out: string[] = [];
  const perLine = new Map<string, number>();
  let hidden = 0;
  for (const d of ds) {
    const key = d.span ? `${d.span.file}:${d.span.line}` : '';
    const n = key ? (perLine.get(key) ?? 0) + 1 : 0;
    if (key) perLine.set(key, n);
    if (out.length >= MAX_PRINTED || n > MAX_PER_LINE) hidden++;
    else out.push(formatDiagnostic(d, sources));
  }
  if (hidden) out.push(`and ${hidden} more diagnostic${hidden > 1 ? 's' : ''} (at most ${MAX_PER_LINE} per line and ${MAX_PRINTED} in all are shown)`);
  return out;
}

/** Columns of a quoted source line shown around a span (a 200 KB line is not printed whole). */
const SOURCE_WINDOW = 160;

/**
 * The one exception type of vovc: a user error carrying its diagnostics. The CLI catches it,
 * prints the diagnostics and exits with `exitCode` (1 = user error, 3 = target unavailable).
 */
export class VovcError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  readonly exitCode: number;
  /** Source texts the spans refer to (else the printer reads the files from disk). */
  sources?: SourceMap;
  constructor(diagnostics: Diagnostic | readonly Diagnostic[], exitCode = 1) {
    const list = (Array.isArray(diagnostics) ? (diagnostics as readonly Diagnostic[]) : [diagnostics as Diagnostic]).map(oneLine);
    super(list.map((d) => d.message).join('; '));
    this.name = 'VovcError';
    this.diagnostics = list;
    this.exitCode = exitCode;
  }
}

/** Shorthand for a single error diagnostic thrown as a VovcError. */
export function fail(code: string, message: string, where?: { span?: Span; subject?: string; notes?: string[] }, exitCode = 1): never {
  throw new VovcError({ severity: 'error', code, message, ...where }, exitCode);
}

/**
 * Formats one diagnostic the way compilers do:
 *
 *   models/x.vov:3:9: error E1003: unknown keyword 'layrs'
 *      3 |   osa: layrs 5
 *        |        ^^^^^
 *     = did you mean 'layers'?
 */
export function formatDiagnostic(diagnostic: Diagnostic, sources?: SourceMap): string {
  const d = oneLine(diagnostic);
  const where = d.span ? `${d.span.file}:${d.span.line}:${d.span.col}: ` : d.subject ? `${d.subject}: ` : '';
  const lines = [`${where}${d.severity} ${d.code}: ${d.message}`];
  if (d.span) {
    const text = sources?.line(d.span.file, d.span.line) ?? lineFromDisk(d.span.file, d.span.line);
    if (text !== undefined) {
      const num = String(d.span.line);
      const pad = ' '.repeat(num.length);
      let width = d.span.endLine === d.span.line ? Math.max(1, d.span.endCol - d.span.col) : Math.max(1, text.length - d.span.col + 1);
      // A long line is shown as a window around the span, cut ends marked with '...'.
      let from = 0;
      let shown = text;
      if (text.length > SOURCE_WINDOW) {
        from = Math.max(0, Math.min(d.span.col - 1 - 40, text.length - SOURCE_WINDOW));
        shown = `${from > 0 ? '...' : ''}${text.slice(from, from + SOURCE_WINDOW)}${from + SOURCE_WINDOW < text.length ? '...' : ''}`;
        width = Math.min(width, SOURCE_WINDOW - (d.span.col - 1 - from));
      }
      const lead = from > 0 ? 3 : 0;
      lines.push(` ${num} | ${escapeControl(shown)}`);
      lines.push(` ${pad} | ${' '.repeat(Math.max(0, d.span.col - 1 - from + lead))}${'^'.repeat(Math.max(1, width))}`);
    }
  }
  for (const n of d.notes ?? []) lines.push(`  = ${n}`);
  return lines.join('\n');
}


/** Words longer than this get no suggestion (no identifier or key of a model is that long). */
const MAX_SUGGEST_LENGTH = 256;
/** Candidates a suggestion looks at, at most: the search is bounded whatever the input. */
const MAX_CANDIDATES = 20_000;

/** Levenshtein distance if it is at most `k`, else k + 1: a band of 2k + 1 diagonals, O(len * k). */
function boundedDistance(a: string, b: string, k: number): number {
  if (Math.abs(a.length - b.length) > k) return k + 1;
  const big = k + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j <= k ? j : big;
  for (let i = 1; i <= a.length; i++) {
    const lo = Math.max(1, i - k), hi = Math.min(b.length, i + k);
    cur.fill(big);
    cur[0] = i <= k ? i : big;
    let rowMin = cur[0];
    for (let j = lo; j <= hi; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur[j] = v > big ? big : v;
      if (cur[j] < rowMin) rowMin = cur[j];
    }
    if (rowMin > k) return big;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] > k ? big : prev[b.length];
}

/**
 * The closest candidate to `word`, if it is close enough to be a plausible typo (edit distance
 * at most a third of the longer word, at least 2). Bounded work: candidates whose length alone
 * rules them out are skipped before any distance, each distance is banded by the best found so
 * far, and at most MAX_CANDIDATES are looked at.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > MAX_SUGGEST_LENGTH) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  let seen = 0;
  for (const c of candidates) {
    if (++seen > MAX_CANDIDATES) break;
    if (c.length > MAX_SUGGEST_LENGTH) continue;
    const limit = Math.max(2, Math.floor(Math.max(word.length, c.length) / 3));
    const k = Math.min(limit, bestD - 1);
    if (k < 0 || Math.abs(word.length - c.length) > k) continue;
    const d = boundedDistance(w, c.toLowerCase(), k);
    if (d <= k) {
      bestD = d;
      best = c;
      if (d === 0) break;
    }
  }
  return best;
}

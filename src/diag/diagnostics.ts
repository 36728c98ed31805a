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
function oneLine(d: Diagnostic): Diagnostic {
  const bad = (s: string | undefined) => s !== undefined && /[\x00-\x1f\x7f]/.test(s);
  if (!bad(d.message) && !bad(d.subject) && !d.notes?.some(bad)) return d;
  return {
    ...d,
    message: escapeControl(d.message),
    ...(d.subject !== undefined ? { subject: escapeControl(d.subject) } : {}),
    ...(d.notes ? { notes: d.notes.map(escapeControl) } : {}),
  };
}

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
      const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endCol - d.span.col) : Math.max(1, text.length - d.span.col + 1);
      lines.push(` ${num} | ${text}`);
      lines.push(` ${pad} | ${' '.repeat(Math.max(0, d.span.col - 1))}${'^'.repeat(width)}`);
    }
  }
  for (const n of d.notes ?? []) lines.push(`  = ${n}`);
  return lines.join('\n');
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The closest candidate to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

// Lexer of the .vov model language. Line-oriented: newlines are tokens (a statement is one
// line), '#' starts a comment. Shapes and kernels are single tokens ("3x3", "1x3x224x224"),
// and "x12" (a repeat count: blocks, dense layers) is one token too, so that "osa 128 -> 256
// x2" reads the way the paper's tables do. Lexical errors become diagnostics and an 'error'
// token, so that the parser can skip the rest of that line without reporting it twice.

import type { Diagnostic, Span } from '../diag/diagnostics.js';
import { MSG } from './messages.js';

export type TokenKind =
  | 'ident' // keyword or name: letters, digits, '_', inner '-' (after-first, V-19-eSE)
  | 'number' // 64, 1e-5, 0.5, -8
  | 'dims' // 3x3, 1x3x224x224 (integers joined by 'x')
  | 'times' // x2, x12
  | 'arrow' // ->
  | 'comma'
  | 'colon'
  | 'slash'
  | 'newline'
  | 'eof'
  | 'error';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly span: Span;
  /** number: its value; times: the count. */
  readonly value?: number;
  /** dims: the integers. */
  readonly dims?: readonly number[];
}

export interface LexOptions {
  /** Position of the first character (for fragments such as --set values). */
  readonly line?: number;
  readonly col?: number;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isLetter = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isWordChar = (c: string | undefined) => isLetter(c) || isDigit(c);

/** How a character is shown in messages: printable ones quoted, others as U+XXXX. */
function showChar(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp > 0x20 && cp !== 0x7f ? `'${c}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function lex(text: string, file: string, diags: Diagnostic[], opts: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = opts.line ?? 1;
  let col = opts.col ?? 1;
  const span = (startCol: number, len: number): Span => ({ file, line, col: startCol, endLine: line, endCol: startCol + len });
  const push = (kind: TokenKind, start: number, extra: Partial<Token> = {}) => {
    const t = text.slice(start, i);
    tokens.push({ kind, text: t, span: span(col, i - start), ...extra });
    col += i - start;
  };

  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      col++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      col += i - start;
    } else if (c === '\n') {
      i++;
      tokens.push({ kind: 'newline', text: '\n', span: span(col, 1) });
      line++;
      col = 1;
    } else if (c === '-' && text[i + 1] === '>') {
      i += 2;
      push('arrow', start);
    } else if (isDigit(c) || (c === '-' && isDigit(text[i + 1])) || (c === '.' && isDigit(text[i + 1]))) {
      lexNumber(start);
    } else if (isLetter(c)) {
      i++;
      while (isWordChar(text[i]) || (text[i] === '-' && isWordChar(text[i + 1]))) i++;
      const word = text.slice(start, i);
      if (/^x\d+$/.test(word)) push('times', start, { value: Number(word.slice(1)) });
      else push('ident', start);
    } else if (c === ',' || c === ':' || c === '/') {
      i++;
      push(c === ',' ? 'comma' : c === ':' ? 'colon' : 'slash', start);
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      i += ch.length;
      diags.push(MSG.badCharacter.at({ span: span(col, 1) }, showChar(ch)));
      push('error', start);
    }
  }
  tokens.push({ kind: 'eof', text: '', span: span(col, 1) });
  return tokens;

  function lexNumber(start: number): void {
    if (text[i] === '-') i++;
    while (isDigit(text[i])) i++;
    let integer = true;
    if (text[i] === '.' && isDigit(text[i + 1])) {
      integer = false;
      i++;
      while (isDigit(text[i])) i++;
    }
    let ok = true;
    if (text[i] === 'e' || text[i] === 'E') {
      integer = false;
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) ok = false;
      while (isDigit(text[i])) i++;
    }
    const dims: number[] = [];
    if (ok && integer && text[i] === 'x' && isDigit(text[i + 1]) && text[start] !== '-') {
      dims.push(Number(text.slice(start, i)));
      while (text[i] === 'x' && isDigit(text[i + 1])) {
        const s = ++i;
        while (isDigit(text[i])) i++;
        dims.push(Number(text.slice(s, i)));
      }
    }
    // A number glued to letters or another '.' ("12abc", "1.2.3", "3x") is one bad token.
    if (!ok || isWordChar(text[i]) || (text[i] === '.' && isDigit(text[i + 1]))) {
      while (isWordChar(text[i]) || text[i] === '.' || ((text[i] === '-' || text[i] === '+') && /[eE]/.test(text[i - 1]))) i++;
      diags.push(MSG.badNumber.at({ span: span(col, i - start) }, text.slice(start, i)));
      push('error', start);
    } else if (dims.length) push('dims', start, { dims });
    else push('number', start, { value: Number(text.slice(start, i)) });
  }
}

/** How a token is named in "expected X, found Y". */
export function describe(t: Token): string {
  if (t.kind === 'newline') return 'end of line';
  if (t.kind === 'eof') return 'end of input';
  return `'${t.text}'`;
}

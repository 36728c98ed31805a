import { describe, expect, test } from 'vitest';
import type { Diagnostic } from '../../src/diag/diagnostics.js';
import { lex } from '../../src/dsl/lexer.js';

const kinds = (text: string) => {
  const diags: Diagnostic[] = [];
  const toks = lex(text, 'f.vov', diags);
  return { toks: toks.map((t) => `${t.kind}:${t.text === '\n' ? '\\n' : t.text}`), diags, raw: toks };
};

describe('lexer', () => {
  test('a stage line: shapes, repeat counts, arrows, punctuation', () => {
    expect(kinds('stage3: maxpool 3x3 /2 ceil, osa 160 -> 512 x2').toks).toEqual([
      'ident:stage3', 'colon::', 'ident:maxpool', 'dims:3x3', 'slash:/', 'number:2', 'ident:ceil', 'comma:,',
      'ident:osa', 'number:160', 'arrow:->', 'number:512', 'times:x2', 'eof:',
    ]);
  });

  test('shapes carry their integers, numbers and counts their values', () => {
    const { raw } = kinds('1x3x224x224 1e-5 0.5 -8 x12 128->256');
    expect(raw[0].dims).toEqual([1, 3, 224, 224]);
    expect(raw.slice(1, 5).map((t) => t.value)).toEqual([1e-5, 0.5, -8, 12]);
    expect(raw.slice(5).map((t) => t.kind)).toEqual(['number', 'arrow', 'number', 'eof']);
  });

  test('identifiers keep inner hyphens (model names, after-first) but not a trailing arrow', () => {
    expect(kinds('V-19-slim-dw-eSE after-first vovnet-pytorch a->b').toks).toEqual([
      'ident:V-19-slim-dw-eSE', 'ident:after-first', 'ident:vovnet-pytorch', 'ident:a', 'arrow:->', 'ident:b', 'eof:',
    ]);
  });

  test('comments and newlines; spans are 1-based with exclusive end columns', () => {
    const { toks, raw } = kinds('model a # comment -> x\n  naming timm\r\n');
    expect(toks).toEqual(['ident:model', 'ident:a', 'newline:\\n', 'ident:naming', 'ident:timm', 'newline:\\n', 'eof:']);
    expect(raw[4].span).toEqual({ file: 'f.vov', line: 2, col: 10, endLine: 2, endCol: 14 });
  });

  test('a fragment starts where it is told (--set values)', () => {
    const diags: Diagnostic[] = [];
    const [t] = lex('6', '--set', diags, { line: 3, col: 15 });
    expect(t.span).toEqual({ file: '--set', line: 3, col: 15, endLine: 3, endCol: 16 });
  });

  test('bad characters and bad numbers are reported once each and become error tokens', () => {
    const { toks, diags } = kinds('a ; 12abc 1e 3x 1.2.3 é\tb');
    expect(toks).toEqual(['ident:a', 'error:;', 'error:12abc', 'error:1e', 'error:3x', 'error:1.2.3', 'error:é', 'ident:b', 'eof:']);
    expect(diags.map((d) => `${d.code} ${d.message} @${d.span?.col}`)).toEqual([
      "E1001 bad character ';' @3",
      "E1002 bad number '12abc' @5",
      "E1002 bad number '1e' @11",
      "E1002 bad number '3x' @14",
      "E1002 bad number '1.2.3' @17",
      "E1001 bad character 'é' @23",
    ]);
  });

  test('control characters are shown by code point', () => {
    expect(kinds('a \u0007').diags[0].message).toBe('bad character U+0007');
  });
});

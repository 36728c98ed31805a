import { describe, expect, test } from 'vitest';
import type { Diagnostic } from '../../src/diag/diagnostics.js';
import { lex } from '../../src/dsl/lexer.js';
import { Parser, type Statement } from '../../src/dsl/parser.js';

function parse(text: string) {
  const diags: Diagnostic[] = [];
  const ast = Parser.parseFile(text, 'f.vov', diags);
  return { ast, diags };
}

/** Statements without spans, for comparisons. */
function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([k]) => !/span$/i.test(k)).map(([k, v]) => [k, strip(v)]));
  return x;
}

const SKETCH = `
model ese_vovnet39b
  naming timm
  input 1x3x224x224
  stem: conv 3x3 64 /2, conv 3x3 64, conv 3x3 128 /2
  osa: layers 5, residual after-first, attention ese on last
  stage2: osa 128 -> 256 x1
  stage3: maxpool 3x3 /2 ceil, osa 160 -> 512 x1
  head: classifier 1000

model vovnet57_deep4 extends vovnet57
  stage4: blocks 6
`;

describe('parser', () => {
  test("the brief's sketch parses into two models with the expected statements", () => {
    const { ast, diags } = parse(SKETCH);
    expect(diags).toEqual([]);
    expect(ast.models.map((m) => [m.name.text, m.base?.text])).toEqual([
      ['ese_vovnet39b', undefined],
      ['vovnet57_deep4', 'vovnet57'],
    ]);
    const st = ast.models[0].statements;
    expect(strip(st.slice(0, 2))).toEqual([
      { kind: 'naming', value: 'timm' },
      { kind: 'input', dims: [1, 3, 224, 224] },
    ]);
    expect(strip(st[2])).toEqual({
      kind: 'stem',
      layers: [
        { kind: 'conv', kernel: { value: 3 }, out: { value: 64 }, stride: { value: 2 }, in: undefined },
        { kind: 'conv', kernel: { value: 3 }, out: { value: 64 }, stride: undefined, in: undefined },
        { kind: 'conv', kernel: { value: 3 }, out: { value: 128 }, stride: { value: 2 }, in: undefined },
      ],
    });
    expect(strip(st[3])).toEqual({
      kind: 'osa',
      items: [
        { kind: 'int', key: 'layers', value: { value: 5 } },
        { kind: 'residual', value: 'after-first' },
        { kind: 'attention', type: 'ese', kernel: undefined, where: 'last' },
      ],
    });
    expect(strip((st[5] as Extract<Statement, { kind: 'stage' }>).items)).toEqual([
      { kind: 'maxpool', pool: { kernel: { value: 3 }, stride: { value: 2 }, ceil: true } },
      { kind: 'osa', mid: { value: 160 }, out: { value: 512 }, blocks: { value: 1 } },
    ]);
    expect(strip(ast.models[1].statements)).toEqual([{ kind: 'stage', name: { text: 'stage4' }, items: [{ kind: 'int', key: 'blocks', value: { value: 6 } }] }]);
  });

  test('spans: statements from keyword to last token, items and values on their own', () => {
    const { ast } = parse('model m\n  stage3: maxpool 3x3 /2 ceil, osa 160 -> 512 x1\n');
    const s = ast.models[0].statements[0] as Extract<Statement, { kind: 'stage' }>;
    expect([s.span.col, s.span.endCol]).toEqual([3, 49]);
    expect([s.items[1].span.col, s.items[1].span.endCol]).toEqual([32, 49]);
    const o = s.items[1] as Extract<(typeof s.items)[number], { kind: 'osa' }>;
    expect([o.mid.span.col, o.out.span.col, o.blocks?.span.col]).toEqual([36, 43, 47]);
    expect(ast.models[0].span).toEqual({ file: 'f.vov', line: 1, col: 1, endLine: 1, endCol: 8 });
  });

  test('optional colons and commas; explicit input channels; separable layers', () => {
    const { ast, diags } = parse('model m\n  stem conv 3x3 3->16 /2 sepconv 3 16\n  stage2 osa 16 -> 32 layers 2 depthwise attention eca kernel 3\n');
    expect(diags).toEqual([]);
    const [stem, stage] = ast.models[0].statements as [Extract<Statement, { kind: 'stem' }>, Extract<Statement, { kind: 'stage' }>];
    expect(stem.layers.map((l) => [l.kind, l.kernel.value, l.in?.value, l.out.value, l.stride?.value])).toEqual([
      ['conv', 3, 3, 16, 2],
      ['sepconv', 3, undefined, 16, undefined],
    ]);
    expect(stage.items.map((i) => i.kind)).toEqual(['osa', 'int', 'depthwise', 'attention']);
  });

  test('dense stages: growth, layers, bottleneck, transition (long and short form)', () => {
    const { ast, diags } = parse('model d\n  stage2: dense growth 12 x12 bottleneck 48 transition 1x1 -> 168 avgpool 2x2\n  stage3: dense growth 12 x6, transition 96, bottleneck none\n');
    expect(diags).toEqual([]);
    expect(strip(ast.models[0].statements.map((s) => (s as Extract<Statement, { kind: 'stage' }>).items))).toEqual([
      [
        { kind: 'dense', growth: { value: 12 }, layers: { value: 12 } },
        { kind: 'bottleneck', value: { value: 48 } },
        { kind: 'transition', out: { value: 168 }, pool: true },
      ],
      [
        { kind: 'dense', growth: { value: 12 }, layers: { value: 6 } },
        { kind: 'transition', out: { value: 96 }, pool: false },
        { kind: 'bottleneck', value: null },
      ],
    ]);
  });

  test('recovers after a syntax error: one diagnostic per bad line, good lines kept', () => {
    const { ast, diags } = parse('model m\n  naming timm\n  stage2: osa 1 2\n  head: classifier 10\n  stem: conv\n  outputs logits\n');
    expect(diags.map((d) => `${d.span?.line}: ${d.message}`)).toEqual(["3: expected '->', found '2'", '5: expected a kernel size such as 3x3, found end of line']);
    expect(ast.models[0].statements.map((s) => s.kind)).toEqual(['naming', 'head', 'outputs']);
  });

  test('a lexical error is not reported a second time as a syntax error', () => {
    const { diags } = parse('model m\n  stage2: osa 1$ -> 2\n');
    expect(diags.map((d) => d.code)).toEqual(['E1001']);
  });

  test('statements before the first model are reported once', () => {
    const { diags } = parse('naming timm\ninput 1x3x8x8\nmodel m\n');
    expect(diags.map((d) => [d.code, d.span?.line])).toEqual([['E1005', 1]]);
  });

  test('fragments (for --set values) must be consumed entirely', () => {
    const d: Diagnostic[] = [];
    expect(Parser.fragment(lex('6', '--set', d), d, (p) => p.int('a count').value)).toBe(6);
    expect(Parser.fragment(lex('6 7', '--set', d), d, (p) => p.int('a count').value)).toBeUndefined();
    expect(d.map((x) => x.message)).toEqual(["expected end of line, found '7'"]);
  });
});

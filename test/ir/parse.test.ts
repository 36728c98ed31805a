// The IR text parser: printGraph's output reads back to the same graph (every zoo model, before
// and after the pipeline), and malformed text is a diagnostic at file:line:col.
import { describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/printer.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import { optimize } from '../../src/passes/manager.js';

describe('parseGraph', () => {
  it('reads back every zoo model, unoptimized and optimized, to the same text and a verified graph', () => {
    for (const name of zooNames()) {
      const g = lowerSpec(loadModel(name, { inputShape: [1, 3, 64, 64] }).spec);
      for (const graph of [g, optimize(g, { log: () => {} }).graph]) {
        const text = printGraph(graph);
        const back = parseGraph(text, name);
        expect(printGraph(back), name).toBe(text);
        expect(verify(back), name).toEqual([]);
        expect([...back.params.keys()].sort(), name).toEqual([...graph.params.keys()].sort());
        for (const [k, p] of back.params) expect(p.shape, `${name} ${k}`).toEqual(graph.params.get(k)!.shape);
      }
    }
  });

  const diag = (text: string) => {
    try {
      parseGraph(text, 'x.ir');
    } catch (e) {
      if (e instanceof VovcError) return e.diagnostics[0];
      throw e;
    }
    throw new Error('no error');
  };

  it('names the line and column of what is wrong', () => {
    const head = 'graph t(%input: f32[1,4,6,6]) naming=timm\n';
    expect(diag('graf t\n')).toMatchObject({ code: 'E3201', span: { file: 'x.ir', line: 1, col: 1 } });
    expect(diag(`${head}  %a = frobnicate(%input) : [1,4,6,6]\n  return y=%a\n`)).toMatchObject({ message: "IR text: unknown op 'frobnicate'", span: { line: 2, col: 8 } });
    expect(diag(`${head}  %a = relu(%b) : [1,4,6,6]\n  return y=%a\n`)).toMatchObject({ message: "IR text: '%a' reads '%b', which no earlier line defines", span: { line: 2, col: 13 } });
    expect(diag(`${head}  %a = relu(%input) : [1,4,6,7]\n  return y=%a\n`).message).toBe("IR text: '%a' is printed as [1,4,6,7] but its inputs give [1,4,6,6]");
    expect(diag(`${head}  %a = relu(%input) : [1,4,6,6]\n`).message).toBe("IR text: missing the 'return name=%value, ...' line");
    expect(diag(`${head}  %a = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1 act=swish} w=a.weight : [1,4,6,6]\n  return y=%a\n`).message).toBe("IR text: conv2d 'a': unknown activation 'swish'");
  });
});

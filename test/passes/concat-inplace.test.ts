import { describe, expect, test } from 'vitest';
import { concatPlacement } from '../../src/ir/concat.js';
import { concatInplace } from '../../src/passes/concat-inplace.js';
import { body, builder, concat, conv, runPass } from './ir.js';

describe('concat-inplace', () => {
  test('OSA block: every producer writes into its slice, the concat is marked inplace', () => {
    const b = builder([1, 4, 6, 6]);
    const x = conv(b, 'x', 'input', 8);
    const y1 = conv(b, 'y1', x, 4);
    const y2 = conv(b, 'y2', y1, 4);
    const cat = concat(b, 'cat', [x, y1, y2]);
    b.output('z', conv(b, 'agg', cat, 6, { k: 1 }));
    const r = runPass(concatInplace, b.build());
    expect(body(r.after).split('\n')[3]).toBe('%cat = concat(%x, %y1, %y2) {axis=1 inplace} : [1,16,6,6]');
    expect(body(r.before).split('\n')[3]).toBe('%cat = concat(%x, %y1, %y2) {axis=1} : [1,16,6,6]');
    expect(r.records).toEqual([{ pass: 'concat-inplace', kind: 'inplace', nodes: ['cat'], into: 'cat', detail: "concat 'cat' not materialized: 'x'@0, 'y1'@8, 'y2'@12 write into their channel slices" }]);
  });

  test('copies are kept for the graph input, a graph output, and a value feeding two concats', () => {
    const b = builder([1, 4, 6, 6]);
    const x = conv(b, 'x', 'input', 4);
    const y = conv(b, 'y', x, 4);
    const c1 = concat(b, 'c1', ['input', x, y]);
    const c2 = concat(b, 'c2', [y, y]);
    b.output('x', x);
    b.output('a', conv(b, 'a', c1, 4, { k: 1 }));
    b.output('b', conv(b, 'b', c2, 4, { k: 1 }));
    const r = runPass(concatInplace, b.build());
    expect(r.records.filter((x) => x.kind === 'kept-copy').map((x) => x.detail)).toEqual([
      "copy of 'input' into channels [0, 4) of 'c1' kept: the graph input is a separate, read-only buffer",
      "copy of 'x' into channels [4, 8) of 'c1' kept: 'x' is graph output 'x', which lives in its own buffer",
      "copy of 'y' into channels [0, 4) of 'c2' kept: 'y' already writes into its slice of 'c1' (a value feeding two concats)",
      "copy of 'y' into channels [4, 8) of 'c2' kept: 'y' already writes into its slice of 'c1' (a value feeding two concats)",
    ]);
    const p = concatPlacement(r.g, true);
    expect(p.get('c1')!.map((s) => s.direct)).toEqual([false, false, true]);
    expect(p.get('c2')!.map((s) => [s.channel, s.width, s.direct])).toEqual([
      [0, 4, false],
      [4, 4, false],
    ]);
  });

  test('placement of unmarked concats is only computed on request', () => {
    const b = builder([1, 4, 6, 6]);
    b.output('y', concat(b, 'c', [conv(b, 'p', 'input', 4), conv(b, 'q', 'input', 4)]));
    const g = b.build();
    expect(concatPlacement(g, true).size).toBe(0);
    expect(concatPlacement(g, false).get('c')!.every((s) => s.direct)).toBe(true);
  });
});

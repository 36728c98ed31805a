import { describe, expect, test } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import type { Graph } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/printer.js';
import { optimize, passNames, PIPELINE } from '../../src/passes/manager.js';
import type { Pass } from '../../src/passes/pass.js';
import { zooNames } from '../../src/dsl/zoo.js';
import { lower, TINY, zoo } from './specs.js';

const g = () => lower(TINY['tiny-dw-ese-all-backbone'], 'tiny');

function capture(): { log: (s: string) => void; text: () => string } {
  const lines: string[] = [];
  return { log: (s) => lines.push(s), text: () => lines.join('\n') };
}

describe('pass manager', () => {
  test('the pipeline order and names', () => {
    expect(passNames()).toEqual(['dce', 'fold-bn', 'fuse-conv-act', 'fuse-se-gate', 'fuse-scale', 'fuse-residual', 'concat-inplace', 'drop-flatten']);
    expect(PIPELINE.every((p) => (p.description ?? '').length > 10)).toBe(true);
  });

  test('--print-ir-after-all prints once per pass, marking passes that changed nothing (eSE in every block: each add joins a scale)', () => {
    const c = capture();
    optimize(g(), { printAfterAll: true, log: c.log });
    const heads = c.text().match(/----- IR after .* -----/g)!;
    expect(heads).toEqual(passNames().map((n) => `----- IR after ${n}${['dce', 'fuse-residual', 'drop-flatten'].includes(n) ? ' (unchanged)' : ''} -----`));
  });

  test('--print-ir-after=PASS prints that pass only; printChangedOnly skips unchanged ones', () => {
    const c = capture();
    const r = optimize(g(), { printAfter: ['fold-bn', 'dce'], printChangedOnly: true, log: c.log });
    expect(c.text().match(/----- IR after .* -----/g)).toEqual(['----- IR after fold-bn -----']);
    expect(c.text()).toContain('graph tiny(%input');
    expect(r.graph.nodes.some((n) => n.op === 'batchnorm')).toBe(false);
  });

  test('--time-passes logs one line per pass and a total', () => {
    const c = capture();
    const r = optimize(g(), { timePasses: true, log: c.log });
    expect(r.timings.map((t) => t.pass)).toEqual(passNames());
    const lines = c.text().split('\n');
    expect(lines[0]).toContain('pass execution timing');
    expect(lines.slice(1, -1).map((l) => l.trim().split(/\s+/)[2])).toEqual(passNames());
    expect(lines.at(-1)).toMatch(/ms {2}total$/);
  });

  test('--disable-pass skips a pass; an unknown name is a user error with a suggestion', () => {
    const r = optimize(g(), { disable: ['fold-bn'] });
    expect(r.graph.nodes.filter((n) => n.op === 'batchnorm').length).toBeGreaterThan(0);
    expect(r.disabled).toEqual(['fold-bn']);
    try {
      optimize(g(), { disable: ['fold-nb'] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VovcError);
      const d = (e as VovcError).diagnostics[0];
      expect(d.message).toBe("--disable-pass: unknown pass 'fold-nb'");
      expect(d.notes![0]).toBe("did you mean 'fold-bn'?");
    }
  });

  test('--verify-each names the pass that broke the IR', () => {
    // A broken pass: it drops the first node but leaves its readers pointing at it.
    const breaker: Pass = { name: 'breaker', description: 'drops a node, dangling its readers', run: (x: Graph) => ({ ...x, nodes: x.nodes.slice(1) }) };
    const pipeline = [PIPELINE[0], breaker, PIPELINE[1]];
    expect(() => optimize(g(), { pipeline, verifyEach: true })).toThrow(/IR verification failed after pass 'breaker'.*not defined before it/);
    // Without --verify-each the final check still catches it, naming the last pass run.
    expect(() => optimize(g(), { pipeline: [breaker] })).toThrow(/after the pass pipeline \(last pass 'breaker'\)/);
  });

  test('the optimized zoo graphs keep no BatchNorm, flatten or materialized concat, and verify', () => {
    for (const name of zooNames()) {
      const r = optimize(zoo(name), { verifyEach: true });
      const ops = new Set(r.graph.nodes.map((n) => n.op));
      expect([name, ops.has('batchnorm'), ops.has('flatten'), ops.has('act'), ops.has('add'), ops.has('mul')]).toEqual([name, false, false, false, false, false]);
      expect(r.graph.nodes.filter((n) => n.op === 'concat').every((n) => (n as { attrs: { inplace: boolean } }).attrs.inplace)).toBe(true);
      expect(r.report.filter((x) => x.kind === 'kept-copy')).toEqual([]);
    }
  });

  test('optimizing twice changes nothing more (the pipeline reaches a fixed point)', () => {
    const once = optimize(zoo('ese_vovnet19b_dw')).graph;
    expect(printGraph(optimize(once).graph)).toBe(printGraph(once));
  });
});

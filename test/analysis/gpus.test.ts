// GPU profiles (data/gpus.json) and --sweep parsing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGpu, loadGpus, PRECISIONS } from '../../src/hw/gpus.js';
import { expandSweep, parseSweep } from '../../src/analysis/sweep.js';
import { VovcError } from '../../src/diag/diagnostics.js';

describe('GPU profiles', () => {
  const gpus = loadGpus();

  it('hold the GPUs of the brief, every figure with its source', () => {
    expect(gpus.map((g) => g.name)).toEqual(expect.arrayContaining(['H100-SXM', 'H200', 'A100-SXM-40GB', 'A100-SXM-80GB', 'RTX-4090', 'TITAN-X-Pascal']));
    for (const g of gpus) {
      expect(g.bandwidth.value, g.name).toBeGreaterThan(1e11);
      expect(g.bandwidth.source.length, g.name).toBeGreaterThan(10);
      for (const p of PRECISIONS) {
        const v = g.peak[p];
        if (v) expect(v.source.length, `${g.name} ${p}`).toBeGreaterThan(10);
      }
      expect(g.peak.fp32!.value).toBeGreaterThan(1e12);
    }
    // The two A100s differ in bandwidth only; TITAN X (Pascal) has no tensor cores.
    const [a40, a80] = [findGpu('A100-SXM-40GB'), findGpu('a100-80gb')];
    expect(a40.peak).toEqual(a80.peak);
    expect(a80.bandwidth.value).toBeGreaterThan(a40.bandwidth.value);
    expect(findGpu('titan-x').peak.tf32).toBeNull();
  });

  it('are found by name or alias, case-insensitively; an unknown name suggests the closest', () => {
    expect(findGpu('h100').name).toBe('H100-SXM');
    expect(findGpu('RTX 4090').name).toBe('RTX-4090');
    let err: unknown;
    try {
      findGpu('H200x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VovcError);
    const d = (err as VovcError).diagnostics[0];
    expect(d.message).toMatch(/unknown GPU 'H200x' \(known: H100-SXM/);
    expect(d.notes?.join(' ')).toMatch(/H200/);
  });

  it('a malformed profile file names the file and the entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vovc-gpus-'));
    const f = join(dir, 'g.json');
    writeFileSync(f, JSON.stringify({ schema: 'vovc.gpus/1', gpus: [{ name: 'X', label: 'x', peak: { fp32: { value: 1e12 } }, bandwidth: { value: 1e11, source: 's' } }] }));
    expect(() => loadGpus(f)).toThrow(/gpus\[0\] \(X\)\.peak\.fp32: expected \{"value"/);
    writeFileSync(f, '{');
    expect(() => loadGpus(f)).toThrow(VovcError);
  });
});

describe('--sweep', () => {
  it('parses ranges (inclusive, either direction) and lists', () => {
    expect(parseSweep('stage4.blocks=1..4')).toEqual({ key: 'stage4.blocks', values: ['1', '2', '3', '4'] });
    expect(parseSweep('stage4.blocks=3..1')).toEqual({ key: 'stage4.blocks', values: ['3', '2', '1'] });
    expect(parseSweep('stage3.attention=none,ese')).toEqual({ key: 'stage3.attention', values: ['none', 'ese'] });
    expect(parseSweep('input=1x3x224x224')).toEqual({ key: 'input', values: ['1x3x224x224'] });
  });

  it('rejects malformed text with a message', () => {
    expect(parseSweep('blocks')).toMatch(/expects key=a\.\.b/);
    expect(parseSweep('=1..2')).toMatch(/expects key=/);
    expect(parseSweep('blocks=1..x')).toMatch(/two integers/);
    expect(parseSweep('blocks=1,,2')).toMatch(/empty value/);
    expect(parseSweep('blocks=1..1000000')).toMatch(/at most/);
  });

  it('expands to the Cartesian product, first axis slowest', () => {
    const v = expandSweep([
      { key: 'a', values: ['1', '2'] },
      { key: 'b', values: ['x', 'y', 'z'] },
    ]);
    expect(v).toEqual([{ a: '1', b: 'x' }, { a: '1', b: 'y' }, { a: '1', b: 'z' }, { a: '2', b: 'x' }, { a: '2', b: 'y' }, { a: '2', b: 'z' }]);
    expect(expandSweep([])).toEqual([{}]);
    expect(expandSweep([{ key: 'a', values: ['1'] }, { key: 'a', values: ['2'] }])).toMatch(/given twice/);
  });
});

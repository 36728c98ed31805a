// A backend's error while rendering a launch points at the .vov line the launch came from
// (Launch.span), printed with the source line, exit 1, no stack trace.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

const MODEL = join(import.meta.dirname, 'wide-gate.vov');

describe('render errors name the model line', () => {
  it.each([
    ['wgsl', [], 4100, 4096],
    ['cuda', ['--set', 'stage2.out=12300', '--no-weights'], 12300, 12288],
  ] as const)('%s: a gate wider than shared memory', async (target, extra, channels, limit) => {
    const r = await vovc(['build', MODEL, '--target', target, ...extra, '--out', join(import.meta.dirname, 'never-written')]);
    expect(r.code).toBe(1);
    // (the wgsl build seeds its weights: its W8008 warning comes first)
    const [first, line, under] = r.stderr.trim().split('\n').filter((l) => !/warning W8008/.test(l));
    expect(first).toMatch(new RegExp(`wide-gate\\.vov:8:3: error E5401: launch \\d+ \\(se_gate stages\\.0\\.blocks\\.0\\.attn\\.gap\\): the gate keeps its ${channels} channel means in shared memory, which holds ${limit} on ${target}$`));
    expect(line).toBe(' 8 |   stage2: osa 8 -> 4100 x1, attention ese');
    expect(under).toMatch(/^ {3}\| {3}\^+$/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

// `vovc run --target wgsl` as a user runs it on a headless machine: no EGL_PLATFORM, no
// DISPLAY. vovc picks Mesa's surfaceless EGL platform itself (src/codegen/wgsl/dawn.ts); the
// saved output must match the fixture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { compare, fixtureCases, readNpyF32, vovc } from '../helpers/fixtures.js';

it('vovc run --target wgsl with EGL_PLATFORM and DISPLAY unset: fixture outputs within tolerance', async () => {
  const c = fixtureCases().find((k) => k.name === 'tiny-timm-a')!;
  const out = mkdtempSync(join(tmpdir(), 'vovc-wgsl-cli-'));
  try {
    const r = await vovc(['run', c.model, '--weights', c.weights, '--input', c.input, '--target', 'wgsl', '--save', out], { env: { EGL_PLATFORM: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined } as unknown as Record<string, string> });
    expect(r.code, r.stderr).toBe(0);
    for (const [name, file] of c.outputs) {
      const got = compare(readNpyF32(join(out, `${name}.npy`)), readNpyF32(file), c.atol, c.rtol);
      expect({ name, ...got }).toMatchObject({ name, ok: true });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

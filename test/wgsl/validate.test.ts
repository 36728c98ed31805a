// Every shader the WGSL backend emits for the shared fixtures compiles and forms a compute
// pipeline on Dawn's null backend (no driver needed); errors come back as file:line:col.
import { describe, expect, it } from 'vitest';
import { nodeDevice, validateShaders } from '../../src/codegen/wgsl/dawn.js';
import { compileWgsl } from '../../src/codegen/wgsl/index.js';
import { fixtureCases } from '../helpers/fixtures.js';
import { fixtureGraph } from './load.js';

describe('wgsl shaders validate on Dawn null', () => {
  for (const c of fixtureCases()) {
    it(`${c.name}: shaders validate on Dawn's null backend`, async () => {
      const { rendered } = compileWgsl(await fixtureGraph(c));
      const { device } = await nodeDevice(true);
      try {
        expect(await validateShaders(device, rendered.shaders)).toEqual([]);
      } finally {
        device.destroy();
      }
    }, 120_000);

  }
});

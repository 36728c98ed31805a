// Every shader the WGSL backend emits for the shared fixtures, and for every zoo model at
// 1x3x64x64 (shape-only: no weights needed), compiles and forms a compute pipeline on Dawn's
// null backend (no driver needed); errors come back as file:line:col.
import { describe, expect, it } from 'vitest';
import { nodeDevice, validateShaders } from '../../src/codegen/wgsl/dawn.js';
import { fixtureGraph, wgslOf } from './load.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { fixtureCases } from '../helpers/fixtures.js';


describe('wgsl shaders validate on Dawn null', () => {
  for (const c of fixtureCases()) {
    it(`${c.name}: shaders validate on Dawn's null backend`, async () => {
      const { rendered } = wgslOf(await fixtureGraph(c));
      const { device } = await nodeDevice(true);
      try {
        expect(await validateShaders(device, rendered.shaders)).toEqual([]);
      } finally {
        device.destroy();
      }
    }, 120_000);

  }
});

describe('wgsl shaders of every zoo model at 1x3x64x64 validate on Dawn null', () => {
  for (const name of zooNames()) {
    it(name, async () => {
      const { rendered } = wgslOf(lowerSpec(loadModel(name, { inputShape: [1, 3, 64, 64] }).spec));
      const { device } = await nodeDevice(true);
      try {
        expect(await validateShaders(device, rendered.shaders)).toEqual([]);
      } finally {
        device.destroy();
      }
    }, 120_000);
  }
});

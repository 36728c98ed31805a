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

    // No adapter that runs shaders here has shader-f16 (llvmpipe, SwiftShader): the f16
    // variants are compiled and made into pipelines on the null backend, which has it.
    it(`${c.name}: fp16 packed shaders and their shader-f16 variants validate`, async () => {
      const { rendered } = wgslOf(await fixtureGraph(c), { precision: 'fp16' });
      const { device } = await nodeDevice(true);
      try {
        expect(device.features.has('shader-f16')).toBe(true);
        const variants = rendered.shaders.filter((s) => s.f16).map((s) => ({ file: s.f16File!, code: s.f16! }));
        expect(variants.length).toBeGreaterThan(0);
        expect(await validateShaders(device, [...rendered.shaders, ...variants])).toEqual([]);
      } finally {
        device.destroy();
      }
    }, 120_000);
  }
});

describe('wgsl shaders of every zoo model at 1x3x64x64 validate on Dawn null', () => {
  for (const name of zooNames()) {
    it(name, async () => {
      const g = lowerSpec(loadModel(name, { inputShape: [1, 3, 64, 64] }).spec);
      const { rendered } = wgslOf(g);
      // fp16 too (odd planes: 64x64 reaches 1x1 and 2x2 planes late in the network).
      const half = wgslOf(g, { precision: 'fp16' }).rendered.shaders;
      const { device } = await nodeDevice(true);
      try {
        expect(await validateShaders(device, [...rendered.shaders, ...half, ...half.filter((s) => s.f16).map((s) => ({ file: s.f16File!, code: s.f16! }))])).toEqual([]);
      } finally {
        device.destroy();
      }
    }, 120_000);
  }
});

// The CUDA weight blob is written from views of the parameters (bench/memory: packing a copy
// of every weight, then copying it again behind the header, doubled the peak memory of
// `vovc build --target cuda`). The file must stay byte-identical to the packed form.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { artifactFiles, writeFiles } from '../../src/codegen/cuda/artifact.js';
import { targetContext } from '../helpers/targets.js';
import { blobChunks, encodeBlob } from '../../src/codegen/cuda/render.js';
import { seedParams } from '../../src/model/init.js';
import { packWeights } from '../../src/plan/weights.js';
import { zooGraph } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vovc-large-blob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weights.bin from views of the parameters', () => {
  for (const name of ['ese_vovnet19b_slim_dw', 'eca_vovnet39b']) {
    test(`${name}: same bytes as encodeBlob(packWeights()), no weight copied`, () => {
      const graph = seedParams(zooGraph(name, [1, 3, 64, 64]));
      const ctx = targetContext(graph, 'plan');
      if (ctx.input.stage !== 'plan') throw new Error('expected a plan');
      const { plan, weights } = ctx.input;
      const chunks = blobChunks(plan, weights);
      const packed = encodeBlob(packWeights(plan, weights));
      expect(Buffer.concat(chunks).equals(packed)).toBe(true);
      // Every parameter's bytes are its own memory, not a copy.
      const buffers = new Set(chunks.map((c) => c.buffer));
      for (const e of plan.weights.entries) expect(buffers.has(weights(e.name)!.buffer), e.name).toBe(true);
      // Through the artifact writer, as `vovc build --target cuda` writes it.
      const files = artifactFiles(ctx, true);
      writeFiles(dir, new Map([['weights.bin', files.get('weights.bin')!]]));
      expect(readFileSync(join(dir, 'weights.bin')).equals(packed)).toBe(true);
    });
  }
});

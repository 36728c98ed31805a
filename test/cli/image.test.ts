// `vovc run --image`: a classifier prints the top-5 ImageNet classes, a backbone its output
// shapes and statistics. A 50x40 image, detectron2 short side 64: 80x64 (WxH), so stage3
// (stride 8) is 8x10 and stage5 (3 ceil-mode pools after stride 4: 16x20 -> 8x10 -> 4x5 -> 2x2).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { vovc } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'vovc-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const png = join(dir, 'x.png');
const p = new PNG({ width: 50, height: 40 });
for (let i = 0; i < 50 * 40; i++) p.data.set([(i * 7) % 256, (i * 3) % 256, 128, 255], i * 4);
writeFileSync(png, PNG.sync.write(p));

describe('vovc run --image', () => {
  it('classifier: top-5 lines with probabilities and ImageNet names', async () => {
    const r = await vovc(['run', 'ese_vovnet19b_slim_dw', '--image', png, '--input-shape', '1,3,64,64']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const [i, l] of lines.entries()) expect(l).toMatch(new RegExp(`^${i + 1}\\.\\s+\\d+\\.\\d\\d%\\s+\\S.*\\(\\d+\\)$`));
  });
  it('backbone: output shapes and statistics (detectron2 preprocessing keeps the aspect ratio)', async () => {
    const r = await vovc(['run', 'V-19-slim-dw-eSE', '--image', png, '--set', 'input=1x3x64x64', '--outputs', 'stage3,stage5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stage3 \[1,256,8,10\] mean/m);
    expect(r.stdout).toMatch(/^stage5 \[1,512,2,2\] mean/m);
  });
});

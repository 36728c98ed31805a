// Preprocessing checked against values derived by hand: a constant image must come out as
// (v/255 - mean)/std exactly; a linear ramp stays linear under a normalized symmetric filter
// (away from the borders), at the source coordinate (i + 0.5) * scale - 0.5.
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { decodeImage, preprocessDetectron2, preprocessTimm, resize, BICUBIC, BILINEAR, torchvisionShortSide } from '../../src/image/preprocess.js';
import { VovcError } from '../../src/diag/diagnostics.js';

function png(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = px(x, y);
      const i = (y * w + x) * 4;
      p.data[i] = r;
      p.data[i + 1] = g;
      p.data[i + 2] = b;
      p.data[i + 3] = 255;
    }
  return PNG.sync.write(p);
}

describe('image preprocessing', () => {
  it('timm: constant PNG -> normalized constant, RGB order, 1x3xSxS', () => {
    const img = decodeImage(png(40, 30, () => [200, 100, 50]));
    const t = preprocessTimm(img, 16);
    expect(t.shape).toEqual([1, 3, 16, 16]);
    const want = [(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224, (50 / 255 - 0.406) / 0.225];
    for (let c = 0; c < 3; c++) for (let i = 0; i < 256; i++) expect(t.data[c * 256 + i]).toBeCloseTo(want[c], 5);
  });

  it('timm: shorter side to floor(size/0.875), longer truncated, then center crop', () => {
    expect(torchvisionShortSide(640, 480, 256)).toEqual([341, 256]);
    expect(torchvisionShortSide(300, 500, 256)).toEqual([256, 426]);
  });

  it('resize keeps a linear ramp linear (bicubic, downscale and upscale)', () => {
    for (const [w, ow, filter] of [[90, 30, BICUBIC], [20, 50, BICUBIC], [64, 16, BILINEAR]] as const) {
      const rgb = new Uint8Array(w * 4 * 3);
      for (let y = 0; y < 4; y++) for (let x = 0; x < w; x++) rgb.fill(2 * x + 10, (y * w + x) * 3, (y * w + x) * 3 + 3);
      const out = resize({ width: w, height: 4, rgb }, ow, 4, filter);
      const scale = w / ow;
      const support = filter.support * Math.max(1, scale);
      for (let i = 0; i < ow; i++) {
        const src = (i + 0.5) * scale - 0.5;
        if (src - support < 0 || src + support > w - 1) continue; // border windows are clipped
        expect(out[(1 * ow + i) * 3]).toBeCloseTo(2 * src + 10, 3);
      }
    }
  });

  it('JPEG decodes (lossy: within a few levels) and detectron2 gives BGR minus mean', () => {
    const w = 32, h = 24;
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([30, 120, 220, 255], i * 4);
    const jpg = jpeg.encode({ data, width: w, height: h }, 95).data;
    const img = decodeImage(jpg);
    expect([img.width, img.height]).toEqual([w, h]);
    const t = preprocessDetectron2(img, 12);
    expect(t.shape).toEqual([1, 3, 12, 16]);
    const n = 12 * 16;
    const want = [220 - 103.53, 120 - 116.28, 30 - 123.675]; // B, G, R
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) expect(Math.abs(t.data[c * n + i] - want[c])).toBeLessThan(3);
  });

  it('rejects files that are not images with a one-line error', () => {
    expect(() => decodeImage(Buffer.from('hello world'), 'x.txt')).toThrow(VovcError);
    expect(() => decodeImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), 'bad.png')).toThrow(/cannot decode/);
  });
});

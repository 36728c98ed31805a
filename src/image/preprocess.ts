// Images in: decode a PNG or JPEG and turn it into the NCHW float32 tensor a model family
// expects (VOVNET.md, "Preprocessing"):
//
//   timm        RGB in [0,1]; resize the shorter side to floor(size / crop_pct) with
//               crop_pct = 0.875 (224 -> 256), bicubic; center-crop size x size;
//               normalize with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
//   detectron2  BGR in 0..255; resize the shorter side to the model's input height (at most
//               1333/800 times that on the longer side), bilinear; subtract
//               (103.53, 116.28, 123.675); std 1; no crop.
//
// Resampling is separable and antialiased like PIL's: when shrinking by a factor f the
// filter's support is stretched by f, so every source pixel contributes (no aliasing).

import { readFileSync } from 'node:fs';
import { notARegularFile } from '../io/files.js';

/** The largest image file vovc reads (a 16k x 16k PNG compresses well below this). */
const MAX_IMAGE_FILE_BYTES = 512 << 20;
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { VovcError, fail } from '../diag/diagnostics.js';
import { D2_MEAN_BGR, TIMM_MEAN, TIMM_STD } from './normalization.js';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  readonly rgb: Uint8Array;
}

const TIMM_CROP_PCT = 0.875;

export function decodeImage(buf: Uint8Array, file = 'image'): RgbImage {
  let w: number, h: number, rgba: Uint8Array;
  try {
    if (buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) {
      const png = PNG.sync.read(Buffer.from(buf));
      [w, h, rgba] = [png.width, png.height, png.data];
    } else if (buf[0] === 0xff && buf[1] === 0xd8) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      [w, h, rgba] = [img.width, img.height, img.data];
    } else {
      return fail('E4201', 'not a PNG or JPEG file (unrecognized signature)', { subject: file });
    }
  } catch (e) {
    if (e instanceof VovcError) throw e;
    // The decoder's own message may name the file again: keep only what it says about the bytes.
    return fail('E4202', `cannot decode image: ${(e as Error).message.split(`${file}: `).join('')}`, { subject: file });
  }
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return { width: w, height: h, rgb };
}

type Filter = { support: number; f: (x: number) => number };

/** Keys' cubic with a = -0.5, PIL's BICUBIC. */
export const BICUBIC: Filter = {
  support: 2,
  f: (x) => {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

export const BILINEAR: Filter = { support: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) };

/**
 * Weights of a 1-D antialiased resampling from `inSize` to `outSize`: for output i, the
 * source window [lo, lo + w.length) and normalized weights. Output pixel centers map to
 * source coordinates (i + 0.5) * scale (half-pixel centers, as PIL).
 */
function resampleWeights(inSize: number, outSize: number, filter: Filter): { lo: number; w: Float64Array }[] {
  const scale = inSize / outSize;
  const fscale = Math.max(1, scale);
  const support = filter.support * fscale;
  const out: { lo: number; w: Float64Array }[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const v = filter.f((j - center + 0.5) / fscale);
      w[j - lo] = v;
      sum += v;
    }
    if (sum !== 0) for (let k = 0; k < w.length; k++) w[k] /= sum;
    out.push({ lo, w });
  }
  return out;
}

/**
 * Resizes an RGB image to outW x outH, returning float channels (0..255, not rounded):
 * horizontal pass then vertical pass. (PIL rounds to 8 bits between passes and at the end;
 * vovc keeps floats, a difference below half a gray level.)
 */
export function resize(img: RgbImage, outW: number, outH: number, filter: Filter): Float32Array {
  const wx = resampleWeights(img.width, outW, filter);
  const wy = resampleWeights(img.height, outH, filter);
  const tmp = new Float64Array(img.height * outW * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < outW; x++) {
      const { lo, w } = wx[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const p = (y * img.width + lo + k) * 3;
        r += w[k] * img.rgb[p];
        g += w[k] * img.rgb[p + 1];
        b += w[k] * img.rgb[p + 2];
      }
      const q = (y * outW + x) * 3;
      tmp[q] = r;
      tmp[q + 1] = g;
      tmp[q + 2] = b;
    }
  }
  const out = new Float32Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    const { lo, w } = wy[y];
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const p = ((lo + k) * outW + x) * 3;
        r += w[k] * tmp[p];
        g += w[k] * tmp[p + 1];
        b += w[k] * tmp[p + 2];
      }
      const q = (y * outW + x) * 3;
      out[q] = Math.min(255, Math.max(0, r));
      out[q + 1] = Math.min(255, Math.max(0, g));
      out[q + 2] = Math.min(255, Math.max(0, b));
    }
  }
  return out;
}

/**
 * [w, h] after resizing the shorter side to `short`: torchvision's Resize(int) truncates the
 * longer side (int(short * long / short_side)).
 */
export function torchvisionShortSide(w: number, h: number, short: number): [number, number] {
  return w <= h ? [short, Math.floor((short * h) / w)] : [Math.floor((short * w) / h), short];
}

/** [w, h] as detectron2's ResizeShortestEdge: scale to `short`, cap the longer side, round. */
function detectron2ShortSide(w: number, h: number, short: number, maxLong: number): [number, number] {
  let s = short / Math.min(w, h);
  if (Math.max(w, h) * s > maxLong) s = maxLong / Math.max(w, h);
  return [Math.floor(w * s + 0.5), Math.floor(h * s + 0.5)];
}

export interface Tensor4 {
  readonly shape: [number, number, number, number];
  readonly data: Float32Array;
}

/** timm: resize shorter side to floor(size / 0.875) bicubic, center crop, normalize (RGB). */
export function preprocessTimm(img: RgbImage, size: number): Tensor4 {
  const short = Math.floor(size / TIMM_CROP_PCT);
  const [rw, rh] = torchvisionShortSide(img.width, img.height, short);
  const px = resize(img, rw, rh, BICUBIC);
  const top = Math.round((rh - size) / 2);
  const left = Math.round((rw - size) / 2);
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const v = px[((top + y) * rw + left + x) * 3 + c] / 255;
        data[(c * size + y) * size + x] = (v - TIMM_MEAN[c]) / TIMM_STD[c];
      }
  return { shape: [1, 3, size, size], data };
}

/** detectron2: BGR 0..255, shorter side to `short` (longer <= short * 1333/800), minus mean. */
export function preprocessDetectron2(img: RgbImage, short: number): Tensor4 {
  const [rw, rh] = detectron2ShortSide(img.width, img.height, short, Math.round((short * 1333) / 800));
  const px = resize(img, rw, rh, BILINEAR);
  const data = new Float32Array(3 * rw * rh);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c; // BGR
    for (let i = 0; i < rw * rh; i++) data[c * rw * rh + i] = px[i * 3 + src] - D2_MEAN_BGR[c];
  }
  return { shape: [1, 3, rh, rw], data };
}

/** Reads an image file and preprocesses it for a model (input shape gives the crop / short side). */
export async function loadImageTensor(file: string, family: 'timm' | 'detectron2', inputShape: readonly number[]): Promise<Tensor4> {
  let buf: Buffer;
  const special = notARegularFile(file, MAX_IMAGE_FILE_BYTES);
  if (special) return fail('E4203', `cannot read image: ${special}`, { subject: file });
  try {
    buf = readFileSync(file);
  } catch (e) {
    return fail('E4203', `cannot read image: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)}`, { subject: file });
  }
  const img = decodeImage(buf, file);
  return family === 'timm' ? preprocessTimm(img, inputShape[2]) : preprocessDetectron2(img, inputShape[2]);
}

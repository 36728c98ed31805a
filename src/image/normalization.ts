// The input normalization of each preprocessing family (VOVNET.md, "Preprocessing"): one
// definition, read by the image loader and by every artifact's metadata.

/** timm: RGB in [0, 1], per channel (x - mean) / std (ImageNet statistics). */
export const TIMM_MEAN = [0.485, 0.456, 0.406] as const;
export const TIMM_STD = [0.229, 0.224, 0.225] as const;
/** detectron2's PIXEL_MEAN, in BGR order, on 0..255 values; std 1. */
export const D2_MEAN_BGR = [103.53, 116.28, 123.675] as const;

export interface Normalization {
  readonly channels: 'RGB' | 'BGR';
  readonly range: '0..1' | '0..255';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export const NORMALIZATION: Readonly<Record<'timm' | 'detectron2', Normalization>> = {
  timm: { channels: 'RGB', range: '0..1', mean: TIMM_MEAN, std: TIMM_STD },
  detectron2: { channels: 'BGR', range: '0..255', mean: D2_MEAN_BGR, std: [1, 1, 1] },
};

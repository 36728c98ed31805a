// What the .onnx file says about itself in metadata_props: the model, the compiler, the input
// normalization a caller must apply, and the totals (all from the driver's ArtifactMeta).

import type { ArtifactMeta } from '../../targets/contract.js';

export function metadataProps(meta: ArtifactMeta, mode: 'faithful' | 'optimized', io: 'float32' | 'float16' = 'float32'): [string, string][] {
  const pre = meta.normalization;
  const props: [string, string][] = [
    ['model', meta.model],
    ['vovc_version', meta.vovcVersion],
    ['graph', mode],
    ['precision', meta.precision],
    ['io_type', io],
    ['weights', meta.weights === 'checkpoint' ? 'checkpoint' : 'seeded (no checkpoint given)'],
    ['preprocessing', meta.preprocessing],
    ['input_channels', pre.channels],
    ['input_range', pre.range],
    ['input_mean', pre.mean.join(',')],
    ['input_std', pre.std.join(',')],
    ['input_normalization', `${pre.channels} in ${pre.range}, per channel (x - mean) / std`],
    ['parameters', String(meta.parameters)],
    ['macs', String(meta.macs)],
    ['macs_input_shape', meta.inputShape.join('x')],
  ];
  if (meta.source) props.push(['source', meta.source]);
  return props;
}

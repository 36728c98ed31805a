// ModelSpec: the checked, fully resolved description of one network, the interface between
// the DSL front end (src/dsl: text -> AST -> ModelSpec) and the lowering to the graph IR
// (src/model/lower.ts: ModelSpec -> Graph). Every field carries the span of the DSL text
// that set it, so that semantic errors found while lowering point at the model file.

import type { Span } from '../diag/diagnostics.js';
import type { Naming } from '../ir/graph.js';

export type Attention = 'none' | 'ese' | 'eca';

/**
 * Deformable convolution of a stage's 3x3 layers (centermask2's STAGE_WITH_DCN and
 * WITH_MODULATED_DCN): 'v1' offsets only, 'v2' offsets and a sigmoid mask (modulated).
 */
export const DEFORM_VERSIONS = ['none', 'v1', 'v2'] as const;
export type DeformVersion = (typeof DEFORM_VERSIONS)[number];

/** The activations a conv-BN unit can end with (ModelSpec.activation). */
export const CONV_ACTIVATIONS = ['relu', 'silu', 'hardswish'] as const;
export type ConvActivation = (typeof CONV_ACTIVATIONS)[number];

export interface StemLayer {
  /** 'conv': conv-BN-ReLU; 'sepconv': depthwise kxk (carries the stride) -> pointwise 1x1 -> BN -> ReLU. */
  readonly kind: 'conv' | 'sepconv';
  readonly kernel: number;
  readonly stride: number;
  readonly out: number;
  readonly span?: Span;
}

export interface PoolSpec {
  readonly kernel: number;
  readonly stride: number;
  readonly ceil: boolean;
  readonly span?: Span;
}

export interface OsaStage {
  readonly kind: 'osa';
  /** 'stage2' .. 'stage5' */
  readonly name: string;
  readonly pool?: PoolSpec;
  readonly mid: number;
  readonly out: number;
  readonly layers: number;
  readonly blocks: number;
  /**
   * 'none'; identity shortcut in blocks 2+ of the stage ('after-first', VoVNetV2 and the seed
   * code); or in every block ('all', legal only where each block's input width equals `out`).
   */
  readonly residual: 'none' | 'after-first' | 'all';
  /** Separable 3x3 layers, with a 1x1 reduction to `mid` when the block input width differs. */
  readonly depthwise: boolean;
  readonly attention: Attention;
  /** Attention in the last block of the stage only, or in every block. */
  readonly attentionWhere: 'last' | 'all';
  /** ECA kernel size (odd); derived from the channel count when not given. */
  readonly ecaKernel?: number;
  /**
   * Deformable 3x3 layers (absent: plain convs): each 3x3 conv of every block becomes an offset
   * conv (3x3, stride 1, pad 1, with bias, (v2 ? 27 : 18) x deformGroups channels) and a
   * deformable 3x3 conv fed by it. Never with `depthwise`.
   */
  readonly deform?: 'v1' | 'v2';
  readonly span?: Span;
}

/**
 * A DenseNet-style stage (for the paper's DenseNet-40 vs OSA comparison): `layers` layers,
 * each [BN-ReLU-]conv producing `growth` channels, concatenated onto the running tensor;
 * optional 1x1 bottleneck of `bottleneck` channels before each 3x3; then an optional
 * transition: 1x1 conv to `transition` channels followed by 2x2 average pooling.
 */
export interface DenseStage {
  readonly kind: 'dense';
  readonly name: string;
  readonly growth: number;
  readonly layers: number;
  readonly bottleneck?: number;
  readonly transition?: { readonly out: number; readonly pool: boolean };
  readonly span?: Span;
}

export type StageSpec = OsaStage | DenseStage;

export type HeadSpec =
  | { readonly kind: 'classifier'; readonly classes: number; readonly span?: Span }
  | { readonly kind: 'backbone'; readonly span?: Span };

export interface ModelSpec {
  readonly name: string;
  readonly naming: Naming;
  readonly preprocessing: 'timm' | 'detectron2';
  /** NCHW */
  readonly input: readonly [number, number, number, number];
  readonly bnEps: number;
  /**
   * The activation that ends every conv-BN of the stem and of the OSA blocks (the depthwise
   * reduction, the 3x3 layers, the 1x1 aggregation), and the one of every BN-ReLU of a
   * DenseNet stage (bottleneck, layers, transition): 'relu' (the published models, the
   * default), 'silu' or 'hardswish'. The eSE attention gate keeps its hard-sigmoid and ECA
   * its sigmoid. DSL: the model statement 'activation silu', --set activation=silu.
   */
  readonly activation: ConvActivation;
  /**
   * Offset groups of every deformable conv (centermask2's DEFORMABLE_GROUPS): group g samples
   * input channels [g*Cin/G, (g+1)*Cin/G) with its own offsets (and mask). Present only when
   * some stage is deformable. DSL: 'deform groups G', --set deform.groups=G.
   */
  readonly deformGroups?: number;
  readonly stem: readonly StemLayer[];
  readonly stages: readonly StageSpec[];
  readonly head: HeadSpec;
  /** Graph outputs by name: 'logits', 'stem', 'stage2'..'stage5'. Default: logits or stage2..5. */
  readonly outputs: readonly string[];
  /** Where the spec was defined (file path or zoo name), for messages. */
  readonly source: string;
  readonly span?: Span;
}

/** ECA-Net's adaptive kernel size as timm computes it: k = 5 for every C in 256..1024. */
export function ecaKernelSize(channels: number, gamma = 2, beta = 1): number {
  const t = Math.trunc(Math.abs(Math.log2(channels) + beta) / gamma);
  return Math.max(t % 2 ? t : t + 1, 3);
}

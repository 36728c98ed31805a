// The roofline estimate: each kernel takes max(FLOPs / peak, bytes / bandwidth) on the GPU
// profile of the analysis; a group's time is the sum over its kernels.

import { FLOPS_PER_MAC } from '../ir/ops.js';
import { ELEMENT_BYTES, peakFlops, type GpuProfile, type Precision } from '../hw/gpus.js';

/** Roofline estimate of a set of kernels: each kernel takes max(FLOPs / peak, bytes / bandwidth). */
export interface RooflineFigures {
  /** Estimated time, seconds (sum over the kernels). */
  readonly timeS: number;
  /** Time of the kernels that are compute-bound / memory-bound. */
  readonly computeBoundS: number;
  readonly memoryBoundS: number;
  /** 'compute' or 'memory' by which kind of kernel takes more of the time; 'none' without work. */
  readonly bound: 'compute' | 'memory' | 'none';
}

/** What every kernel's estimate needs: the element size, and the roof when a GPU is given. */
export interface Roof {
  readonly precision: Precision;
  /** Bytes per element of the precision. */
  readonly eb: number;
  readonly peak?: { readonly value: number; readonly source: string };
  /** Bytes per second (1 without a GPU, unused then). */
  readonly bw: number;
}

export function roofOf(gpu: GpuProfile | undefined, precision: Precision = 'fp32'): Roof {
  return { precision, eb: ELEMENT_BYTES[precision], peak: gpu ? peakFlops(gpu, precision) : undefined, bw: gpu?.bandwidth.value ?? 1 };
}

/** One kernel of `macs` multiply-accumulates moving `bytes`: [time, time if compute-bound else 0]; [0, 0] without a GPU. */
export function kernelTime(roof: Roof, macs: number, bytes: number): [number, number] {
  if (!roof.peak) return [0, 0];
  const c = (FLOPS_PER_MAC * macs) / roof.peak.value;
  const m = bytes / roof.bw;
  return c >= m ? [c, c] : [m, 0];
}

/** The figures of a group from its summed time and compute-bound time. */
export function rooflineFigures(timeS: number, computeBoundS: number): RooflineFigures {
  const memoryBoundS = timeS - computeBoundS;
  return { timeS, computeBoundS, memoryBoundS, bound: timeS === 0 ? 'none' : computeBoundS >= memoryBoundS ? 'compute' : 'memory' };
}

// WebGPU limits the WGSL backend designs for. The emitted module must work on any conformant
// adapter, so it assumes the spec's DEFAULT limits (W3C WebGPU, section 3.6.2 "Limits"), not what
// one adapter happens to offer.

/** maxStorageBuffersPerShaderStage default: 8. One launch binds at most: arena, input, the
 *  output buffers it touches, and the weight chunks of its weight and bias. */
export const MAX_STORAGE_BUFFERS_PER_STAGE = 8;

/** maxStorageBufferBindingSize default: 128 MiB. Weight chunks and the arena stay within it. */
export const MAX_STORAGE_BINDING_BYTES = 128 * 1024 * 1024;

/** maxBufferSize default: 256 MiB (a weight chunk is a whole buffer, so 128 MiB governs). */
export const MAX_BUFFER_BYTES = 256 * 1024 * 1024;

/** maxComputeWorkgroupsPerDimension default: 65535. Larger 1-D grids fold into (x, y). */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/** maxComputeWorkgroupStorageSize default: 16384 bytes, also in compatibility mode (the eSE gate
 *  keeps C means there; the conv GEMM its A and B tiles). */
export const MAX_WORKGROUP_STORAGE_BYTES = 16384;

/** maxComputeInvocationsPerWorkgroup: 256 by default, 128 on a compatibility-mode device
 *  (Dawn on OpenGL ES / llvmpipe); the conv GEMM tiles stay within 128, and so does
 *  maxComputeWorkgroupSizeX (also 128 there). */
export const MAX_INVOCATIONS_PER_WORKGROUP = 128;

/** The 1-D workgroup size of every kernel but the conv GEMM. */
export const WORKGROUP_SIZE = 64;

// minStorageBufferOffsetAlignment (default 256 bytes) does not apply: bindings always cover
// whole buffers and every element offset is a shader constant, so no binding offset is used.

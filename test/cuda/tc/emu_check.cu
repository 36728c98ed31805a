// Checks of the harness's tensor-core emulation (templates/cuda-emu/vovc_tc_emu.h), compiled by
// g++ with the shim; run by test/cuda/tc-emu.test.ts, which reads the lines this prints.
//   mma_f16 / mma_bf16 / mma_tf32: one warp loads A (16xK) and B (Kx8) from shared memory the
//     way vovc's conv_tc does (ldmatrix, or scalar reads + cvt.rna for tf32), multiplies, and
//     writes D by the documented accumulator layout; max |D - A*B| against a double product.
//   swapped: the same with fragment registers a1 and a2 exchanged (a kernel assuming another
//     layout): must be wrong.
//   cp_async: a chunk read before cp_async_wait is NaN (poisoned); after it, the data; a
//     zero-fill copy gives 0.
#include "cuda_shim.h"
#include "vovc_tc_emu.h"
#include <cstdio>
#include <utility>

using vovc::tc::cp_async16;

template <int MODE>  // 0 f16, 1 bf16, 2 f16 with a1/a2 swapped
__global__ void k16(const float* A, const float* B, float* D) {
  __shared__ __align__(16) uint16_t As[16][24];
  __shared__ __align__(16) uint16_t Bs[16][24];
  const int l = threadIdx.x;
  for (int i = l; i < 256; i += 32) As[i / 16][i % 16] = MODE == 1 ? __float2bfloat16_rn(A[i]).x : __float2half_rn(A[i]).x;
  for (int i = l; i < 128; i += 32) Bs[i / 8][i % 8] = MODE == 1 ? __float2bfloat16_rn(B[i]).x : __float2half_rn(B[i]).x;
  __syncthreads();
  uint32_t a[4], r[4];
  vovc::tc::ldmatrix_x4(a, &As[l % 16][l / 16 * 8]);
  vovc::tc::ldmatrix_x4_trans(r, &Bs[l / 8 % 2 * 8 + l % 8][l / 16 * 8]);
  uint32_t b[2] = {r[0], r[1]};
  if (MODE == 2) std::swap(a[1], a[2]);
  float d[4] = {0.f, 0.f, 0.f, 0.f};
  if (MODE == 1) vovc::tc::mma_bf16(d, a, b);
  else vovc::tc::mma_f16(d, a, b);
  const int g = l / 4, t = l % 4;
  D[g * 8 + 2 * t] = d[0];
  D[g * 8 + 2 * t + 1] = d[1];
  D[(g + 8) * 8 + 2 * t] = d[2];
  D[(g + 8) * 8 + 2 * t + 1] = d[3];
}

__global__ void k_tf32(const float* A, const float* B, float* D) {
  const int l = threadIdx.x, g = l / 4, t = l % 4;
  uint32_t a[4] = {vovc::tc::tf32(A[g * 8 + t]), vovc::tc::tf32(A[(g + 8) * 8 + t]), vovc::tc::tf32(A[g * 8 + t + 4]), vovc::tc::tf32(A[(g + 8) * 8 + t + 4])};
  uint32_t b[2] = {vovc::tc::tf32(B[t * 8 + g]), vovc::tc::tf32(B[(t + 4) * 8 + g])};
  float d[4] = {0.f, 0.f, 0.f, 0.f};
  vovc::tc::mma_tf32(d, a, b);
  D[g * 8 + 2 * t] = d[0];
  D[g * 8 + 2 * t + 1] = d[1];
  D[(g + 8) * 8 + 2 * t] = d[2];
  D[(g + 8) * 8 + 2 * t + 1] = d[3];
}

template <bool WAIT>
__global__ void k_cp(const float* src, float* out) {
  __shared__ __align__(16) float s[32 * 4];
  const int l = threadIdx.x;
  cp_async16(&s[4 * l], src + 4 * l, l != 5);
  vovc::tc::cp_async_commit();
  if (WAIT) vovc::tc::cp_async_wait<0>();
  __syncthreads();
  out[l] = s[4 * ((l + 1) % 32) + 1];
  __syncthreads();  // every read is done before any thread lets its copy land
  if (!WAIT) vovc::tc::cp_async_wait<0>();
}

static double max_err(const float* A, const float* B, const float* D, int K, float (*round)(float)) {
  double worst = 0;
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += double(round(A[m * K + k])) * double(round(B[k * 8 + n]));
      worst = std::max(worst, std::abs(s - double(D[m * 8 + n])));
    }
  return worst;
}
static float rf16(float x) { return __half2float(__float2half_rn(x)); }
static float rbf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }
static float rtf32(float x) {
  const uint32_t u = vovc::tc::tf32(x);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

int main() {
  float A[256], B[128], D[128];
  for (int i = 0; i < 256; i++) A[i] = float((i * 37 % 23) - 11) / 8.f;
  for (int i = 0; i < 128; i++) B[i] = float((i * 53 % 19) - 9) / 4.f;
  auto run = [&](void (*k)(const float*, const float*, float*)) { vovc_shim::launch(k, dim3(1), dim3(32), 0, nullptr, A, B, D); };
  run(k16<0>);
  std::printf("mma_f16 %g\n", max_err(A, B, D, 16, rf16));
  run(k16<1>);
  std::printf("mma_bf16 %g\n", max_err(A, B, D, 16, rbf16));
  run(k16<2>);
  std::printf("swapped %g\n", max_err(A, B, D, 16, rf16));
  // tf32 operands with low mantissa bits set, so that a missing rounding shows.
  for (int i = 0; i < 128; i++) A[i] = 1.f + float(i) * 1.2207031e-4f;
  run(k_tf32);
  std::printf("mma_tf32 %g\n", max_err(A, B, D, 8, rtf32));
  float src[128], out[32];
  for (int i = 0; i < 128; i++) src[i] = float(i);
  vovc_shim::launch(k_cp<false>, dim3(1), dim3(32), 0, nullptr, src, out);
  int nan = 0;
  for (int l = 0; l < 32; l++) nan += out[l] != out[l];
  std::printf("cp_async_before_wait_nan %d\n", nan);
  vovc_shim::launch(k_cp<true>, dim3(1), dim3(32), 0, nullptr, src, out);
  int good = 0;
  for (int l = 0; l < 32; l++) good += out[l] == ((l + 1) % 32 == 5 ? 0.f : float(4 * ((l + 1) % 32) + 1));
  std::printf("cp_async_after_wait_ok %d\n", good);
  return 0;
}

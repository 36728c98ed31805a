// vovc_tc_emu.h: the tensor-core wrappers of vovc_tc.cuh for the CPU shim (cuda_shim.h), part
// of the test harness, never of an artifact. g++ cannot compile inline PTX, so each wrapper is
// emulated here from the PTX ISA's documented layouts (the "Matrix fragments for mma.m16n8k16"
// and "mma.m16n8k8" sections, and ldmatrix's), so that a kernel that assumes a wrong layout
// computes wrong numbers here as it would on a GPU.
//
// Warp collectives: each lane deposits its operands in a per-warp slot, every thread of the
// block meets at a barrier point (the shim's __syncthreads machinery: a fiber switch, or the
// block's std::barrier under VOVC_SHIM_THREADS), each lane then computes its own results from
// the deposits, and a second barrier point frees the slots. A barrier point of the whole block
// is stronger than a warp's: it requires what vovc's kernels do, that every warp of a block
// reaches the same collectives in the same order.
//
// cp.async: a copy is taken from global memory when issued, its destination is poisoned
// (0xff bytes: NaN in every float type) at once, and the data lands only when a
// cp_async_wait<N> retires its group, so a kernel that reads a tile before waiting reads NaN.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace vovc {
namespace tc {
namespace emu {

constexpr int kMaxWarps = 32;

struct Slots {
  uint32_t a[32][4];
  uint32_t b[32][2];
  const void* rows[32];
};
#ifdef VOVC_SHIM_THREADS
inline Slots slots[kMaxWarps];
#else
inline thread_local Slots slots[kMaxWarps];
#endif

inline unsigned linear_thread() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
inline unsigned lane() { return linear_thread() % 32; }
inline Slots& my_warp() { return slots[linear_thread() / 32 % kMaxWarps]; }
inline void barrier_point() { vovc_shim::sync(); }

inline uint16_t lo(uint32_t v) { return uint16_t(v & 0xffff); }
inline uint16_t hi(uint32_t v) { return uint16_t(v >> 16); }
inline float f16(uint16_t h) { return __half2float(__half{h}); }
inline float bf16(uint16_t h) { return __bfloat162float(__nv_bfloat16{h}); }
inline float tf32v(uint32_t bits) {
  // The tensor core reads 19 bits of a .tf32 register (sign, 8 exponent, 10 mantissa bits).
  const uint32_t u = bits & 0xffffe000u;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/**
 * m16n8k16 with 16-bit operands. Lane l (group g = l / 4, t = l % 4) holds
 *   a0 = A[g][2t..2t+1], a1 = A[g+8][2t..2t+1], a2 = A[g][2t+8..2t+9], a3 = A[g+8][2t+8..2t+9],
 *   b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]   (the lower-indexed element in the low half),
 *   d0, d1 = D[g][2t], D[g][2t+1];  d2, d3 = D[g+8][2t], D[g+8][2t+1].
 */
template <class Dec>
inline void mma_k16(float d[4], const uint32_t a[4], const uint32_t b[2], Dec dec) {
  Slots& s = my_warp();
  const unsigned l = lane();
  for (int i = 0; i < 4; i++) s.a[l][i] = a[i];
  for (int i = 0; i < 2; i++) s.b[l][i] = b[i];
  barrier_point();
  auto A = [&](int r, int c) {
    const uint32_t v = s.a[(r % 8) * 4 + (c % 8) / 2][(r >= 8 ? 1 : 0) + (c >= 8 ? 2 : 0)];
    return dec(c % 2 ? hi(v) : lo(v));
  };
  auto B = [&](int r, int c) {
    const uint32_t v = s.b[c * 4 + (r % 8) / 2][r >= 8 ? 1 : 0];
    return dec(r % 2 ? hi(v) : lo(v));
  };
  const int g = int(l / 4), t = int(l % 4);
  float out[4];
  for (int i = 0; i < 4; i++) {
    const int r = g + 8 * (i / 2), c = 2 * t + i % 2;
    float acc = d[i];
    for (int k = 0; k < 16; k++) acc += A(r, k) * B(k, c);  // each product is exact in fp32
    out[i] = acc;
  }
  barrier_point();
  for (int i = 0; i < 4; i++) d[i] = out[i];
}

}  // namespace emu

inline void mma_f16(float d[4], const uint32_t a[4], const uint32_t b[2]) { emu::mma_k16(d, a, b, emu::f16); }
inline void mma_bf16(float d[4], const uint32_t a[4], const uint32_t b[2]) { emu::mma_k16(d, a, b, emu::bf16); }

/**
 * m16n8k8 with tf32 operands. Lane l (g = l / 4, t = l % 4) holds a0 = A[g][t], a1 = A[g+8][t],
 * a2 = A[g][t+4], a3 = A[g+8][t+4], b0 = B[t][g], b1 = B[t+4][g]; D as for m16n8k16.
 */
inline void mma_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]) {
  emu::Slots& s = emu::my_warp();
  const unsigned l = emu::lane();
  for (int i = 0; i < 4; i++) s.a[l][i] = a[i];
  for (int i = 0; i < 2; i++) s.b[l][i] = b[i];
  emu::barrier_point();
  auto A = [&](int r, int c) { return emu::tf32v(s.a[(r % 8) * 4 + c % 4][(r >= 8 ? 1 : 0) + (c >= 4 ? 2 : 0)]); };
  auto B = [&](int r, int c) { return emu::tf32v(s.b[c * 4 + r % 4][r >= 4 ? 1 : 0]); };
  const int g = int(l / 4), t = int(l % 4);
  float out[4];
  for (int i = 0; i < 4; i++) {
    const int r = g + 8 * (i / 2), c = 2 * t + i % 2;
    float acc = d[i];
    for (int k = 0; k < 8; k++) acc += A(r, k) * B(k, c);
    out[i] = acc;
  }
  emu::barrier_point();
  for (int i = 0; i < 4; i++) d[i] = out[i];
}

/** cvt.rna.tf32.f32: 10 mantissa bits, round to nearest, ties away from zero; NaN and inf kept. */
inline uint32_t tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return (u & 0x7fffffu) ? (u | 0x400000u) : u;
  return (u + 0x1000u) & 0xffffe000u;
}

namespace emu {
/**
 * ldmatrix .x4: lane l supplies the address of row l % 8 of matrix l / 8; lane l receives, of
 * matrix j, row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 (.trans: column l / 4 of rows
 * 2 (l % 4) and 2 (l % 4) + 1), the lower column (row) in the low half of r[j].
 */
inline void ldmatrix(uint32_t r[4], const void* row, bool trans) {
  Slots& s = my_warp();
  const unsigned l = lane();
  s.rows[l] = row;
  barrier_point();
  for (int j = 0; j < 4; j++) {
    uint16_t e0, e1;
    if (!trans) {
      const uint16_t* p = static_cast<const uint16_t*>(s.rows[8 * j + l / 4]);
      e0 = p[2 * (l % 4)];
      e1 = p[2 * (l % 4) + 1];
    } else {
      e0 = static_cast<const uint16_t*>(s.rows[8 * j + 2 * (l % 4)])[l / 4];
      e1 = static_cast<const uint16_t*>(s.rows[8 * j + 2 * (l % 4) + 1])[l / 4];
    }
    r[j] = uint32_t(e0) | uint32_t(e1) << 16;
  }
  barrier_point();
}
}  // namespace emu

inline void ldmatrix_x4(uint32_t r[4], const void* row) { emu::ldmatrix(r, row, false); }
inline void ldmatrix_x4_trans(uint32_t r[4], const void* row) { emu::ldmatrix(r, row, true); }

namespace emu {
struct Copy {
  void* dst;
  unsigned char bytes[16];
  unsigned group;
};
struct Pending {
  std::vector<Copy> copies;
  unsigned committed = 0;
};
// One queue per CUDA thread of the block (fibers share their worker thread's storage).
inline thread_local std::vector<Pending> pending;
inline Pending& mine() {
  const unsigned t = linear_thread();
  if (pending.size() <= t) pending.resize(t + 1);
  return pending[t];
}
}  // namespace emu

inline void cp_async16(void* dst, const void* src, bool valid) {
  emu::Pending& q = emu::mine();
  emu::Copy c{dst, {}, q.committed};
  if (valid) std::memcpy(c.bytes, src, 16);
  std::memset(dst, 0xff, 16);
  q.copies.push_back(c);
}
inline void cp_async_commit() { emu::mine().committed++; }
template <int N>
inline void cp_async_wait() {
  emu::Pending& q = emu::mine();
  std::vector<emu::Copy> keep;
  for (const emu::Copy& c : q.copies) {
    if (c.group + N < q.committed) std::memcpy(c.dst, c.bytes, 16);
    else keep.push_back(c);
  }
  q.copies.swap(keep);
}

}  // namespace tc
}  // namespace vovc

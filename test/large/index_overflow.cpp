// Kernels of vovc_kernels.cuh run at indices past 2^31 (and 2^32) without the memory such
// tensors would take: the views have zero strides on every axis but one or two, so a
// 4-billion-element launch touches a few hundred kilobytes. Only selected blocks run (the
// ones at the far end of the index range), one std::thread per CUDA thread through the shim's
// VOVC_SHIM_THREADS barrier. Compiled with -fsanitize=address,undefined by
// test/large/cuda.test.ts: a signed overflow, or an index that wraps and writes outside the
// buffer, stops the program; every written position is also checked against 64-bit math.
#define VOVC_SHIM_THREADS
#include "vovc_kernels.cuh"

#include <cstdio>
#include <set>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

/** Runs block (bx, by) of a grid of gx x gy blocks, `threads` threads each. */
template <class F>
void run_block(unsigned gx, unsigned gy, unsigned bx, unsigned by, unsigned threads, F body) {
  std::barrier<> bar(threads);
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; t++)
    ts.emplace_back([&, t] {
      vovc_shim::block_barrier = &bar;
      gridDim = dim3(gx, gy);
      blockDim = dim3(threads);
      blockIdx = dim3(bx, by);
      threadIdx = dim3(t);
      body();
    });
  for (auto& th : ts) th.join();
}

/** One thread of a 1-D grid (kernels without __syncthreads). */
template <class F>
void run_thread(unsigned gx, unsigned threads, unsigned bx, unsigned tx, F body) {
  gridDim = dim3(gx);
  blockDim = dim3(threads);
  blockIdx = dim3(bx);
  threadIdx = dim3(tx);
  body();
}

// The renderer's grid for grid-stride kernels: at most 8192 blocks of 256 threads.
constexpr unsigned kGrid = 8192, kThreads = 256;

/**
 * ew copy over an [n, 1, h, w] view whose only non-zero strides are n (sn) and w (1): thread
 * (bx, tx) writes y[in * sn + iw] for each of its flat indices i. The expected positions come
 * from the same loop in uint64_t.
 */
template <typename I>
bool ew_far(const char* what, int n, int h, int w, long long sn, unsigned bx, unsigned tx) {
  const uint64_t total = uint64_t(n) * h * w, step = uint64_t(kGrid) * kThreads;
  std::vector<float> y(size_t(n) * w, 0.f);
  const float a = 7.f;
  run_thread(kGrid, kThreads, bx, tx, [&] {
    vovc::ew<I>(0, &a, vovc::view<I>(0, 0, 0, 0, 0, n, 1, h, w), nullptr, vovc::view<I>(0, 0, 0, 0, 0, 0, 0, 0, 0), nullptr,
                vovc::view<I>(0, 0, 0, 0, 0, 0, 0, 0, 0), y.data(), vovc::view<I>(0, sn, 0, 0, 1, n, 1, h, w), nullptr, nullptr, nullptr, nullptr, 0.f, 0.f);
  });
  std::set<uint64_t> want;
  uint64_t iterations = 0;
  for (uint64_t i = uint64_t(bx) * kThreads + tx; i < total; i += step, iterations++) want.insert(i / (uint64_t(h) * w) * sn + i % w);
  bool ok = iterations > 1000;
  for (size_t k = 0; k < y.size(); k++) ok = ok && (y[k] == a) == (want.count(k) == 1);
  check(ok, what);
  return ok;
}

}  // namespace

int main() {
  // 32-bit launch at the largest count the plan leaves 32-bit: 32767 * 65537 = 2^31 - 32769
  // elements. Thread 0 steps by 2^21 up to 1023 * 2^21; one more step would pass 2^31 - 1.
  ew_far<int32_t>("ew<int32_t>: grid-stride loop ending just below 2^31", 1, 32767, 65537, 0, 0, 0);
  // 64-bit launch past 2^32 elements (2 x 32768 x 65537), from the last thread of the grid.
  ew_far<int64_t>("ew<int64_t>: 4295032832 elements, last thread", 2, 32768, 65537, 65537, kGrid - 1, kThreads - 1);

  // conv_igemm<int64_t, 1, 1> over 64 x 8192 x 8192 output pixels (P = 2^32): the last block
  // of pixels, [2^32 - 64, 2^32), is image 63, row 8191, columns 8128..8191.
  {
    const int N = 64, H = 8192, W = 8192;
    const float x = 1.5f, wt = 2.f;
    std::vector<float> y(size_t(N) * W, 0.f);
    const unsigned blocks = unsigned((uint64_t(N) * H * W + vovc::kBN - 1) / vovc::kBN);
    run_block(blocks, 1, blocks - 1, 0, vovc::kConvThreads, [&] {
      vovc::conv_igemm<int64_t, 1, 1>(&x, vovc::view<int64_t>(0, 0, 0, 0, 0, N, 1, H, W), &wt, nullptr, nullptr, vovc::view<int64_t>(0, 0, 0, 0, 0, 0, 0, 0, 0), y.data(),
                                       vovc::view<int64_t>(0, W, 0, 0, 1, N, 1, H, W), 1, 1, 0, 0, 0);
    });
    bool ok = true;
    for (size_t k = 0; k < y.size(); k++) ok = ok && y[k] == (k >= size_t(N - 1) * W + W - 64 ? 3.f : 0.f);
    check(ok, "conv_igemm<int64_t,1,1>: last block of 2^32 output pixels");
  }

  // pool2d<int64_t> (max, 1x1 window) over 2^32 + 2^17 elements, first thread.
  {
    const int N = 2, C = 1, H = 32768, W = 65537;
    const float x = -4.f;
    std::vector<float> y(size_t(N) * W, 0.f);
    run_thread(kGrid, kThreads, 0, 0, [&] {
      vovc::pool2d<int64_t>(&x, vovc::view<int64_t>(0, 0, 0, 0, 0, N, C, H, W), y.data(), vovc::view<int64_t>(0, W, 0, 0, 1, N, C, H, W), 1, 1, 1, 1, 0, 0, 0, 0, 1);
    });
    std::set<uint64_t> want;
    for (uint64_t i = 0; i < uint64_t(N) * H * W; i += uint64_t(kGrid) * kThreads) want.insert(i / (uint64_t(H) * W) * W + i % W);
    bool ok = true;
    for (size_t k = 0; k < y.size(); k++) ok = ok && (y[k] == x) == (want.count(k) == 1);
    check(ok, "pool2d<int64_t>: 4295032832 elements, first thread");
  }

  // linear<int64_t>: [N = 2049, F = 1] -> [N, O = 2^20 - 3], past 2^31 outputs; the batch axis
  // has stride 0, so y holds one row. The last thread of the grid.
  {
    const int N = 2049, O = (1 << 20) - 3, F = 1;
    const float x = 0.5f;
    std::vector<float> wt(size_t(O) * F, 4.f), bias(size_t(O), 1.f), y(size_t(O), 0.f);
    run_thread(kGrid, kThreads, kGrid - 1, kThreads - 1, [&] {
      vovc::linear<int64_t>(&x, vovc::view<int64_t>(0, 0, 0, 0, 0, N, F, 1, 1), wt.data(), bias.data(), y.data(), vovc::view<int64_t>(0, 0, 1, 0, 0, N, O, 1, 1));
    });
    std::set<uint64_t> want;
    for (uint64_t i = uint64_t(kGrid) * kThreads - 1; i < uint64_t(N) * O; i += uint64_t(kGrid) * kThreads) want.insert(i % O);
    bool ok = want.size() > 1000;
    for (size_t k = 0; k < y.size(); k++) ok = ok && (y[k] == 3.f) == (want.count(k) == 1);
    check(ok, "linear<int64_t>: 2148526077 outputs, last thread");
  }

  return failures ? 1 : 0;
}

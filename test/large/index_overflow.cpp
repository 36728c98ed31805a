// Generated kernels run at indices past 2^31 (and 2^32) without the memory such tensors would
// take: test/large/cuda.test.ts renders launches whose views have zero strides on every axis
// but one or two (kernels.inc, with the grids as K_<name>_GRID_X/Y), so a 4-billion-element
// launch touches a few hundred kilobytes. Only selected threads or blocks run, one std::thread
// per CUDA thread through the shim's VOVC_SHIM_THREADS barrier. Compiled with
// -fsanitize=address,undefined: a signed overflow, or an index that wraps and writes outside
// the buffer, stops the program; every written position is also checked against 64-bit math.
#define VOVC_SHIM_THREADS
#include "vovc_kernels.cuh"

#include <cstdio>
#include <set>
#include <vector>

namespace {
#include "kernels.inc"

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

/** Sets the CUDA built-ins of thread (bx, by, tx) of a gx x gy grid. */
void at(unsigned gx, unsigned gy, unsigned bx, unsigned by, unsigned threads, unsigned tx) {
  gridDim = dim3(gx, gy);
  blockDim = dim3(threads);
  blockIdx = dim3(bx, by);
  threadIdx = dim3(tx);
}

/** Runs block (bx, by) of a gx x gy grid, `threads` threads each (kernels with __syncthreads). */
template <class F>
void run_block(unsigned gx, unsigned gy, unsigned bx, unsigned by, unsigned threads, F body) {
  std::barrier<> bar(threads);
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; t++)
    ts.emplace_back([&, t] {
      vovc_shim::block_barrier = &bar;
      at(gx, gy, bx, by, threads, t);
      body();
    });
  for (auto& th : ts) th.join();
}

/** Thread `flat` (a flat thread index) of a 1-D kernel on a folded gx x gy grid of 256-thread blocks. */
template <class F>
void run_flat(unsigned gx, unsigned gy, uint64_t flat, F body) {
  const uint64_t block = flat / 256;
  at(gx, gy, unsigned(block % gx), unsigned(block / gx), 256, unsigned(flat % 256));
  body();
}

/** Elements of y written (non-zero) equal `want`. */
bool written(const std::vector<float>& y, const std::set<uint64_t>& want) {
  for (size_t k = 0; k < y.size(); k++)
    if ((y[k] != 0.f) != (want.count(k) == 1)) return false;
  return true;
}
}  // namespace

int main() {
  // copy over [N, 1, H, W], output strides (W, 0, 0, 1): element i lands at i / (H W) * W + i % W.
  {
    const uint64_t total = uint64_t(COPY64_N) * COPY64_H * COPY64_W, blocks = uint64_t(K_copy64_GRID_X) * K_copy64_GRID_Y;
    const float x = 7.f;
    std::vector<float> y(size_t(COPY64_N) * COPY64_W, 0.f);
    run_flat(K_copy64_GRID_X, K_copy64_GRID_Y, total - 1, [&] { k_copy64(&x, y.data()); });
    // The last block's threads past the end write nothing (their index passes 2^32 + 2^17).
    for (uint64_t t = total; t < blocks * 256; t += 37) run_flat(K_copy64_GRID_X, K_copy64_GRID_Y, t, [&] { k_copy64(&x, y.data()); });
    const uint64_t i = total - 1;
    check(blocks * 256 > total && written(y, {i / (uint64_t(COPY64_H) * COPY64_W) * COPY64_W + i % COPY64_W}), "copy, 64-bit: the last of 4295032832 elements, and no thread past it");
  }
  // The same at the largest count the plan leaves 32-bit (one past the last element fits int).
  {
    const uint64_t total = uint64_t(COPY32_N) * COPY32_H * COPY32_W, blocks = uint64_t(K_copy32_GRID_X) * K_copy32_GRID_Y;
    const float x = 7.f;
    std::vector<float> y(size_t(COPY32_N) * COPY32_W, 0.f);
    run_flat(K_copy32_GRID_X, K_copy32_GRID_Y, total - 1, [&] { k_copy32(&x, y.data()); });
    for (uint64_t t = total; t < blocks * 256; t++) run_flat(K_copy32_GRID_X, K_copy32_GRID_Y, t, [&] { k_copy32(&x, y.data()); });
    const uint64_t i = total - 1;
    check(written(y, {i / (uint64_t(COPY32_H) * COPY32_W) * COPY32_W + i % COPY32_W}), "copy, 32-bit: the last of 2^31 - 32769 elements, and no thread past it");
  }
  // max-pool (1x1 window) over 2^32 + 2^17 elements, the last thread.
  {
    const uint64_t total = uint64_t(COPY64_N) * COPY64_H * COPY64_W;
    const float x = -4.f;
    std::vector<float> y(size_t(COPY64_N) * COPY64_W, 0.f);
    run_flat(K_pool64_GRID_X, K_pool64_GRID_Y, total - 1, [&] { k_pool64(&x, y.data()); });
    const uint64_t i = total - 1;
    check(written(y, {i / (uint64_t(COPY64_H) * COPY64_W) * COPY64_W + i % COPY64_W}) && y[size_t(i / (uint64_t(COPY64_H) * COPY64_W) * COPY64_W + i % COPY64_W)] == x, "maxpool, 64-bit: the last of 4295032832 elements");
  }
  // linear: [N = 2049, F = 1] -> [N, O = 2^20 - 3], past 2^31 outputs; the batch axis has
  // stride 0, so y holds one row. The last output.
  {
    const uint64_t total = uint64_t(LIN_N) * LIN_O;
    const float x = 0.5f;
    std::vector<float> w(size_t(LIN_WEIGHTS), 0.f), y(size_t(LIN_O), 0.f);
    for (size_t o = 0; o < size_t(LIN_O); o++) w[o] = 4.f, w[size_t(LIN_BIAS) + o] = 1.f;
    run_flat(K_linear64_GRID_X, K_linear64_GRID_Y, total - 1, [&] { k_linear64(&x, w.data(), y.data()); });
    check(written(y, {(total - 1) % LIN_O}) && y[size_t((total - 1) % LIN_O)] == 3.f, "linear, 64-bit: the last of 2148526077 outputs");
  }
  // The GEMM convolution, 1x1 over 64 x 8192 x 8192 output pixels (P = 2^32): the last block
  // of pixels, [2^32 - 64, 2^32), is image 63, row 8191, columns 8128..8191.
  {
    const float x = 1.5f;
    std::vector<float> w(2, 0.f), y(size_t(CONV_N) * CONV_W, 0.f);
    w[0] = 2.f;
    const unsigned blocks = unsigned((uint64_t(CONV_N) * CONV_H * CONV_W + vovc::kBN - 1) / vovc::kBN);
    run_block(blocks, 1, blocks - 1, 0, vovc::kConvThreads, [&] { vovc::conv_igemm(ConvBig{&x, w.data(), y.data()}); });
    bool ok = true;
    for (size_t k = 0; k < y.size(); k++) ok = ok && y[k] == (k >= size_t(CONV_N - 1) * CONV_W + CONV_W - 64 ? 3.f : 0.f);
    check(ok, "conv GEMM, 64-bit: the last block of 2^32 output pixels");
  }
  return failures ? 1 : 0;
}

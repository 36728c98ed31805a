// cuda_shim.h: runs the CUDA sources vovc emits on the CPU, compiled by g++ -std=c++20.
//
// It is NOT part of a deployable artifact. It stands in for the subset of CUDA that the
// artifact uses: the kernel qualifiers, blockIdx/threadIdx/blockDim/gridDim, __shared__,
// __syncthreads, the launch macro VOVC_LAUNCH, and the runtime calls of the host code
// (memory, streams, stream capture into graphs, errors). Streams execute synchronously.
//
// Two ways to run a block, both faithful to __syncthreads (every thread of the block reaches
// the barrier before any thread passes it):
//   default            one fiber (ucontext) per CUDA thread, switched at each __syncthreads;
//                      blocks spread over a few worker threads (VOVC_SHIM_WORKERS, default
//                      the core count). __shared__ is per worker thread, one block at a time.
//   VOVC_SHIM_THREADS  one std::thread per CUDA thread and a std::barrier for the block, blocks
//                      run one after another; slower, but ThreadSanitizer sees every CUDA
//                      thread as a real thread and reports races between them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>
#include <math.h>

#ifdef VOVC_SHIM_THREADS
#include <barrier>
#else
#include <ucontext.h>
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#ifdef VOVC_SHIM_THREADS
#define __shared__ static
#else
#define __shared__ static thread_local
#endif

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
using uint3 = dim3;

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorStreamCaptureUnsupported = 900,
};
enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3, cudaMemcpyDefault = 4 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1, cudaStreamCaptureModeRelaxed = 2 };
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;

namespace vovc_shim {
using Op = std::function<void()>;
struct Stream {
  bool capturing = false;
  std::vector<Op> captured;
};
struct Graph {
  std::vector<Op> ops;
};
inline thread_local cudaError_t last_error = cudaSuccess;
inline Stream default_stream;
inline Stream* resolve(struct Stream* s) { return s ? s : &default_stream; }
/** Runs `op` now, or records it when the stream is being captured. */
inline void submit(Stream* s, Op op) {
  s = resolve(s);
  if (s->capturing) s->captured.push_back(std::move(op));
  else op();
}
}  // namespace vovc_shim

typedef vovc_shim::Stream* cudaStream_t;
typedef vovc_shim::Graph* cudaGraph_t;
typedef vovc_shim::Graph* cudaGraphExec_t;

inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    default: return "unknown error";
  }
}
inline cudaError_t cudaGetLastError() { cudaError_t e = vovc_shim::last_error; vovc_shim::last_error = cudaSuccess; return e; }
inline cudaError_t cudaPeekAtLastError() { return vovc_shim::last_error; }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  // 256-byte alignment like the real allocator; the size is rounded up as aligned_alloc requires.
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
template <class T> inline cudaError_t cudaMalloc(T** p, size_t bytes) { return cudaMalloc(reinterpret_cast<void**>(p), bytes); }
inline cudaError_t cudaFree(void* p) { std::free(p); return cudaSuccess; }
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind, cudaStream_t s = nullptr) {
  vovc_shim::submit(s, [=] { std::memmove(dst, src, n); });
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind k) { return cudaMemcpyAsync(dst, src, n, k, nullptr); }
inline cudaError_t cudaMemsetAsync(void* dst, int v, size_t n, cudaStream_t s = nullptr) {
  vovc_shim::submit(s, [=] { std::memset(dst, v, n); });
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* dst, int v, size_t n) { return cudaMemsetAsync(dst, v, n, nullptr); }

inline cudaError_t cudaStreamCreate(cudaStream_t* s) { *s = new vovc_shim::Stream(); return cudaSuccess; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return cudaStreamCreate(s); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) { delete s; return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  s = vovc_shim::resolve(s);
  if (s->capturing) return cudaErrorInvalidValue;
  s->capturing = true;
  s->captured.clear();
  return cudaSuccess;
}
inline cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  s = vovc_shim::resolve(s);
  if (!s->capturing) return cudaErrorInvalidValue;
  s->capturing = false;
  *g = new vovc_shim::Graph{std::move(s->captured)};
  s->captured.clear();
  return cudaSuccess;
}
inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long = 0) {
  *e = new vovc_shim::Graph{g->ops};
  return cudaSuccess;
}
inline cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
  for (auto& op : e->ops) vovc_shim::submit(s, op);
  return cudaSuccess;
}
inline cudaError_t cudaGraphDestroy(cudaGraph_t g) { delete g; return cudaSuccess; }
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { delete e; return cudaSuccess; }

namespace vovc_shim {

inline void set_block(dim3 g, dim3 b, unsigned linear) {
  gridDim = g;
  blockDim = b;
  blockIdx = dim3(linear % g.x, linear / g.x % g.y, linear / (g.x * g.y));
}
inline uint3 thread_of(dim3 b, unsigned t) { return uint3(t % b.x, t / b.x % b.y, t / (b.x * b.y)); }

#ifdef VOVC_SHIM_THREADS

inline thread_local std::barrier<>* block_barrier = nullptr;

/**
 * One std::thread per CUDA thread of a block, kept for the whole launch: the threads run block
 * after block, meeting at the barrier after each, so __shared__ (static here) passes safely
 * from one block to the next. Requires what every vovc kernel does: all threads of a block
 * reach the same __syncthreads calls.
 */
inline void run_grid(dim3 g, dim3 b, const std::function<void()>& body) {
  const unsigned blocks = g.x * g.y * g.z, threads = b.x * b.y * b.z;
  std::barrier<> bar(threads);
  std::vector<std::thread> ts;
  ts.reserve(threads);
  for (unsigned t = 0; t < threads; t++)
    ts.emplace_back([&, t] {
      block_barrier = &bar;
      for (unsigned blk = 0; blk < blocks; blk++) {
        set_block(g, b, blk);
        threadIdx = thread_of(b, t);
        body();
        bar.arrive_and_wait();
      }
    });
  for (auto& th : ts) th.join();
}
inline void sync() { block_barrier->arrive_and_wait(); }

#else

constexpr size_t kFiberStack = 64 * 1024;

/** One worker thread's state: a fiber per CUDA thread of the block it is running. */
struct Worker {
  ucontext_t main;
  std::vector<ucontext_t> ctx;
  std::vector<unsigned char> done;
  std::vector<std::unique_ptr<char[]>> stacks;
  const std::function<void()>* body = nullptr;
  unsigned cur = 0;
  dim3 block;
};
inline thread_local Worker* worker = nullptr;

inline void fiber_entry() {
  Worker* w = worker;
  (*w->body)();
  w->done[w->cur] = 1;
  swapcontext(&w->ctx[w->cur], &w->main);
}
inline void sync() {
  Worker* w = worker;
  swapcontext(&w->ctx[w->cur], &w->main);
}

/** Runs one block: round-robin over the fibers; each round moves every thread to its next barrier. */
inline void run_block(Worker& w, unsigned threads) {
  if (w.ctx.size() < threads) {
    w.ctx.resize(threads);
    while (w.stacks.size() < threads) w.stacks.emplace_back(new char[kFiberStack]);
  }
  w.done.assign(threads, 0);
  for (unsigned t = 0; t < threads; t++) {
    getcontext(&w.ctx[t]);
    w.ctx[t].uc_stack.ss_sp = w.stacks[t].get();
    w.ctx[t].uc_stack.ss_size = kFiberStack;
    w.ctx[t].uc_link = nullptr;
    makecontext(&w.ctx[t], fiber_entry, 0);
  }
  for (unsigned left = threads; left > 0;) {
    for (unsigned t = 0; t < threads; t++) {
      if (w.done[t]) continue;
      w.cur = t;
      threadIdx = thread_of(w.block, t);
      swapcontext(&w.main, &w.ctx[t]);
      if (w.done[t]) left--;
    }
  }
}

inline unsigned worker_count() {
  const char* env = std::getenv("VOVC_SHIM_WORKERS");
  unsigned n = env ? unsigned(std::atoi(env)) : std::thread::hardware_concurrency();
  return std::max(1u, n);
}

inline void run_grid(dim3 g, dim3 b, const std::function<void()>& body) {
  const unsigned blocks = g.x * g.y * g.z, threads = b.x * b.y * b.z;
  std::atomic<unsigned> next{0};
  auto work = [&] {
    Worker w;
    w.body = &body;
    w.block = b;
    worker = &w;
    for (unsigned blk; (blk = next.fetch_add(1)) < blocks;) {
      set_block(g, b, blk);
      run_block(w, threads);
    }
    worker = nullptr;
  };
  const unsigned n = std::min(worker_count(), blocks);
  if (n <= 1) return work();
  std::vector<std::thread> ts;
  for (unsigned i = 1; i < n; i++) ts.emplace_back(work);
  work();
  for (auto& t : ts) t.join();
}

#endif

/** The g++ expansion of VOVC_LAUNCH: converts the arguments now, runs (or records) the grid. */
template <class... P, class... A>
inline void launch(void (*kernel)(P...), dim3 g, dim3 b, size_t, cudaStream_t s, A&&... a) {
  std::tuple<std::decay_t<P>...> args(std::forward<A>(a)...);
  submit(s, [=] { run_grid(g, b, [&] { std::apply(kernel, args); }); });
}

}  // namespace vovc_shim

inline void __syncthreads() { vovc_shim::sync(); }

// cuda_fp16.h / cuda_bf16.h: the storage types of reduced-precision artifacts, and the
// conversions they use, exact as the hardware's (round to nearest even; NaN stays NaN).
struct __half {
  uint16_t x;
};
struct __nv_bfloat16 {
  uint16_t x;
};
inline float __half2float(__half h) {
  const uint32_t sign = uint32_t(h.x & 0x8000) << 16, exp = (h.x >> 10) & 0x1f, man = h.x & 0x3ff;
  float mag;
  if (exp == 0) mag = std::ldexp(float(man), -24);
  else if (exp == 31) mag = man ? NAN : INFINITY;
  else mag = std::ldexp(float(1024 + man), int(exp) - 25);
  uint32_t u;
  std::memcpy(&u, &mag, 4);
  u |= sign;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __half __float2half_rn(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
  if (exp == 0xff) return __half{uint16_t(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0))};
  const int e = int(exp) - 127 + 15;
  if (e >= 31) return __half{uint16_t(sign | 0x7c00)};
  if (e <= 0) {
    if (e < -10) return __half{uint16_t(sign)};
    const uint32_t m = man | 0x800000, shift = uint32_t(14 - e);
    uint32_t h = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return __half{uint16_t(sign | h)};
  }
  uint32_t h = (uint32_t(e) << 10) | (man >> 13);
  const uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
  return __half{uint16_t(sign | h)};
}
inline float __bfloat162float(__nv_bfloat16 b) {
  const uint32_t u = uint32_t(b.x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000) == 0x7f800000 && (u & 0x7fffff)) return __nv_bfloat16{uint16_t((u | 0x400000) >> 16)};
  return __nv_bfloat16{uint16_t((u + 0x7fff + ((u >> 16) & 1)) >> 16)};
}

// CUDA's device min/max overloads for int and float.
using std::max;
using std::min;

// CUDA body of the fused no-grad MM-Adapter forward (see ../infer_kernel.h). One block per row:
// each warp reduces some of the r dot products A_i . x_n into shared memory, then the block writes
// y_n with the grouped, routed up-projection. No intermediate tensor is allocated.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "infer_kernel.h"

namespace vl {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

template <typename T>
__global__ void mm_adapter_infer_kernel(InferArgs a) {
  extern __shared__ unsigned char smem_raw[];
  T* h = reinterpret_cast<T*>(smem_raw);  // (r)
  const int64_t n = blockIdx.x, d = a.d, r = a.r, k = a.r / a.groups, per = a.d / a.groups;
  const T* x = static_cast<const T*>(a.x) + n * d;
  T* y = static_cast<T*>(a.y) + n * d;
  const T* Aw = static_cast<const T*>(a.A_w);
  const T* Ab = static_cast<const T*>(a.A_b);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  for (int64_t i = warp; i < r; i += kWarps) {  // h = A x + A_b
    const T* Ai = Aw + i * d;
    T acc = 0;
    for (int64_t j = lane; j < d; j += 32) acc += Ai[j] * x[j];
    for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (lane == 0) h[i] = acc + Ab[i];
  }
  __syncthreads();

  const T* route = static_cast<const T*>(a.route);
  const int64_t b = n / a.tokens;
  const T w0 = static_cast<T>(a.scale) * route[2 * b], w1 = static_cast<T>(a.scale) * route[2 * b + 1];
  const T* Bw = static_cast<const T*>(a.B_w);
  const T* Bb = static_cast<const T*>(a.B_b);
  const T* Dw = static_cast<const T*>(a.D_w);
  const T* Db = static_cast<const T*>(a.D_b);
  for (int64_t j = threadIdx.x; j < d; j += kThreads) {  // y = x + routed up(h)
    const T* hG = h + (j / per) * k;
    T acc = x[j] + w0 * Bb[j] + w1 * Db[j];
    for (int64_t q = 0; q < k; ++q) acc += (w0 * Bw[j * k + q] + w1 * Dw[j * k + q]) * hG[q];
    y[j] = acc;
  }
}

template <typename T>
void launch(const InferArgs& a, void* stream) {
  const int64_t rows = a.batch * a.tokens;
  if (rows == 0) return;
  mm_adapter_infer_kernel<T><<<static_cast<unsigned>(rows), kThreads, a.r * sizeof(T),
                               static_cast<cudaStream_t>(stream)>>>(a);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA kernel launch failed: ") + cudaGetErrorString(err));
  }
}

}  // namespace

void mm_adapter_infer_cuda_f32(const InferArgs& a, void* stream) { launch<float>(a, stream); }
void mm_adapter_infer_cuda_f64(const InferArgs& a, void* stream) { launch<double>(a, stream); }

}  // namespace vl

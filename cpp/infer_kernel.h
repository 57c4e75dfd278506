// The fused no-grad MM-Adapter forward: one pass per row, nothing materialised but the r hidden
// values. Per row n of sample b (w = scale * route[b]):
//   h = A x_n + A_b                                           (r)
//   y_n[j] = x_n[j] + w0 (B_b[j] + B[j,:] h_G) + w1 (D_b[j] + D[j,:] h_G),  G = j / (d/groups)
// where h_G = h[G*k, (G+1)*k) and k = r / groups. Raw pointers, all contiguous. x and y are in the
// activations' dtype; route and the weights in float32 (float64 for float64 activations).
#pragma once

#include <cstdint>

namespace vl {

struct InferArgs {
  const void* x;      // (B, T, d)
  void* y;            // (B, T, d)
  const void* route;  // (B, 2), unscaled softmax output
  const void* A_w;    // (r, d)
  const void* A_b;    // (r)
  const void* B_w;    // (d, k)
  const void* B_b;    // (d)
  const void* D_w;    // (d, k)
  const void* D_b;    // (d)
  int64_t batch, tokens, d, r, groups;
  double scale;
};

void mm_adapter_infer_cpu_f32(const InferArgs& a);
void mm_adapter_infer_cpu_f64(const InferArgs& a);
void mm_adapter_infer_cpu_bf16(const InferArgs& a);  // x, y bfloat16; weights float32
void mm_adapter_infer_cpu_f16(const InferArgs& a);   // x, y float16; weights float32

#ifdef VLADAPT_WITH_CUDA
// Launch on `stream` (a cudaStream_t); throw std::runtime_error on a launch error.
void mm_adapter_infer_cuda_f32(const InferArgs& a, void* stream);
void mm_adapter_infer_cuda_f64(const InferArgs& a, void* stream);
#endif

}  // namespace vl

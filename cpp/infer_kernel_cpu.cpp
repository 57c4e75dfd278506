// CPU body of the fused no-grad MM-Adapter forward (see infer_kernel.h). Rows are split across
// libtorch's intra-op threads; the k = r/groups inner loop is unrolled for the common k so that the
// compiler vectorises over d.
#include "infer_kernel.h"

#include <torch/csrc/stable/ops.h>

#include <vector>

namespace vl {
namespace {

template <typename T, int K>
void up_rows(const T* xr, T* yr, const T* h, const InferArgs& a, T w0, T w1, int64_t k) {
  const T* Bw = static_cast<const T*>(a.B_w);
  const T* Bb = static_cast<const T*>(a.B_b);
  const T* Dw = static_cast<const T*>(a.D_w);
  const T* Db = static_cast<const T*>(a.D_b);
  const int64_t per = a.d / a.groups;
  const int64_t kk_n = K > 0 ? K : k;
  T hw0[64], hw1[64];  // k <= 64 is checked by the caller
  for (int64_t G = 0; G < a.groups; ++G) {
    for (int64_t q = 0; q < kk_n; ++q) {
      hw0[q] = w0 * h[G * kk_n + q];
      hw1[q] = w1 * h[G * kk_n + q];
    }
    for (int64_t j = G * per; j < (G + 1) * per; ++j) {
      T acc = xr[j] + w0 * Bb[j] + w1 * Db[j];
      const T* bj = Bw + j * kk_n;
      const T* dj = Dw + j * kk_n;
      for (int64_t q = 0; q < kk_n; ++q) acc += bj[q] * hw0[q] + dj[q] * hw1[q];
      yr[j] = acc;
    }
  }
}

template <typename T>
void infer(const InferArgs& a) {
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* route = static_cast<const T*>(a.route);
  const T* Aw = static_cast<const T*>(a.A_w);
  const T* Ab = static_cast<const T*>(a.A_b);
  const int64_t d = a.d, r = a.r, k = a.r / a.groups, rows = a.batch * a.tokens;
  // about 32k multiply-adds per task keeps thread hand-off cheap relative to the work
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, d * 3 * r / 2));
  torch::stable::parallel_for(0, rows, grain, [&](int64_t lo, int64_t hi) {
    std::vector<T> h(r);
    for (int64_t n = lo; n < hi; ++n) {
      const T* xr = x + n * d;
      T* yr = y + n * d;
      const int64_t b = n / a.tokens;
      const T w0 = static_cast<T>(a.scale) * route[2 * b];
      const T w1 = static_cast<T>(a.scale) * route[2 * b + 1];
      for (int64_t i = 0; i < r; ++i) {                                   // h = A x + A_b
        const T* Ai = Aw + i * d;
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t j = 0; j < d; ++j) acc += Ai[j] * xr[j];
        h[i] = acc + Ab[i];
      }
      switch (k) {                                                        // y = x + up(h)
        case 4: up_rows<T, 4>(xr, yr, h.data(), a, w0, w1, k); break;
        case 8: up_rows<T, 8>(xr, yr, h.data(), a, w0, w1, k); break;
        case 2: up_rows<T, 2>(xr, yr, h.data(), a, w0, w1, k); break;
        case 1: up_rows<T, 1>(xr, yr, h.data(), a, w0, w1, k); break;
        default: up_rows<T, 0>(xr, yr, h.data(), a, w0, w1, k); break;
      }
    }
  });
}

}  // namespace

void mm_adapter_infer_cpu_f32(const InferArgs& a) { infer<float>(a); }
void mm_adapter_infer_cpu_f64(const InferArgs& a) { infer<double>(a); }

}  // namespace vl

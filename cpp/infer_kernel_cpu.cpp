// CPU body of the fused no-grad MM-Adapter forward (see infer_kernel.h).
//
// Per sample b the routed up-projection is mixed once into a (k, d) table
//   M_b[q][j] = w0 B[j][q] + w1 D[j][q],  c_b[j] = w0 B_b[j] + w1 D_b[j]   (w = scale * route[b])
// so that every row's work is contiguous over d and vectorises:
//   h = A x + A_b;  y[j] = x[j] + c_b[j] + sum_q M_b[q][j] h[G(j) k + q].
// Activations x, y may be float32, float64, bfloat16 or float16 (X); the weights, the mixed table and
// every sum are in T (float64 for float64 activations, else float32), so a bf16 row is widened once,
// computed in float32 and rounded once when stored.
// The loops are compiled for AVX-512, AVX2 and baseline x86-64 (target_clones picks at load).
#include "infer_kernel.h"

#include <torch/csrc/stable/ops.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace vl {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VL_CLONES
#endif
#define VL_INLINE inline __attribute__((always_inline))

// bfloat16 as its bits: widening is a shift, narrowing rounds to nearest even (NaN stays NaN).
struct bf16 {
  uint16_t bits;
};
using f16 = _Float16;

VL_INLINE float widen(float v) { return v; }
VL_INLINE double widen(double v) { return v; }
VL_INLINE float widen(f16 v) { return static_cast<float>(v); }
VL_INLINE float widen(bf16 v) { return __builtin_bit_cast(float, static_cast<uint32_t>(v.bits) << 16); }

template <typename X>
VL_INLINE X narrow_to(float v) {
  if constexpr (std::is_same_v<X, bf16>) {
    const uint32_t u = __builtin_bit_cast(uint32_t, v);
    const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    return bf16{static_cast<uint16_t>(nan ? (u >> 16) | 0x40u : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
  } else {
    return static_cast<X>(v);
  }
}
template <typename X>
VL_INLINE X narrow_to(double v) {
  return static_cast<X>(v);
}

// M[q][j] = w0 B[j][q] + w1 D[j][q] (transposed so rows read M contiguously). K = k when known at
// compile time (the strided loads then vectorise), 0 for any other k.
template <typename T, int K>
VL_INLINE void mix_k(const T* Bw, const T* Dw, T w0, T w1, int64_t d, int64_t k, T* M) {
  const int64_t kk = K > 0 ? K : k;
#pragma omp simd
  for (int64_t j = 0; j < d; ++j) {
#pragma GCC unroll 8
    for (int64_t q = 0; q < kk; ++q) M[q * d + j] = w0 * Bw[j * kk + q] + w1 * Dw[j * kk + q];
  }
}

template <typename T>
VL_INLINE void mix_sample(const InferArgs& a, int64_t b, T* M, T* c) {
  const T* route = static_cast<const T*>(a.route);
  const T* Bw = static_cast<const T*>(a.B_w);
  const T* Bb = static_cast<const T*>(a.B_b);
  const T* Dw = static_cast<const T*>(a.D_w);
  const T* Db = static_cast<const T*>(a.D_b);
  const int64_t d = a.d, k = a.r / a.groups;
  const T w0 = static_cast<T>(a.scale) * route[2 * b], w1 = static_cast<T>(a.scale) * route[2 * b + 1];
#pragma omp simd
  for (int64_t j = 0; j < d; ++j) c[j] = w0 * Bb[j] + w1 * Db[j];
  switch (k) {
    case 1: mix_k<T, 1>(Bw, Dw, w0, w1, d, k, M); break;
    case 2: mix_k<T, 2>(Bw, Dw, w0, w1, d, k, M); break;
    case 4: mix_k<T, 4>(Bw, Dw, w0, w1, d, k, M); break;
    case 8: mix_k<T, 8>(Bw, Dw, w0, w1, d, k, M); break;
    default: mix_k<T, 0>(Bw, Dw, w0, w1, d, k, M);
  }
}

// h[0..8) += A[0..8)[0..len) . x[0..len) for A rows `stride` apart: eight accumulators, one pass.
template <typename X, typename T>
VL_INLINE void dot8(const T* A, int64_t stride, const X* x, int64_t len, T* h) {
  const T *A0 = A, *A1 = A0 + stride, *A2 = A1 + stride, *A3 = A2 + stride, *A4 = A3 + stride,
          *A5 = A4 + stride, *A6 = A5 + stride, *A7 = A6 + stride;
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)
  for (int64_t j = 0; j < len; ++j) {
    const T xj = widen(x[j]);
    s0 += A0[j] * xj; s1 += A1[j] * xj; s2 += A2[j] * xj; s3 += A3[j] * xj;
    s4 += A4[j] * xj; s5 += A5[j] * xj; s6 += A6[j] * xj; s7 += A7[j] * xj;
  }
  h[0] += s0; h[1] += s1; h[2] += s2; h[3] += s3; h[4] += s4; h[5] += s5; h[6] += s6; h[7] += s7;
}

template <typename X, typename T>
VL_INLINE void dot1(const T* A, const X* x, int64_t len, T* h) {
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t j = 0; j < len; ++j) acc += A[j] * widen(x[j]);
  *h += acc;
}

// y[j] = x[j] + c[j] + sum_q M[q][j] h_G[q] for j in [lo, hi) of one group; K as in mix_k.
template <typename X, typename T, int K>
VL_INLINE void up_span(const X* x, X* y, const T* M, const T* c, const T* hG, int64_t d, int64_t k,
                       int64_t lo, int64_t hi) {
  if (K == 0) {
    for (int64_t j = lo; j < hi; ++j) {
      T acc = widen(x[j]) + c[j];
      for (int64_t q = 0; q < k; ++q) acc += M[q * d + j] * hG[q];
      y[j] = narrow_to<X>(acc);
    }
    return;
  }
  T hq[K > 0 ? K : 1];
  for (int64_t q = 0; q < K; ++q) hq[q] = hG[q];
#pragma omp simd
  for (int64_t j = lo; j < hi; ++j) {
    T acc = widen(x[j]) + c[j];
#pragma GCC unroll 8
    for (int64_t q = 0; q < K; ++q) acc += M[q * d + j] * hq[q];
    y[j] = narrow_to<X>(acc);
  }
}

template <typename X, typename T>
VL_INLINE void up_span_k(const X* x, X* y, const T* M, const T* c, const T* hG, int64_t d, int64_t k,
                         int64_t lo, int64_t hi) {
  switch (k) {
    case 1: up_span<X, T, 1>(x, y, M, c, hG, d, k, lo, hi); break;
    case 2: up_span<X, T, 2>(x, y, M, c, hG, d, k, lo, hi); break;
    case 4: up_span<X, T, 4>(x, y, M, c, hG, d, k, lo, hi); break;
    case 8: up_span<X, T, 8>(x, y, M, c, hG, d, k, lo, hi); break;
    default: up_span<X, T, 0>(x, y, M, c, hG, d, k, lo, hi);
  }
}

// Rows go in blocks of kRows and columns in tiles of kCols, so the A and M tiles a block needs are
// reused from L1 by every row of the block.
constexpr int64_t kRows = 8;
constexpr int64_t kCols = 512;

template <typename X, typename T>
VL_INLINE void rows(const InferArgs& a, const T* M, const T* c, int64_t lo, int64_t hi) {
  const X* x = static_cast<const X*>(a.x);
  X* y = static_cast<X*>(a.y);
  const T* Aw = static_cast<const T*>(a.A_w);
  const T* Ab = static_cast<const T*>(a.A_b);
  const int64_t d = a.d, r = a.r, k = a.r / a.groups, per = a.d / a.groups;
  std::vector<T> h(kRows * r);                                             // (rows, r)
  for (int64_t n0 = lo; n0 < hi; n0 += kRows) {
    const int64_t nb = std::min(kRows, hi - n0);
    for (int64_t rr = 0; rr < nb; ++rr) std::copy(Ab, Ab + r, h.data() + rr * r);
    for (int64_t j0 = 0; j0 < d; j0 += kCols) {                            // h = A x + A_b
      const int64_t len = std::min(kCols, d - j0);
      for (int64_t rr = 0; rr < nb; ++rr) {
        const X* xr = x + (n0 + rr) * d + j0;
        T* hr = h.data() + rr * r;
        int64_t i = 0;
        for (; i + 8 <= r; i += 8) dot8<X, T>(Aw + i * d + j0, d, xr, len, hr + i);
        for (; i < r; ++i) dot1<X, T>(Aw + i * d + j0, xr, len, hr + i);
      }
    }
    for (int64_t G = 0; G < a.groups; ++G) {                               // y = x + c + M h_G
      for (int64_t j0 = G * per; j0 < (G + 1) * per; j0 += kCols) {
        const int64_t j1 = std::min(j0 + kCols, (G + 1) * per);
        for (int64_t rr = 0; rr < nb; ++rr) {
          const int64_t n = n0 + rr, b = n / a.tokens;
          up_span_k<X, T>(x + n * d, y + n * d, M + b * k * d, c + b * d, h.data() + rr * r + G * k, d,
                       k, j0, j1);
        }
      }
    }
  }
}

VL_CLONES void mix_f32(const InferArgs& a, int64_t b, float* M, float* c) { mix_sample<float>(a, b, M, c); }
VL_CLONES void mix_f64(const InferArgs& a, int64_t b, double* M, double* c) { mix_sample<double>(a, b, M, c); }
VL_CLONES void rows_f32(const InferArgs& a, const float* M, const float* c, int64_t lo, int64_t hi) {
  rows<float, float>(a, M, c, lo, hi);
}
VL_CLONES void rows_f64(const InferArgs& a, const double* M, const double* c, int64_t lo, int64_t hi) {
  rows<double, double>(a, M, c, lo, hi);
}
VL_CLONES void rows_bf16(const InferArgs& a, const float* M, const float* c, int64_t lo, int64_t hi) {
  rows<bf16, float>(a, M, c, lo, hi);
}
VL_CLONES void rows_f16(const InferArgs& a, const float* M, const float* c, int64_t lo, int64_t hi) {
  rows<f16, float>(a, M, c, lo, hi);
}

void mix(const InferArgs& a, int64_t b, float* M, float* c) { mix_f32(a, b, M, c); }
void mix(const InferArgs& a, int64_t b, double* M, double* c) { mix_f64(a, b, M, c); }

template <typename X>
void run_rows(const InferArgs& a, const float* M, const float* c, int64_t lo, int64_t hi) {
  if constexpr (std::is_same_v<X, bf16>) rows_bf16(a, M, c, lo, hi);
  else if constexpr (std::is_same_v<X, f16>) rows_f16(a, M, c, lo, hi);
  else rows_f32(a, M, c, lo, hi);
}
template <typename X>
void run_rows(const InferArgs& a, const double* M, const double* c, int64_t lo, int64_t hi) {
  rows_f64(a, M, c, lo, hi);
}

template <typename X, typename T>
void infer(const InferArgs& a) {
  const int64_t d = a.d, k = a.r / a.groups, n_rows = a.batch * a.tokens;
  std::vector<T> M(a.batch * k * d), c(a.batch * d);                      // (B, k, d), (B, d)
  torch::stable::parallel_for(0, a.batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) mix(a, b, M.data() + b * k * d, c.data() + b * d);
  });
  // about 64k multiply-adds per task keeps the thread hand-off cheap relative to the work
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, d * (a.r + k + 1)));
  torch::stable::parallel_for(0, n_rows, grain, [&](int64_t lo, int64_t hi) {
    run_rows<X>(a, M.data(), c.data(), lo, hi);
  });
}

}  // namespace

void mm_adapter_infer_cpu_f32(const InferArgs& a) { infer<float, float>(a); }
void mm_adapter_infer_cpu_f64(const InferArgs& a) { infer<double, double>(a); }
void mm_adapter_infer_cpu_bf16(const InferArgs& a) { infer<bf16, float>(a); }
void mm_adapter_infer_cpu_f16(const InferArgs& a) { infer<f16, float>(a); }

}  // namespace vl

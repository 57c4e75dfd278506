// Weight-only quantised linear layers: the in-memory layout the kernels read, and the kernels.
//
// Layout (HF compressed-tensors, see io.vladapt.quant.CompressedTensors for the file side):
//   int8, per output channel: q int8 (n, k); scale float32 (n); zero int8 (n) or none.
//   int4, groups of `group` inputs: q = (n, k/8) 32-bit words, element 8j+i in bits [4i, 4i+4) of
//     word j, stored as the unsigned nibble u = q + 8 (q in [-8, 7]); scale float16 (n, k/group);
//     zero int8 (n, k/group) in [-8, 7] or none.
//   w[r][c] = (q - zero) * scale.
//
// Kernel paths, chosen at run time (vl_quant_path forces one, for tests and benchmarks):
//   scalar  portable C++, float32 activations                    (any CPU)
//   avx512  AVX-512 F/BW/VL: weights widened to float32, FMA      (Skylake-SP and later)
//   vnni    AVX512-VNNI: activations quantised to int8 in blocks of 32 (one float scale per block,
//           as llama.cpp's Q8_0), integer dot products with vpdpbusd, block/group scales in float
//   amx     vnni for up to kGemvRows rows; above that AMX-BF16: weight tiles dequantised to bf16
//           in L2, activations rounded to bf16, float32 accumulation in the tiles
// Without AMX, more than kGemvRows rows go through dequantise (blocks of rows) + aten::linear.
// AMX-INT8 is not used: its tiles sum 64 products in int32 before any scale can be applied, which
// needs one activation scale per row over the whole width (per-token int8), the scheme that fails on
// the outlier features of LLaMA-class models (LLM.int8). AMX-BF16 keeps bf16 activations.
#pragma once

#include <torch/csrc/stable/ops.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace vl {

enum QuantPath : int { kPathAuto = 0, kPathScalar = 1, kPathAvx512 = 2, kPathVnni = 3, kPathAmx = 4 };

bool quant_path_available(int path);
int quant_best_path();
// The path in effect: the forced one, else the best available.
int quant_active_path();
// 0 = automatic; throws std::invalid_argument for a path this CPU lacks.
void quant_force_path(int path);

struct QWeight {
  int bits = 8;            // 8 or 4
  int64_t n = 0, k = 0;    // out_features, in_features
  int64_t group = 0;       // inputs per scale: k for int8
  const void* q = nullptr;
  const void* scale = nullptr;   // float (bits 8) or uint16_t float16 bits (bits 4)
  const int8_t* zero = nullptr;  // null: symmetric
  int64_t groups() const { return bits == 8 ? 1 : k / group; }
};

// Activations and outputs are float32 here; the entry point converts other dtypes.
struct QLinearArgs {
  QWeight w;
  const float* x = nullptr;  // (m, k)
  float* y = nullptr;        // (m, n)
  const float* bias = nullptr;  // (n) or null
  int64_t m = 0;
};

// Rows at or below which the GEMV kernels run (they stream the weights once per block of 4 rows).
constexpr int64_t kGemvRows = 8;

void qlinear_scalar(const QLinearArgs& a);
void qlinear_avx512(const QLinearArgs& a);
void qlinear_vnni(const QLinearArgs& a);
// x as float32 (x_bf16 null) or as bf16 bits (x null).
void qgemm_amx(const QLinearArgs& a, const uint16_t* x_bf16);

// Dequantised rows [n0, n1) of w into out (row-major, n1-n0 rows of k), as float32 / bf16 / f16.
enum class OutType { F32, BF16, F16 };
void dequantize_rows(const QWeight& w, int64_t n0, int64_t n1, void* out, OutType type);
// The same for float32/bf16 with AVX-512 (dequantize_rows calls it where the CPU has AVX-512).
void dequantize_rows_avx512(const QWeight& w, int64_t n0, int64_t n1, void* out, OutType type);

// Quantises rows [n0, n1) of a dense (n, k) matrix given as float32 / bf16 / f16 into w's buffers
// (which the caller allocated for w's shape and scheme).
enum class InType { F32, BF16, F16 };
void quantize_rows(const void* dense, InType type, const QWeight& w, bool symmetric, int64_t n0, int64_t n1);

// Runs body(lo, hi) over [0, n) in blocks of `block` that libtorch's intra-op threads take in turn until
// none are left, so that a thread slowed by a busy core takes fewer blocks instead of holding the others
// up (a static split waits for its slowest thread). init() runs once per thread before its first block.
template <class Init, class F>
void parallel_blocks(int64_t n, int64_t block, Init init, F body) {
  std::atomic<int64_t> next{0};
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(torch::stable::get_num_threads(), (n + block - 1) / block));
  torch::stable::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    auto state = init();
    for (int64_t lo = next.fetch_add(block); lo < n; lo = next.fetch_add(block)) body(state, lo, std::min(n, lo + block));
  });
}

// Scalar conversions shared by the kernels.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even
inline float bf16_to_float(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline uint16_t float_to_bf16(float f) {  // round to nearest even (NaN stays NaN)
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

}  // namespace vl

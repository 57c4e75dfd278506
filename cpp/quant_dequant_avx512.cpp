// AVX-512 dequantisation of weight rows into float32 or bf16 (the differentiable path's temporary and the
// GEMM fallback's blocks): the same arithmetic as dequantize_rows ((q - z) * s, rounded to nearest even
// for bf16), sixteen values at a time.
#include "quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized flags at every
// inlined call site; the values are always overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace vl {
namespace {

#define VL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c")))

VL_AVX512 inline void store16(__m512 v, void* out, int64_t i, __mmask16 mask, OutType type) {
  if (type == OutType::F32) {
    _mm512_mask_storeu_ps(static_cast<float*>(out) + i, mask, v);
    return;
  }
  __m512i u = _mm512_castps_si512(v);  // round to nearest even; dequantised values are finite
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  u = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
  _mm256_mask_storeu_epi16(static_cast<uint16_t*>(out) + i, mask, _mm512_cvtepi32_epi16(_mm512_srli_epi32(u, 16)));
}

}  // namespace

VL_AVX512 void dequantize_rows_avx512(const QWeight& w, int64_t n0, int64_t n1, void* out, OutType type) {
  const int64_t k = w.k, G = w.groups();
  const __m128i nib = _mm_set1_epi8(0x0f);
  for (int64_t r = n0; r < n1; ++r) {
    const int64_t o = (r - n0) * k;
    if (w.bits == 8) {
      const int8_t* q = static_cast<const int8_t*>(w.q) + r * k;
      const __m512 s = _mm512_set1_ps(static_cast<const float*>(w.scale)[r]);
      const __m512 z = _mm512_set1_ps(w.zero ? w.zero[r] : 0.f);
      for (int64_t i = 0; i < k; i += 16) {
        const __mmask16 mask = k - i >= 16 ? 0xffff : static_cast<__mmask16>((1u << (k - i)) - 1);
        const __m512 qf = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, q + i)));
        store16(_mm512_mul_ps(_mm512_sub_ps(qf, z), s), out, o + i, mask, type);
      }
      continue;
    }
    const uint8_t* q = static_cast<const uint8_t*>(w.q) + r * (k / 2);
    for (int64_t gi = 0; gi < G; ++gi) {
      const __m512 s = _mm512_set1_ps(_cvtsh_ss(static_cast<const uint16_t*>(w.scale)[r * G + gi]));
      const __m512 off = _mm512_set1_ps(8.f + (w.zero ? w.zero[r * G + gi] : 0.f));
      for (int64_t i = gi * w.group; i < (gi + 1) * w.group; i += 16) {
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i / 2));
        const __m128i e = _mm_unpacklo_epi8(_mm_and_si128(v, nib), _mm_and_si128(_mm_srli_epi16(v, 4), nib));
        const __m512 u = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(e));
        store16(_mm512_mul_ps(_mm512_sub_ps(u, off), s), out, o + i, 0xffff, type);
      }
    }
  }
}

}  // namespace vl

#else

namespace vl {
void dequantize_rows_avx512(const QWeight&, int64_t, int64_t, void*, OutType) {}
}  // namespace vl

#endif

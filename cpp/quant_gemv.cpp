// GEMV kernels for weight-only quantised layers (decode: a few rows of activations against the whole
// weight, bound by how fast the weights stream from memory). Each output row is a dot product along
// the weight's contiguous input dimension; threads split the output rows; up to kRows activation rows
// share every weight load. Paths as in quant.h: scalar, avx512 (weights widened to float32), vnni
// (int8 activations in blocks of 32, integer dot products, float block and group scales).
#include <torch/csrc/stable/ops.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized flags at every
// inlined call site; the values are always overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define VL_X86 1
#endif

namespace vl {
namespace {

constexpr int kRows = 8;  // activation rows per pass over the weights

// Threads take output rows in blocks this large (a few hundred KB of weights each).
int64_t row_grain(const QWeight& w) { return std::max<int64_t>(4, (1 << 18) / std::max<int64_t>(1, w.k)); }

// Runs body(row_lo, row_hi, m_lo, m_hi) over output rows shared out among threads and activation rows in
// blocks of kRows, then adds the bias.
template <class F>
void for_rows(const QLinearArgs& a, F body) {
  parallel_blocks(a.w.n, row_grain(a.w), [] { return 0; }, [&](int, int64_t lo, int64_t hi) {
    for (int64_t m0 = 0; m0 < a.m; m0 += kRows) body(lo, hi, m0, std::min<int64_t>(a.m, m0 + kRows));
    if (a.bias) {
      for (int64_t mm = 0; mm < a.m; ++mm) {
        for (int64_t r = lo; r < hi; ++r) a.y[mm * a.w.n + r] += a.bias[r];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------- scalar
float dot_scalar(const QWeight& w, int64_t r, const float* x) {
  const int64_t k = w.k, G = w.groups(), g = w.bits == 8 ? k : w.group;
  float total = 0.f;
  for (int64_t gi = 0; gi < G; ++gi) {
    const float z = w.zero ? static_cast<float>(w.zero[r * G + gi]) : 0.f;
    const float* xg = x + gi * g;
    float acc = 0.f;
    if (w.bits == 8) {
      const int8_t* q = static_cast<const int8_t*>(w.q) + r * k;
      for (int64_t i = 0; i < k; ++i) acc += (static_cast<float>(q[i]) - z) * xg[i];
      total += acc * static_cast<const float*>(w.scale)[r];
    } else {
      const uint32_t* q = static_cast<const uint32_t*>(w.q) + r * (k / 8) + gi * (g / 8);
      const float off = 8.f + z;
      for (int64_t j = 0; j < g / 8; ++j) {
        const uint32_t word = q[j];
        for (int i = 0; i < 8; ++i) acc += (static_cast<float>((word >> (4 * i)) & 0xf) - off) * xg[8 * j + i];
      }
      total += acc * half_to_float(static_cast<const uint16_t*>(w.scale)[r * G + gi]);
    }
  }
  return total;
}

}  // namespace

void qlinear_scalar(const QLinearArgs& a) {
  for_rows(a, [&](int64_t lo, int64_t hi, int64_t m0, int64_t m1) {
    for (int64_t r = lo; r < hi; ++r) {
      for (int64_t mm = m0; mm < m1; ++mm) a.y[mm * a.w.n + r] = dot_scalar(a.w, r, a.x + mm * a.w.k);
    }
  });
}

#ifdef VL_X86
namespace {

#define VL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c")))
#define VL_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c")))

// ---------------------------------------------------------------------------------------- avx512
template <int MR>
VL_AVX512 void rows_i8_avx512(const QLinearArgs& a, int64_t lo, int64_t hi, int64_t m0) {
  const int64_t k = a.w.k, n = a.w.n;
  for (int64_t r = lo; r < hi; ++r) {
    const int8_t* q = static_cast<const int8_t*>(a.w.q) + r * k;
    const __m512 z = _mm512_set1_ps(a.w.zero ? a.w.zero[r] : 0.f);
    __m512 acc[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm512_setzero_ps();
    for (int64_t i = 0; i < k; i += 16) {
      const __mmask16 mask = k - i >= 16 ? 0xffff : static_cast<__mmask16>((1u << (k - i)) - 1);
      const __m512 wv = _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, q + i))), z);
      for (int m = 0; m < MR; ++m) {
        acc[m] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, a.x + (m0 + m) * k + i), acc[m]);
      }
    }
    const float s = static_cast<const float*>(a.w.scale)[r];
    for (int m = 0; m < MR; ++m) a.y[(m0 + m) * n + r] = _mm512_reduce_add_ps(acc[m]) * s;
  }
}

template <int MR>
VL_AVX512 void rows_i4_avx512(const QLinearArgs& a, int64_t lo, int64_t hi, int64_t m0) {
  const int64_t k = a.w.k, n = a.w.n, g = a.w.group, G = a.w.groups();
  const __m128i nib = _mm_set1_epi8(0x0f);
  for (int64_t r = lo; r < hi; ++r) {
    const uint8_t* q = static_cast<const uint8_t*>(a.w.q) + r * (k / 2);
    const uint16_t* sc = static_cast<const uint16_t*>(a.w.scale) + r * G;
    __m512 acc[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm512_setzero_ps();
    for (int64_t gi = 0; gi < G; ++gi) {
      const float s = _cvtsh_ss(sc[gi]);
      const float off = 8.f + (a.w.zero ? a.w.zero[r * G + gi] : 0.f);
      const __m512 sv = _mm512_set1_ps(s), osv = _mm512_set1_ps(off * s);
      for (int64_t i = gi * g; i < (gi + 1) * g; i += 16) {
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i / 2));
        const __m128i e = _mm_unpacklo_epi8(_mm_and_si128(v, nib), _mm_and_si128(_mm_srli_epi16(v, 4), nib));
        const __m512 wv = _mm512_fmsub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(e)), sv, osv);  // (u - off) s
        for (int m = 0; m < MR; ++m) acc[m] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(a.x + (m0 + m) * k + i), acc[m]);
      }
    }
    for (int m = 0; m < MR; ++m) a.y[(m0 + m) * n + r] = _mm512_reduce_add_ps(acc[m]);
  }
}

// ------------------------------------------------------------------------------------------ vnni
// Activations of one row, quantised in blocks of 32: x ~ xq * xs[block]. Buffers are padded with
// zeros to whole chunks (64 inputs for int8, 128 for int4) so that the kernels never mask them.
struct Act {
  std::vector<int8_t> q;   // int8: xq in order; int4: even inputs, then (at q.data() + half) odd ones
  std::vector<float> lane; // the block scale of each 32-bit lane: 4 inputs (int8) or 8 (int4)
  std::vector<float> gsum; // int4: sum of xq*xs over each weight group; int8: [0] = sum over all
  int64_t half = 0;
};

constexpr int64_t kBlock = 32;

VL_VNNI void quantize_act(const float* x, int64_t k, int bits, int64_t group, Act* act) {
  const int64_t chunk = bits == 8 ? 64 : 128, kp = (k + chunk - 1) / chunk * chunk;
  std::vector<int8_t> xq(kp, 0);
  std::vector<float> xs(kp / kBlock, 0.f);
  for (int64_t b = 0; b * kBlock < k; ++b) {
    const int64_t b0 = b * kBlock, len = std::min(kBlock, k - b0);
    float amax = 0.f;
    for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[b0 + i]));
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    xs[b] = amax / 127.f;
    for (int64_t i = 0; i < len; ++i) {
      xq[b0 + i] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, std::nearbyint(x[b0 + i] * inv))));
    }
  }
  const int64_t per_lane = bits == 8 ? 4 : 8;
  act->lane.resize(kp / per_lane);
  for (size_t l = 0; l < act->lane.size(); ++l) act->lane[l] = xs[l * per_lane / kBlock];
  auto block_sum = [&](int64_t b) {
    int s = 0;
    for (int64_t i = 0; i < kBlock; ++i) s += xq[b * kBlock + i];
    return static_cast<float>(s) * xs[b];
  };
  if (bits == 8) {
    float c = 0.f;
    for (int64_t b = 0; b < kp / kBlock; ++b) c += block_sum(b);
    act->gsum.assign(1, c);
    act->q = std::move(xq);
    return;
  }
  act->half = kp / 2;
  act->q.assign(kp, 0);
  for (int64_t j = 0; j < kp / 2; ++j) {
    act->q[j] = xq[2 * j];
    act->q[act->half + j] = xq[2 * j + 1];
  }
  const int64_t G = k / group;
  act->gsum.assign(G, 0.f);
  for (int64_t b = 0; b < k / kBlock; ++b) act->gsum[b * kBlock / group] += block_sum(b);
}

template <int MR>
VL_VNNI void rows_i8_vnni(const QLinearArgs& a, const Act* act, int64_t lo, int64_t hi, int64_t m0) {
  const int64_t k = a.w.k, n = a.w.n;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t r = lo; r < hi; ++r) {
    const int8_t* q = static_cast<const int8_t*>(a.w.q) + r * k;
    __m512 tot[MR];
    for (int m = 0; m < MR; ++m) tot[m] = _mm512_setzero_ps();
    for (int64_t i = 0; i < k; i += 64) {
      const __mmask64 mask = k - i >= 64 ? ~0ull : (1ull << (k - i)) - 1;
      const __m512i wv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, q + i), flip);  // q + 128
      for (int m = 0; m < MR; ++m) {
        const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, _mm512_loadu_si512(act[m].q.data() + i));
        tot[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_loadu_ps(act[m].lane.data() + i / 4), tot[m]);
      }
    }
    const float s = static_cast<const float*>(a.w.scale)[r];
    const float off = 128.f + (a.w.zero ? a.w.zero[r] : 0.f);
    for (int m = 0; m < MR; ++m) {
      a.y[(m0 + m) * n + r] = s * (_mm512_reduce_add_ps(tot[m]) - off * act[m].gsum[0]);
    }
  }
}

// One 128-input chunk of one weight row against MR activation rows: lane L covers inputs 8L..8L+7,
// nibble bytes split into even and odd inputs to meet the activations' even/odd halves.
template <int MR>
VL_VNNI inline void chunk_i4_vnni(__m512i v, __m512 ws, const Act* act, int64_t e0, __m512* tot) {
  const __m512i nib = _mm512_set1_epi8(0x0f);
  const __m512i even = _mm512_and_si512(v, nib), odd = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
  for (int m = 0; m < MR; ++m) {
    const int8_t* xq = act[m].q.data() + e0 / 2;
    __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), even, _mm512_loadu_si512(xq));
    d = _mm512_dpbusd_epi32(d, odd, _mm512_loadu_si512(xq + act[m].half));
    const __m512 ls = _mm512_mul_ps(ws, _mm512_loadu_ps(act[m].lane.data() + e0 / 8));
    tot[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), ls, tot[m]);
  }
}

// The weight scale of each lane of chunk c, from the row's scales as float.
template <int GPC>
VL_VNNI inline __m512 chunk_scales(const float* sf, int64_t c, __m512i sidx) {
  if (GPC == 1) return _mm512_set1_ps(sf[c]);
  return _mm512_permutexvar_ps(sidx, _mm512_castps128_ps512(_mm_loadu_ps(sf + c * GPC)));
}

// GPC = weight groups per 128-input chunk (4, 2, 1 for groups of 32, 64, 128).
template <int MR, int GPC>
VL_VNNI void rows_i4_vnni_g(const QLinearArgs& a, const Act* act, int64_t lo, int64_t hi, int64_t m0) {
  const int64_t k = a.w.k, n = a.w.n, G = a.w.groups(), full = k / 128 * 128;
  alignas(64) int32_t idx_v[16];
  for (int l = 0; l < 16; ++l) idx_v[l] = l * GPC / 16;  // lane L reads the chunk's group 8L/g
  const __m512i sidx = _mm512_load_si512(idx_v);
  std::vector<float> sf(G + 16);                          // the row's scales as float, padded for 4-wide loads
  for (int64_t r = lo; r < hi; ++r) {
    const uint8_t* q = static_cast<const uint8_t*>(a.w.q) + r * (k / 2);
    const uint16_t* sc = static_cast<const uint16_t*>(a.w.scale) + r * G;
    for (int64_t g0 = 0; g0 < G; g0 += 16) {
      const __mmask16 gm = G - g0 >= 16 ? 0xffff : static_cast<__mmask16>((1u << (G - g0)) - 1);
      _mm512_storeu_ps(sf.data() + g0, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(gm, sc + g0)));
    }
    __m512 tot[MR];
    for (int m = 0; m < MR; ++m) tot[m] = _mm512_setzero_ps();
    int64_t e0 = 0;
    for (; e0 < full; e0 += 128) {
      chunk_i4_vnni<MR>(_mm512_loadu_si512(q + e0 / 2), chunk_scales<GPC>(sf.data(), e0 / 128, sidx), act, e0, tot);
    }
    if (e0 < k) {  // k is a multiple of the group: a partial chunk holds whole groups
      const __mmask64 mask = (1ull << ((k - e0) / 2)) - 1;
      chunk_i4_vnni<MR>(_mm512_maskz_loadu_epi8(mask, q + e0 / 2), chunk_scales<GPC>(sf.data(), e0 / 128, sidx), act, e0, tot);
    }
    // sum over groups of s_g (8 + z_g) gsum_g: the nibbles are q + 8, and q - z is what multiplies
    for (int m = 0; m < MR; ++m) {
      __m512 corr = _mm512_setzero_ps();
      for (int64_t g0 = 0; g0 < G; g0 += 16) {
        const __mmask16 gm = G - g0 >= 16 ? 0xffff : static_cast<__mmask16>((1u << (G - g0)) - 1);
        __m512 off = _mm512_set1_ps(8.f);
        if (a.w.zero) {
          off = _mm512_add_ps(off, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(gm, a.w.zero + r * G + g0))));
        }
        const __m512 s = _mm512_maskz_loadu_ps(gm, sf.data() + g0);
        corr = _mm512_fmadd_ps(_mm512_mul_ps(s, off), _mm512_maskz_loadu_ps(gm, act[m].gsum.data() + g0), corr);
      }
      a.y[(m0 + m) * n + r] = _mm512_reduce_add_ps(_mm512_sub_ps(tot[m], corr));
    }
  }
}

template <int MR>
VL_VNNI void rows_i4_vnni(const QLinearArgs& a, const Act* act, int64_t lo, int64_t hi, int64_t m0) {
  switch (a.w.group) {
    case 32: rows_i4_vnni_g<MR, 4>(a, act, lo, hi, m0); break;
    case 64: rows_i4_vnni_g<MR, 2>(a, act, lo, hi, m0); break;
    default: rows_i4_vnni_g<MR, 1>(a, act, lo, hi, m0); break;
  }
}

// Calls K<MR>::run for MR = m1 - m0 (1..kRows).
#define VL_DISPATCH_ROWS(fn, mr, ...)        \
  switch (mr) {                             \
    case 1: fn<1>(__VA_ARGS__); break;      \
    case 2: fn<2>(__VA_ARGS__); break;      \
    case 3: fn<3>(__VA_ARGS__); break;      \
    case 4: fn<4>(__VA_ARGS__); break;      \
    case 5: fn<5>(__VA_ARGS__); break;      \
    case 6: fn<6>(__VA_ARGS__); break;      \
    case 7: fn<7>(__VA_ARGS__); break;      \
    default: fn<8>(__VA_ARGS__); break;     \
  }

}  // namespace

void qlinear_avx512(const QLinearArgs& a) {
  for_rows(a, [&](int64_t lo, int64_t hi, int64_t m0, int64_t m1) {
    if (a.w.bits == 8) {
      VL_DISPATCH_ROWS(rows_i8_avx512, m1 - m0, a, lo, hi, m0)
    } else {
      VL_DISPATCH_ROWS(rows_i4_avx512, m1 - m0, a, lo, hi, m0)
    }
  });
}

void qlinear_vnni(const QLinearArgs& a) {
  std::vector<Act> acts(a.m);
  torch::stable::parallel_for(0, a.m, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t mm = lo; mm < hi; ++mm) quantize_act(a.x + mm * a.w.k, a.w.k, a.w.bits, a.w.group, &acts[mm]);
  });
  for_rows(a, [&](int64_t lo, int64_t hi, int64_t m0, int64_t m1) {
    if (a.w.bits == 8) {
      VL_DISPATCH_ROWS(rows_i8_vnni, m1 - m0, a, acts.data() + m0, lo, hi, m0)
    } else {
      VL_DISPATCH_ROWS(rows_i4_vnni, m1 - m0, a, acts.data() + m0, lo, hi, m0)
    }
  });
}

#else  // not x86: the paths are never reported available

void qlinear_avx512(const QLinearArgs& a) { qlinear_scalar(a); }
void qlinear_vnni(const QLinearArgs& a) { qlinear_scalar(a); }

#endif

}  // namespace vl

// AMX-BF16 GEMM for weight-only quantised layers (prefill and the no-grad training forward):
//   y (m, n) = x (m, k) W^T,  W dequantised 32 rows at a time into bf16 tiles that stay in L2.
//
// The tiles compute C += A B with A (16 x 32 bf16) row-major and B (16 x 16 pairs of bf16) holding
// k-pairs in rows. W's rows are already A-tiles once dequantised, so the kernel computes the
// transposed product C^T (n, m) = W x^T: A = 16 weight rows, B = 16 activation rows packed into
// k-pairs once per call, C = 16 outputs x 16 activation rows, written back transposed. Tiles:
// tmm0-3 accumulate a 32 x 32 output block, tmm4-5 hold two weight tiles, tmm6-7 two activation tiles.
// int8 weights are dequantised as the exact integers q - z (|q - z| <= 255 fits bf16's 8-bit
// significand) and their per-row scale applied to the float32 result; int4 groups are scaled
// (and so rounded to bf16) in the tile.
#include <torch/csrc/stable/ops.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "cpu_features.h"
#include "quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized flags at every
// inlined call site; the values are always overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace vl {
namespace {

#define VL_AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16,f16c")))

constexpr int64_t kTile = 16, kChunk = 32, kTileBytes = 1024;

struct alignas(64) TileConfig {
  uint8_t palette_id = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

VL_AMX void configure_tiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = kTile;
    cfg.colsb[t] = 64;
  }
  // GCC 12 models ldtilecfg as reading only the config's first bytes and drops the stores above once
  // this is inlined (the tiles then fault with SIGILL): make the whole struct visibly used.
  __asm__ volatile("" : : "m"(cfg) : "memory");
  _tile_loadconfig(&cfg);
}

// x rows [16 mb, 16 mb + 16) x inputs [32 kc, 32 kc + 32) as a B tile: row p holds, for each of the
// 16 activation rows, the bf16 pair (x[.][32kc + 2p], x[.][32kc + 2p + 1]). Missing rows/inputs are 0.
VL_AMX void pack_x_tile(const float* xf, const uint16_t* xb, int64_t m, int64_t k, int64_t mb, int64_t kc,
                        uint8_t* dst) {
  alignas(64) uint32_t rows[kTile][kTile];  // rows[j][p]: activation row j, k-pair p
  const int64_t k0 = kc * kChunk, len = std::min<int64_t>(kChunk, k - k0);
  const __mmask32 m32 = len >= 32 ? ~0u : (1u << len) - 1;
  for (int64_t j = 0; j < kTile; ++j) {
    const int64_t r = mb * kTile + j;
    __m512i v = _mm512_setzero_si512();
    if (r < m) {
      if (xf) {
        const float* p = xf + r * k + k0;
        const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m32), p);
        const __m512 hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m32 >> 16), p + 16);
        v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
      } else {
        v = _mm512_maskz_loadu_epi16(m32, xb + r * k + k0);
      }
    }
    _mm512_store_si512(rows[j], v);
  }
  const __m512i idx = _mm512_set_epi32(15 * 16, 14 * 16, 13 * 16, 12 * 16, 11 * 16, 10 * 16, 9 * 16, 8 * 16,
                                       7 * 16, 6 * 16, 5 * 16, 4 * 16, 3 * 16, 2 * 16, 16, 0);
  for (int64_t p = 0; p < kTile; ++p) {
    _mm512_store_si512(dst + p * 64, _mm512_i32gather_epi32(idx, &rows[0][p], 4));
  }
}

// Weight rows [n0, n0 + 32) dequantised into two A tiles per chunk: tiles[(t * chunks + kc)].
VL_AMX void dequant_block(const QWeight& w, int64_t n0, int64_t chunks, uint8_t* tiles) {
  const int64_t k = w.k, G = w.groups();
  const __m128i nib = _mm_set1_epi8(0x0f);
  for (int64_t i = 0; i < 2 * kTile; ++i) {
    const int64_t r = n0 + i, t = i / kTile, row = i % kTile;
    for (int64_t kc = 0; kc < chunks; ++kc) {
      uint8_t* dst = tiles + (t * chunks + kc) * kTileBytes + row * 64;
      const int64_t k0 = kc * kChunk, len = std::min<int64_t>(kChunk, k - k0);
      if (r >= w.n) {
        _mm512_store_si512(dst, _mm512_setzero_si512());
        continue;
      }
      __m512 lo, hi;
      if (w.bits == 8) {
        const __mmask32 m32 = len >= 32 ? ~0u : (1u << len) - 1;
        const __m256i q = _mm256_maskz_loadu_epi8(m32, static_cast<const int8_t*>(w.q) + r * k + k0);
        const __m512 z = _mm512_set1_ps(w.zero ? w.zero[r] : 0.f);
        lo = _mm512_maskz_sub_ps(static_cast<__mmask16>(m32), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))), z);
        hi = _mm512_maskz_sub_ps(static_cast<__mmask16>(m32 >> 16),
                                 _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))), z);
      } else {  // k is a multiple of the group, itself a multiple of 32: whole chunks, one group each
        const int64_t gi = k0 / w.group;
        const float s = _cvtsh_ss(static_cast<const uint16_t*>(w.scale)[r * G + gi]);
        const float off = 8.f + (w.zero ? w.zero[r * G + gi] : 0.f);
        const __m512 sv = _mm512_set1_ps(s), osv = _mm512_set1_ps(off * s);
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(w.q) + r * (k / 2) + k0 / 2));
        const __m128i ev = _mm_and_si128(v, nib), od = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
        lo = _mm512_fmsub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(ev, od))), sv, osv);
        hi = _mm512_fmsub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(ev, od))), sv, osv);
      }
      _mm512_store_si512(dst, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
  }
}

// Weight rows are dequantised `per` 32-row blocks at a time (as many as fit in about 1.5 MB of L2), and
// each pair of activation tiles is then used against all of them: the packed activations, which for 512
// rows outgrow L2, stream from L3 once per `per` blocks instead of once per block.
// wt0: this thread's 64-byte aligned buffer for `per` dequantised blocks; tiles already configured.
VL_AMX void gemm_blocks(const QLinearArgs& a, const uint8_t* xp, int64_t mblocks, int64_t chunks, int64_t sb_lo,
                        int64_t sb_hi, int64_t per, uint8_t* wt0) {
  alignas(64) float c[4][kTile][kTile];
  const int64_t n = a.w.n, nblocks = (n + 2 * kTile - 1) / (2 * kTile);
  for (int64_t sb = sb_lo; sb < sb_hi; ++sb) {
    const int64_t nb0 = sb * per, nb1 = std::min(nblocks, nb0 + per);
    for (int64_t nb = nb0; nb < nb1; ++nb) dequant_block(a.w, nb * 2 * kTile, chunks, wt0 + (nb - nb0) * 2 * chunks * kTileBytes);
    for (int64_t mb = 0; mb < mblocks; mb += 2) {
      const uint8_t* b0 = xp + mb * chunks * kTileBytes;
      const uint8_t* b1 = b0 + chunks * kTileBytes;
      for (int64_t nb = nb0; nb < nb1; ++nb) {
        const int64_t n0 = nb * 2 * kTile;
        const uint8_t* wt = wt0 + (nb - nb0) * 2 * chunks * kTileBytes;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int64_t kc = 0; kc < chunks; ++kc) {
          _tile_loadd(4, wt + kc * kTileBytes, 64);
          _tile_loadd(5, wt + (chunks + kc) * kTileBytes, 64);
          _tile_loadd(6, b0 + kc * kTileBytes, 64);
          _tile_loadd(7, b1 + kc * kTileBytes, 64);
          _tile_dpbf16ps(0, 4, 6);
          _tile_dpbf16ps(1, 4, 7);
          _tile_dpbf16ps(2, 5, 6);
          _tile_dpbf16ps(3, 5, 7);
        }
        _tile_stored(0, c[0], 64);
        _tile_stored(1, c[1], 64);
        _tile_stored(2, c[2], 64);
        _tile_stored(3, c[3], 64);
        for (int t = 0; t < 4; ++t) {  // tile t: weight rows n0 + 16 (t / 2), activation rows 16 (mb + t % 2)
          const int64_t r0 = n0 + (t / 2) * kTile, m0 = (mb + t % 2) * kTile;
          for (int64_t j = 0; j < kTile && m0 + j < a.m; ++j) {
            float* yrow = a.y + (m0 + j) * n;
            for (int64_t i = 0; i < kTile && r0 + i < n; ++i) {
              float v = c[t][i][j];
              if (a.w.bits == 8) v *= static_cast<const float*>(a.w.scale)[r0 + i];
              if (a.bias) v += a.bias[r0 + i];
              yrow[r0 + i] = v;
            }
          }
        }
      }
    }
  }
}

// One thread's state: its weight-tile buffer; tiles configured on creation and released when it goes.
struct AmxThread {
  std::vector<uint8_t> raw;
  uint8_t* wt;
  VL_AMX explicit AmxThread(size_t bytes) : raw(bytes + 64) {
    wt = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(raw.data()) + 63) & ~uintptr_t(63));
    configure_tiles();
  }
  VL_AMX ~AmxThread() { _tile_release(); }
  AmxThread(const AmxThread&) = delete;
  AmxThread& operator=(const AmxThread&) = delete;
};

}  // namespace

void qgemm_amx(const QLinearArgs& a, const uint16_t* x_bf16) {
  if (!cpu_features().amx_bf16) throw std::runtime_error("AMX-BF16 is not usable on this CPU");  // also asks the OS
  const int64_t mblocks = (a.m + 2 * kTile - 1) / (2 * kTile) * 2;  // even: tiles go in pairs
  const int64_t chunks = (a.w.k + kChunk - 1) / kChunk;
  std::vector<uint8_t> raw(mblocks * chunks * kTileBytes + 64);
  uint8_t* xp = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(raw.data()) + 63) & ~uintptr_t(63));
  torch::stable::parallel_for(0, mblocks * chunks, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      pack_x_tile(a.x, x_bf16, a.m, a.w.k, i / chunks, i % chunks, xp + i * kTileBytes);
    }
  });
  const int64_t nblocks = (a.w.n + 2 * kTile - 1) / (2 * kTile);
  const int64_t per = std::max<int64_t>(1, (int64_t{3} << 19) / (2 * chunks * kTileBytes));  // ~1.5 MB of bf16 rows
  const int64_t sblocks = (nblocks + per - 1) / per;
  const size_t wbytes = per * 2 * chunks * kTileBytes;
  parallel_blocks(sblocks, 1, [&] { return std::make_unique<AmxThread>(wbytes); },
                  [&](std::unique_ptr<AmxThread>& t, int64_t lo, int64_t hi) {
                    gemm_blocks(a, xp, mblocks, chunks, lo, hi, per, t->wt);
                  });
}

}  // namespace vl

#else

namespace vl {
void qgemm_amx(const QLinearArgs& a, const uint16_t*) { qlinear_scalar(a); }
}  // namespace vl

#endif

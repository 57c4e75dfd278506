// Quantise dense rows into the layout of quant.h, and dequantise them back. Portable C++; the
// caller splits rows over threads. The rounding rules follow compressed-tensors' min-max observer:
//   symmetric  int8: s = max|w| / 127,  q = round(w / s)            in [-127, 127]
//              int4: s = max|w| / 7.5,  q = round(w / s)            in [-8, 7]
//   asymmetric      : range widened to include 0, s = (max - min) / (2^bits - 1),
//                     z = round(qmin - min / s), q = round(w / s) + z, clamped to [qmin, qmax]
// int4 scales are rounded to float16 before q is computed, so that q matches the stored scale.
// An all-zero row or group gets s = 1 (its q are all 0), so that every stored scale is positive.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "quant.h"

namespace vl {

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400u));
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return sign | 0x7e00u;                // NaN
  if (u >= 0x477ff000u) return sign | 0x7c00u;               // rounds to inf
  if (u < 0x38800000u) {                                     // subnormal or zero in half
    if (u < 0x33000000u) return sign;                        // below half the smallest subnormal
    const uint32_t man = (u & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(u >> 23);      // 14 .. 24
    const uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    return sign | static_cast<uint16_t>(half + (rem > mid || (rem == mid && (half & 1u))));
  }
  const uint32_t r = u + 0xfffu + ((u >> 13) & 1u);          // round to nearest even at bit 13
  return sign | static_cast<uint16_t>(((r >> 23) - 127 + 15) << 10 | ((r >> 13) & 0x3ffu));
}

namespace {

void load_row(const void* dense, InType type, int64_t k, int64_t r, float* out) {
  const int64_t off = r * k;
  switch (type) {
    case InType::F32: std::memcpy(out, static_cast<const float*>(dense) + off, k * sizeof(float)); break;
    case InType::BF16: {
      const uint16_t* p = static_cast<const uint16_t*>(dense) + off;
      for (int64_t i = 0; i < k; ++i) out[i] = bf16_to_float(p[i]);
      break;
    }
    case InType::F16: {
      const uint16_t* p = static_cast<const uint16_t*>(dense) + off;
      for (int64_t i = 0; i < k; ++i) out[i] = half_to_float(p[i]);
      break;
    }
  }
}

struct Range {
  float lo, hi;
};
Range range_of(const float* v, int64_t len) {
  Range r{0.f, 0.f};  // includes 0, as the asymmetric rule wants; harmless for |max|
  for (int64_t i = 0; i < len; ++i) {
    r.lo = std::min(r.lo, v[i]);
    r.hi = std::max(r.hi, v[i]);
  }
  return r;
}

int clampi(float v, int lo, int hi) { return static_cast<int>(std::min<float>(hi, std::max<float>(lo, v))); }

// One scale (and zero) for v[0..len): returns the scale actually stored.
float choose(const float* v, int64_t len, int bits, bool symmetric, int* zero) {
  const Range r = range_of(v, len);
  const float qmax = bits == 8 ? 127.f : 7.f, levels = bits == 8 ? 255.f : 15.f;
  float s = symmetric ? std::max(-r.lo, r.hi) / (bits == 8 ? 127.f : 7.5f) : (r.hi - r.lo) / levels;
  if (!(s > 0.f)) s = 1.f;
  if (bits == 4) {
    uint16_t h = float_to_half(s);
    if ((h & 0x7fffu) == 0) h = 1;            // smallest subnormal rather than 0
    if ((h & 0x7fffu) >= 0x7c00u) h = 0x7bffu;  // largest finite rather than inf
    s = half_to_float(h);
  }
  *zero = symmetric ? 0 : clampi(std::nearbyint(-(qmax + 1.f) - r.lo / s), -static_cast<int>(qmax) - 1,
                                 static_cast<int>(qmax));
  return s;
}

}  // namespace

void quantize_rows(const void* dense, InType type, const QWeight& w, bool symmetric, int64_t n0, int64_t n1) {
  const int64_t k = w.k, G = w.groups(), g = w.bits == 8 ? k : w.group;
  std::vector<float> row(k);
  int8_t* zero = const_cast<int8_t*>(w.zero);
  for (int64_t r = n0; r < n1; ++r) {
    load_row(dense, type, k, r, row.data());
    for (int64_t gi = 0; gi < G; ++gi) {
      const float* v = row.data() + gi * g;
      int z = 0;
      const float s = choose(v, g, w.bits, symmetric, &z);
      if (zero) zero[r * G + gi] = static_cast<int8_t>(z);
      if (w.bits == 8) {
        static_cast<float*>(const_cast<void*>(w.scale))[r] = s;
        int8_t* q = static_cast<int8_t*>(const_cast<void*>(w.q)) + r * k;
        const int lo = symmetric ? -127 : -128;
        for (int64_t i = 0; i < g; ++i) q[i] = static_cast<int8_t>(clampi(std::nearbyint(v[i] / s) + z, lo, 127));
      } else {
        static_cast<uint16_t*>(const_cast<void*>(w.scale))[r * G + gi] = float_to_half(s);
        uint32_t* q = static_cast<uint32_t*>(const_cast<void*>(w.q)) + r * (k / 8) + gi * (g / 8);
        for (int64_t j = 0; j < g / 8; ++j) {
          uint32_t word = 0;
          for (int i = 0; i < 8; ++i) {
            const int qi = clampi(std::nearbyint(v[8 * j + i] / s) + z, -8, 7);
            word |= static_cast<uint32_t>(qi + 8) << (4 * i);
          }
          q[j] = word;
        }
      }
    }
  }
}

void dequantize_rows(const QWeight& w, int64_t n0, int64_t n1, void* out, OutType type) {
  if (type != OutType::F16 && quant_active_path() >= kPathAvx512) {  // forcing "scalar" tests the portable loop
    dequantize_rows_avx512(w, n0, n1, out, type);
    return;
  }
  const int64_t k = w.k, G = w.groups(), g = w.bits == 8 ? k : w.group;
  std::vector<float> row(k);
  for (int64_t r = n0; r < n1; ++r) {
    for (int64_t gi = 0; gi < G; ++gi) {
      const float z = w.zero ? static_cast<float>(w.zero[r * G + gi]) : 0.f;
      float* v = row.data() + gi * g;
      if (w.bits == 8) {
        const float s = static_cast<const float*>(w.scale)[r];
        const int8_t* q = static_cast<const int8_t*>(w.q) + r * k;
        for (int64_t i = 0; i < g; ++i) v[i] = (static_cast<float>(q[i]) - z) * s;
      } else {
        const float s = half_to_float(static_cast<const uint16_t*>(w.scale)[r * G + gi]);
        const uint32_t* q = static_cast<const uint32_t*>(w.q) + r * (k / 8) + gi * (g / 8);
        for (int64_t i = 0; i < g; ++i) {
          const int u = (q[i / 8] >> (4 * (i % 8))) & 0xf;
          v[i] = (static_cast<float>(u - 8) - z) * s;
        }
      }
    }
    const int64_t o = (r - n0) * k;
    switch (type) {
      case OutType::F32: std::memcpy(static_cast<float*>(out) + o, row.data(), k * sizeof(float)); break;
      case OutType::BF16:
        for (int64_t i = 0; i < k; ++i) static_cast<uint16_t*>(out)[o + i] = float_to_bf16(row[i]);
        break;
      case OutType::F16:
        for (int64_t i = 0; i < k; ++i) static_cast<uint16_t*>(out)[o + i] = float_to_half(row[i]);
        break;
    }
  }
}

}  // namespace vl

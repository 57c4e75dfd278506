// Entry points of the weight-only quantisation ops (vl_quantize, vl_dequantize, vl_quant_linear) and
// the run-time choice of kernel path (see quant.h). No op here records an autograd graph: the
// differentiable path is dequantise + linear, composed by the Java facade.
#include <atomic>
#include <stdexcept>
#include <string>

#include "common.h"
#include "cpu_features.h"
#include "quant.h"
#include "vladapt.h"

namespace vl {

bool quant_path_available(int path) {
  const CpuFeatures& f = cpu_features();
  switch (path) {
    case kPathScalar: return true;
    case kPathAvx512: return f.avx512;
    case kPathVnni: return f.avx512_vnni;
    case kPathAmx: return f.avx512_vnni && f.amx_bf16;
    default: return false;
  }
}

int quant_best_path() {
  for (int p = kPathAmx; p > kPathScalar; --p) {
    if (quant_path_available(p)) return p;
  }
  return kPathScalar;
}

namespace {
std::atomic<int> forced_path{kPathAuto};

const char* path_name(int p) {
  switch (p) {
    case kPathScalar: return "scalar";
    case kPathAvx512: return "avx512";
    case kPathVnni: return "vnni";
    case kPathAmx: return "amx";
    default: return "auto";
  }
}
}  // namespace

int quant_active_path() {
  const int p = forced_path.load();
  return p == kPathAuto ? quant_best_path() : p;
}

void quant_force_path(int path) {
  if (path != kPathAuto && !quant_path_available(path)) {
    throw std::invalid_argument(std::string("kernel path ") + path_name(path) + " is not available on this CPU");
  }
  forced_path.store(path);
}

namespace {

std::string shape_of(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void expect(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// The quantised weight's tensors, checked and made contiguous; they must outlive the QWeight.
struct Quantized {
  Tensor q, scale;
  std::optional<Tensor> zero;
  QWeight w;
};

Quantized quantized(void* q_, void* scale_, void* zero_, int64_t bits, int64_t group) {
  expect(bits == 8 || bits == 4, "bits must be 8 or 4, got " + std::to_string(bits));
  Quantized r{contiguous(borrow(q_, "q")), contiguous(borrow(scale_, "scale")), std::nullopt, {}};
  if (zero_ != nullptr) r.zero = contiguous(borrow(zero_, "zero"));
  QWeight& w = r.w;
  w.bits = static_cast<int>(bits);
  expect(r.q.dim() == 2 && r.q.is_cpu(), "q must be a 2-D CPU tensor, got " + shape_of(r.q));
  w.n = r.q.size(0);
  if (bits == 8) {
    expect(r.q.scalar_type() == ScalarType::Char, "int8 q must have dtype int8");
    w.k = r.q.size(1);
    w.group = w.k;
    expect(r.scale.scalar_type() == ScalarType::Float && r.scale.numel() == w.n,
           "int8 scale must be float32 with one value per output row (" + std::to_string(w.n) + "), got " +
               shape_of(r.scale));
  } else {
    expect(r.q.scalar_type() == ScalarType::Int, "int4 q must hold int32 words");
    w.k = 8 * r.q.size(1);
    w.group = group;
    expect(group > 0 && group % 32 == 0 && group <= 128 && 128 % group == 0,
           "int4 group must be 32, 64 or 128, got " + std::to_string(group));
    expect(w.k % group == 0, "group " + std::to_string(group) + " does not divide in_features " + std::to_string(w.k));
    expect(r.scale.scalar_type() == ScalarType::Half && r.scale.dim() == 2 && r.scale.size(0) == w.n &&
               r.scale.size(1) == w.k / group,
           "int4 scale must be float16 (" + std::to_string(w.n) + ", " + std::to_string(w.k / group) + "), got " +
               shape_of(r.scale));
  }
  if (r.zero) {
    expect(r.zero->scalar_type() == ScalarType::Char && r.zero->numel() == w.n * w.groups(),
           "zero must be int8 with one value per scale, got " + shape_of(*r.zero));
    w.zero = static_cast<const int8_t*>(r.zero->data_ptr());
  }
  w.q = r.q.data_ptr();
  w.scale = r.scale.data_ptr();
  return r;
}

int64_t rows_grain(int64_t k) { return std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, k)); }

OutType out_type(ScalarType t) {
  if (t == ScalarType::Float) return OutType::F32;
  if (t == ScalarType::BFloat16) return OutType::BF16;
  if (t == ScalarType::Half) return OutType::F16;
  throw std::invalid_argument("dequantised weights can be float32, bfloat16 or float16");
}

Tensor dequantize(const Tensor& like, const QWeight& w, int64_t n0, int64_t n1, ScalarType t) {
  Tensor out = torch::stable::new_empty(like, {n1 - n0, w.k}, t);
  const OutType ot = out_type(t);
  const size_t esize = t == ScalarType::Float ? 4 : 2;
  char* base = static_cast<char*>(out.data_ptr());
  torch::stable::parallel_for(n0, n1, rows_grain(w.k), [&](int64_t lo, int64_t hi) {
    dequantize_rows(w, lo, hi, base + (lo - n0) * w.k * esize, ot);
  });
  return out;
}

// More than kGemvRows rows without AMX: dequantise blocks of rows and let aten::linear (oneDNN or
// OpenBLAS) multiply them in x's dtype.
Tensor linear_by_blocks(const Tensor& x2, const QWeight& w, const std::optional<Tensor>& bias) {
  const int64_t block = std::max<int64_t>(64, (int64_t{1} << 22) / std::max<int64_t>(1, w.k)) / 16 * 16;
  std::vector<Tensor> parts;
  for (int64_t n0 = 0; n0 < w.n; n0 += block) {
    const int64_t n1 = std::min(w.n, n0 + block);
    Tensor wd = dequantize(x2, w, n0, n1, x2.scalar_type());            // (rows, k)
    std::optional<Tensor> b;
    if (bias) {
      Tensor all = *bias;
      b = narrow(all, 0, n0, n1 - n0);
    }
    parts.push_back(linear(x2, wd, b));                                  // (m, rows)
  }
  return parts.size() == 1 ? parts[0] : cat(parts, 1);                   // (m, n)
}

}  // namespace
}  // namespace vl

using namespace vl;

extern "C" void vl_quantize(vl_tensor out_q, vl_tensor out_scale, vl_tensor out_zero, vl_tensor w_, int64_t bits,
                            int64_t group, int symmetric) {
  VL_OP("vl_quantize", {
    NoGradGuard no_grad;
    Tensor dense = contiguous(borrow(w_, "w"));
    expect(dense.dim() == 2 && dense.is_cpu(), "w must be a 2-D CPU tensor, got " + shape_of(dense));
    const ScalarType t = dense.scalar_type();
    expect(t == ScalarType::Float || t == ScalarType::BFloat16 || t == ScalarType::Half,
           "w must be float32, bfloat16 or float16");
    expect(bits == 8 || bits == 4, "bits must be 8 or 4, got " + std::to_string(bits));
    const int64_t n = dense.size(0), k = dense.size(1);
    QWeight w;
    w.bits = static_cast<int>(bits);
    w.n = n;
    w.k = k;
    w.group = bits == 8 ? k : group;
    if (bits == 4) {
      expect(group > 0 && group % 32 == 0 && group <= 128 && 128 % group == 0,
             "int4 group must be 32, 64 or 128, got " + std::to_string(group));
      expect(k % group == 0, "group " + std::to_string(group) + " does not divide in_features " + std::to_string(k));
    }
    Tensor q = bits == 8 ? torch::stable::new_empty(dense, {n, k}, ScalarType::Char)
                         : torch::stable::new_empty(dense, {n, k / 8}, ScalarType::Int);
    Tensor scale = bits == 8 ? torch::stable::new_empty(dense, {n}, ScalarType::Float)
                             : torch::stable::new_empty(dense, {n, k / group}, ScalarType::Half);
    std::optional<Tensor> zero;
    if (!symmetric) {
      zero = bits == 8 ? torch::stable::new_empty(dense, {n}, ScalarType::Char)
                       : torch::stable::new_empty(dense, {n, k / group}, ScalarType::Char);
      w.zero = static_cast<const int8_t*>(zero->data_ptr());
    }
    w.q = q.data_ptr();
    w.scale = scale.data_ptr();
    const InType in = t == ScalarType::Float ? InType::F32 : t == ScalarType::BFloat16 ? InType::BF16 : InType::F16;
    const void* src = dense.data_ptr();
    torch::stable::parallel_for(0, n, rows_grain(k), [&](int64_t lo, int64_t hi) {
      quantize_rows(src, in, w, symmetric != 0, lo, hi);
    });
    give(out_q, q, "q");
    give(out_scale, scale, "scale");
    if (zero) give(out_zero, *zero, "zero");
  })
}

extern "C" void vl_dequantize(vl_tensor out, vl_tensor q_, vl_tensor scale_, vl_tensor zero_, int64_t bits,
                              int64_t group, int dtype) {
  VL_OP("vl_dequantize", {
    NoGradGuard no_grad;
    Quantized qw = quantized(q_, scale_, zero_, bits, group);
    const ScalarType t = dtype == 1 ? ScalarType::BFloat16 : dtype == 2 ? ScalarType::Half : ScalarType::Float;
    give(out, dequantize(qw.q, qw.w, 0, qw.w.n, t), "out");
  })
}

extern "C" void vl_quant_linear(vl_tensor out, vl_tensor x_, vl_tensor q_, vl_tensor scale_, vl_tensor zero_,
                                vl_tensor bias_, int64_t bits, int64_t group) {
  VL_OP("vl_quant_linear", {
    NoGradGuard no_grad;
    Quantized qw = quantized(q_, scale_, zero_, bits, group);
    const QWeight& w = qw.w;
    Tensor x = borrow(x_, "x");
    const ScalarType t = x.scalar_type();
    expect(x.is_cpu() && x.dim() >= 1 && x.size(x.dim() - 1) == w.k,
           "x must be a CPU tensor (..., " + std::to_string(w.k) + "), got " + shape_of(x));
    expect(t == ScalarType::Float || t == ScalarType::BFloat16 || t == ScalarType::Half,
           "x must be float32, bfloat16 or float16");
    Shape out_shape;
    for (int64_t i = 0; i + 1 < x.dim(); ++i) out_shape.push_back(x.size(i));
    out_shape.push_back(w.n);
    Tensor x2 = contiguous(reshape(x, {-1, w.k}));                       // (m, k)
    const int64_t m = x2.size(0);
    std::optional<Tensor> bias;
    if (bias_ != nullptr) {
      bias = contiguous(borrow(bias_, "bias"));
      expect(bias->numel() == w.n, "bias must have " + std::to_string(w.n) + " values, got " + shape_of(*bias));
    }
    const int path = quant_active_path();
    if (m > kGemvRows && path != kPathAmx) {
      if (bias) bias = to_dtype(*bias, t);
      give(out, reshape(linear_by_blocks(x2, w, bias), out_shape), "out");
      return;
    }
    Tensor y = torch::stable::new_empty(x2, {m, w.n}, ScalarType::Float);  // (m, n)
    std::optional<Tensor> bias32;
    if (bias) bias32 = contiguous(to_dtype(*bias, ScalarType::Float));
    QLinearArgs a;
    a.w = w;
    a.y = static_cast<float*>(y.data_ptr());
    a.bias = bias32 ? static_cast<const float*>(bias32->data_ptr()) : nullptr;
    a.m = m;
    std::optional<Tensor> x32;
    if (m > kGemvRows) {  // AMX reads float32 or bf16 as they are
      if (t == ScalarType::BFloat16) {
        qgemm_amx(a, static_cast<const uint16_t*>(x2.data_ptr()));
      } else {
        x32 = t == ScalarType::Float ? x2 : contiguous(to_dtype(x2, ScalarType::Float));
        a.x = static_cast<const float*>(x32->data_ptr());
        qgemm_amx(a, nullptr);
      }
    } else {
      x32 = t == ScalarType::Float ? x2 : contiguous(to_dtype(x2, ScalarType::Float));
      a.x = static_cast<const float*>(x32->data_ptr());
      switch (path) {
        case kPathAvx512: qlinear_avx512(a); break;
        case kPathVnni:
        case kPathAmx: qlinear_vnni(a); break;
        default: qlinear_scalar(a);
      }
    }
    Tensor result = t == ScalarType::Float ? y : to_dtype(y, t);
    give(out, reshape(result, out_shape), "out");
  })
}

extern "C" int64_t vl_stream_read(vl_tensor t_) {
  int64_t result = 0;
  VL_OP("vl_stream_read", {
    Tensor t = borrow(t_, "t");
    expect(t.is_cpu() && t.is_contiguous(), "t must be a contiguous CPU tensor");
    const uint64_t* p = static_cast<const uint64_t*>(t.data_ptr());
    const int64_t words = t.numel() * static_cast<int64_t>(t.element_size()) / 8;
    std::atomic<uint64_t> total{0};
    // 256 KB blocks handed out like the kernels' rows, so that the bound and the kernels share a schedule
    parallel_blocks(words, 1 << 15, [] { return 0; }, [&](int, int64_t lo, int64_t hi) {
      uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      int64_t i = lo;
      for (; i + 4 <= hi; i += 4) {
        a0 += p[i];
        a1 += p[i + 1];
        a2 += p[i + 2];
        a3 += p[i + 3];
      }
      for (; i < hi; ++i) a0 += p[i];
      total += a0 + a1 + a2 + a3;
    });
    result = static_cast<int64_t>(total.load());
  })
  return result;
}

extern "C" int vl_quant_path(int request) {
  if (request < 0) return quant_active_path();
  if (request != kPathAuto && !quant_path_available(request)) return -1;
  quant_force_path(request);
  return quant_active_path();
}

extern "C" int vl_cpu_flags(void) {
  const CpuFeatures& f = cpu_features();
  return (f.avx512 ? 1 : 0) | (f.avx512_vnni ? 2 : 0) | (f.avx512_bf16 ? 4 : 0) | (f.amx_bf16 ? 8 : 0) |
         (f.amx_int8 ? 16 : 0);
}

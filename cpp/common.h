// Helpers shared by the ops: borrowing caller tensors, handing results back, and calling ATen ops
// through libtorch's stable dispatcher (which records autograd, unlike the aoti_torch_cpu_* shims).
//
// In the 2.10 stable ABI an op with a `Scalar` argument cannot go through the dispatcher ("Not yet
// supported conversion ... Scalar"), which rules out aten::add/sub/addmm/baddbmm. The ops here add
// with aten::linear instead: for a 2-D input, linear(input, weight, bias) is addmm(bias, input,
// weight^T), and `bias` may be any tensor that broadcasts to the (N, out) result.
#pragma once

#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/ops.h>
#include <torch/csrc/stable/tensor.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vl {

using torch::stable::Tensor;
using torch::headeronly::ScalarType;
using Shape = std::vector<int64_t>;

// A new reference to the caller's at::Tensor; the caller keeps its own. Throws on NULL.
Tensor borrow(void* handle, const char* name);
std::optional<Tensor> borrow_opt(void* handle);
// Makes the caller-allocated tensor `out` alias `result`.
void give(void* out, const Tensor& result, const char* name);

// view, reshape, unsqueeze, transpose, narrow, contiguous, empty_like, new_zeros and fill_ come from
// torch/csrc/stable/ops.h (found by argument-dependent lookup); the rest go through aten() below.
using torch::stable::contiguous;
using torch::stable::narrow;
using torch::stable::reshape;
using torch::stable::transpose;
using torch::stable::unsqueeze;
using torch::stable::view;

// Calls an ATen op by schema name through the stable dispatcher; returns its first output.
template <class... Args>
Tensor aten(const char* op, const char* overload, const Args&... args) {
  std::array<StableIValue, (sizeof...(Args) > 0 ? sizeof...(Args) : 1)> stack{
      torch::stable::detail::from(args)...};
  if (torch_call_dispatcher(op, overload, stack.data(), TORCH_ABI_VERSION) != TORCH_SUCCESS) {
    throw std::runtime_error(std::string(op) + (*overload ? "." : "") + overload +
                             " failed in libtorch (its message is on stderr)");
  }
  return torch::stable::detail::to<Tensor>(stack[0]);
}

inline Tensor linear(const Tensor& x, const Tensor& w, const std::optional<Tensor>& b) {
  return aten("aten::linear", "", x, w, b);
}
inline Tensor mm(const Tensor& a, const Tensor& b) { return aten("aten::mm", "", a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return aten("aten::mul", "Tensor", a, b); }
inline Tensor softmax(const Tensor& x, int64_t dim) {
  return aten("aten::softmax", "int", x, dim, std::nullopt);
}
inline Tensor dropout(const Tensor& x, double p, bool train) {
  return aten("aten::dropout", "", x, p, train);
}
inline Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  return aten("aten::stack", "", ts, dim);
}
inline Tensor cat(const std::vector<Tensor>& ts, int64_t dim) {
  return aten("aten::cat", "", ts, dim);
}
inline Tensor t(const Tensor& x) { return aten("aten::t", "", x); }
inline Tensor to_dtype(const Tensor& x, ScalarType dt) { return torch::stable::to(x, dt); }
// x in dtype dt: x itself when it already is, else a differentiable cast (aten::to records autograd,
// so float32 master weights used in a bf16 op still receive float32 gradients).
inline Tensor as_dtype(const Tensor& x, ScalarType dt) { return x.scalar_type() == dt ? x : to_dtype(x, dt); }
// The type small reductions (router softmax, merges) run in: float64 stays, everything else float32.
inline ScalarType accum_type(ScalarType t) {
  return t == ScalarType::Double ? ScalarType::Double : ScalarType::Float;
}

// A constant (no grad) tensor with x's dtype and device.
Tensor full_like_shape(const Tensor& x, const Shape& shape, double value);
// 0-dim constant, for multiplying by a plain number (mul.Scalar is out of reach, see above).
inline Tensor scalar_like(const Tensor& x, double value) { return full_like_shape(x, {}, value); }

// Dense (d, E, r) form of E grouped 1x1-conv weights stacked as P (d, E, r/groups): output channel
// j of group G = j / (d/groups) reads hidden channels [G*r/g, (G+1)*r/g). Differentiable in P.
Tensor up_dense(const Tensor& P, int64_t groups);

// Disables autograd recording for a scope (inference-only paths).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(aoti_torch_grad_mode_is_enabled()) { aoti_torch_grad_mode_set_enabled(false); }
  ~NoGradGuard() { aoti_torch_grad_mode_set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace vl

// Runs an op body; any failure leaves as std::runtime_error prefixed with the op's name.
#define VL_OP(name, ...)                                                       \
  try {                                                                        \
    __VA_ARGS__                                                                \
  } catch (const std::exception& e) {                                          \
    throw std::runtime_error(std::string(name) + ": " + e.what());             \
  }

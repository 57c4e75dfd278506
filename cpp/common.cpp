#include "common.h"

namespace vl {

Tensor borrow(void* handle, const char* name) {
  if (handle == nullptr) throw std::invalid_argument(std::string(name) + " is null");
  AtenTensorHandle h = nullptr;
  if (aoti_torch_new_tensor_handle(static_cast<AtenTensorHandle>(handle), &h) != TORCH_SUCCESS) {
    throw std::runtime_error(std::string("cannot reference ") + name);
  }
  Tensor t(h);
  if (!t.defined()) throw std::invalid_argument(std::string(name) + " is an undefined tensor");
  return t;
}

std::optional<Tensor> borrow_opt(void* handle) {
  if (handle == nullptr) return std::nullopt;
  return borrow(handle, "optional tensor");
}

void give(void* out, const Tensor& result, const char* name) {
  if (out == nullptr) throw std::invalid_argument(std::string(name) + " (output) is null");
  if (aoti_torch_assign_tensors(result.get(), static_cast<AtenTensorHandle>(out)) != TORCH_SUCCESS) {
    throw std::runtime_error(std::string("cannot assign the result to ") + name);
  }
}

Tensor full_like_shape(const Tensor& x, const Shape& shape, double value) {
  Tensor c = torch::stable::new_empty(x, shape);
  torch::stable::fill_(c, value);
  return c;
}

namespace {
// The group mask depends only on (d, groups, dtype, device); building it costs 2*groups+1 calls,
// so each thread keeps the last one it made.
struct MaskCache {
  int64_t d = -1, groups = -1;
  int32_t dtype = -1, device_type = -1, device_index = -1;
  std::optional<Tensor> mask;
};
thread_local MaskCache mask_cache;

Tensor group_mask(const Tensor& like, int64_t d, int64_t groups) {
  int32_t dtype = 0, dev_type = 0, dev_index = 0;
  aoti_torch_get_dtype(like.get(), &dtype);
  aoti_torch_get_device_type(like.get(), &dev_type);
  aoti_torch_get_device_index(like.get(), &dev_index);
  MaskCache& c = mask_cache;
  if (c.mask && c.d == d && c.groups == groups && c.dtype == dtype && c.device_type == dev_type &&
      c.device_index == dev_index) {
    return *c.mask;
  }
  Tensor m = torch::stable::new_zeros(like, {d, 1, groups, 1});  // (d, 1, g, 1)
  const int64_t per = d / groups;
  for (int64_t g = 0; g < groups; ++g) {
    Tensor rows = torch::stable::narrow(m, 0, g * per, per);
    Tensor cell = torch::stable::narrow(rows, 2, g, 1);
    torch::stable::fill_(cell, 1.0);
  }
  c = MaskCache{d, groups, dtype, dev_type, dev_index, m};
  return m;
}
}  // namespace

Tensor up_dense(const Tensor& P, int64_t groups) {
  const int64_t d = P.size(0), E = P.size(1), k = P.size(2);
  if (groups == 1) return P;                                     // (d, E, r)
  Tensor mask = group_mask(P, d, groups);                        // (d, 1, g, 1)
  Tensor blocks = mul(view(P, {d, E, 1, k}), mask);              // (d, E, g, k)
  return view(blocks, {d, E, groups * k});                       // (d, E, r)
}

}  // namespace vl

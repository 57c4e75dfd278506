// vl_mm_adapter_infer: picks the fused kernel for the device and dtype, else the composite path
// with autograd off. Both give the numbers of vl_mm_adapter in eval mode.
#include "adapters.h"
#include "infer_kernel.h"
#include "vladapt.h"

#ifdef VLADAPT_WITH_CUDA
#include <dlfcn.h>
#endif

using namespace vl;

namespace {

#ifdef VLADAPT_WITH_CUDA
// The CUDA entry points of the aoti shim live in libtorch_cuda.so. They are looked up when first
// needed instead of linked, so that the GPU build of this library still loads (and runs on CPU) in
// a process where libtorch_cuda could not be loaded, e.g. on a machine without CUDA libraries.
struct CudaShim {
  decltype(&aoti_torch_create_cuda_guard) create_guard;
  decltype(&aoti_torch_delete_cuda_guard) delete_guard;
  decltype(&aoti_torch_get_current_cuda_stream) current_stream;

  static CudaShim get() {
    static const CudaShim shim = [] {
      void* lib = dlopen("libtorch_cuda.so", RTLD_NOLOAD | RTLD_LAZY);
      if (lib == nullptr) {
        throw std::runtime_error("a CUDA tensor reached vl_mm_adapter_infer but libtorch_cuda.so is not loaded");
      }
      CudaShim s{reinterpret_cast<decltype(&aoti_torch_create_cuda_guard)>(dlsym(lib, "aoti_torch_create_cuda_guard")),
                 reinterpret_cast<decltype(&aoti_torch_delete_cuda_guard)>(dlsym(lib, "aoti_torch_delete_cuda_guard")),
                 reinterpret_cast<decltype(&aoti_torch_get_current_cuda_stream)>(
                     dlsym(lib, "aoti_torch_get_current_cuda_stream"))};
      if (!s.create_guard || !s.delete_guard || !s.current_stream) {
        throw std::runtime_error("libtorch_cuda.so lacks the aoti CUDA guard/stream entry points");
      }
      return s;
    }();
    return shim;
  }
};
#endif

bool kernel_dtype(ScalarType t) { return t == ScalarType::Float || t == ScalarType::Double; }
// the CPU kernel also reads and writes bf16/f16 activations (computing in float32)
bool cpu_kernel_dtype(ScalarType t) {
  return kernel_dtype(t) || t == ScalarType::BFloat16 || t == ScalarType::Half;
}

}  // namespace

extern "C" void vl_mm_adapter_infer(vl_tensor out, vl_tensor x_, vl_tensor route_, vl_tensor A_w_,
                                    vl_tensor A_b_, vl_tensor B_w_, vl_tensor B_b_, vl_tensor D_w_,
                                    vl_tensor D_b_, int64_t groups, double scale) {
  VL_OP("vl_mm_adapter_infer", {
    NoGradGuard no_grad;
    Tensor x = contiguous(borrow(x_, "x"));
    // weights, route and every sum in float32 (float64 for float64 activations): the kernel reads
    // them as such, and the float32 masters of bf16 activations need no cast
    const ScalarType ct = accum_type(x.scalar_type());
    auto w = [ct](void* h, const char* name) { return contiguous(as_dtype(borrow(h, name), ct)); };
    Tensor route = w(route_, "route");
    Tensor A_w = w(A_w_, "A_w"), A_b = w(A_b_, "A_b");
    Tensor B_w = w(B_w_, "B_w"), B_b = w(B_b_, "B_b");
    Tensor D_w = w(D_w_, "D_w"), D_b = w(D_b_, "D_b");
    const int64_t r = A_w.size(0), k = r / groups;
    const bool small_k = k <= 64;
#ifndef VLADAPT_WITH_CUDA
    const bool have_kernel = small_k && x.is_cpu() && cpu_kernel_dtype(x.scalar_type());
#else
    const bool have_kernel = small_k && ((x.is_cpu() && cpu_kernel_dtype(x.scalar_type())) ||
                                         (x.is_cuda() && kernel_dtype(x.scalar_type())));
#endif
    if (!have_kernel) {
      Tensor ws = scale != 1.0 ? mul(route, scalar_like(route, scale)) : route;
      give(out, mm_apply(x, ws, A_w, A_b, B_w, B_b, D_w, D_b, groups, 0.0, false), "out");
      return;
    }
    Tensor y = torch::stable::empty_like(x);                               // (B, T, d)
    InferArgs a{x.data_ptr(), y.data_ptr(), route.data_ptr(), A_w.data_ptr(), A_b.data_ptr(),
                B_w.data_ptr(), B_b.data_ptr(), D_w.data_ptr(), D_b.data_ptr(),
                x.size(0), x.size(1), x.size(2), r, groups, scale};
    if (x.is_cpu()) {
      switch (x.scalar_type()) {
        case ScalarType::Double: mm_adapter_infer_cpu_f64(a); break;
        case ScalarType::BFloat16: mm_adapter_infer_cpu_bf16(a); break;
        case ScalarType::Half: mm_adapter_infer_cpu_f16(a); break;
        default: mm_adapter_infer_cpu_f32(a);
      }
    } else {
#ifdef VLADAPT_WITH_CUDA
      // run on x's device and its current stream, like any ATen op would
      const int32_t device = x.get_device_index();
      CudaShim cuda = CudaShim::get();
      CUDAGuardHandle guard = nullptr;
      if (cuda.create_guard(device, &guard) != TORCH_SUCCESS) {
        throw std::runtime_error("cannot select CUDA device " + std::to_string(device));
      }
      struct Release {
        CudaShim shim;
        CUDAGuardHandle g;
        ~Release() { shim.delete_guard(g); }
      } release{cuda, guard};
      void* stream = nullptr;
      if (cuda.current_stream(device, &stream) != TORCH_SUCCESS) {
        throw std::runtime_error("cannot get the current CUDA stream");
      }
      const bool f64 = x.scalar_type() == ScalarType::Double;
      f64 ? mm_adapter_infer_cuda_f64(a, stream) : mm_adapter_infer_cuda_f32(a, stream);
#endif
    }
    give(out, y, "out");
  })
}

extern "C" int vl_has_cuda_kernels(void) {
#ifdef VLADAPT_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

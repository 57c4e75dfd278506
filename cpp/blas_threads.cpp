// OpenBLAS (which bytedeco's libtorch uses for GEMM) runs its own pthread pool, sized to the
// machine and deaf to torch.set_num_threads: without this, "1 thread" still ran GEMMs on every
// core, and N libtorch threads ran beside N OpenBLAS threads. Looked up at run time: the library
// is already loaded by the pytorch preset, and a build without OpenBLAS simply reports -1.
#include <dlfcn.h>

#include "vladapt.h"

namespace {
void* openblas() {
  static void* h = dlopen("libopenblas.so.0", RTLD_NOLOAD | RTLD_LAZY);
  return h;
}
}  // namespace

extern "C" int vl_set_blas_threads(int n) {
  void* h = openblas();
  auto set = h ? reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads")) : nullptr;
  if (set == nullptr || n < 1) return -1;
  set(n);
  return vl_blas_threads();
}

extern "C" int vl_blas_threads(void) {
  void* h = openblas();
  auto get = h ? reinterpret_cast<int (*)()>(dlsym(h, "openblas_get_num_threads")) : nullptr;
  return get ? get() : -1;
}

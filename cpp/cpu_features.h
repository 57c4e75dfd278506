// What this CPU and OS let the kernels use, detected once at run time (cpuid + xgetbv, and on Linux
// the arch_prctl request that AMX tile data needs before a thread may touch the tiles).
#pragma once

namespace vl {

struct CpuFeatures {
  bool avx512 = false;      // AVX-512 F + BW + VL, with the ZMM/opmask state enabled by the OS
  bool avx512_vnni = false; // vpdpbusd
  bool avx512_bf16 = false; // vcvtne2ps2bf16
  bool amx_bf16 = false;    // AMX-TILE + AMX-BF16, and the kernel granted XTILEDATA to this process
  bool amx_int8 = false;    // reported for the benchmark header; no kernel uses it (see quant.h)
};

const CpuFeatures& cpu_features();

}  // namespace vl

#include "cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <cstdint>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace vl {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
uint64_t xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Linux keeps AMX tile data (XCR0 bit 18) off for a process until it asks: without this, the first
// tile instruction raises SIGILL. The grant is process-wide and permanent.
bool request_amx() {
#ifdef __linux__
  constexpr long kArchGetXcompPerm = 0x1022, kArchReqXcompPerm = 0x1023, kXtiledata = 18;
  unsigned long bits = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &bits) == 0 && (bits & (1ul << kXtiledata))) return true;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXtiledata) != 0) return false;
  return syscall(SYS_arch_prctl, kArchGetXcompPerm, &bits) == 0 && (bits & (1ul << kXtiledata));
#else
  return false;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return f;  // OSXSAVE: xgetbv is usable
  const uint64_t xcr = xcr0();
  const bool zmm_state = (xcr & 0xe6) == 0xe6;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_state = (xcr & (3ull << 17)) == (3ull << 17);  // XTILECFG, XTILEDATA
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool f512 = b & (1u << 16), bw = b & (1u << 30), vl = b & (1u << 31);
  f.avx512 = zmm_state && f512 && bw && vl;
  f.avx512_vnni = f.avx512 && (c & (1u << 11));
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24), amx_int8 = d & (1u << 25);
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512_bf16 = f.avx512 && (a1 & (1u << 5));
  const bool amx_ok = f.avx512_bf16 && amx_tile && tile_state && request_amx();
  f.amx_bf16 = amx_ok && amx_bf16;
  f.amx_int8 = amx_ok && amx_int8;
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace vl

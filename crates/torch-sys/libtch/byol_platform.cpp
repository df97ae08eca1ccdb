// Implementation of byol_platform.h. oneDNN and the BLAS are reached through libtorch's own
// dependencies (dlsym on libtorch's handle), never linked by the shim: a libtorch that has them
// linked in privately simply reports them as unreachable.
#include "byol_platform.h"
#include "internal.h"

#include <ATen/Version.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <dlfcn.h>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// A handle on libtorch_cpu, whose dlsym searches its dependencies (libdnnl, libblas) too.
void *libtorch_handle() {
  static void *handle = [] {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void *>(&at::get_mkldnn_version), &info) || !info.dli_fname)
      return static_cast<void *>(nullptr);
    return dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  }();
  return handle;
}

template <typename F>
F libtorch_symbol(const char *name) {
  void *h = libtorch_handle();
  return h ? reinterpret_cast<F>(dlsym(h, name)) : nullptr;
}

void copy_out(const std::string &s, char *buf, size_t cap) {
  if (cap) std::snprintf(buf, cap, "%s", s.c_str());
}

// oneDNN's C API, declared here with the types of its header (not shipped by Debian's libtorch).
using dnnl_status = int;
using set_max_isa_fn = dnnl_status (*)(int);
using effective_isa_fn = int (*)();
constexpr dnnl_status dnnl_success = 0;

}  // namespace

extern "C" {

bt_error bt_blas_info(char *library, size_t library_cap, char *config, size_t config_cap,
                      int *openblas_threading) {
  PROTECT({
    std::string file, cfg;
    int threading = -1;
    if (void *sgemm = libtorch_symbol<void *>("sgemm_")) {
      Dl_info info{};
      if (dladdr(sgemm, &info) && info.dli_fname) {
        char resolved[PATH_MAX];
        file = realpath(info.dli_fname, resolved) ? resolved : info.dli_fname;
      }
    }
    if (auto get_config = libtorch_symbol<const char *(*)()>("openblas_get_config")) cfg = get_config();
    if (auto get_parallel = libtorch_symbol<int (*)()>("openblas_get_parallel")) threading = get_parallel();
    copy_out(file, library, library_cap);
    copy_out(cfg, config, config_cap);
    *openblas_threading = threading;
  })
}

bt_error bt_onednn_version(char *buf, size_t cap) { PROTECT(copy_out(at::get_mkldnn_version(), buf, cap)) }

bt_error bt_onednn_api_available(int *out) {
  PROTECT(*out = libtorch_symbol<set_max_isa_fn>("dnnl_set_max_cpu_isa") != nullptr &&
                 libtorch_symbol<effective_isa_fn>("dnnl_get_effective_cpu_isa") != nullptr)
}

bt_error bt_onednn_set_max_cpu_isa(int isa) {
  PROTECT({
    auto set = libtorch_symbol<set_max_isa_fn>("dnnl_set_max_cpu_isa");
    bt::require(set != nullptr, "oneDNN's dnnl_set_max_cpu_isa is not reachable from this libtorch");
    bt::require(set(isa) == dnnl_success,
                "oneDNN refused the instruction-set cap " + std::to_string(isa) +
                    " (it must be set before oneDNN's first kernel)");
  })
}

bt_error bt_onednn_effective_cpu_isa(int *out) {
  PROTECT({
    auto get = libtorch_symbol<effective_isa_fn>("dnnl_get_effective_cpu_isa");
    bt::require(get != nullptr, "oneDNN's dnnl_get_effective_cpu_isa is not reachable from this libtorch");
    *out = get();
  })
}

bt_error bt_cpu_has_amx_bf16(int *out) {
  PROTECT({
    *out = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    // Leaf 7: AMX-BF16 is EDX bit 22, AMX-TILE bit 24. Leaf 1 ECX bit 27: the OS uses XSAVE,
    // so XCR0 says whether it manages the tile state (bits 17 and 18).
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 22 & 1) && (d >> 24 & 1)) {
      unsigned a1, b1, c1, d1;
      if (__get_cpuid(1, &a1, &b1, &c1, &d1) && (c1 >> 27 & 1)) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        *out = ((lo >> 17) & 3) == 3;
      }
    }
#endif
  })
}

}  // extern "C"

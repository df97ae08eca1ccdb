/* The libraries libtorch computes with on the CPU, as they are loaded in this process: the BLAS
 * behind its matrix products and oneDNN behind its convolutions, and the CPU features that decide
 * which oneDNN kernels run. Same conventions as byol_torch.h.
 */
#ifndef BYOL_PLATFORM_H
#define BYOL_PLATFORM_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The file of the library that provides `sgemm_` to libtorch (empty when libtorch has its BLAS
 * linked in, as PyTorch's wheels do), and, for OpenBLAS, its configuration string and threading
 * (0 sequential, 1 pthreads, 2 OpenMP; -1 when not OpenBLAS). */
bt_error bt_blas_info(char *library, size_t library_cap, char *config, size_t config_cap,
                      int *openblas_threading);

/* libtorch's oneDNN version string (e.g. "Intel(R) MKL-DNN v2.6.3 (Git Hash N/A)"). */
bt_error bt_onednn_version(char *buf, size_t cap);

/* Whether oneDNN's C API is reachable from libtorch in this process (it is when libtorch links a
 * shared libdnnl, as Debian's does; PyTorch's wheels link it in privately). */
bt_error bt_onednn_api_available(int *out);

/* The highest instruction set oneDNN may use, as oneDNN's `dnnl_cpu_isa_t` value of the loaded
 * version. Must run before oneDNN generates its first kernel; an error afterwards. */
bt_error bt_onednn_set_max_cpu_isa(int isa);

/* The instruction set oneDNN dispatches to (`dnnl_cpu_isa_t`). Reading it fixes the cap. */
bt_error bt_onednn_effective_cpu_isa(int *out);

/* CPU features (cpuid, and the kernel's permission to use the AMX tile state). */
bt_error bt_cpu_has_amx_bf16(int *out);

#ifdef __cplusplus
}
#endif

#endif

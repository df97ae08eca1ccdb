//! Declarations of `libtch/byol_platform.h`: the BLAS and oneDNN libtorch computes with, and the
//! CPU features that matter to them. Keep in step with the header.
use crate::bt_error;
use std::os::raw::{c_char, c_int};

extern "C" {
    pub fn bt_blas_info(
        library: *mut c_char,
        library_cap: usize,
        config: *mut c_char,
        config_cap: usize,
        openblas_threading: *mut c_int,
    ) -> bt_error;
    pub fn bt_onednn_version(buf: *mut c_char, cap: usize) -> bt_error;
    pub fn bt_onednn_api_available(out: *mut c_int) -> bt_error;
    pub fn bt_onednn_set_max_cpu_isa(isa: c_int) -> bt_error;
    pub fn bt_onednn_effective_cpu_isa(out: *mut c_int) -> bt_error;
    pub fn bt_cpu_has_amx_bf16(out: *mut c_int) -> bt_error;
}

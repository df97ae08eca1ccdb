//! Hand-written declarations of the C ABI in `libtch/byol_torch.h`.
//!
//! Every function returns a null pointer on success or an owned C string describing the error,
//! to be released with [`bt_error_free`]. Use the safe `torch` crate rather than these directly.
#![allow(non_camel_case_types)]
use std::os::raw::{c_char, c_double, c_int, c_void};

mod data;
pub use data::*;
mod vision;
pub use vision::*;
mod train;
pub use train::*;
mod cuda;
pub use cuda::*;
mod dist;
pub use dist::*;
mod platform;
pub use platform::*;
mod jpeg;
pub use jpeg::*;
mod onednn;
pub use onednn::*;

#[repr(C)]
pub struct bt_tensor_s {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bt_generator_s {
    _private: [u8; 0],
}
pub type bt_tensor = *mut bt_tensor_s;
pub type bt_generator = *mut bt_generator_s;
pub type bt_error = *mut c_char;

pub const BT_U8: c_int = 0;
pub const BT_I64: c_int = 1;
pub const BT_F32: c_int = 2;
pub const BT_BF16: c_int = 3;
pub const BT_BOOL: c_int = 4;
pub const BT_F64: c_int = 5;
pub const BT_F16: c_int = 6;
pub const BT_CPU: c_int = 0;
pub const BT_CUDA: c_int = 1;

extern "C" {
    pub fn bt_error_free(err: bt_error);

    pub fn bt_init(num_threads: c_int) -> bt_error;
    pub fn bt_init_thread() -> bt_error;
    pub fn bt_version(buf: *mut c_char, cap: usize) -> bt_error;
    pub fn bt_get_num_threads(out: *mut c_int) -> bt_error;
    pub fn bt_set_num_threads(n: c_int) -> bt_error;
    pub fn bt_cuda_device_count(out: *mut c_int) -> bt_error;
    pub fn bt_cuda_synchronize(index: c_int) -> bt_error;
    pub fn bt_grad_mode_set(enabled: c_int, previous: *mut c_int) -> bt_error;
    pub fn bt_grad_mode_enabled(out: *mut c_int) -> bt_error;

    pub fn bt_generator_new(seed: u64, device_type: c_int, device_index: c_int, out: *mut bt_generator) -> bt_error;
    pub fn bt_generator_free(g: bt_generator);

    pub fn bt_tensor_free(t: bt_tensor);
    pub fn bt_live_tensors() -> i64;
    pub fn bt_tensor_alias(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_tensor_from_data(
        data: *const c_void,
        nbytes: usize,
        dtype: c_int,
        shape: *const i64,
        ndim: usize,
        device_type: c_int,
        device_index: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_tensor_to_host(t: bt_tensor, dst: *mut c_void, nbytes: usize) -> bt_error;
    pub fn bt_tensor_ndim(t: bt_tensor, out: *mut usize) -> bt_error;
    pub fn bt_tensor_shape(t: bt_tensor, dims: *mut i64, cap: usize) -> bt_error;
    pub fn bt_tensor_dtype(t: bt_tensor, out: *mut c_int) -> bt_error;
    pub fn bt_tensor_device(t: bt_tensor, device_type: *mut c_int, device_index: *mut c_int) -> bt_error;
    pub fn bt_tensor_item_f64(t: bt_tensor, out: *mut c_double) -> bt_error;

    pub fn bt_zeros(
        shape: *const i64,
        ndim: usize,
        dtype: c_int,
        device_type: c_int,
        device_index: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_full(
        shape: *const i64,
        ndim: usize,
        value: c_double,
        dtype: c_int,
        device_type: c_int,
        device_index: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_uniform_(t: bt_tensor, low: c_double, high: c_double, g: bt_generator) -> bt_error;
    pub fn bt_normal_(t: bt_tensor, mean: c_double, std: c_double, g: bt_generator) -> bt_error;
    pub fn bt_fill_(t: bt_tensor, value: c_double) -> bt_error;
    pub fn bt_copy_(dst: bt_tensor, src: bt_tensor) -> bt_error;
    pub fn bt_to(t: bt_tensor, dtype: c_int, device_type: c_int, device_index: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_clone(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_detach(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_contiguous(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_reshape(t: bt_tensor, shape: *const i64, ndim: usize, out: *mut bt_tensor) -> bt_error;
    pub fn bt_flatten(t: bt_tensor, start_dim: i64, end_dim: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_narrow(t: bt_tensor, dim: i64, start: i64, length: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_index_select(t: bt_tensor, dim: i64, index: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_cat(ts: *const bt_tensor, n: usize, dim: i64, out: *mut bt_tensor) -> bt_error;

    pub fn bt_set_requires_grad(t: bt_tensor, requires_grad: c_int) -> bt_error;
    pub fn bt_requires_grad(t: bt_tensor, out: *mut c_int) -> bt_error;
    pub fn bt_grad(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_zero_grad(t: bt_tensor) -> bt_error;
    pub fn bt_backward(t: bt_tensor) -> bt_error;

    pub fn bt_add_scaled(a: bt_tensor, b: bt_tensor, alpha: c_double, out: *mut bt_tensor) -> bt_error;
    pub fn bt_add_scaled_(a: bt_tensor, b: bt_tensor, alpha: c_double) -> bt_error;
    pub fn bt_norm(a: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_where(cond: bt_tensor, a: bt_tensor, b: bt_tensor, out: *mut bt_tensor) -> bt_error;

    pub fn bt_batch_norm(
        input: bt_tensor,
        weight: bt_tensor,
        bias: bt_tensor,
        running_mean: bt_tensor,
        running_var: bt_tensor,
        training: c_int,
        momentum: c_double,
        eps: c_double,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_max_pool2d(input: bt_tensor, kernel: i64, stride: i64, padding: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_adaptive_avg_pool2d(input: bt_tensor, out_h: i64, out_w: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_relu(input: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_relu_(t: bt_tensor) -> bt_error;
    pub fn bt_linear(input: bt_tensor, weight: bt_tensor, bias: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_cosine_similarity(a: bt_tensor, b: bt_tensor, dim: i64, eps: c_double, out: *mut bt_tensor) -> bt_error;

    pub fn bt_foreach_mul_scalar_(ts: *const bt_tensor, n: usize, s: c_double) -> bt_error;
    pub fn bt_foreach_add_list_(ts: *const bt_tensor, others: *const bt_tensor, n: usize, alpha: c_double) -> bt_error;
    pub fn bt_foreach_norm(ts: *const bt_tensor, n: usize, outs: *mut bt_tensor) -> bt_error;
}

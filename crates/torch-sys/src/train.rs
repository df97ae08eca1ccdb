//! Declarations of `libtch/byol_train.h`: mixed precision, memory formats and multi-tensor
//! updates scaled by device tensors. Keep in step with the header.
use crate::{bt_error, bt_tensor};
use std::os::raw::{c_double, c_int};

pub const BT_CONTIGUOUS: c_int = 0;
pub const BT_CHANNELS_LAST: c_int = 1;

extern "C" {
    pub fn bt_autocast_enter(device_type: c_int, dtype: c_int, previous: *mut c_int) -> bt_error;
    pub fn bt_autocast_exit(device_type: c_int, previous: c_int) -> bt_error;
    pub fn bt_autocast_is_enabled(device_type: c_int, out: *mut c_int) -> bt_error;
    pub fn bt_contiguous_as(t: bt_tensor, memory_format: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_tensor_set_data(t: bt_tensor, src: bt_tensor) -> bt_error;
    pub fn bt_foreach_ema_tensor_(ts: *const bt_tensor, others: *const bt_tensor, n: usize, m: bt_tensor) -> bt_error;
    pub fn bt_foreach_add_scaled_tensor_(
        ts: *const bt_tensor,
        others: *const bt_tensor,
        n: usize,
        s: bt_tensor,
        sign: c_double,
    ) -> bt_error;
    pub fn bt_to_host_async(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_cudnn_set_benchmark(enabled: c_int) -> bt_error;
    pub fn bt_cudnn_set_deterministic(enabled: c_int) -> bt_error;
}

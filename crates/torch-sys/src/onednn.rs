//! Declarations of `libtch/byol_onednn.h`: inference in oneDNN's layout on the CPU. Keep in step
//! with the header.
use crate::{bt_error, bt_tensor};
use std::os::raw::c_int;

extern "C" {
    pub fn bt_onednn_available() -> c_int;
    pub fn bt_to_onednn(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_onednn_to_dense(t: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_tensor_is_onednn(t: bt_tensor, out: *mut c_int) -> bt_error;
    pub fn bt_onednn_pack_conv2d_weight(weight: bt_tensor, stride: i64, padding: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_onednn_conv2d(
        input: bt_tensor,
        packed_weight: bt_tensor,
        bias: bt_tensor,
        stride: i64,
        padding: i64,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_tensor_version(t: bt_tensor, out: *mut i64) -> bt_error;
}

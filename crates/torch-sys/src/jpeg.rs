//! Declarations of `libtch/byol_jpeg.h`: JPEG decoding with the system's libjpeg-turbo. Keep in
//! step with the header.
use crate::bt_error;
use std::os::raw::c_int;

extern "C" {
    pub fn bt_jpeg_available() -> c_int;
    pub fn bt_jpeg_decode_rgb(
        data: *const u8,
        len: usize,
        height: i64,
        width: i64,
        out: *mut u8,
        out_len: usize,
        decoded: *mut c_int,
    ) -> bt_error;
}

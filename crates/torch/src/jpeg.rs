//! JPEG decoding with the system's libjpeg-turbo (`libtch/byol_jpeg.cpp`), for images that need
//! neither resizing nor colour management: the same pixels sharp gives, at a hundredth of its
//! per-image cost for small images.
use crate::error::{check, Result};
use torch_sys as sys;

/// Whether the shim was built with libjpeg.
pub fn available() -> bool {
    unsafe { sys::bt_jpeg_available() != 0 }
}

/// Whether `bytes` start as a JPEG file does (the SOI marker, then another marker).
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

/// The RGB pixels `[height, width, 3]` of a JPEG of exactly that size with grey, YCbCr or RGB
/// components and no ICC profile; `None` for any other image (decode it another way). Damaged or
/// truncated data is an error with libjpeg's message.
pub fn decode_rgb(bytes: &[u8], height: usize, width: usize) -> Result<Option<Vec<u8>>> {
    if !is_jpeg(bytes) {
        return Ok(None);
    }
    let mut out = vec![0u8; height * width * 3];
    let mut decoded = 0;
    check(unsafe {
        sys::bt_jpeg_decode_rgb(
            bytes.as_ptr(),
            bytes.len(),
            height as i64,
            width as i64,
            out.as_mut_ptr(),
            out.len(),
            &mut decoded,
        )
    })?;
    Ok((decoded != 0).then_some(out))
}

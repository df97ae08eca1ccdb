//! Image batches: uint8 images to normalised floats, and feature rows to unit length.
use super::{produce, Tensor};
use crate::error::{Result, TorchError};
use torch_sys as sys;

/// How a batch of images is laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageLayout {
    /// `[N, H, W, 3]`, as decoders and JavaScript image buffers hold them.
    Nhwc,
    /// `[N, 3, H, W]`, as torch models take them.
    Nchw,
}

impl Tensor {
    /// uint8 images to float32 `[N, 3, H, W]`: `(x / 255 - mean) / std` per channel
    /// (torchvision's `ToTensor` then `Normalize`), on the images' device.
    pub fn images_to_float(&self, layout: ImageLayout, mean: [f64; 3], std: [f64; 3]) -> Result<Tensor> {
        if std.iter().any(|&s| s <= 0.0) {
            return Err(TorchError::new(format!("normalisation std must be positive, got {std:?}")));
        }
        let nhwc = (layout == ImageLayout::Nhwc) as i32;
        produce(|out| unsafe { sys::bt_images_to_float(self.raw, nhwc, mean.as_ptr(), std.as_ptr(), out) })
    }

    /// Each row divided by its L2 norm (at least `eps`): `F.normalize(x, dim=1, eps=eps)`.
    pub fn l2_normalize_rows(&self, eps: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_l2_normalize_rows(self.raw, eps, out) })
    }
}

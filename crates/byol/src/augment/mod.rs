//! BYOL's two augmented views, computed for a whole batch on the device that trains.
//!
//! Semantics follow Lightly's `BYOLView1Transform` / `BYOLView2Transform` (one module per
//! transform, named as there), with independent random parameters for every image. Every random
//! number comes from the augmenter's own seeded generator on the device, and nothing reads a value
//! back to the host, so the whole pipeline can run inside a CUDA graph later.
//!
//! Differences from Lightly's PIL pipeline, by design: values stay in float between steps (PIL
//! rounds to uint8 after every transform), and the input is a uint8 batch of equal-sized images.
pub mod color_jitter;
pub mod config;
pub mod flip;
pub mod gaussian_blur;
pub mod grayscale;
pub mod normalize;
pub mod ops;
pub mod random_resized_crop;
pub mod rotation;
pub mod solarize;
pub mod view;
mod workers;

pub use config::{
    AugmentConfig, ConfigError, ConfigErrorKind, Normalize, OutputType, Preset, ViewConfig, IMAGENET_NORMALIZE,
};
pub use ops::{apply_op, Op};
pub use view::{AugmentError, Augmenter, ViewParams, UNIFORMS};

use torch::{Result, Tensor};

/// Column `i` of a `[N, K]` tensor as `[N]`.
pub(crate) fn column(u: &Tensor, i: i64) -> Result<Tensor> {
    u.narrow(1, i, 1)?.reshape(&[-1])
}

/// Columns `start .. start + len` of a `[N, K]` tensor.
pub(crate) fn columns(u: &Tensor, start: i64, len: i64) -> Result<Tensor> {
    u.narrow(1, start, len)
}

/// A per-image value `[N]` (or `[N, 1]`) shaped to broadcast over `[N, C, H, W]`.
pub(crate) fn per_image(t: &Tensor) -> Result<Tensor> {
    t.reshape(&[-1, 1, 1, 1])
}

//! The tensor type and its methods, grouped by concept as tch-rs's `tensor/` is: creation,
//! properties, conversion, shape and indexing, pointwise arithmetic, reductions, neural-network
//! operations, autograd, images, and multi-tensor (foreach) updates.
use crate::error::{check, Result};
use std::ptr::null_mut;
use torch_sys as sys;

mod autograd;
mod convert;
mod create;
pub mod foreach;
mod image;
mod nn;
mod onednn;
mod pointwise;
mod properties;
mod reduce;
mod shape;

pub use autograd::GradHook;
pub use image::ImageLayout;
pub use nn::{Padding, SamplePadding, Sampling};
pub use onednn::onednn_available;

/// An owning handle to a libtorch tensor. Dropping it releases the handle; storage is shared
/// between aliases exactly as `at::Tensor` copies share it.
pub struct Tensor {
    pub(crate) raw: sys::bt_tensor,
}

// SAFETY: at::Tensor reference counts are atomic; callers serialise mutation (models sit behind
// a Mutex in the addon).
unsafe impl Send for Tensor {}

/// The tensor a shim call writes through its out-pointer.
pub(crate) fn produce(f: impl FnOnce(*mut sys::bt_tensor) -> sys::bt_error) -> Result<Tensor> {
    let mut raw = null_mut();
    check(f(&mut raw))?;
    Ok(Tensor { raw })
}

fn raw_or_null(t: Option<&Tensor>) -> sys::bt_tensor {
    t.map_or(null_mut(), |t| t.raw)
}

impl Drop for Tensor {
    fn drop(&mut self) {
        unsafe { sys::bt_tensor_free(self.raw) }
    }
}

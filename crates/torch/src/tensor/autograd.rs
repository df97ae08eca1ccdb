//! Gradients: what records them, and reading and dropping them.
use super::Tensor;
use crate::error::{check, Result};
use std::ptr::null_mut;
use torch_sys as sys;

impl Tensor {
    pub fn set_requires_grad(&self, requires_grad: bool) -> Result<()> {
        check(unsafe { sys::bt_set_requires_grad(self.raw, requires_grad as i32) })
    }

    pub fn requires_grad(&self) -> Result<bool> {
        let mut v = 0;
        check(unsafe { sys::bt_requires_grad(self.raw, &mut v) })?;
        Ok(v != 0)
    }

    /// The accumulated gradient, if backward has produced one.
    pub fn grad(&self) -> Result<Option<Tensor>> {
        let mut raw = null_mut();
        check(unsafe { sys::bt_grad(self.raw, &mut raw) })?;
        Ok((!raw.is_null()).then_some(Tensor { raw }))
    }

    /// Drops the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) -> Result<()> {
        check(unsafe { sys::bt_zero_grad(self.raw) })
    }

    pub fn backward(&self) -> Result<()> {
        check(unsafe { sys::bt_backward(self.raw) })
    }
}

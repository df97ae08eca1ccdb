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

type HookFn = Box<dyn Fn(&Tensor) + Send>;

/// A function called with each gradient backward computes for a tensor, before it is added to
/// the tensor's `grad` (PyTorch's `Tensor.register_hook`). Removed when dropped.
pub struct GradHook {
    tensor: Tensor,
    handle: u32,
    f: *mut HookFn,
}

unsafe impl Send for GradHook {}

unsafe extern "C" fn call_hook(data: *mut std::ffi::c_void, grad: sys::bt_tensor) {
    // The gradient is borrowed for the call: a handle that must not free it.
    let borrowed = std::mem::ManuallyDrop::new(Tensor { raw: grad });
    let f = &*(data as *const HookFn);
    // A panic must not unwind into libtorch's backward.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&borrowed)));
}

impl Tensor {
    /// Calls `f` with every gradient computed for this tensor, on the thread running backward.
    pub fn register_grad_hook(&self, f: impl Fn(&Tensor) + Send + 'static) -> Result<GradHook> {
        // Taken first: once the hook is registered, nothing may fail before it has its GradHook.
        let tensor = self.alias()?;
        let f: *mut HookFn = Box::into_raw(Box::new(Box::new(f)));
        let mut handle = 0;
        let registered =
            check(unsafe { sys::bt_tensor_register_grad_hook(self.raw, call_hook, f.cast(), &mut handle) });
        if let Err(e) = registered {
            drop(unsafe { Box::from_raw(f) });
            return Err(e);
        }
        Ok(GradHook { tensor, handle, f })
    }
}

impl Drop for GradHook {
    fn drop(&mut self) {
        // Once removed, libtorch never calls it again: its closure can go.
        if check(unsafe { sys::bt_tensor_remove_grad_hook(self.tensor.raw, self.handle) }).is_ok() {
            drop(unsafe { Box::from_raw(self.f) });
        }
    }
}

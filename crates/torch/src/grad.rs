use crate::error::{check, Result};
use torch_sys as sys;

/// Disables gradient recording on this thread until dropped (libtorch's grad mode is thread-local).
pub struct NoGradGuard {
    previous: i32,
}

impl NoGradGuard {
    pub fn new() -> Result<NoGradGuard> {
        let mut previous = 0;
        check(unsafe { sys::bt_grad_mode_set(0, &mut previous) })?;
        Ok(NoGradGuard { previous })
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        let mut ignored = 0;
        // Restoring a flag cannot fail; an error here would only come from a broken libtorch.
        let _ = check(unsafe { sys::bt_grad_mode_set(self.previous, &mut ignored) });
    }
}

/// Runs `f` without recording gradients.
pub fn no_grad<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _guard = NoGradGuard::new()?;
    f()
}

/// Whether operations on this thread record gradients now.
pub fn grad_enabled() -> Result<bool> {
    let mut out = 0;
    check(unsafe { sys::bt_grad_mode_enabled(&mut out) })?;
    Ok(out != 0)
}

use std::ffi::CStr;
use std::fmt;

/// An error reported by libtorch (its message, without the C++ backtrace) or by this layer.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchError {
    pub message: String,
}

impl TorchError {
    pub fn new(message: impl Into<String>) -> Self {
        TorchError { message: message.into() }
    }
}

impl fmt::Display for TorchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TorchError {}

pub type Result<T> = std::result::Result<T, TorchError>;

/// Turns a shim return value into a `Result`, taking ownership of the error string.
pub(crate) fn check(err: torch_sys::bt_error) -> Result<()> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: the shim returns a NUL-terminated string from malloc that we now own.
    let message = unsafe { CStr::from_ptr(err) }.to_string_lossy().trim().to_string();
    unsafe { torch_sys::bt_error_free(err) };
    Err(TorchError { message })
}

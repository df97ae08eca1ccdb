//! Mixed precision and memory formats: what `torch.autocast` and `channels_last` give PyTorch.
use crate::device::{Device, Kind};
use crate::error::{check, Result, TorchError};
use torch_sys as sys;

/// How a 4-d tensor's elements are laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryFormat {
    /// NCHW, row-major.
    Contiguous,
    /// NHWC strides for an NCHW-shaped tensor: what cuDNN's fastest bf16 convolutions want.
    ChannelsLast,
}

impl MemoryFormat {
    pub(crate) fn raw(self) -> i32 {
        match self {
            MemoryFormat::Contiguous => sys::BT_CONTIGUOUS,
            MemoryFormat::ChannelsLast => sys::BT_CHANNELS_LAST,
        }
    }
}

/// Autocast to a lower precision on one device type until dropped, as `with torch.autocast(...)`:
/// matrix multiplications and convolutions compute in `kind`, the weights stay float32. Autocast
/// state is per thread, and byol runs all tensor work of a model on one thread.
pub struct Autocast {
    device: Device,
    previous: i32,
}

impl Autocast {
    pub fn new(device: Device, kind: Kind) -> Result<Autocast> {
        if kind != Kind::BFloat16 && kind != Kind::Half {
            return Err(TorchError::new(format!("autocast computes in bf16 or fp16, not {}", kind.name())));
        }
        let mut previous = 0;
        check(unsafe { sys::bt_autocast_enter(device.raw().0, kind.raw(), &mut previous) })?;
        Ok(Autocast { device, previous })
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        // Leaving autocast only restores a thread-local flag and drops the cast cache.
        let _ = check(unsafe { sys::bt_autocast_exit(self.device.raw().0, self.previous) });
    }
}

/// Runs `f` under autocast to `kind` when given one, else as it is.
pub fn autocast<T>(device: Device, kind: Option<Kind>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _guard = kind.map(|k| Autocast::new(device, k)).transpose()?;
    f()
}

/// Whether autocast is on for `device`'s type on this thread.
pub fn autocast_enabled(device: Device) -> Result<bool> {
    let mut out = 0;
    check(unsafe { sys::bt_autocast_is_enabled(device.raw().0, &mut out) })?;
    Ok(out != 0)
}

/// cuDNN's autotuner: picks the fastest convolution algorithm per shape on first use
/// (`torch.backends.cudnn.benchmark = True`).
pub fn set_cudnn_benchmark(enabled: bool) -> Result<()> {
    check(unsafe { sys::bt_cudnn_set_benchmark(enabled as i32) })
}

/// Only deterministic cuDNN algorithms (`torch.backends.cudnn.deterministic = True`): the same
/// inputs then give bit-identical results, at some cost in speed.
pub fn set_cudnn_deterministic(enabled: bool) -> Result<()> {
    check(unsafe { sys::bt_cudnn_set_deterministic(enabled as i32) })
}

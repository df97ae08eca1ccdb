use crate::device::Device;
use crate::error::{check, Result};
use crate::tensor::{produce, Tensor};
use torch_sys as sys;

/// A seeded random generator on one device, so that runs are reproducible without
/// touching libtorch's global generator.
pub struct Generator {
    pub(crate) raw: sys::bt_generator,
}

// SAFETY: libtorch generators lock their own mutex in every kernel that draws from them.
unsafe impl Send for Generator {}

impl Generator {
    pub fn new(seed: u64, device: Device) -> Result<Generator> {
        let (kind, index) = device.raw();
        let mut raw = std::ptr::null_mut();
        check(unsafe { sys::bt_generator_new(seed, kind, index, &mut raw) })?;
        Ok(Generator { raw })
    }

    /// The generator's state as a uint8 CPU tensor (libtorch's layout for its device), to save
    /// with a checkpoint.
    pub fn state(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_generator_get_state(self.raw, out) })
    }

    /// Restores a state from [`Generator::state`] of a generator on the same kind of device.
    pub fn set_state(&self, state: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_generator_set_state(self.raw, state.raw) })
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        unsafe { sys::bt_generator_free(self.raw) }
    }
}

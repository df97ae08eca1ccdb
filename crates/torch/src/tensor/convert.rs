//! Handles, copies, dtypes, devices and memory formats.
use super::{produce, Tensor};
use crate::amp::MemoryFormat;
use crate::device::{Device, Kind};
use crate::error::{check, Result};
use torch_sys as sys;

impl Tensor {
    /// A second handle to the same tensor (shared storage and autograd state).
    pub fn alias(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_tensor_alias(self.raw, out) })
    }

    pub fn deep_clone(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_clone(self.raw, out) })
    }

    pub fn detach(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_detach(self.raw, out) })
    }

    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_copy_(self.raw, src.raw) })
    }

    /// The tensor as `kind` on `device` (itself, shared, when it already is both).
    pub fn to(&self, kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_to(self.raw, kind.raw(), dt, di, out) })
    }

    /// A copy in another dtype on the same device: always a new tensor, never an alias, so the
    /// caller may write to it (and the tensor's device is never asked for).
    pub fn to_kind(&self, kind: Kind) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_to_dtype(self.raw, kind.raw(), out) })
    }

    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        self.to(self.kind()?, device)
    }

    pub fn contiguous(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_contiguous(self.raw, out) })
    }

    /// The tensor in `format` (itself, shared, when it already is).
    pub fn contiguous_as(&self, format: MemoryFormat) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_contiguous_as(self.raw, format.raw(), out) })
    }

    /// Points this tensor (every alias of it, and autograd) at `src`'s data, as `p.data = src`.
    pub fn set_data(&self, src: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_tensor_set_data(self.raw, src.raw) })
    }
}

//! What a tensor is (shape, dtype, device) and reading its values on the host.
use super::Tensor;
use crate::device::{Device, Kind};
use crate::error::{check, Result};
use std::ptr::null_mut;
use torch_sys as sys;

impl Tensor {
    pub fn shape(&self) -> Result<Vec<i64>> {
        let mut ndim = 0usize;
        check(unsafe { sys::bt_tensor_ndim(self.raw, &mut ndim) })?;
        let mut dims = vec![0i64; ndim];
        check(unsafe { sys::bt_tensor_shape(self.raw, dims.as_mut_ptr(), ndim) })?;
        Ok(dims)
    }

    pub fn numel(&self) -> Result<usize> {
        Ok(self.shape()?.iter().product::<i64>() as usize)
    }

    pub fn kind(&self) -> Result<Kind> {
        let mut code = 0;
        check(unsafe { sys::bt_tensor_dtype(self.raw, &mut code) })?;
        Kind::from_raw(code)
    }

    pub fn device(&self) -> Result<Device> {
        let (mut dt, mut di) = (0, 0);
        check(unsafe { sys::bt_tensor_device(self.raw, &mut dt, &mut di) })?;
        Ok(Device::from_raw(dt, di))
    }

    /// Reads a one-element tensor (synchronises with the device).
    pub fn item(&self) -> Result<f64> {
        let mut v = 0.0;
        check(unsafe { sys::bt_tensor_item_f64(self.raw, &mut v) })?;
        Ok(v)
    }

    /// Copies the tensor's contents to host memory, in its own dtype, row-major.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; self.numel()? * self.kind()?.element_size()];
        check(unsafe { sys::bt_tensor_to_host(self.raw, bytes.as_mut_ptr().cast(), bytes.len()) })?;
        Ok(bytes)
    }

    /// The values as float32 (converting from other dtypes).
    pub fn to_f32_vec(&self) -> Result<Vec<f32>> {
        let t = if self.kind()? == Kind::Float { self.alias()? } else { self.to_kind(Kind::Float)? };
        let mut values = vec![0f32; t.numel()?];
        check(unsafe { sys::bt_tensor_to_host(t.raw, values.as_mut_ptr().cast(), values.len() * 4) })?;
        Ok(values)
    }

    /// The address of the first element when the tensor is contiguous (row-major), else `None`.
    /// The memory is the tensor's: valid while this handle (or an alias) lives, and on the
    /// tensor's device.
    pub fn contiguous_data_ptr(&self) -> Result<Option<*mut std::os::raw::c_void>> {
        let (mut data, mut contiguous) = (null_mut(), 0);
        check(unsafe { sys::bt_tensor_data_ptr(self.raw, &mut data, &mut contiguous) })?;
        Ok((contiguous != 0).then_some(data))
    }
}

//! New tensors: from host data, filled, uninitialised or random, and in-place (re)initialisation.
use super::{produce, Tensor};
use crate::device::{Device, Kind};
use crate::error::{check, Result};
use crate::generator::Generator;
use torch_sys as sys;

impl Tensor {
    /// Copies `bytes` (laid out as `kind`, row-major) into a new tensor on `device`.
    pub fn from_bytes(bytes: &[u8], kind: Kind, shape: &[i64], device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe {
            sys::bt_tensor_from_data(
                bytes.as_ptr().cast(),
                bytes.len(),
                kind.raw(),
                shape.as_ptr(),
                shape.len(),
                dt,
                di,
                out,
            )
        })
    }

    pub fn from_f32(values: &[f32], shape: &[i64], device: Device) -> Result<Tensor> {
        let bytes = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values)) };
        Tensor::from_bytes(bytes, Kind::Float, shape, device)
    }

    pub fn from_i64(values: &[i64], shape: &[i64], device: Device) -> Result<Tensor> {
        let bytes = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values)) };
        Tensor::from_bytes(bytes, Kind::Int64, shape, device)
    }

    pub fn zeros(shape: &[i64], kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_zeros(shape.as_ptr(), shape.len(), kind.raw(), dt, di, out) })
    }

    pub fn full(shape: &[i64], value: f64, kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_full(shape.as_ptr(), shape.len(), value, kind.raw(), dt, di, out) })
    }

    /// An uninitialised contiguous tensor.
    pub fn empty(shape: &[i64], kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_empty(shape.as_ptr(), shape.len(), kind.raw(), dt, di, out) })
    }

    /// `0, 1, ..., n - 1`
    pub fn arange(n: i64, kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_arange(n, kind.raw(), dt, di, out) })
    }

    /// Uniform `[0, 1)` values drawn from `generator` on `device`.
    pub fn rand(shape: &[i64], kind: Kind, device: Device, generator: &Generator) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_rand(shape.as_ptr(), shape.len(), kind.raw(), dt, di, generator.raw, out) })
    }

    pub fn uniform_(&self, low: f64, high: f64, generator: &Generator) -> Result<()> {
        check(unsafe { sys::bt_uniform_(self.raw, low, high, generator.raw) })
    }

    pub fn normal_(&self, mean: f64, std: f64, generator: &Generator) -> Result<()> {
        check(unsafe { sys::bt_normal_(self.raw, mean, std, generator.raw) })
    }

    pub fn fill_(&self, value: f64) -> Result<()> {
        check(unsafe { sys::bt_fill_(self.raw, value) })
    }
}

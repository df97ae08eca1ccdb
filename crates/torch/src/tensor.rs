use crate::device::{Device, Kind};
use crate::error::{check, Result, TorchError};
use crate::generator::Generator;
use std::ptr::null_mut;
use torch_sys as sys;

/// An owning handle to a libtorch tensor. Dropping it releases the handle; storage is shared
/// between aliases exactly as `at::Tensor` copies share it.
pub struct Tensor {
    pub(crate) raw: sys::bt_tensor,
}

// SAFETY: at::Tensor reference counts are atomic; callers serialise mutation (models sit behind
// a Mutex in the addon).
unsafe impl Send for Tensor {}

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

impl Tensor {
    /// Copies `bytes` (laid out as `kind`, row-major) into a new tensor on `device`.
    pub fn from_bytes(bytes: &[u8], kind: Kind, shape: &[i64], device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe {
            sys::bt_tensor_from_data(bytes.as_ptr().cast(), bytes.len(), kind.raw(), shape.as_ptr(), shape.len(), dt, di, out)
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

    /// A second handle to the same tensor (shared storage and autograd state).
    pub fn alias(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_tensor_alias(self.raw, out) })
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

    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_copy_(self.raw, src.raw) })
    }

    pub fn to(&self, kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        produce(|out| unsafe { sys::bt_to(self.raw, kind.raw(), dt, di, out) })
    }

    pub fn to_kind(&self, kind: Kind) -> Result<Tensor> {
        self.to(kind, self.device()?)
    }

    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        self.to(self.kind()?, device)
    }

    pub fn deep_clone(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_clone(self.raw, out) })
    }

    pub fn detach(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_detach(self.raw, out) })
    }

    pub fn contiguous(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_contiguous(self.raw, out) })
    }

    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_reshape(self.raw, shape.as_ptr(), shape.len(), out) })
    }

    pub fn flatten(&self, start_dim: i64, end_dim: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_flatten(self.raw, start_dim, end_dim, out) })
    }

    pub fn narrow(&self, dim: i64, start: i64, length: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_narrow(self.raw, dim, start, length, out) })
    }

    pub fn index_select(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_index_select(self.raw, dim, index.raw, out) })
    }

    pub fn cat(tensors: &[&Tensor], dim: i64) -> Result<Tensor> {
        let raws: Vec<_> = tensors.iter().map(|t| t.raw).collect();
        produce(|out| unsafe { sys::bt_cat(raws.as_ptr(), raws.len(), dim, out) })
    }

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

    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.add_scaled(other, 1.0)
    }

    /// `self + alpha * other`
    pub fn add_scaled(&self, other: &Tensor, alpha: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_add(self.raw, other.raw, alpha, out) })
    }

    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_sub(self.raw, other.raw, out) })
    }

    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_mul(self.raw, other.raw, out) })
    }

    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_div(self.raw, other.raw, out) })
    }

    pub fn mul_scalar(&self, s: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_mul_scalar(self.raw, s, out) })
    }

    pub fn add_scalar(&self, s: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_add_scalar(self.raw, s, out) })
    }

    pub fn add_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        check(unsafe { sys::bt_add_(self.raw, other.raw, alpha) })
    }

    pub fn add_scalar_(&self, s: f64) -> Result<()> {
        check(unsafe { sys::bt_add_scalar_(self.raw, s) })
    }

    pub fn mul_scalar_(&self, s: f64) -> Result<()> {
        check(unsafe { sys::bt_mul_scalar_(self.raw, s) })
    }

    pub fn sum(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_sum(self.raw, out) })
    }

    pub fn mean(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_mean(self.raw, out) })
    }

    /// The Frobenius (L2) norm of all elements.
    pub fn norm(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_norm(self.raw, out) })
    }

    /// Elementwise `cond ? a : b`.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_where(cond.raw, a.raw, b.raw, out) })
    }

    pub fn gt_scalar(&self, s: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_gt_scalar(self.raw, s, out) })
    }

    pub fn logical_and(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_logical_and(self.raw, other.raw, out) })
    }

    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, stride: i64, padding: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_conv2d(self.raw, weight.raw, raw_or_null(bias), stride, padding, out) })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        weight: &Tensor,
        bias: &Tensor,
        running_mean: &Tensor,
        running_var: &Tensor,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Result<Tensor> {
        produce(|out| unsafe {
            sys::bt_batch_norm(self.raw, weight.raw, bias.raw, running_mean.raw, running_var.raw, training as i32, momentum, eps, out)
        })
    }

    pub fn max_pool2d(&self, kernel: i64, stride: i64, padding: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_max_pool2d(self.raw, kernel, stride, padding, out) })
    }

    pub fn adaptive_avg_pool2d(&self, out_h: i64, out_w: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_adaptive_avg_pool2d(self.raw, out_h, out_w, out) })
    }

    pub fn relu(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_relu(self.raw, out) })
    }

    pub fn relu_(&self) -> Result<()> {
        check(unsafe { sys::bt_relu_(self.raw) })
    }

    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_linear(self.raw, weight.raw, raw_or_null(bias), out) })
    }

    pub fn cosine_similarity(&self, other: &Tensor, dim: i64, eps: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_cosine_similarity(self.raw, other.raw, dim, eps, out) })
    }
}

/// Multi-tensor updates: one libtorch call over a whole list of tensors.
pub mod foreach {
    use super::*;

    fn raws(ts: &[Tensor]) -> Vec<sys::bt_tensor> {
        ts.iter().map(|t| t.raw).collect()
    }

    fn same_len(a: &[Tensor], b: &[Tensor]) -> Result<()> {
        if a.len() == b.len() {
            Ok(())
        } else {
            Err(TorchError::new(format!("foreach lists differ in length: {} and {}", a.len(), b.len())))
        }
    }

    /// `ts[i] *= s`
    pub fn mul_scalar_(ts: &[Tensor], s: f64) -> Result<()> {
        let r = raws(ts);
        check(unsafe { sys::bt_foreach_mul_scalar_(r.as_ptr(), r.len(), s) })
    }

    /// `ts[i] += alpha * others[i]`
    pub fn add_(ts: &[Tensor], others: &[Tensor], alpha: f64) -> Result<()> {
        same_len(ts, others)?;
        let (a, b) = (raws(ts), raws(others));
        check(unsafe { sys::bt_foreach_add_list_(a.as_ptr(), b.as_ptr(), a.len(), alpha) })
    }

    /// L2 norm of every tensor.
    pub fn norm(ts: &[Tensor]) -> Result<Vec<Tensor>> {
        let r = raws(ts);
        let mut outs = vec![null_mut(); r.len()];
        check(unsafe { sys::bt_foreach_norm(r.as_ptr(), r.len(), outs.as_mut_ptr()) })?;
        Ok(outs.into_iter().map(|raw| Tensor { raw }).collect())
    }

    /// Exponential moving average `ts[i] = m * ts[i] + (1 - m) * others[i]`, with `m` a 0-d
    /// tensor so that a captured step reads the current value on every replay.
    pub fn ema_(ts: &[Tensor], others: &[Tensor], m: &Tensor) -> Result<()> {
        same_len(ts, others)?;
        let (a, b) = (raws(ts), raws(others));
        check(unsafe { sys::bt_foreach_ema_tensor_(a.as_ptr(), b.as_ptr(), a.len(), m.raw) })
    }

    /// `ts[i] += sign * s * others[i]` with `s` a 0-d tensor (a learning rate on the device).
    pub fn add_scaled_(ts: &[Tensor], others: &[Tensor], s: &Tensor, sign: f64) -> Result<()> {
        same_len(ts, others)?;
        let (a, b) = (raws(ts), raws(others));
        check(unsafe { sys::bt_foreach_add_scaled_tensor_(a.as_ptr(), b.as_ptr(), a.len(), s.raw, sign) })
    }
}

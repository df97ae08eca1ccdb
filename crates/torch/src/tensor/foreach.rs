//! Multi-tensor updates: one libtorch call over a whole list of tensors.
use super::Tensor;
use crate::error::{check, Result, TorchError};
use std::ptr::null_mut;
use torch_sys as sys;

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

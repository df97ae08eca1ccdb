//! Reductions: over every element or over listed dimensions, norms, and indices of extremes.
use super::{produce, Tensor};
use crate::error::Result;
use std::os::raw::c_int;
use torch_sys as sys;

impl Tensor {
    /// Over `dims` (every dimension when empty).
    fn reduce(&self, op: c_int, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_reduce(self.raw, op, dims.as_ptr(), dims.len(), keepdim as i32, out) })
    }

    /// The sum of every element (a 0-d tensor).
    pub fn sum(&self) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_SUM, &[], false)
    }

    /// The mean of every element (a 0-d tensor).
    pub fn mean(&self) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_MEAN, &[], false)
    }

    pub fn sum_dims(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_SUM, dims, keepdim)
    }

    pub fn mean_dims(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_MEAN, dims, keepdim)
    }

    /// The maximum over `dims` (`torch.amax`).
    pub fn amax(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_AMAX, dims, keepdim)
    }

    /// The minimum over `dims` (`torch.amin`).
    pub fn amin(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_AMIN, dims, keepdim)
    }

    pub fn any_dims(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_ANY, dims, keepdim)
    }

    pub fn all_dims(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        self.reduce(sys::BT_REDUCE_ALL, dims, keepdim)
    }

    /// The Frobenius (L2) norm of all elements.
    pub fn norm(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_norm(self.raw, out) })
    }

    /// Index (int64) of the first maximum over `dim`.
    pub fn argmax(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_argmax(self.raw, dim, keepdim as i32, out) })
    }

    pub fn argsort(&self, dim: i64, descending: bool) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_argsort(self.raw, dim, descending as i32, out) })
    }
}

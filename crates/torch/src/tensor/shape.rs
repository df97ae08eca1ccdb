//! Shapes, views, layouts and indexing.
use super::{produce, Tensor};
use crate::error::{check, Result};
use torch_sys as sys;

impl Tensor {
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_reshape(self.raw, shape.as_ptr(), shape.len(), out) })
    }

    pub fn flatten(&self, start_dim: i64, end_dim: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_flatten(self.raw, start_dim, end_dim, out) })
    }

    pub fn narrow(&self, dim: i64, start: i64, length: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_narrow(self.raw, dim, start, length, out) })
    }

    pub fn permute(&self, dims: &[i64]) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_permute(self.raw, dims.as_ptr(), dims.len(), out) })
    }

    pub fn transpose(&self, dim0: i64, dim1: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_transpose(self.raw, dim0, dim1, out) })
    }

    pub fn expand(&self, shape: &[i64]) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_expand(self.raw, shape.as_ptr(), shape.len(), out) })
    }

    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_unsqueeze(self.raw, dim, out) })
    }

    pub fn flip(&self, dims: &[i64]) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_flip(self.raw, dims.as_ptr(), dims.len(), out) })
    }

    /// Rotates by `k` quarter turns from `dim0` towards `dim1` (`torch.rot90`).
    pub fn rot90(&self, k: i64, dim0: i64, dim1: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_rot90(self.raw, k, dim0, dim1, out) })
    }

    pub fn cat(tensors: &[&Tensor], dim: i64) -> Result<Tensor> {
        let raws: Vec<_> = tensors.iter().map(|t| t.raw).collect();
        produce(|out| unsafe { sys::bt_cat(raws.as_ptr(), raws.len(), dim, out) })
    }

    pub fn index_select(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_index_select(self.raw, dim, index.raw, out) })
    }

    pub fn gather(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_gather(self.raw, dim, index.raw, out) })
    }

    /// In place: `self[index[i]] = source[i]` along `dim` (`index` int64).
    pub fn index_copy_(&self, dim: i64, index: &Tensor, source: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_index_copy_(self.raw, dim, index.raw, source.raw) })
    }
}

//! oneDNN's own tensor layout on the CPU (`Tensor.to_mkldnn()` in PyTorch), for inference: see
//! `nn::FoldedConv2d`.
use super::{produce, Tensor};
use crate::error::{check, Result};
use torch_sys as sys;

/// Whether libtorch has oneDNN (it does on x86-64 and arm64 builds).
pub fn onednn_available() -> bool {
    unsafe { sys::bt_onednn_available() != 0 }
}

impl Tensor {
    /// A copy of a CPU float32 tensor in oneDNN's blocked layout. Such a tensor has a shape but no
    /// strides: only oneDNN-backed operations (convolutions, ReLU, addition, pooling) take it.
    pub fn to_onednn(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_to_onednn(self.raw, out) })
    }

    /// The strided tensor back from oneDNN's layout (an alias when it already is strided).
    pub fn to_dense(&self) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_onednn_to_dense(self.raw, out) })
    }

    pub fn is_onednn(&self) -> Result<bool> {
        let mut out = 0;
        check(unsafe { sys::bt_tensor_is_onednn(self.raw, &mut out) })?;
        Ok(out != 0)
    }

    /// A convolution weight `[O, C, k, k]` reordered once into the layout oneDNN's kernels read.
    pub fn onednn_pack_conv2d_weight(&self, stride: i64, padding: i64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_onednn_pack_conv2d_weight(self.raw, stride, padding, out) })
    }

    /// The convolution of a tensor in oneDNN's layout with a packed weight; the result stays in
    /// oneDNN's layout.
    pub fn onednn_conv2d(
        &self,
        packed_weight: &Tensor,
        bias: Option<&Tensor>,
        stride: i64,
        padding: i64,
    ) -> Result<Tensor> {
        let bias = bias.map_or(std::ptr::null_mut(), |b| b.raw);
        produce(|out| unsafe { sys::bt_onednn_conv2d(self.raw, packed_weight.raw, bias, stride, padding, out) })
    }

    /// How many in-place writes the storage has seen (autograd's version counter): copies derived
    /// from a tensor compare it to know whether they are stale.
    pub fn version(&self) -> Result<i64> {
        let mut out = 0;
        check(unsafe { sys::bt_tensor_version(self.raw, &mut out) })?;
        Ok(out)
    }
}

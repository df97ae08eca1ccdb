//! Neural-network operations: convolutions, normalisation, pooling, activations, linear maps and
//! matrix products, padding and resampling.
use super::{produce, raw_or_null, Tensor};
use crate::error::{check, Result};
use torch_sys as sys;

/// How `pad2d` fills the border.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Padding {
    Constant(f64),
    /// Repeats the edge pixel (PIL's box blur, `F.pad(mode="replicate")`).
    Replicate,
    /// Mirrors without repeating the edge (`F.pad(mode="reflect")`).
    Reflect,
}

/// `grid_sample` interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    Bilinear,
    Nearest,
}

/// `grid_sample` handling of coordinates outside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplePadding {
    Zeros,
    Border,
    Reflection,
}

impl Tensor {
    /// `F.conv2d(self, weight, bias, stride, padding, groups=groups)`
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: [i64; 2],
        padding: [i64; 2],
        groups: i64,
    ) -> Result<Tensor> {
        let bias = raw_or_null(bias);
        produce(|out| unsafe {
            sys::bt_conv2d(self.raw, weight.raw, bias, stride[0], stride[1], padding[0], padding[1], groups, out)
        })
    }

    #[allow(clippy::too_many_arguments)] // the arguments of F.batch_norm, in its order
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
            sys::bt_batch_norm(
                self.raw,
                weight.raw,
                bias.raw,
                running_mean.raw,
                running_var.raw,
                training as i32,
                momentum,
                eps,
                out,
            )
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

    /// Batched matrix product `[B, n, m] x [B, m, p]`.
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_bmm(self.raw, other.raw, out) })
    }

    /// Matrix product with numpy broadcasting (`torch.matmul`).
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_matmul(self.raw, other.raw, out) })
    }

    /// Pads the last two dimensions of a 4-d tensor by `[left, right, top, bottom]`.
    pub fn pad2d(&self, pads: [i64; 4], mode: Padding) -> Result<Tensor> {
        let (code, value) = match mode {
            Padding::Constant(v) => (sys::BT_PAD_CONSTANT, v),
            Padding::Replicate => (sys::BT_PAD_REPLICATE, 0.0),
            Padding::Reflect => (sys::BT_PAD_REFLECT, 0.0),
        };
        produce(|out| unsafe { sys::bt_pad2d(self.raw, pads[0], pads[1], pads[2], pads[3], code, value, out) })
    }

    /// `F.affine_grid(theta, [n, c, h, w], align_corners)`
    pub fn affine_grid(theta: &Tensor, size: [i64; 4], align_corners: bool) -> Result<Tensor> {
        produce(|out| unsafe {
            sys::bt_affine_grid(theta.raw, size[0], size[1], size[2], size[3], align_corners as i32, out)
        })
    }

    /// `F.grid_sample(self, grid, mode, padding_mode, align_corners)`
    pub fn grid_sample(
        &self,
        grid: &Tensor,
        mode: Sampling,
        padding: SamplePadding,
        align_corners: bool,
    ) -> Result<Tensor> {
        let mode = match mode {
            Sampling::Bilinear => sys::BT_SAMPLE_BILINEAR,
            Sampling::Nearest => sys::BT_SAMPLE_NEAREST,
        };
        let padding = match padding {
            SamplePadding::Zeros => sys::BT_SAMPLE_PAD_ZEROS,
            SamplePadding::Border => sys::BT_SAMPLE_PAD_BORDER,
            SamplePadding::Reflection => sys::BT_SAMPLE_PAD_REFLECTION,
        };
        produce(|out| unsafe { sys::bt_grid_sample(self.raw, grid.raw, mode, padding, align_corners as i32, out) })
    }
}

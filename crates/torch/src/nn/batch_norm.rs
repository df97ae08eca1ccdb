use super::{init, Mode};
use crate::device::{Device, Kind};
use crate::error::Result;
use crate::store::Path;
use crate::tensor::Tensor;

/// PyTorch's default epsilon.
const EPS: f64 = 1e-5;

/// BatchNorm1d/2d with PyTorch's defaults (eps 1e-5, momentum 0.1, affine, running statistics).
pub struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
}

impl BatchNorm {
    pub fn new(path: &mut Path, features: i64) -> Result<BatchNorm> {
        Ok(BatchNorm {
            weight: path.parameter("weight", init::constant(&[features], 1.0)?)?,
            bias: path.parameter("bias", init::constant(&[features], 0.0)?)?,
            running_mean: path.buffer("running_mean", init::constant(&[features], 0.0)?)?,
            running_var: path.buffer("running_var", init::constant(&[features], 1.0)?)?,
            num_batches_tracked: path.buffer("num_batches_tracked", Tensor::zeros(&[], Kind::Int64, Device::Cpu)?)?,
        })
    }

    pub fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let training = mode == Mode::Train;
        if training {
            // Kept for torchvision-compatible state dicts; the fixed momentum makes it unused.
            self.num_batches_tracked.add_scalar_(1.0)?;
        }
        x.batch_norm(&self.weight, &self.bias, &self.running_mean, &self.running_var, training, 0.1, EPS)
    }

    /// `conv_weight` `[O, C, k, k]` and a bias `[O]` that give, in one convolution, what the
    /// convolution followed by this layer in evaluation mode gives: each output channel scaled by
    /// weight / sqrt(running_var + eps) and shifted by bias - running_mean * that scale.
    pub fn fold(&self, conv_weight: &Tensor) -> Result<(Tensor, Tensor)> {
        let scale = self.weight.detach()?.div(&self.running_var.add_scalar(EPS)?.sqrt()?)?;
        let weight = conv_weight.detach()?.mul(&scale.reshape(&[-1, 1, 1, 1])?)?;
        let bias = self.bias.detach()?.sub(&self.running_mean.mul(&scale)?)?;
        Ok((weight, bias))
    }

    /// The version counters behind what `fold` reads: a fold is stale once one of them moved.
    /// A training-mode forward writes the running statistics without counting the write (as
    /// `torch.batch_norm` does), so the count of tracked batches, which it also bumps, stands in.
    pub fn versions(&self) -> Result<[i64; 5]> {
        Ok([
            self.weight.version()?,
            self.bias.version()?,
            self.running_mean.version()?,
            self.running_var.version()?,
            self.num_batches_tracked.version()?,
        ])
    }
}

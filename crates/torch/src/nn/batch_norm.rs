use super::{init, Mode};
use crate::device::{Device, Kind};
use crate::error::Result;
use crate::store::Path;
use crate::tensor::Tensor;

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
        x.batch_norm(&self.weight, &self.bias, &self.running_mean, &self.running_var, training, 0.1, 1e-5)
    }
}

//! `ToTensor` then `Normalize(mean, std)`: the last step, which also writes the view in its output
//! type.
use crate::augment::config::Normalize;
use torch::{Device, Result, Tensor};

/// `x * scale + shift` per channel, with `scale = 1 / std` and `shift = -mean / std`, as
/// `[1, 3, 1, 1]` float32 tensors made once on the device.
pub struct Normalization {
    scale: Tensor,
    shift: Tensor,
}

impl Normalization {
    /// `None` keeps `[0, 1]` values (Lightly's `normalize=None`).
    pub fn new(normalize: Option<&Normalize>, device: Device) -> Result<Normalization> {
        let (mean, std) = normalize.map_or(([0.0; 3], [1.0; 3]), |n| (n.mean, n.std));
        let scale: Vec<f32> = std.iter().map(|s| (1.0 / s) as f32).collect();
        let shift: Vec<f32> = mean.iter().zip(&std).map(|(m, s)| (-m / s) as f32).collect();
        Ok(Normalization {
            scale: Tensor::from_f32(&scale, &[1, 3, 1, 1], device)?,
            shift: Tensor::from_f32(&shift, &[1, 3, 1, 1], device)?,
        })
    }

    /// Writes the normalised `x` into `dst` (same shape, any float type).
    pub fn write(&self, x: &Tensor, dst: &Tensor) -> Result<()> {
        self.shift.addcmul_into(dst, x, &self.scale, 1.0)
    }

    /// The normalised `x` as a new float32 tensor.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.shift.addcmul(x, &self.scale, 1.0)
    }
}

use super::init;
use crate::error::Result;
use crate::store::Path;
use crate::tensor::Tensor;

/// A bias-free 2-D convolution (ResNet never uses conv biases).
pub struct Conv2d {
    weight: Tensor,
    stride: i64,
    padding: i64,
}

impl Conv2d {
    pub fn new(path: &mut Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, padding: i64) -> Result<Conv2d> {
        let weight = init::kaiming_normal_fan_out(&[c_out, c_in, kernel, kernel], path.generator())?;
        Ok(Conv2d { weight: path.parameter("weight", weight)?, stride, padding })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(&self.weight, None, self.stride, self.padding)
    }
}

use super::init;
use crate::error::Result;
use crate::store::Path;
use crate::tensor::Tensor;

/// A bias-free 2-D convolution (ResNet never uses conv biases).
pub struct Conv2d {
    weight: Tensor,
    kernel: i64,
    stride: i64,
    padding: i64,
}

impl Conv2d {
    pub fn new(path: &mut Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, padding: i64) -> Result<Conv2d> {
        let weight = init::kaiming_normal_fan_out(&[c_out, c_in, kernel, kernel], path.generator())?;
        Ok(Conv2d { weight: path.parameter("weight", weight)?, kernel, stride, padding })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.shape()?;
        if self.meets_only_centre(&shape) {
            return self.centre_tap(x, shape[0]);
        }
        x.conv2d(&self.weight, None, [self.stride; 2], [self.padding; 2], 1)
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    pub(crate) fn stride(&self) -> i64 {
        self.stride
    }

    pub(crate) fn padding(&self) -> i64 {
        self.padding
    }

    /// Whether only the kernel's centre tap meets an input of this shape (see centre_tap).
    pub(crate) fn meets_only_centre(&self, shape: &[i64]) -> bool {
        shape.len() == 4 && shape[2] == 1 && shape[3] == 1 && self.is_centred()
    }

    pub(crate) fn is_centred(&self) -> bool {
        2 * self.padding + 1 == self.kernel
    }

    /// On a 1x1 map with the kernel centred by its padding, only the centre tap meets the input
    /// (the others meet padding zeros), so the convolution is a matrix product with that tap, and
    /// its gradient reaches the centre tap alone, as the convolution's does. ResNet-18's last
    /// stage sees 1x1 maps on 32x32 images with the 7x7 stem; there oneDNN's 3x3 kernels (and the
    /// reorders of their weights) took 14% of a CPU step (BENCHMARKS.md).
    fn centre_tap(&self, x: &Tensor, batch: i64) -> Result<Tensor> {
        let out = x.flatten(1, -1)?.linear(&centre_tap_of(&self.weight, self.padding)?, None)?;
        let channels = out.shape()?[1];
        out.reshape(&[batch, channels, 1, 1])
    }
}

/// The centre tap `[O, C]` of a weight `[O, C, k, k]` with k = 2 * padding + 1.
pub(crate) fn centre_tap_of(weight: &Tensor, padding: i64) -> Result<Tensor> {
    weight.narrow(2, padding, 1)?.narrow(3, padding, 1)?.flatten(1, -1)
}

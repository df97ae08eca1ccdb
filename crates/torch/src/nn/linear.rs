use super::init;
use crate::error::Result;
use crate::store::Path;
use crate::tensor::Tensor;

/// A fully connected layer with nn.Linear's initialisation.
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn new(path: &mut Path, c_in: i64, c_out: i64, bias: bool) -> Result<Linear> {
        let weight = path.parameter("weight", init::uniform_fan_in(&[c_out, c_in], c_in, path.generator())?)?;
        let bias = if bias {
            Some(path.parameter("bias", init::uniform_fan_in(&[c_out], c_in, path.generator())?)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.linear(&self.weight, self.bias.as_ref())
    }
}

use crate::device::{Device, Kind};
use crate::error::Result;
use crate::generator::Generator;
use crate::tensor::Tensor;

/// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, as torchvision initialises convolutions.
pub fn kaiming_normal_fan_out(shape: &[i64], generator: &Generator) -> Result<Tensor> {
    let fan_out = shape[0] * shape[2..].iter().product::<i64>();
    let t = Tensor::zeros(shape, Kind::Float, Device::Cpu)?;
    t.normal_(0.0, (2.0 / fan_out as f64).sqrt(), generator)?;
    Ok(t)
}

/// `uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))`: nn.Linear's default for both weight
/// (kaiming_uniform with a = sqrt(5) reduces to this bound) and bias.
pub fn uniform_fan_in(shape: &[i64], fan_in: i64, generator: &Generator) -> Result<Tensor> {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let t = Tensor::zeros(shape, Kind::Float, Device::Cpu)?;
    t.uniform_(-bound, bound, generator)?;
    Ok(t)
}

pub fn constant(shape: &[i64], value: f64) -> Result<Tensor> {
    Tensor::full(shape, value, Kind::Float, Device::Cpu)
}

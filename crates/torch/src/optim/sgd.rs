use crate::error::Result;
use crate::tensor::{foreach, Tensor};

/// torch.optim.SGD's hyper-parameters and semantics.
#[derive(Debug, Clone, PartialEq)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 0.06, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }
}

/// Turns (weight-decayed) gradients into the update direction, keeping PyTorch's momentum buffer
/// rules: the first step copies the gradient into the buffer, later steps
/// `buf = momentum * buf + (1 - dampening) * grad`; nesterov adds `momentum * buf` to the gradient.
pub(crate) fn momentum_direction(
    config: &SgdConfig,
    grads: Vec<Tensor>,
    buffers: &mut Option<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    if config.momentum == 0.0 {
        return Ok(grads);
    }
    match buffers {
        None => {
            *buffers = Some(grads.iter().map(|g| g.detach()?.deep_clone()).collect::<Result<_>>()?);
        }
        Some(bufs) => {
            foreach::mul_scalar_(bufs, config.momentum)?;
            foreach::add_(bufs, &grads, 1.0 - config.dampening)?;
        }
    }
    let bufs = buffers.as_ref().expect("set above");
    if config.nesterov {
        foreach::add_(&grads, bufs, config.momentum)?;
        Ok(grads)
    } else {
        bufs.iter().map(Tensor::alias).collect()
    }
}

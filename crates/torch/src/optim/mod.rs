//! Optimizers over a list of parameters, written with multi-tensor (foreach) kernels and no
//! host synchronisation, so a whole training step can later be captured as one CUDA graph.
mod lars;
mod sgd;

pub use lars::LarsConfig;
pub use sgd::SgdConfig;

use crate::error::Result;
use crate::tensor::Tensor;

#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerConfig {
    Sgd(SgdConfig),
    Lars(LarsConfig),
}

/// The state of one optimizer: its config, the parameters it updates and their momentum buffers.
pub struct Optimizer {
    config: OptimizerConfig,
    params: Vec<Tensor>,
    momentum_buffers: Option<Vec<Tensor>>,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig, params: Vec<Tensor>) -> Optimizer {
        Optimizer { config, params, momentum_buffers: None }
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    pub fn lr(&self) -> f64 {
        self.sgd().lr
    }

    pub fn set_lr(&mut self, lr: f64) {
        match &mut self.config {
            OptimizerConfig::Sgd(c) => c.lr = lr,
            OptimizerConfig::Lars(c) => c.sgd.lr = lr,
        }
    }

    fn sgd(&self) -> &SgdConfig {
        match &self.config {
            OptimizerConfig::Sgd(c) => c,
            OptimizerConfig::Lars(c) => &c.sgd,
        }
    }

    /// The momentum buffers, once the first step has created them (for checkpoints).
    pub fn momentum_buffers(&self) -> Option<&[Tensor]> {
        self.momentum_buffers.as_deref()
    }

    /// Restores momentum buffers saved from `momentum_buffers` (when resuming). Their number
    /// and shapes must match the parameters.
    pub fn set_momentum_buffers(&mut self, buffers: Vec<Tensor>) -> Result<()> {
        if buffers.len() != self.params.len() {
            return Err(crate::TorchError::new(format!(
                "optimizer state has {} momentum buffers, the model {} parameters",
                buffers.len(),
                self.params.len()
            )));
        }
        for (i, (b, p)) in buffers.iter().zip(&self.params).enumerate() {
            if b.shape()? != p.shape()? {
                return Err(crate::TorchError::new(format!(
                    "momentum buffer {i}: shape {:?} does not match its parameter's {:?}",
                    b.shape()?,
                    p.shape()?
                )));
            }
        }
        let device = self.params.first().map(|p| p.device()).transpose()?.unwrap_or(crate::Device::Cpu);
        self.momentum_buffers = Some(buffers.iter().map(|b| b.to_device(device)).collect::<Result<_>>()?);
        Ok(())
    }

    /// The parameters that received a gradient, with those gradients. This is the point where a
    /// data-parallel trainer all-reduces the gradients before the update.
    pub fn gradients(&self) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
        let mut params = Vec::with_capacity(self.params.len());
        let mut grads = Vec::with_capacity(self.params.len());
        for p in &self.params {
            if let Some(g) = p.grad()? {
                params.push(p.alias()?);
                grads.push(g);
            }
        }
        Ok((params, grads))
    }

    /// One update from the current gradients with learning rate `lr` (a 0-d tensor on the
    /// parameters' device, so a captured step reads its current value), then the gradients are
    /// dropped. The configured `lr` is what callers fill it with.
    pub fn step(&mut self, lr: &Tensor) -> Result<()> {
        let _no_grad = crate::grad::NoGradGuard::new()?;
        let (params, grads) = self.gradients()?;
        if let OptimizerConfig::Lars(c) = &self.config {
            lars::scale_gradients(c, &params, &grads)?;
        } else if self.sgd().weight_decay != 0.0 {
            crate::tensor::foreach::add_(&grads, &params, self.sgd().weight_decay)?;
        }
        let config = self.sgd().clone();
        let update = sgd::momentum_direction(&config, grads, &mut self.momentum_buffers)?;
        crate::tensor::foreach::add_scaled_(&params, &update, lr, -1.0)?;
        self.zero_grad()
    }

    pub fn zero_grad(&self) -> Result<()> {
        self.params.iter().try_for_each(|p| p.zero_grad())
    }
}

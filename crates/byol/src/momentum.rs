//! The target network follows the online network by an exponential moving average.
use torch::{foreach, Result, Tensor};

/// Pairs of (target, online) tensors updated together by one multi-tensor call per step.
pub struct MomentumUpdate {
    targets: Vec<Tensor>,
    onlines: Vec<Tensor>,
}

impl MomentumUpdate {
    pub fn new(targets: Vec<Tensor>, onlines: Vec<Tensor>) -> MomentumUpdate {
        MomentumUpdate { targets, onlines }
    }

    /// `target = m * target + (1 - m) * online` for every pair, without recording gradients;
    /// `m` is a 0-d tensor on the networks' device.
    pub fn apply(&self, m: &Tensor) -> Result<()> {
        let _no_grad = torch::NoGradGuard::new()?;
        foreach::ema_(&self.targets, &self.onlines, m)
    }
}

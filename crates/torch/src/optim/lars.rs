use super::SgdConfig;
use crate::error::Result;
use crate::tensor::{foreach, Tensor};

/// LARS (You et al.), as Lightly's optimizer: SGD whose per-tensor step is scaled by the trust
/// ratio `trust_coefficient * |p| / (|g| + weight_decay * |p| + eps)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LarsConfig {
    pub sgd: SgdConfig,
    pub trust_coefficient: f64,
    pub eps: f64,
    /// Leave one-dimensional tensors (biases, BatchNorm affine) unadapted, as solo-learn does.
    pub exclude_bias_and_norm: bool,
}

impl Default for LarsConfig {
    fn default() -> Self {
        LarsConfig { sgd: SgdConfig::default(), trust_coefficient: 0.001, eps: 1e-8, exclude_bias_and_norm: false }
    }
}

/// Replaces each gradient in place by its weight-decayed, trust-scaled version. Where either norm
/// is zero the gradient is left as it is (no decay either), as in Lightly; the choice is made on
/// the device so the step never waits for the host.
pub(crate) fn scale_gradients(config: &LarsConfig, params: &[Tensor], grads: &[Tensor]) -> Result<()> {
    let wd = config.sgd.weight_decay;
    if wd == 0.0 {
        return Ok(());
    }
    let p_norms = foreach::norm(params)?;
    let g_norms = foreach::norm(grads)?;
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        if config.exclude_bias_and_norm && p.shape()?.len() == 1 {
            continue;
        }
        let (pn, gn) = (&p_norms[i], &g_norms[i]);
        let ratio = pn.div(&gn.add_scaled(pn, wd)?.add_scalar(config.eps)?)?.mul_scalar(config.trust_coefficient)?;
        let adapt = pn.gt_scalar(0.0)?.logical_and(&gn.gt_scalar(0.0)?)?;
        let scaled = g.add_scaled(p, wd)?.mul(&ratio)?;
        g.copy_(&Tensor::where_(&adapt, &scaled, g)?)?;
    }
    Ok(())
}

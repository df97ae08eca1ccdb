//! Lightly's BYOL projection and prediction heads.
use torch::nn::{BatchNorm, Linear, Mode};
use torch::{Path, Result, Tensor};

/// Dimensions of a head: `input -> hidden -> output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadConfig {
    pub input: i64,
    pub hidden: i64,
    pub output: i64,
}

/// `Linear(input, hidden, no bias) -> BatchNorm1d(hidden) -> ReLU -> Linear(hidden, output)`,
/// named as Lightly's `ProjectionHead` (`layers.0`, `layers.1`, `layers.3`). The BYOL projection
/// head is 512-1024-256 (or 4096 hidden in the paper), the prediction head 256-1024-256.
pub struct MlpHead {
    linear1: Linear,
    bn: BatchNorm,
    linear2: Linear,
}

impl MlpHead {
    pub fn new(path: &mut Path, config: HeadConfig) -> Result<MlpHead> {
        let mut layers = path.sub("layers");
        Ok(MlpHead {
            linear1: Linear::new(&mut layers.sub("0"), config.input, config.hidden, false)?,
            bn: BatchNorm::new(&mut layers.sub("1"), config.hidden)?,
            linear2: Linear::new(&mut layers.sub("3"), config.hidden, config.output, true)?,
        })
    }

    pub fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let h = self.bn.forward(&self.linear1.forward(x)?, mode)?;
        h.relu_()?;
        self.linear2.forward(&h)
    }
}

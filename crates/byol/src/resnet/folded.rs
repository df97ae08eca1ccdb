//! ResNet-18 for evaluation on the CPU: every convolution folded with its BatchNorm and packed
//! once for oneDNN, activations kept in oneDNN's layout between layers. libtorch's ordinary
//! convolutions reorder each weight on every call; at a batch of 32 images of 32x32 those
//! reorders were a fifth of the forward pass (BENCHMARKS.md). The results equal the layer-by-layer
//! network's up to float rounding.
use super::{BasicBlock, ResNet18, Stem};
use torch::nn::FoldedConv2d;
use torch::{Result, Tensor};

struct FoldedBlock {
    conv1: FoldedConv2d,
    conv2: FoldedConv2d,
    downsample: Option<FoldedConv2d>,
}

impl FoldedBlock {
    fn new(block: &BasicBlock) -> Result<FoldedBlock> {
        Ok(FoldedBlock {
            conv1: FoldedConv2d::new(&block.conv1, &block.bn1)?,
            conv2: FoldedConv2d::new(&block.conv2, &block.bn2)?,
            downsample: block.downsample.as_ref().map(|(conv, bn)| FoldedConv2d::new(conv, bn)).transpose()?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.conv1.forward(x)?;
        h.relu_()?;
        let h = self.conv2.forward(&h)?;
        let shortcut = match &self.downsample {
            Some(conv) => conv.forward(x)?,
            None => x.alias()?,
        };
        let out = h.add(&shortcut)?;
        out.relu_()?;
        Ok(out)
    }
}

/// A snapshot of a ResNet18's weights and BatchNorm statistics, folded for evaluation.
pub(super) struct FoldedResNet18 {
    stem: Stem,
    conv1: FoldedConv2d,
    blocks: Vec<FoldedBlock>,
}

impl FoldedResNet18 {
    /// Call without gradient recording.
    pub(super) fn new(net: &ResNet18) -> Result<FoldedResNet18> {
        Ok(FoldedResNet18 {
            stem: net.stem,
            conv1: FoldedConv2d::new(&net.conv1, &net.bn1)?,
            blocks: net.layers.iter().flatten().map(FoldedBlock::new).collect::<Result<_>>()?,
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.conv1.forward(x)?;
        h.relu_()?;
        if self.stem == Stem::Imagenet {
            h = h.max_pool2d(3, 2, 1)?;
        }
        for block in &self.blocks {
            h = block.forward(&h)?;
        }
        h.to_dense()?.adaptive_avg_pool2d(1, 1)?.flatten(1, -1)
    }
}

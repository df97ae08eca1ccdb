//! ResNet-18 with torchvision's layout and parameter names, so weights move between the two.
mod folded;

use folded::FoldedResNet18;
use std::cell::RefCell;
use torch::nn::{BatchNorm, Conv2d, Mode};
use torch::{Device, Kind, Path, Result, Tensor, TorchError};

/// The first layers of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stem {
    /// torchvision's 7x7 stride-2 convolution and 3x3 max-pool (the Lightly example).
    Imagenet,
    /// A 3x3 stride-1 convolution and no max-pool, which keeps 32x32 images at full resolution.
    Cifar,
}

impl Stem {
    pub fn parse(name: &str) -> Result<Stem> {
        match name {
            "imagenet" => Ok(Stem::Imagenet),
            "cifar" => Ok(Stem::Cifar),
            other => Err(TorchError::new(format!("unknown stem '{other}' (expected imagenet or cifar)"))),
        }
    }
}

/// torchvision's BasicBlock: two 3x3 convolutions and a (possibly projected) identity shortcut.
struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new(path: &mut Path, c_in: i64, c_out: i64, stride: i64) -> Result<BasicBlock> {
        let downsample = if stride != 1 || c_in != c_out {
            let mut ds = path.sub("downsample");
            Some((Conv2d::new(&mut ds.sub("0"), c_in, c_out, 1, stride, 0)?, BatchNorm::new(&mut ds.sub("1"), c_out)?))
        } else {
            None
        };
        Ok(BasicBlock {
            conv1: Conv2d::new(&mut path.sub("conv1"), c_in, c_out, 3, stride, 1)?,
            bn1: BatchNorm::new(&mut path.sub("bn1"), c_out)?,
            conv2: Conv2d::new(&mut path.sub("conv2"), c_out, c_out, 3, 1, 1)?,
            bn2: BatchNorm::new(&mut path.sub("bn2"), c_out)?,
            downsample,
        })
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let h = self.bn1.forward(&self.conv1.forward(x)?, mode)?;
        h.relu_()?;
        let h = self.bn2.forward(&self.conv2.forward(&h)?, mode)?;
        let shortcut = match &self.downsample {
            Some((conv, bn)) => bn.forward(&conv.forward(x)?, mode)?,
            None => x.alias()?,
        };
        let out = h.add(&shortcut)?;
        out.relu_()?;
        Ok(out)
    }
}

/// ResNet-18 without its classifier: images `[N, 3, H, W]` to features `[N, 8 * width]`.
pub struct ResNet18 {
    stem: Stem,
    conv1: Conv2d,
    bn1: BatchNorm,
    layers: Vec<Vec<BasicBlock>>,
    features: i64,
    /// The folded copy that evaluation on the CPU runs, with the version of every tensor it was
    /// folded from: any in-place write to one (a training step, loaded weights, a momentum
    /// update) makes it stale.
    folded: RefCell<Option<(Vec<i64>, FoldedResNet18)>>,
}

impl ResNet18 {
    /// `width` is the first stage's channel count: 64 is torchvision's ResNet-18; smaller values
    /// give the same architecture, narrower (used by tests and quick experiments).
    pub fn new(path: &mut Path, stem: Stem, width: i64) -> Result<ResNet18> {
        let conv1 = match stem {
            Stem::Imagenet => Conv2d::new(&mut path.sub("conv1"), 3, width, 7, 2, 3)?,
            Stem::Cifar => Conv2d::new(&mut path.sub("conv1"), 3, width, 3, 1, 1)?,
        };
        let bn1 = BatchNorm::new(&mut path.sub("bn1"), width)?;
        let mut layers = Vec::with_capacity(4);
        let mut c_in = width;
        for stage in 0..4 {
            let c_out = width << stage;
            let stride = if stage == 0 { 1 } else { 2 };
            let mut layer = path.sub(&format!("layer{}", stage + 1));
            let blocks = vec![
                BasicBlock::new(&mut layer.sub("0"), c_in, c_out, stride)?,
                BasicBlock::new(&mut layer.sub("1"), c_out, c_out, 1)?,
            ];
            layers.push(blocks);
            c_in = c_out;
        }
        Ok(ResNet18 { stem, conv1, bn1, layers, features: c_in, folded: RefCell::new(None) })
    }

    /// The feature dimension (512 for the standard width).
    pub fn features(&self) -> i64 {
        self.features
    }

    pub fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        if mode == Mode::Eval && Self::foldable(x)? {
            return self.forward_folded(x);
        }
        let mut h = self.bn1.forward(&self.conv1.forward(x)?, mode)?;
        h.relu_()?;
        if self.stem == Stem::Imagenet {
            h = h.max_pool2d(3, 2, 1)?;
        }
        for block in self.layers.iter().flatten() {
            h = block.forward(&h, mode)?;
        }
        h.adaptive_avg_pool2d(1, 1)?.flatten(1, -1)
    }

    /// Evaluation of CPU float32 images without gradients or autocast runs on the folded copy.
    fn foldable(x: &Tensor) -> Result<bool> {
        Ok(torch::onednn_available()
            && x.device()? == Device::Cpu
            && x.kind()? == Kind::Float
            && !torch::grad_enabled()?
            && !torch::autocast_enabled(Device::Cpu)?)
    }

    fn forward_folded(&self, x: &Tensor) -> Result<Tensor> {
        let versions = self.versions()?;
        let mut folded = self.folded.borrow_mut();
        if folded.as_ref().is_none_or(|(built_from, _)| *built_from != versions) {
            *folded = None; // frees the stale copy before the new one is built
            *folded = Some((versions, FoldedResNet18::new(self)?));
        }
        folded.as_ref().expect("folded above").1.forward(x)
    }

    /// The version of every tensor the folded copy reads, in a fixed order.
    fn versions(&self) -> Result<Vec<i64>> {
        let mut layers = vec![(&self.conv1, &self.bn1)];
        for block in self.layers.iter().flatten() {
            layers.push((&block.conv1, &block.bn1));
            layers.push((&block.conv2, &block.bn2));
            if let Some((conv, bn)) = &block.downsample {
                layers.push((conv, bn));
            }
        }
        let mut versions = Vec::with_capacity(layers.len() * 6);
        for (conv, bn) in layers {
            versions.push(conv.weight().version()?);
            versions.extend(bn.versions()?);
        }
        Ok(versions)
    }
}

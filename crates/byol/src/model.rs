//! The BYOL model: an online network (backbone, projection head, prediction head) trained by
//! gradient descent and a target network (backbone, projection head) that follows it by EMA.
//! The training step is in `step.rs`.
use crate::heads::{HeadConfig, MlpHead};
use crate::momentum::MomentumUpdate;
use crate::resnet::{ResNet18, Stem};
use torch::nn::Mode;
use torch::optim::{OptimizerConfig, SgdConfig};
use torch::{no_grad, Device, Kind, ParamStore, Result, Role, Tensor, TorchError};

/// Everything that defines a model and how it trains. Defaults are Lightly's BYOL example.
#[derive(Debug, Clone, PartialEq)]
pub struct ByolConfig {
    pub stem: Stem,
    /// Channels of the first ResNet stage (64 = torchvision's ResNet-18).
    pub width: i64,
    pub projection_hidden_dim: i64,
    pub projection_output_dim: i64,
    pub prediction_hidden_dim: i64,
    pub optimizer: OptimizerConfig,
    /// Also average the BatchNorm running statistics into the target network (Lightly: no).
    pub ema_buffers: bool,
    pub device: Device,
    pub seed: u64,
}

impl Default for ByolConfig {
    fn default() -> Self {
        ByolConfig {
            stem: Stem::Imagenet,
            width: 64,
            projection_hidden_dim: 1024,
            projection_output_dim: 256,
            prediction_hidden_dim: 1024,
            optimizer: OptimizerConfig::Sgd(SgdConfig::default()),
            ema_buffers: false,
            device: Device::Cpu,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Online,
    Target,
}

/// One stage of a network, for running it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// images `[N, 3, H, W]` -> features `[N, F]`
    Backbone,
    /// features -> projections `[N, D]`
    Projection,
    /// projections -> predictions `[N, D]` (online network only)
    Prediction,
}

struct Encoder {
    backbone: ResNet18,
    projection_head: MlpHead,
}

impl Encoder {
    fn new(store: &mut ParamStore, config: &ByolConfig) -> Result<Encoder> {
        let mut root = store.root();
        let backbone = ResNet18::new(&mut root.sub("backbone"), config.stem, config.width)?;
        let head = HeadConfig {
            input: backbone.features(),
            hidden: config.projection_hidden_dim,
            output: config.projection_output_dim,
        };
        let projection_head = MlpHead::new(&mut root.sub("projection_head"), head)?;
        Ok(Encoder { backbone, projection_head })
    }

    fn project(&self, images: &Tensor) -> Result<Tensor> {
        self.projection_head.forward(&self.backbone.forward(images, Mode::Train)?, Mode::Train)
    }
}

/// The networks of BYOL and their forwards, as Lightly's `BYOL` module holds them: the online
/// backbone, projection head and prediction head, and the target ("momentum") backbone and
/// projection head. How they train is [`TrainStep`](crate::step::TrainStep)'s.
pub struct Byol {
    config: ByolConfig,
    online_store: ParamStore,
    target_store: ParamStore,
    online: Encoder,
    prediction_head: MlpHead,
    target: Encoder,
}

impl Byol {
    pub fn new(config: ByolConfig) -> Result<Byol> {
        validate(&config)?;
        let mut online_store = ParamStore::new(config.device, config.seed)?;
        let online = Encoder::new(&mut online_store, &config)?;
        let prediction = HeadConfig {
            input: config.projection_output_dim,
            hidden: config.prediction_hidden_dim,
            output: config.projection_output_dim,
        };
        let prediction_head = MlpHead::new(&mut online_store.root().sub("prediction_head"), prediction)?;

        // The target starts as a copy of the online encoder and is never trained directly.
        let mut target_store = ParamStore::new(config.device, config.seed)?;
        let target = Encoder::new(&mut target_store, &config)?;
        target_store.copy_from(&online_store)?;
        for p in target_store.parameters()? {
            p.set_requires_grad(false)?;
        }
        Ok(Byol { config, online_store, target_store, online, prediction_head, target })
    }

    pub fn config(&self) -> &ByolConfig {
        &self.config
    }

    pub fn store(&self, network: Network) -> &ParamStore {
        match network {
            Network::Online => &self.online_store,
            Network::Target => &self.target_store,
        }
    }

    /// The online network's predictions of a batch, in training mode (Lightly's `forward`).
    pub fn predict(&self, images: &Tensor) -> Result<Tensor> {
        self.prediction_head.forward(&self.online.project(images)?, Mode::Train)
    }

    /// The target network's projections of a batch, in training mode and without gradients
    /// (Lightly's `forward_momentum`).
    pub fn project_target(&self, images: &Tensor) -> Result<Tensor> {
        no_grad(|| self.target.project(images))
    }

    /// Runs one part of one network alone (no gradients are recorded).
    pub fn forward(&self, network: Network, part: Part, input: &Tensor, mode: Mode) -> Result<Tensor> {
        let encoder = match network {
            Network::Online => &self.online,
            Network::Target => &self.target,
        };
        no_grad(|| match part {
            Part::Backbone => {
                self.check_images("input", input, mode)?;
                encoder.backbone.forward(input, mode)
            }
            Part::Projection => {
                check_features("input", input, encoder.backbone.features())?;
                encoder.projection_head.forward(input, mode)
            }
            Part::Prediction if network == Network::Online => {
                check_features("input", input, self.config.projection_output_dim)?;
                self.prediction_head.forward(input, mode)
            }
            Part::Prediction => Err(TorchError::new("the target network has no prediction head")),
        })
    }

    /// Backbone features of the online network in evaluation mode: the embedding users keep.
    pub fn embed(&self, images: &Tensor) -> Result<Tensor> {
        self.forward(Network::Online, Part::Backbone, images, Mode::Eval)
    }

    /// A batch of images on the model's device, `[N, 3, H, W]` float32 (at least two images in
    /// training mode).
    pub fn check_images(&self, name: &str, t: &Tensor, mode: Mode) -> Result<()> {
        let shape = t.shape()?;
        let kind = t.kind()?;
        if shape.len() != 4 || shape[1] != 3 || kind != Kind::Float {
            return Err(TorchError::new(format!(
                "{name}: expected a float32 tensor of shape [N, 3, H, W], got {} of shape {shape:?}",
                kind.name()
            )));
        }
        // Only batch statistics need two images; evaluation embeds a single image too.
        if mode == Mode::Train && shape[0] < 2 {
            return Err(TorchError::new(format!(
                "{name}: training-mode BatchNorm needs at least 2 images per batch, got {}",
                shape[0]
            )));
        }
        let device = t.device()?;
        if device != self.config.device {
            return Err(TorchError::new(format!("{name}: on {device}, but the model is on {}", self.config.device)));
        }
        Ok(())
    }

    /// Target tensors paired with the online tensors of the same name, for the momentum update:
    /// the parameters, and the floating-point BatchNorm statistics too with `ema_buffers`.
    pub fn momentum_pairs(&self) -> Result<MomentumUpdate> {
        let mut targets = Vec::new();
        let mut onlines = Vec::new();
        for entry in self.target_store.entries() {
            let averaged = match entry.role {
                Role::Parameter => true,
                Role::Buffer => self.config.ema_buffers && entry.tensor.kind()? == Kind::Float,
            };
            if averaged {
                let source = self
                    .online_store
                    .get(&entry.name)
                    .ok_or_else(|| TorchError::new(format!("online network has no {}", entry.name)))?;
                targets.push(entry.tensor.alias()?);
                onlines.push(source.alias()?);
            }
        }
        Ok(MomentumUpdate::new(targets, onlines))
    }
}

/// A head's input must be `[N, features]`.
fn check_features(name: &str, t: &Tensor, features: i64) -> Result<()> {
    let shape = t.shape()?;
    if shape.len() != 2 || shape[1] != features {
        return Err(TorchError::new(format!("{name}: expected shape [N, {features}], got {shape:?}")));
    }
    Ok(())
}

fn validate(config: &ByolConfig) -> Result<()> {
    let dims = [
        ("width", config.width),
        ("projectionHiddenDim", config.projection_hidden_dim),
        ("projectionOutputDim", config.projection_output_dim),
        ("predictionHiddenDim", config.prediction_hidden_dim),
    ];
    for (name, value) in dims {
        if value < 1 {
            return Err(TorchError::new(format!("{name} must be a positive integer, got {value}")));
        }
    }
    Ok(())
}

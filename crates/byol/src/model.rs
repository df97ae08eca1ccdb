//! The BYOL model: an online network (backbone, projection head, prediction head) trained by
//! gradient descent and a target network (backbone, projection head) that follows it by EMA.
use crate::heads::{HeadConfig, MlpHead};
use crate::loss::byol_loss;
use crate::momentum::MomentumUpdate;
use crate::resnet::{ResNet18, Stem};
use crate::step::StepOptions;
use torch::cuda::{record_stream, StreamScope};
use torch::nn::Mode;
use torch::optim::{Optimizer, OptimizerConfig, SgdConfig};
use torch::{autocast, no_grad, Device, Kind, ParamStore, Result, Role, Tensor, TorchError};

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

pub struct Byol {
    config: ByolConfig,
    online_store: ParamStore,
    target_store: ParamStore,
    online: Encoder,
    prediction_head: MlpHead,
    target: Encoder,
    momentum_update: MomentumUpdate,
    optimizer: Optimizer,
    steps: u64,
    step_options: StepOptions,
    /// The per-step scalars, on the device: a captured step reads them on every replay.
    lr: Tensor,
    momentum: Tensor,
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

        let momentum_update = ema_pairs(&target_store, &online_store, config.ema_buffers)?;
        let optimizer = Optimizer::new(config.optimizer.clone(), online_store.parameters()?);
        let lr = Tensor::full(&[], optimizer.lr(), Kind::Float, config.device)?;
        let momentum = Tensor::full(&[], 1.0, Kind::Float, config.device)?;
        Ok(Byol {
            config,
            online_store,
            target_store,
            online,
            prediction_head,
            target,
            momentum_update,
            optimizer,
            steps: 0,
            step_options: StepOptions::default(),
            lr,
            momentum,
        })
    }

    pub fn config(&self) -> &ByolConfig {
        &self.config
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn store(&self, network: Network) -> &ParamStore {
        match network {
            Network::Online => &self.online_store,
            Network::Target => &self.target_store,
        }
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    pub fn optimizer_mut(&mut self) -> &mut Optimizer {
        &mut self.optimizer
    }

    /// Sets the step counter (when resuming from a checkpoint).
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// Drops the online network's gradients.
    pub fn zero_grad(&self) -> Result<()> {
        self.optimizer.zero_grad()
    }

    pub fn step_options(&self) -> StepOptions {
        self.step_options
    }

    /// Changes how steps compute. Turning channels-last on or off re-lays the convolution weights
    /// of both networks (and their momentum buffers) in place.
    pub fn set_step_options(&mut self, options: StepOptions) -> Result<()> {
        options.validate(self.config.device)?;
        let format = options.memory_format();
        if format != self.step_options.memory_format() {
            let momentum_buffers = self.optimizer.momentum_buffers().unwrap_or(&[]);
            let entries = self.online_store.entries().iter().chain(self.target_store.entries());
            for t in entries.map(|e| &e.tensor).chain(momentum_buffers) {
                if t.shape()?.len() == 4 {
                    t.set_data(&t.contiguous_as(format)?)?;
                }
            }
        }
        self.step_options = options;
        Ok(())
    }

    /// Sets the learning rate and target momentum the next steps read from the device. Filling
    /// a device scalar queues a kernel; it never waits for the device.
    pub fn set_step_scalars(&mut self, lr: f64, momentum: f64) -> Result<()> {
        if !(0.0..=1.0).contains(&momentum) {
            return Err(TorchError::new(format!("momentum must be in [0, 1], got {momentum}")));
        }
        self.optimizer.set_lr(lr);
        self.lr.fill_(lr)?;
        self.momentum.fill_(momentum)
    }

    /// Moves the target network towards the online one: `target = m * target + (1 - m) * online`.
    pub fn update_target(&mut self, momentum: f64) -> Result<()> {
        self.set_step_scalars(self.optimizer.lr(), momentum)?;
        self.momentum_update.apply(&self.momentum)
    }

    /// One BYOL step on two batches of views of the same images: update the target with
    /// `momentum`, compute the symmetrised loss, update the online network. Returns the loss
    /// as a device tensor, so the caller decides when to wait for it.
    pub fn step(&mut self, view0: &Tensor, view1: &Tensor, momentum: f64) -> Result<Tensor> {
        self.check_images("view0", view0, Mode::Train)?;
        self.check_images("view1", view1, Mode::Train)?;
        if view0.shape()? != view1.shape()? {
            return Err(TorchError::new(format!(
                "view0 and view1 must have the same shape, got {:?} and {:?}",
                view0.shape()?,
                view1.shape()?
            )));
        }
        self.set_step_scalars(self.optimizer.lr(), momentum)?;
        let loss = self.step_on_device(view0, view1)?;
        self.steps += 1;
        Ok(loss)
    }

    /// The step itself, with the learning rate and momentum read from the device
    /// ([`Byol::set_step_scalars`]) and nothing read back to the host: what a CUDA graph
    /// captures. The step counter is the caller's to advance.
    pub fn step_on_device(&mut self, view0: &Tensor, view1: &Tensor) -> Result<Tensor> {
        self.momentum_update.apply(&self.momentum)?;
        let format = self.step_options.memory_format();
        let (v0, v1) = (view0.contiguous_as(format)?, view1.contiguous_as(format)?);
        let (device, compute) = (self.config.device, self.step_options.precision.autocast());
        // The target's forwards only read the target network: on their own stream they overlap
        // the online network's forwards until the loss joins them.
        let scope = if self.step_options.target_stream { Some(StreamScope::begin(device)?) } else { None };
        let joint = self.step_options.joint_views;
        let (z0, z1) = autocast(device, compute, || no_grad(|| both_views(joint, &v0, &v1, |v| self.target.project(v))))?;
        if let Some(s) = &scope {
            s.leave()?;
        }
        let (p0, p1) = autocast(device, compute, || both_views(joint, &v0, &v1, |v| self.predict(v)))?;
        if let Some(s) = scope {
            s.end()?;
            record_stream(&z0)?;
            record_stream(&z1)?;
        }
        let float = |t: &Tensor| t.to_kind(Kind::Float);
        let loss = byol_loss(&float(&p0)?, &float(&z0)?, &float(&p1)?, &float(&z1)?)?;
        loss.backward()?;
        self.optimizer.step(&self.lr)?;
        loss.detach()
    }

    fn predict(&self, images: &Tensor) -> Result<Tensor> {
        self.prediction_head.forward(&self.online.project(images)?, Mode::Train)
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

    fn check_images(&self, name: &str, t: &Tensor, mode: Mode) -> Result<()> {
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
}

/// `f` of each view: two calls, or with `joint` one call on both views as one batch, split after.
fn both_views(joint: bool, v0: &Tensor, v1: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<(Tensor, Tensor)> {
    if !joint {
        return Ok((f(v0)?, f(v1)?));
    }
    let n = v0.shape()?[0];
    let out = f(&Tensor::cat(&[v0, v1], 0)?)?;
    Ok((out.narrow(0, 0, n)?, out.narrow(0, n, n)?))
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

/// Target tensors paired with the online tensors of the same name: the parameters, and the
/// floating-point BatchNorm statistics too when `with_buffers`.
fn ema_pairs(target: &ParamStore, online: &ParamStore, with_buffers: bool) -> Result<MomentumUpdate> {
    let mut targets = Vec::new();
    let mut onlines = Vec::new();
    for entry in target.entries() {
        let averaged = match entry.role {
            Role::Parameter => true,
            Role::Buffer => with_buffers && entry.tensor.kind()? == Kind::Float,
        };
        if averaged {
            let source = online
                .get(&entry.name)
                .ok_or_else(|| TorchError::new(format!("online network has no {}", entry.name)))?;
            targets.push(entry.tensor.alias()?);
            onlines.push(source.alias()?);
        }
    }
    Ok(MomentumUpdate::new(targets, onlines))
}

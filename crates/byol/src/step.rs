//! BYOL's training step, as Lightly's training loop writes it: update the target network by
//! momentum, the online predictions and target projections of both views, the symmetric loss,
//! backward, and the optimizer's step. [`StepOptions`] say how the step computes (precision,
//! memory format, streams); none of them change what is learned beyond floating-point rounding.
use crate::data_parallel::Replicas;
use crate::loss::byol_loss;
use crate::model::Byol;
use crate::momentum::MomentumUpdate;
use torch::cuda::on_side_stream;
use torch::nn::Mode;
use torch::optim::Optimizer;
use torch::{autocast, Device, Kind, MemoryFormat, Result, Tensor, TorchError};

/// The precision a step computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Float32,
    /// Convolutions and matrix products in bfloat16 under autocast; the weights (the optimizer's
    /// master copy), the BatchNorm statistics and the loss stay float32.
    BFloat16,
}

impl Precision {
    pub fn parse(name: &str) -> Result<Precision> {
        match name {
            "fp32" | "float32" => Ok(Precision::Float32),
            "bf16" | "bfloat16" => Ok(Precision::BFloat16),
            other => Err(TorchError::new(format!("precision must be 'fp32' or 'bf16', got '{other}'"))),
        }
    }

    /// The autocast type, if any.
    pub fn autocast(self) -> Option<Kind> {
        match self {
            Precision::Float32 => None,
            Precision::BFloat16 => Some(Kind::BFloat16),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepOptions {
    pub precision: Precision,
    /// Convolution weights and the views in channels-last layout (what cuDNN's bf16 kernels want).
    pub channels_last: bool,
    /// CUDA only: the target network's forward passes run on a second stream, concurrently with
    /// the online network's (they only meet in the loss).
    pub target_stream: bool,
    /// Both views through each network as one batch of 2N: half the kernel launches, larger
    /// kernels, but BatchNorm normalises over both views together, which the reference does not.
    pub joint_views: bool,
}

impl Default for StepOptions {
    /// Float32, contiguous, one stream, views apart: the reference's eager step.
    fn default() -> Self {
        StepOptions { precision: Precision::Float32, channels_last: false, target_stream: false, joint_views: false }
    }
}

impl StepOptions {
    pub fn validate(&self, device: Device) -> Result<()> {
        if self.target_stream && !device.is_cuda() {
            return Err(TorchError::new(format!("targetStream needs a CUDA device; the model is on {device}")));
        }
        Ok(())
    }

    pub fn memory_format(&self) -> MemoryFormat {
        if self.channels_last {
            MemoryFormat::ChannelsLast
        } else {
            MemoryFormat::Contiguous
        }
    }
}

/// A BYOL model with what trains it: the optimizer, the momentum update of the target network,
/// the learning rate and momentum on the device, the step counter and the step options; in a
/// data-parallel job, the replicas it keeps identical with the other ranks.
pub struct TrainStep {
    model: Byol,
    optimizer: Optimizer,
    momentum_update: MomentumUpdate,
    options: StepOptions,
    steps: u64,
    /// The per-step scalars, on the device: a captured step reads them on every replay.
    lr: Tensor,
    momentum: Tensor,
    /// Gradients accumulated over this many micro-batches per optimizer step.
    accumulate: usize,
    replicas: Option<Replicas>,
}

impl TrainStep {
    /// Trains `model` with the optimizer of its configuration, from step 0.
    pub fn new(model: Byol) -> Result<TrainStep> {
        let config = model.config();
        let optimizer = Optimizer::new(config.optimizer.clone(), model.store(crate::Network::Online).parameters()?);
        let lr = Tensor::full(&[], optimizer.lr(), Kind::Float, config.device)?;
        let momentum = Tensor::full(&[], 1.0, Kind::Float, config.device)?;
        let momentum_update = model.momentum_pairs()?;
        let options = StepOptions::default();
        Ok(TrainStep {
            model,
            optimizer,
            momentum_update,
            options,
            steps: 0,
            lr,
            momentum,
            accumulate: 1,
            replicas: None,
        })
    }

    pub fn model(&self) -> &Byol {
        &self.model
    }

    pub fn device(&self) -> Device {
        self.model.config().device
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Sets the step counter (when resuming from a checkpoint).
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    pub fn optimizer_mut(&mut self) -> &mut Optimizer {
        &mut self.optimizer
    }

    /// Drops the online network's gradients.
    pub fn zero_grad(&self) -> Result<()> {
        self.optimizer.zero_grad()
    }

    pub fn options(&self) -> StepOptions {
        self.options
    }

    /// Changes how steps compute. Turning channels-last on or off re-lays the convolution weights
    /// of both networks (and their momentum buffers) in place.
    pub fn set_options(&mut self, options: StepOptions) -> Result<()> {
        options.validate(self.device())?;
        let format = options.memory_format();
        if format != self.options.memory_format() {
            let momentum_buffers = self.optimizer.momentum_buffers().unwrap_or(&[]);
            let networks = [crate::Network::Online, crate::Network::Target];
            let entries = networks.iter().flat_map(|&n| self.model.store(n).entries());
            for t in entries.map(|e| &e.tensor).chain(momentum_buffers) {
                if t.shape()?.len() == 4 {
                    t.set_data(&t.contiguous_as(format)?)?;
                }
            }
        }
        self.options = options;
        Ok(())
    }

    /// Each step splits its batch into `micro_batches` equal parts, one forward and backward each
    /// (BatchNorm per part), and updates once from the summed gradients of the parts' mean loss:
    /// how a small device trains a large batch.
    pub fn set_accumulate(&mut self, micro_batches: usize) -> Result<()> {
        if micro_batches == 0 {
            return Err(TorchError::new("accumulate must be at least 1"));
        }
        self.accumulate = micro_batches;
        Ok(())
    }

    pub fn accumulate(&self) -> usize {
        self.accumulate
    }

    /// Joins a data-parallel job: every rank takes rank 0's weights, statistics and optimizer
    /// state now, and from here on each step averages the gradients over the ranks.
    pub fn set_replicas(&mut self, replicas: Option<Replicas>) -> Result<()> {
        if let Some(r) = &replicas {
            let group = r.group();
            // Only rank 0 knows whether it has momentum buffers (a resumed run): the others make
            // zeros of the same shapes for its values to land in.
            let has_buffers = self.optimizer.momentum_buffers().is_some();
            let flag = Tensor::full(&[1], has_buffers as i64 as f64, Kind::Int64, self.device())?;
            group.process_group().broadcast(&[&flag], 0).map_err(|e| group.explain(e, "the initial broadcast"))?;
            if flag.to_f32_vec()?[0] != 0.0 && self.optimizer.momentum_buffers().is_none() {
                let params = self.model.store(crate::Network::Online).parameters()?;
                // A clone keeps each parameter's memory format (channels-last stays channels-last).
                let zeros = params.iter().map(|p| p.detach()?.deep_clone()).collect::<Result<Vec<_>>>()?;
                zeros.iter().try_for_each(|z| z.fill_(0.0))?;
                self.optimizer.set_momentum_buffers(zeros)?;
            }
            let networks = [crate::Network::Online, crate::Network::Target];
            let mut state = Vec::new();
            for n in networks {
                for e in self.model.store(n).entries() {
                    state.push(e.tensor.detach()?);
                }
            }
            for b in self.optimizer.momentum_buffers().unwrap_or(&[]) {
                state.push(b.alias()?);
            }
            r.broadcast(&state).map_err(|e| group.explain(e, "the initial broadcast of rank 0's model"))?;
        }
        self.replicas = replicas;
        Ok(())
    }

    pub fn replicas(&self) -> Option<&Replicas> {
        self.replicas.as_ref()
    }

    /// Sets the learning rate and target momentum the next steps read from the device. Filling
    /// a device scalar queues a kernel; it never waits for the device.
    pub fn set_scalars(&mut self, lr: f64, momentum: f64) -> Result<()> {
        if !(0.0..=1.0).contains(&momentum) {
            return Err(TorchError::new(format!("momentum must be in [0, 1], got {momentum}")));
        }
        self.optimizer.set_lr(lr);
        self.lr.fill_(lr)?;
        self.momentum.fill_(momentum)
    }

    /// Moves the target network towards the online one: `target = m * target + (1 - m) * online`.
    pub fn update_target(&mut self, momentum: f64) -> Result<()> {
        self.set_scalars(self.optimizer.lr(), momentum)?;
        self.momentum_update.apply(&self.momentum)
    }

    /// One BYOL step on two batches of views of the same images, with target momentum
    /// `momentum`. Returns the loss as a device tensor, so the caller decides when to wait for it.
    pub fn step(&mut self, view0: &Tensor, view1: &Tensor, momentum: f64) -> Result<Tensor> {
        self.model.check_images("view0", view0, Mode::Train)?;
        self.model.check_images("view1", view1, Mode::Train)?;
        if view0.shape()? != view1.shape()? {
            return Err(TorchError::new(format!(
                "view0 and view1 must have the same shape, got {:?} and {:?}",
                view0.shape()?,
                view1.shape()?
            )));
        }
        self.set_scalars(self.optimizer.lr(), momentum)?;
        let loss = self.step_on_device(view0, view1)?;
        self.steps += 1;
        Ok(loss)
    }

    /// The step itself, with the learning rate and momentum read from the device
    /// ([`TrainStep::set_scalars`]) and nothing read back to the host: what a CUDA graph
    /// captures. The step counter is the caller's to advance.
    pub fn step_on_device(&mut self, view0: &Tensor, view1: &Tensor) -> Result<Tensor> {
        self.momentum_update.apply(&self.momentum)?;
        let mut loss =
            if self.accumulate == 1 { self.loss_backward(view0, view1, 1.0)? } else { self.accumulated(view0, view1)? };
        if let Some(replicas) = &mut self.replicas {
            loss = replicas.average_gradients(&loss)?;
        }
        self.optimizer.step(&self.lr)?;
        if let Some(replicas) = &mut self.replicas {
            replicas.share_statistics()?;
        }
        Ok(loss)
    }

    /// The loss of one batch of views, its gradients (scaled by `scale`) added to the parameters'.
    /// A whole step's backward (scale 1) lets the replicas send gradients as backward makes them.
    fn loss_backward(&mut self, view0: &Tensor, view1: &Tensor, scale: f64) -> Result<Tensor> {
        let ((p0, p1), (z0, z1)) = self.forwards(view0, view1)?;
        let loss = byol_loss(&p0, &z0, &p1, &z1)?;
        if scale == 1.0 {
            if let Some(replicas) = &mut self.replicas {
                replicas.before_backward(&loss.detach()?)?;
            }
            loss.backward()?
        } else {
            loss.mul_scalar(scale)?.backward()?
        }
        loss.detach()
    }

    /// The mean loss of the batch's micro-batches, their gradients accumulated.
    fn accumulated(&mut self, view0: &Tensor, view1: &Tensor) -> Result<Tensor> {
        let (n, k) = (view0.shape()?[0], self.accumulate as i64);
        if n % k != 0 || n / k < 2 {
            return Err(TorchError::new(format!(
                "a batch of {n} does not split into {k} micro-batches of at least 2 images (accumulate: {k})"
            )));
        }
        let m = n / k;
        let mut total: Option<Tensor> = None;
        for j in 0..k {
            let loss = self.loss_backward(&view0.narrow(0, j * m, m)?, &view1.narrow(0, j * m, m)?, 1.0 / k as f64)?;
            total = Some(match total {
                None => loss,
                Some(t) => t.add(&loss)?,
            });
        }
        total.expect("k >= 1").mul_scalar(1.0 / k as f64)
    }

    /// The online predictions and the target projections of both views, in float32.
    fn forwards(&self, view0: &Tensor, view1: &Tensor) -> Result<((Tensor, Tensor), (Tensor, Tensor))> {
        let format = self.options.memory_format();
        let views = (view0.contiguous_as(format)?, view1.contiguous_as(format)?);
        let (device, compute, joint) = (self.device(), self.options.precision.autocast(), self.options.joint_views);
        // The target's forwards only read the target network: on their own stream they overlap
        // the online network's forwards until the loss joins them.
        let side = self.options.target_stream.then_some(device);
        let targets = on_side_stream(side, || {
            autocast(device, compute, || both_views(joint, &views, |v| self.model.project_target(v)))
        })?;
        let predictions = autocast(device, compute, || both_views(joint, &views, |v| self.model.predict(v)))?;
        let projections = targets.join()?;
        Ok((float32(predictions)?, float32(projections)?))
    }
}

/// `f` of each view: two calls, or with `joint` one call on both views as one batch, split after.
fn both_views(
    joint: bool,
    views: &(Tensor, Tensor),
    f: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<(Tensor, Tensor)> {
    let (v0, v1) = views;
    if !joint {
        return Ok((f(v0)?, f(v1)?));
    }
    let n = v0.shape()?[0];
    let out = f(&Tensor::cat(&[v0, v1], 0)?)?;
    Ok((out.narrow(0, 0, n)?, out.narrow(0, n, n)?))
}

/// Both outputs in float32 (the loss is computed in float32 under autocast too).
fn float32((a, b): (Tensor, Tensor)) -> Result<(Tensor, Tensor)> {
    let float = |t: Tensor| if t.kind()? == Kind::Float { Ok(t) } else { t.to_kind(Kind::Float) };
    Ok((float(a)?, float(b)?))
}

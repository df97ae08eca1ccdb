//! Runs training steps with the whole step on the device: batch gather from the device-resident
//! dataset, both views' augmentations, the forwards, loss, backward, optimizer and EMA.
//!
//! Every step reads its inputs from static device buffers (the batch's indices, the views'
//! random draws, the learning rate and momentum), so on CUDA the step is captured once as a CUDA
//! graph and replayed: one launch per step instead of thousands. What changes between steps is
//! written into those buffers before each replay, outside the graph, without waiting for the
//! device: an index copy and two uniform fills from the augmenter's own generator. The random
//! stream is therefore the augmenter's, step for step, whether the step is replayed or eager.
//! A chunk's losses are copied to the host behind its steps, and reading them waits for those
//! steps only, not for the chunks queued after them.
use crate::augment::{Augmenter, UNIFORMS};
use crate::dataset::{normalize_images, ImageDataset};
use crate::step::TrainStep;
use torch::cuda::{to_host_async, CudaEvent, CudaGraph, StreamScope};
use torch::{Device, ImageLayout, Kind, Result, Tensor, TorchError};

#[derive(Debug, Clone, PartialEq)]
pub struct TrainerOptions {
    /// Capture the step as a CUDA graph (CUDA only; elsewhere steps run eagerly).
    pub cuda_graph: bool,
    /// Eager steps before capture, on a side stream as capture needs: they create the
    /// optimizer's momentum buffers and let cuDNN pick its algorithms.
    pub warmup_steps: usize,
}

impl Default for TrainerOptions {
    fn default() -> Self {
        TrainerOptions { cuda_graph: true, warmup_steps: 3 }
    }
}

/// How the trainer runs its steps.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphMode {
    /// Eager steps, with the reason there is no graph.
    Eager(String),
    /// Eager steps before capture: how many have run.
    WarmingUp(usize),
    /// Steps are replays of the captured graph.
    Captured,
}

/// The losses of a chunk of queued steps, on their way to the host.
pub struct QueuedLosses {
    host: Tensor,
    done: Option<CudaEvent>,
}

impl QueuedLosses {
    fn queue(losses: &Tensor, device: Device) -> Result<QueuedLosses> {
        if !device.is_cuda() || !torch::cuda::cuda_support_built() {
            // Reading then waits for everything queued, which costs nothing on the CPU.
            return Ok(QueuedLosses { host: losses.alias()?, done: None });
        }
        let host = to_host_async(losses)?;
        Ok(QueuedLosses { host, done: Some(CudaEvent::record(device)?) })
    }

    pub fn steps(&self) -> Result<usize> {
        self.host.numel()
    }

    /// Waits for the chunk's steps (not for steps queued after them) and returns their losses.
    pub fn read(self) -> Result<Vec<f32>> {
        if let Some(done) = &self.done {
            done.synchronize()?;
        }
        self.host.to_f32_vec()
    }
}

/// What a step reads besides the model: the batch's dataset rows and both views' random draws.
struct StepInputs {
    indices: Tensor,
    uniforms: Option<(Tensor, Tensor)>,
}

impl StepInputs {
    fn new(batch_size: i64, index_device: Device, device: Device, augmented: bool) -> Result<StepInputs> {
        let draws = || Tensor::zeros(&[batch_size, UNIFORMS], Kind::Double, device);
        let uniforms = if augmented { Some((draws()?, draws()?)) } else { None };
        Ok(StepInputs { indices: Tensor::zeros(&[batch_size], Kind::Int64, index_device)?, uniforms })
    }

    /// Writes the next batch into the buffers (rows `start..` of `all`, fresh random draws).
    fn fill(&self, all: &Tensor, start: i64, augmenter: Option<&Augmenter>) -> Result<()> {
        let b = self.indices.shape()?[0];
        self.indices.copy_(&all.narrow(0, start, b)?)?;
        match (augmenter, &self.uniforms) {
            (Some(a), Some(u)) => a.draw_uniforms_into(u),
            _ => Ok(()),
        }
    }
}

pub struct Trainer {
    options: TrainerOptions,
    device: Device,
    batch_size: i64,
    /// The static inputs of the captured step (batches of `batch_size`).
    inputs: StepInputs,
    graph: Option<(CudaGraph, Tensor)>,
    mode: GraphMode,
}

impl Trainer {
    /// A trainer for steps of `batch_size` images of `data`, viewed by `augmenter` (or, without
    /// one, both views are the normalised images: for tests).
    pub fn new(
        options: TrainerOptions,
        training: &TrainStep,
        data: &ImageDataset,
        augmenter: Option<&Augmenter>,
        batch_size: i64,
    ) -> Result<Trainer> {
        let device = training.device();
        if batch_size < 2 {
            return Err(TorchError::new(format!("a training batch needs at least 2 images, got {batch_size}")));
        }
        if let Some(a) = augmenter {
            if a.device() != device {
                return Err(TorchError::new(format!("the augmenter is on {}, the model on {device}", a.device())));
            }
        }
        let mode = if training.replicas().is_some() {
            GraphMode::Eager(
                "CUDA graphs are off in data-parallel training (the all-reduce runs between backward and update)"
                    .into(),
            )
        } else if !options.cuda_graph {
            GraphMode::Eager("CUDA graphs are turned off (cudaGraph: false)".into())
        } else if !device.is_cuda() {
            GraphMode::Eager(format!("CUDA graphs need a CUDA device; the model is on {device}"))
        } else if !torch::cuda::cuda_support_built() {
            GraphMode::Eager("byol's libtorch shim was built without CUDA graph support".into())
        } else if data.device() != device {
            GraphMode::Eager(format!("the training images are on {}, not on the GPU (dataOnDevice)", data.device()))
        } else {
            GraphMode::WarmingUp(0)
        };
        let inputs = StepInputs::new(batch_size, data.device(), device, augmenter.is_some())?;
        Ok(Trainer { options, device, batch_size, inputs, graph: None, mode })
    }

    pub fn mode(&self) -> &GraphMode {
        &self.mode
    }

    pub fn batch_size(&self) -> i64 {
        self.batch_size
    }

    /// Queues one step per `batch_size` indices (rows of `data`) with learning rate `lr` and
    /// target momentum `momentum`, and returns their losses, queued for the host.
    /// Nothing here waits for the device. Batches of another size than the trainer's (a last,
    /// smaller batch) run eagerly.
    #[allow(clippy::too_many_arguments)] // a chunk: the training, its data and views, rows, batch size, lr, momentum
    pub fn run(
        &mut self,
        training: &mut TrainStep,
        data: &ImageDataset,
        augmenter: Option<&Augmenter>,
        indices: &[i64],
        batch_size: i64,
        lr: f64,
        momentum: f64,
    ) -> Result<QueuedLosses> {
        if batch_size < 2 || indices.is_empty() || indices.len() as i64 % batch_size != 0 {
            return Err(TorchError::new(format!(
                "indices must be whole batches of batchSize >= 2, got {} indices in batches of {batch_size}",
                indices.len()
            )));
        }
        if augmenter.is_some() != self.inputs.uniforms.is_some() {
            return Err(TorchError::new("the trainer was made with and must run with the same augmenter"));
        }
        let all = data.index(indices)?;
        let steps = indices.len() as i64 / batch_size;
        let losses = Tensor::zeros(&[steps], Kind::Float, self.device)?;
        let other = if batch_size == self.batch_size {
            None
        } else {
            Some(StepInputs::new(batch_size, data.device(), self.device, augmenter.is_some())?)
        };
        training.set_scalars(lr, momentum)?;
        for s in 0..steps {
            let loss = match &other {
                None => {
                    self.inputs.fill(&all, s * batch_size, augmenter)?;
                    self.step(training, data, augmenter)?
                }
                Some(inputs) => {
                    inputs.fill(&all, s * batch_size, augmenter)?;
                    body(inputs, self.device, training, data, augmenter)?
                }
            };
            losses.narrow(0, s, 1)?.copy_(&loss.reshape(&[1])?)?;
            training.set_steps(training.steps() + 1);
        }
        QueuedLosses::queue(&losses, self.device)
    }

    fn step(&mut self, training: &mut TrainStep, data: &ImageDataset, augmenter: Option<&Augmenter>) -> Result<Tensor> {
        match self.mode {
            GraphMode::Captured => {
                let (graph, loss) = self.graph.as_ref().expect("captured");
                graph.replay()?;
                loss.alias()
            }
            GraphMode::WarmingUp(n) if n >= self.options.warmup_steps => {
                let captured =
                    CudaGraph::capture(self.device, || body(&self.inputs, self.device, training, data, augmenter));
                match captured {
                    Ok((graph, loss)) => {
                        graph.replay()?;
                        let out = loss.alias()?;
                        self.graph = Some((graph, loss));
                        self.mode = GraphMode::Captured;
                        Ok(out)
                    }
                    Err(e) => {
                        // Nothing recorded ran; drop what the failed capture left in the gradients.
                        training.zero_grad()?;
                        self.mode = GraphMode::Eager(format!("CUDA graph capture failed: {e}"));
                        body(&self.inputs, self.device, training, data, augmenter)
                    }
                }
            }
            GraphMode::WarmingUp(n) => {
                let scope = StreamScope::begin(self.device)?;
                let loss = body(&self.inputs, self.device, training, data, augmenter);
                scope.end()?;
                self.mode = GraphMode::WarmingUp(n + 1);
                loss
            }
            GraphMode::Eager(_) => body(&self.inputs, self.device, training, data, augmenter),
        }
    }
}

/// The step itself, reading only `inputs` and the model: what the graph records.
fn body(
    inputs: &StepInputs,
    device: Device,
    training: &mut TrainStep,
    data: &ImageDataset,
    augmenter: Option<&Augmenter>,
) -> Result<Tensor> {
    let images = data.images().index_select(0, &inputs.indices)?.to_device(device)?;
    let (view0, view1) = match (augmenter, &inputs.uniforms) {
        (Some(a), Some(u)) => a.views_from_uniforms(&images, ImageLayout::Nhwc, u)?,
        _ => {
            let view = normalize_images(&images)?;
            (view.alias()?, view)
        }
    };
    training.step_on_device(&view0, &view1)
}
